# A pipelined group of different operations: RSET, MAIL and RCPT may go
# anywhere in a group, DATA and NOOP only last. Mixed replies are routed
# to the right commands; NOOP rides behind the final dot.
OP rset
OP send from=a@example.org to=b@example.net,c@example.net data="x\r\n"
OP noop
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250 PIPELINING
C< RSET\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nRCPT TO:<c@example.net>\r\nDATA\r\n
NOTHING
S< 250 2.0.0 reset\r\n250 2.1.0 ok\r\n450 4.2.0 greylisted\r\n
R: rset OK code=250 enh=2.0.0
NOTHING
S< 250 2.1.5 ok\r\n354 go\r\n
C< x\r\n.\r\nNOOP\r\n
S< 250 2.0.0 queued\r\n250 2.0.0 noop\r\n
R: send OK refused=1 rcpt=450,250
R: noop OK code=250
