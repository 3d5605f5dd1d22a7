# The null reverse-path: from="" sends MAIL FROM:<> (bounces), and the
# message goes through normally.
OP send from="" to=bob@example.net data="bounce\r\n"
S: 220 mx
C: EHLO client.example
S: 250 mx
C: MAIL FROM:<>
S: 250 ok
C: RCPT TO:<bob@example.net>
S: 250 ok
C: DATA
S: 354 go
C< bounce\r\n.\r\n
S: 250 ok
R: send OK mail=250
