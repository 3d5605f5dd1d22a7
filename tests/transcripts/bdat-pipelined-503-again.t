# A server that stays inside a transaction after a failed BDAT LAST
# answers the next MAIL, already pipelined behind it, with 503. Nothing
# of that message was accepted, so it goes once more after RSET instead
# of failing for the earlier message's fault.
OP send from=a@example.org to=b@example.net data="one\n"
OP send from=a@example.org to=c@example.net data="two\n"
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250-PIPELINING
S: 250 CHUNKING
C< MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nBDAT 5 LAST\r\none\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<c@example.net>\r\nBDAT 5 LAST\r\ntwo\r\n
S< 250 ok\r\n550 5.1.1 no b\r\n554 5.5.1 no valid recipients\r\n
R: send RECIPIENTS_REFUSED code=550 rcpt=550 final=554
C: RSET
S< 503 5.5.1 nested MAIL command\r\n503 5.5.1 need MAIL\r\n503 5.5.1 need RCPT\r\n
NO_RESULT
LOG~ sending the message again after RSET
# A fresh RSET goes right before it: the first one went out behind it.
C< RSET\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<c@example.net>\r\nBDAT 5 LAST\r\ntwo\r\n
S< 250 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n250 2.0.0 queued\r\n
R: send OK mail=250 rcpt=250 final=250
NOTHING
