# Without DSN in the EHLO reply, no DSN parameter is sent at all (DSNX is
# a different keyword).
OP send from=a@example.org to=b@example.net notify=success,delay orcpt=b@example.net ret=full envid=ID1 data="x\r\n"
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250 DSNX
C: MAIL FROM:<a@example.org>
S: 250 ok
C: RCPT TO:<b@example.net>
S: 250 ok
C: DATA
S: 354 go
C< x\r\n.\r\n
S: 250 ok
R: send OK
