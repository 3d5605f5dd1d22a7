# A server that refuses a pipelined MAIL with 503 but then takes its
# recipients and content has put them into some other transaction: the
# message may have been delivered with another sender. It is not sent
# again, its result says so, and the connection is closed.
OP send from=a@example.org to=b@example.net data="one\n"
OP send from=a@example.org to=c@example.net data="two\n"
OP noop
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250-PIPELINING
S: 250 CHUNKING
C< MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nBDAT 5 LAST\r\none\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<c@example.net>\r\nBDAT 5 LAST\r\ntwo\r\nNOOP\r\n
S< 250 ok\r\n550 5.1.1 no b\r\n554 5.5.1 no valid recipients\r\n
R: send RECIPIENTS_REFUSED code=550
S< 503 5.5.1 nested MAIL command\r\n250 ok\r\n250 2.0.0 queued\r\n
R: send PROTOCOL maybe mail=503 rcpt=250 final=250 msg~"another sender"
R: noop PROTOCOL
CLOSED yes
ERROR PROTOCOL
