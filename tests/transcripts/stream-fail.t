# The read callback fails in the middle of a DATA transfer: that send fails
# with SOURCE, the connection is closed without the final dot (buffered
# content is dropped too) and the other pending ops are CANCELLED.
OP send from=a@example.org to=b@example.net stream=4 fail_at=8 data="0123456789abcdef\r\n"
OP send from=a@example.org to=c@example.net data="x\r\n"
OP quit
S: 220 mx
C: EHLO client.example
S: 250 mx
C: MAIL FROM:<a@example.org>
S: 250 ok
C: RCPT TO:<b@example.net>
S: 250 ok
C: DATA
S: 354 go
NOTHING
R: send SOURCE msg~"source failed"
R: send CANCELLED
R: quit CANCELLED
CLOSED yes
ERROR CANCELLED
