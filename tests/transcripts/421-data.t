# 421 in answer to DATA: SHUTDOWN for all, no content, no QUIT.
OP send from=a@example.org to=b@example.net data="x\r\n"
S: 220 mx
C: EHLO client.example
S: 250 mx
C: MAIL FROM:<a@example.org>
S: 250 ok
C: RCPT TO:<b@example.net>
S: 250 ok
C: DATA
S: 421 4.3.2 going down
NOTHING
R: send SHUTDOWN code=421 data=421 delivered
CLOSED yes
