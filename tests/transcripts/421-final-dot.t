# 421 in answer to the final dot: the send fails with SHUTDOWN carrying the
# 421 (the server said no, so it is not "maybe delivered"), the next op
# too; CLOSED, no QUIT.
OP send from=a@example.org to=b@example.net data="x\r\n"
OP noop
S: 220 mx
C: EHLO client.example
S: 250 mx
C: MAIL FROM:<a@example.org>
S: 250 ok
C: RCPT TO:<b@example.net>
S: 250 ok
C: DATA
S: 354 go
C< x\r\n.\r\n
S: 421 4.3.0 out of disk
NOTHING
R: send SHUTDOWN code=421 data=354
R: noop SHUTDOWN code=421
CLOSED yes
