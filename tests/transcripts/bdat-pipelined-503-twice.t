# A message sent again after a 503 to its pipelined MAIL is sent only
# once more: a second 503 is its own failure.
OP send from=a@example.org to=b@example.net data="one\n"
OP send from=a@example.org to=c@example.net data="two\n"
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250-PIPELINING
S: 250 CHUNKING
C< MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nBDAT 5 LAST\r\none\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<c@example.net>\r\nBDAT 5 LAST\r\ntwo\r\n
S< 250 ok\r\n550 5.1.1 no b\r\n554 5.5.1 no valid recipients\r\n
R: send RECIPIENTS_REFUSED code=550
C: RSET
S< 503 5.5.1 nested MAIL command\r\n503 5.5.1 need MAIL\r\n503 5.5.1 need RCPT\r\n
C< RSET\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<c@example.net>\r\nBDAT 5 LAST\r\ntwo\r\n
S< 250 ok\r\n250 ok\r\n503 5.5.1 nested MAIL command\r\n503 5.5.1 need MAIL\r\n503 5.5.1 need RCPT\r\n
R: send SENDER_REFUSED code=503 mail=503 rcpt=503 final=503
C: RSET
S: 250 ok
NOTHING
