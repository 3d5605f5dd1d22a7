# SIZE offered: MAIL declares the octets actually sent after normalisation
# ("a\n.b\n" is 7: bare LF becomes CRLF, the stuffed dot is not counted,
# RFC 1870), including a CRLF the client adds at the end.
OP send from=a@example.org to=b@example.net data="a\n.b\n"
OP send from=a@example.org to=b@example.net data="no end"
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250 SIZE 1000
EXT SIZE 1000
C: MAIL FROM:<a@example.org> SIZE=7
S: 250 ok
C: RCPT TO:<b@example.net>
S: 250 ok
C: DATA
S: 354 go
C< a\r\n..b\r\n.\r\n
S: 250 ok
R: send OK
C: MAIL FROM:<a@example.org> SIZE=8
S: 250 ok
C: RCPT TO:<b@example.net>
S: 250 ok
C: DATA
S: 354 go
C< no end\r\n.\r\n
S: 250 ok
R: send OK
