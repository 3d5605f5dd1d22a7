# The plaintext EHLO reply announces CHUNKING (a man in the middle can add
# it), the one after TLS does not: the send is decided on the post-TLS
# extensions and uses DATA, not BDAT.
OP send from=a@example.org to=b@example.net data="x\r\n"
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250-CHUNKING
S: 250 STARTTLS
C: STARTTLS
S: 220 go ahead
TLS yes
C: EHLO client.example
S: 250 mx secure
NOEXT CHUNKING
C: MAIL FROM:<a@example.org>
S: 250 ok
C: RCPT TO:<b@example.net>
S: 250 ok
C: DATA
S: 354 go
C< x\r\n.\r\n
S: 250 ok
R: send OK
