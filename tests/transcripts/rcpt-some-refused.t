# Without pipelining, some recipients refused is a success: the message
# goes to the rest, with refused=N and every recipient's reply listed.
OP send from=a@example.org to=b@example.net,c@example.net,d@example.net data="x\r\n"
S: 220 mx
C: EHLO client.example
S: 250 mx
C: MAIL FROM:<a@example.org>
S: 250 ok
C: RCPT TO:<b@example.net>
S: 550 5.1.1 no such user
C: RCPT TO:<c@example.net>
S: 250 ok
C: RCPT TO:<d@example.net>
S: 452 4.5.3 too many recipients
C: DATA
S: 354 go
C< x\r\n.\r\n
S: 250 2.0.0 queued
R: send OK code=250 enh=2.0.0 refused=2 rcpt=550,250,452 final=250 msg~"1 of 3"
