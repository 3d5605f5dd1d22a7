# The in-flight bound holds across messages: with 70 octets of commands
# allowed, the second message waits for the first one's replies.
CONFIG max_inflight=70
OP send from=a@example.org to=b@example.net data="x\n"
OP send from=a@example.org to=c@example.net data="y\n"
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250-PIPELINING
S: 250 CHUNKING
C< MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nBDAT 3 LAST\r\nx\r\n
NOTHING
S< 250 ok\r\n250 ok\r\n250 done\r\n
R: send OK final=250
C< MAIL FROM:<a@example.org>\r\nRCPT TO:<c@example.net>\r\nBDAT 3 LAST\r\ny\r\n
S< 250 ok\r\n250 ok\r\n250 done\r\n
R: send OK final=250
NOTHING
