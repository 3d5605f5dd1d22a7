# The first message's BDAT fails while the second is split part way
# through its recipients (the in-flight bound): the RSET that follows a
# failed BDAT waits until the second has gone out whole.
CONFIG max_inflight=130
OP send from=a@example.org to=b@example.net data="one\n"
OP send from=a@example.org to=c@example.net,d@example.net,e@example.net data="two\n"
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250-PIPELINING
S: 250 CHUNKING
C< MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nBDAT 5 LAST\r\none\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<c@example.net>\r\n
S< 250 ok\r\n250 ok\r\n554 5.6.0 no\r\n
R: send DATA_REFUSED
C< RCPT TO:<d@example.net>\r\nRCPT TO:<e@example.net>\r\nBDAT 5 LAST\r\ntwo\r\nRSET\r\n
S< 250 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n250 queued\r\n250 flushed\r\n
R: send OK
NOTHING
