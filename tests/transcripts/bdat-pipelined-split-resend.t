# The second message must go again (503 to its MAIL behind the first,
# failed, BDAT) while the third is split part way through its recipients.
# Neither the RSET nor the second message may come between the third's
# commands: the third goes out whole first.
CONFIG max_inflight=190
OP send from=a@example.org to=b@example.net data="one\n"
OP send from=a@example.org to=c@example.net data="two\n"
OP send from=x@example.org to=d@example.net,e@example.net data="three\n"
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250-PIPELINING
S: 250 CHUNKING
C< MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nBDAT 5 LAST\r\none\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<c@example.net>\r\nBDAT 5 LAST\r\ntwo\r\nMAIL FROM:<x@example.org>\r\n
NOTHING
S< 250 ok\r\n250 ok\r\n554 5.6.0 rejected\r\n503 5.5.1 nested MAIL command\r\n503 5.5.1 need MAIL\r\n503 5.5.1 need RCPT\r\n
R: send DATA_REFUSED code=554
C< RCPT TO:<d@example.net>\r\nRCPT TO:<e@example.net>\r\nBDAT 7 LAST\r\nthree\r\nRSET\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<c@example.net>\r\nBDAT 5 LAST\r\ntwo\r\n
S< 250 ok\r\n250 ok\r\n250 ok\r\n250 2.0.0 three queued\r\n250 ok\r\n250 ok\r\n250 ok\r\n250 2.0.0 two queued\r\n
R: send OK mail=250 rcpt=250 final=250 text="two queued"
R: send OK rcpt=250,250 final=250 text="three queued"
NOTHING
