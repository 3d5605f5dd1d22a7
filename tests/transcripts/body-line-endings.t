# Bare LF and bare CR become CRLF (CR LF pairs stay one line end), so the
# server sees only CRLF line ends.
OP send from=a@example.org to=b@example.net data="lf\ncr\rcrlf\r\nlfcr\n\rcrcr\r\r\nend"
S: 220 mx
C: EHLO client.example
S: 250 mx
C: MAIL FROM:<a@example.org>
S: 250 ok
C: RCPT TO:<b@example.net>
S: 250 ok
C: DATA
S: 354 go
C< lf\r\ncr\r\ncrlf\r\nlfcr\r\n\r\ncrcr\r\n\r\nend\r\n.\r\n
S: 250 ok
R: send OK
