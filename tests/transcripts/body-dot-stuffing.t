# Every line starting with "." gets one more dot, including the first
# line, a line that is only ".", and ".." lines; dots elsewhere stay.
OP send from=a@example.org to=b@example.net data=".first\r\nmid.dle\r\n.\r\n..two\r\n. x\r\nend.\r\n"
S: 220 mx
C: EHLO client.example
S: 250 mx
C: MAIL FROM:<a@example.org>
S: 250 ok
C: RCPT TO:<b@example.net>
S: 250 ok
C: DATA
S: 354 go
C< ..first\r\nmid.dle\r\n..\r\n...two\r\n.. x\r\nend.\r\n.\r\n
S: 250 ok
R: send OK
