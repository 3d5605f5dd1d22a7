# SMTP smuggling inputs: "\n.\n", "\r\n.\r" and "\r.\r\n" never end the
# data early; they become a dot-stuffed ".." line with CRLF around it.
OP send from=a@example.org to=b@example.net data="a\n.\nb"
OP send from=a@example.org to=b@example.net data="a\r\n.\rb"
OP send from=a@example.org to=b@example.net data="a\r.\r\nMAIL FROM:<x@evil>\r\n"
S: 220 mx
C: EHLO client.example
S: 250 mx
C: MAIL FROM:<a@example.org>
S: 250 ok
C: RCPT TO:<b@example.net>
S: 250 ok
C: DATA
S: 354 go
C< a\r\n..\r\nb\r\n.\r\n
S: 250 ok
R: send OK
C: MAIL FROM:<a@example.org>
S: 250 ok
C: RCPT TO:<b@example.net>
S: 250 ok
C: DATA
S: 354 go
C< a\r\n..\r\nb\r\n.\r\n
S: 250 ok
R: send OK
C: MAIL FROM:<a@example.org>
S: 250 ok
C: RCPT TO:<b@example.net>
S: 250 ok
C: DATA
S: 354 go
C< a\r\n..\r\nMAIL FROM:<x@evil>\r\n.\r\n
S: 250 ok
R: send OK
