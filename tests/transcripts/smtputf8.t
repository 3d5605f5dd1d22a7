# A non-ASCII (UTF-8) address makes the client request SMTPUTF8 when the
# server offers it; an ASCII-only transaction to the same server does not.
OP send from=j\xc3\xb6rg@example.org to=bob@example.net data="x\r\n"
OP send from=a@example.org to=bob@b\xc3\xbccher.example data="x\r\n"
OP send from=a@example.org to=bob@example.net data="x\r\n"
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250-8BITMIME
S: 250 SMTPUTF8
C: MAIL FROM:<j\xc3\xb6rg@example.org> SMTPUTF8
S: 250 ok
C: RCPT TO:<bob@example.net>
S: 250 ok
C: DATA
S: 354 go
C< x\r\n.\r\n
S: 250 ok
R: send OK
C: MAIL FROM:<a@example.org> SMTPUTF8
S: 250 ok
C: RCPT TO:<bob@b\xc3\xbccher.example>
S: 250 ok
C: DATA
S: 354 go
C< x\r\n.\r\n
S: 250 ok
R: send OK
C: MAIL FROM:<a@example.org>
S: 250 ok
C: RCPT TO:<bob@example.net>
S: 250 ok
C: DATA
S: 354 go
C< x\r\n.\r\n
S: 250 ok
R: send OK
