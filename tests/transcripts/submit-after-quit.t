# Once QUIT is queued no operation is accepted (STATE), neither before
# nor after the 221.
OP quit
REFUSE STATE noop
REFUSE STATE send from=a@example.org to=b@example.net data="x\r\n"
S: 220 mx
C: QUIT
REFUSE STATE quit
S: 221 bye
R: quit OK
REFUSE STATE start
CLOSED yes
