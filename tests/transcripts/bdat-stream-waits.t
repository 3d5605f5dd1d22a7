# A streamed message goes with BDAT only on an empty pipeline: it cannot
# be read twice, so it never rides behind another transaction whose
# failure could leave the server confused.
OP send from=a@example.org to=b@example.net data="one\n"
OP send from=a@example.org to=c@example.net data="two\n" stream=4
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250-PIPELINING
S: 250 CHUNKING
C< MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nBDAT 5 LAST\r\none\r\n
NOTHING
S< 250 ok\r\n250 ok\r\n250 queued\r\n
R: send OK
C< MAIL FROM:<a@example.org>\r\nRCPT TO:<c@example.net>\r\nBDAT 5 LAST\r\ntwo\r\n
S< 250 ok\r\n250 ok\r\n250 queued\r\n
R: send OK
NOTHING
