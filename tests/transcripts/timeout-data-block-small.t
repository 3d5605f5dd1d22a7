# A timeout while the content and final dot are still unwritten is a data
# block timeout, and the message says so.
CONFIG timeout.data-block=400
OP send from=a@example.org to=b@example.net data="x\r\n"
S: 220 mx
C: EHLO client.example
S: 250 mx
C: MAIL FROM:<a@example.org>
S: 250 ok
C: RCPT TO:<b@example.net>
S: 250 ok
C: DATA
HOLD
S: 354 go
WAIT data-block
TICK 400
R: send TIMEOUT delivered msg~"take the message content"
