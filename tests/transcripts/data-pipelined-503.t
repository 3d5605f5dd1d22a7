# Without CHUNKING a failed transaction ends at its final dot, so a 503
# to the next MAIL behind it is that message's own failure: it is not
# sent again, and RSET follows.
OP send from=a@example.org to=b@example.net data="one\n"
OP send from=a@example.org to=c@example.net data="two\n"
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250 PIPELINING
C< MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n
S< 250 ok\r\n250 ok\r\n354 go\r\n
C< one\r\n.\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<c@example.net>\r\nDATA\r\n
S< 250 queued\r\n503 5.5.1 sender already given\r\n503 5.5.1 need MAIL\r\n503 5.5.1 need RCPT\r\n
R: send OK
R: send SENDER_REFUSED code=503 mail=503
C: RSET
S: 250 ok
NOTHING
