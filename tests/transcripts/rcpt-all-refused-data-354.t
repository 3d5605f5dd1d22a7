# Pipelined, every recipient refused but DATA accepted with 354 anyway:
# the client sends no content, just a lone ".", then RSET.
OP send from=a@example.org to=b@example.net data="secret content\r\n"
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250 PIPELINING
C< MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n
S< 250 ok\r\n550 5.1.1 no b\r\n354 go ahead\r\n
C< .\r\n
NOTHING
S: 554 5.5.1 no valid recipients
R: send RECIPIENTS_REFUSED code=550 rcpt=550 data=354
C: RSET
S: 250 ok
NOTHING
