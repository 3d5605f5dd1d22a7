# The 354 after DATA has its own timer (timeout.data-init): the command
# timer does not apply while DATA is awaited.
CONFIG timeout.command=100 timeout.data-init=700
OP send from=a@example.org to=b@example.net data="x\r\n"
S: 220 mx
C: EHLO client.example
S: 250 mx
C: MAIL FROM:<a@example.org>
S: 250 ok
C: RCPT TO:<b@example.net>
S: 250 ok
C: DATA
WAIT data-init
DEADLINE 700
TICK 200
NO_RESULT
TICK 500
R: send TIMEOUT msg~"DATA" delivered
