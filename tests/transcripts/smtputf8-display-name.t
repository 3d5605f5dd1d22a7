# A non-ASCII display name in the message headers is a header matter: the
# content is 8-bit (BODY=8BITMIME) but SMTPUTF8 is not requested, although
# the server offers it.
OP send from=a@example.org to=b@example.net data="From: J\xc3\xb6rg <a@example.org>\r\n\r\nhi\r\n"
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250-8BITMIME
S: 250 SMTPUTF8
C: MAIL FROM:<a@example.org> BODY=8BITMIME
S: 250 ok
C: RCPT TO:<b@example.net>
S: 250 ok
C: DATA
S: 354 go
C< From: J\xc3\xb6rg <a@example.org>\r\n\r\nhi\r\n.\r\n
S: 250 ok
R: send OK
