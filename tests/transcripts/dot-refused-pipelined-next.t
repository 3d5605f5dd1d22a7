# The final dot refused while the next transaction already rides behind
# it: no RSET is needed (the refusal ended the transaction), and the next
# message goes through.
OP send from=a@example.org to=b@example.net data="one\r\n"
OP send from=a@example.org to=c@example.net data="two\r\n"
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250 PIPELINING
C< MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n
S< 250 ok\r\n250 ok\r\n354 go\r\n
C< one\r\n.\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<c@example.net>\r\nDATA\r\n
S: 554 5.7.1 spam
R: send DATA_REFUSED code=554 final=554
NOTHING
S< 250 ok\r\n250 ok\r\n354 go\r\n
C< two\r\n.\r\n
S: 250 ok
R: send OK
NOTHING
