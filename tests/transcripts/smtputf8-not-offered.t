# A non-ASCII address to a server without SMTPUTF8 fails with
# NOT_SUPPORTED before MAIL: nothing of that transaction is written, and
# the next one goes on as usual.
OP send from=a@example.org to=j\xc3\xb6rg@example.net data="x\r\n"
OP send from=a@example.org to=bob@example.net data="y\r\n"
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250-PIPELINING
S: 250 8BITMIME
R: send NOT_SUPPORTED code=none mail=none rcpt=none msg~"SMTPUTF8"
C< MAIL FROM:<a@example.org>\r\nRCPT TO:<bob@example.net>\r\nDATA\r\n
S< 250 ok\r\n250 ok\r\n354 go\r\n
C< y\r\n.\r\n
S: 250 ok
R: send OK
