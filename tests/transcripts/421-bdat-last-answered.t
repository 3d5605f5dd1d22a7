# A 421 in answer to BDAT LAST refuses the message: the send fails with
# SHUTDOWN, its final reply is the 421, and it is not maybe_delivered.
OP send from=a@example.org to=b@example.net data="x\r\n"
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250 CHUNKING
C: MAIL FROM:<a@example.org>
S: 250 ok
C: RCPT TO:<b@example.net>
S: 250 ok
C< BDAT 3 LAST\r\nx\r\n
S: 421 4.3.0 closing
R: send SHUTDOWN code=421 delivered
