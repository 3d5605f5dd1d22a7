# The socket stops taking a large message (over the 64 KiB the session
# buffers): the data-block timer fires, the message says the server did
# not take the content, and nothing was delivered.
CONFIG timeout.data-block=400
OP send from=a@example.org to=b@example.net data="gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg\r\n" repeat=2000
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
DEADLINE 400
TICK 400
R: send TIMEOUT msg~"take the message content" delivered
CLOSED yes
FLUSH
NOTHING
