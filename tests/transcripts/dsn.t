# DSN offered: RET and ENVID go on MAIL, NOTIFY and ORCPT on each RCPT,
# xtext-encoded where needed.
OP send from=a@example.org to=b@example.net,c@example.net notify=success,failure orcpt=orig+x@example.net ret=hdrs envid=QQ314159 data="x\r\n"
OP send from=a@example.org to=d@example.net notify=never ret=full data="x\r\n"
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250 DSN
C: MAIL FROM:<a@example.org> RET=HDRS ENVID=QQ314159
S: 250 ok
C: RCPT TO:<b@example.net> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;orig+2Bx@example.net
S: 250 ok
C: RCPT TO:<c@example.net> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;orig+2Bx@example.net
S: 250 ok
C: DATA
S: 354 go
C< x\r\n.\r\n
S: 250 ok
R: send OK
C: MAIL FROM:<a@example.org> RET=FULL
S: 250 ok
C: RCPT TO:<d@example.net> NOTIFY=NEVER
S: 250 ok
C: DATA
S: 354 go
C< x\r\n.\r\n
S: 250 ok
R: send OK
