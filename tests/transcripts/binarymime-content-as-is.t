# BODY=BINARYMIME content is arbitrary octets (RFC 3030 3): bare CR and LF
# in it are data and go as they are, with nothing appended.
OP send from=a@example.org to=b@example.net body=binarymime data="a\rb\nc"
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250-BINARYMIME
S: 250 CHUNKING
C: MAIL FROM:<a@example.org> BODY=BINARYMIME
S: 250 ok
C: RCPT TO:<b@example.net>
S: 250 ok
C< BDAT 5 LAST\r\na\rb\nc
S: 250 ok
R: send OK
