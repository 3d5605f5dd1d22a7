# Empty content: after the 354 the client sends just the final dot.
OP send from=a@example.org to=b@example.net data=""
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250 SIZE 100
C: MAIL FROM:<a@example.org>
S: 250 ok
C: RCPT TO:<b@example.net>
S: 250 ok
C: DATA
S: 354 go
C< .\r\n
S: 250 ok
R: send OK final=250
