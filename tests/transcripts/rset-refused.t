# The RSET after a failed transaction refused: the server's transaction
# state is unknown, so the session fails with PROTOCOL and closes; later
# operations fail with it too.
OP send from=a@example.org to=b@example.net data="x\r\n"
OP noop
S: 220 mx
C: EHLO client.example
S: 250 mx
C: MAIL FROM:<a@example.org>
S: 550 no
R: send SENDER_REFUSED code=550
C: RSET
S: 500 5.5.1 what
R: noop PROTOCOL code=500 msg~"refused RSET"
CLOSED yes
ERROR PROTOCOL
NOTHING
REFUSE PROTOCOL noop
