# A 421 in answer to the first message's BDAT LAST: the server closes
# without taking in what came behind it, so the second message, written
# in full, is not "maybe delivered": it can be retried.
OP send from=a@example.org to=b@example.net data="one\n"
OP send from=a@example.org to=c@example.net data="two\n"
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250-PIPELINING
S: 250 CHUNKING
C< MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nBDAT 5 LAST\r\none\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<c@example.net>\r\nBDAT 5 LAST\r\ntwo\r\n
S< 250 ok\r\n250 ok\r\n421 4.3.2 shutting down\r\n
R: send SHUTDOWN code=421 final=421 delivered
R: send SHUTDOWN delivered mail=none
CLOSED yes
