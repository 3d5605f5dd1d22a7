# An explicit body=7bit declares BODY=7BIT where 8BITMIME is offered, and
# body=8bitmime declares BODY=8BITMIME even for 7-bit content.
OP send from=a@example.org to=b@example.net data="x\r\n" body=7bit
OP send from=a@example.org to=b@example.net data="x\r\n" body=8bitmime
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250-PIPELINING
S: 250 8BITMIME
C< MAIL FROM:<a@example.org> BODY=7BIT\r\nRCPT TO:<b@example.net>\r\nDATA\r\n
S< 250 ok\r\n250 ok\r\n354 go\r\n
C< x\r\n.\r\nMAIL FROM:<a@example.org> BODY=8BITMIME\r\nRCPT TO:<b@example.net>\r\nDATA\r\n
S< 250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n
R: send OK
C< x\r\n.\r\n
S: 250 ok
R: send OK
