# EHLO and then HELO refused: every pending operation fails with HELO
# carrying the HELO reply, and QUIT is the only command sent after it.
OP start
OP send from=a@example.org to=b@example.net data="x\r\n"
S: 220 mx
C: EHLO client.example
S: 500 no
C: HELO client.example
S: 550 5.7.1 go away
C: QUIT
NOTHING
R: start HELO code=550 msg~"both EHLO and HELO"
R: send HELO code=550
ERROR HELO
S: 221 bye
CLOSED yes
