# In-memory content given as several parts (a header section and a body,
# say) is measured and sent as one message: the CR ending one part and the
# LF starting the next are one line end, a dot at the start of a part that
# starts a line is stuffed, and SIZE counts the whole.
OP send from=a@example.org to=b@example.net split=3 data="Su:\r\n\r\n.x\r\nend"
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250 SIZE 1000
C: MAIL FROM:<a@example.org> SIZE=16
S: 250 ok
C: RCPT TO:<b@example.net>
S: 250 ok
C: DATA
S: 354 go
C< Su:\r\n\r\n..x\r\nend\r\n.\r\n
S: 250 ok
R: send OK
