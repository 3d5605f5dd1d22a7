# SIZE offered: MAIL declares the size of what is actually sent, after
# normalisation (bare LF becomes CRLF: "a\nb\n" is 6 octets, and the dot
# doubled by stuffing is not counted) and including the CRLF the client adds.
OP send from=a@example.org to=b@example.net data="a\nb\n"
OP send from=a@example.org to=b@example.net data="no end"
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250 SIZE 1000
EXT SIZE 1000
C: MAIL FROM:<a@example.org> SIZE=6
S: 250 ok
C: RCPT TO:<b@example.net>
S: 250 ok
C: DATA
S: 354 go
C< a\r\nb\r\n.\r\n
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
