# CONFIG no_chunking: DATA is used although the server offers CHUNKING.
CONFIG no_chunking
OP send from=a@example.org to=b@example.net data="x\r\n"
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250 CHUNKING
C: MAIL FROM:<a@example.org>
S: 250 ok
C: RCPT TO:<b@example.net>
S: 250 ok
C: DATA
S: 354 go
C< x\r\n.\r\n
S: 250 ok
R: send OK data=354
