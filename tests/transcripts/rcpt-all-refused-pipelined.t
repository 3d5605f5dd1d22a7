# Pipelined, every recipient refused and DATA answered 503: no content is
# sent; RECIPIENTS_REFUSED, then RSET.
OP send from=a@example.org to=b@example.net,c@example.net data="x\r\n"
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250 PIPELINING
C< MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nRCPT TO:<c@example.net>\r\nDATA\r\n
S< 250 ok\r\n550 no b\r\n550 no c\r\n503 5.5.1 no valid recipients\r\n
R: send RECIPIENTS_REFUSED code=550 refused=2 rcpt=550,550 data=503
C: RSET
S: 250 ok
NOTHING
