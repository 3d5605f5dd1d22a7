# CHUNKING with PIPELINING: MAIL, RCPT, "BDAT n LAST" and the content all
# go in one write, and SIZE declares the same n.
OP send from=a@example.org to=b@example.net,c@example.net data="hi\n"
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250-PIPELINING
S: 250-SIZE 100
S: 250 CHUNKING
C< MAIL FROM:<a@example.org> SIZE=4\r\nRCPT TO:<b@example.net>\r\nRCPT TO:<c@example.net>\r\nBDAT 4 LAST\r\nhi\r\n
NOTHING
S< 250 ok\r\n250 ok\r\n550 no c\r\n250 2.0.0 queued\r\n
R: send OK refused=1 rcpt=250,550 final=250
TRANSCRIPT~ C: BDAT 4 LAST
TRANSCRIPT~ <message content: 4 octets>
