# Without pipelining, every recipient refused: no DATA is sent, the send
# fails with RECIPIENTS_REFUSED (the last refusal), and RSET follows.
OP send from=a@example.org to=b@example.net,c@example.net data="x\r\n"
OP noop
S: 220 mx
C: EHLO client.example
S: 250 mx
C: MAIL FROM:<a@example.org>
S: 250 ok
C: RCPT TO:<b@example.net>
S: 550 5.1.1 no b
C: RCPT TO:<c@example.net>
S: 551 5.1.1 no c
R: send RECIPIENTS_REFUSED code=551 refused=2 rcpt=550,551 data=none
C: RSET
NOTHING
S: 250 ok
C: NOOP
S: 250 ok
R: noop OK
