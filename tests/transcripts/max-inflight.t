# CONFIG max_inflight=60 bounds the unanswered command bytes: each command
# line here is 26 octets (DATA 6), so MAIL and one RCPT go first, and
# replies make room for more: nothing is sent past the bound.
CONFIG max_inflight=60
OP send from=a@example.org to=r1@example.net,r2@example.net,r3@example.net,r4@example.net data="x\r\n"
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250 PIPELINING
C< MAIL FROM:<a@example.org>\r\nRCPT TO:<r1@example.net>\r\n
NOTHING
S: 250 ok
C< RCPT TO:<r2@example.net>\r\n
NOTHING
S< 250 ok\r\n250 ok\r\n
C< RCPT TO:<r3@example.net>\r\nRCPT TO:<r4@example.net>\r\nDATA\r\n
NOTHING
S< 250 ok\r\n250 ok\r\n354 go\r\n
C< x\r\n.\r\n
S: 250 ok
R: send OK refused=0 rcpt=250,250,250,250
