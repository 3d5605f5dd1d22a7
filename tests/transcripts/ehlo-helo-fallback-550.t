# EHLO answered 550 falls back to HELO too, and after HELO a PIPELINING
# the server never announced is not assumed: MAIL goes alone.
OP send from=a@example.org to=b@example.net,c@example.net data="x\r\n"
S: 220 old.example
C: EHLO client.example
S: 550 no EHLO for you
C: HELO client.example
S: 250 ok
NOEXT PIPELINING
C: MAIL FROM:<a@example.org>
NOTHING
S: 250 ok
C: RCPT TO:<b@example.net>
NOTHING
S: 250 ok
C: RCPT TO:<c@example.net>
NOTHING
S: 250 ok
C: DATA
S: 354 go
C< x\r\n.\r\n
S: 250 queued
R: send OK refused=0 rcpt=250,250
