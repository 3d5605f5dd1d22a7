# The connection closes after the 354 while the content is still held in
# the client (the socket is full): the dot never left, so the message
# cannot have been delivered: DISCONNECTED without maybe_delivered.
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
EOF
R: send DISCONNECTED delivered data=354
CLOSED yes
FLUSH
NOTHING
