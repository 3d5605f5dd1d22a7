# The reply to the final dot is 554: DATA_REFUSED carrying it, then RSET
# since nothing else rides behind the dot.
OP send from=a@example.org to=b@example.net data="x\r\n"
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250 PIPELINING
C< MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n
S< 250 ok\r\n250 ok\r\n354 go\r\n
C< x\r\n.\r\n
S: 554 5.7.1 message content rejected
R: send DATA_REFUSED code=554 enh=5.7.1 data=354 final=554
C: RSET
S: 250 ok
NOTHING
