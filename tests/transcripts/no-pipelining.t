# CONFIG no_pipelining: one command at a time even though the server
# offers PIPELINING, and the next envelope does not ride behind the dot.
CONFIG no_pipelining
OP send from=a@example.org to=b@example.net,c@example.net data="x\r\n"
OP noop
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250 PIPELINING
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
NOTHING
S: 354 go
C< x\r\n.\r\n
NOTHING
S: 250 ok
R: send OK
C: NOOP
S: 250 ok
R: noop OK
