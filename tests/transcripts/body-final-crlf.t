# No extra CRLF before the final dot when the content ends with CRLF (or a
# bare LF, which becomes it); one CRLF is added when it ends without one.
OP send from=a@example.org to=b@example.net data="ends\r\n"
OP send from=a@example.org to=b@example.net data="ends with lf\n"
OP send from=a@example.org to=b@example.net data="no end"
OP send from=a@example.org to=b@example.net data="blank\r\n\r\n"
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250 PIPELINING
C< MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n
S< 250 ok\r\n250 ok\r\n354 go\r\n
C< ends\r\n.\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n
S< 250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n
R: send OK
C< ends with lf\r\n.\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n
S< 250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n
R: send OK
C< no end\r\n.\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n
S< 250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n
R: send OK
C< blank\r\n\r\n.\r\n
S: 250 ok
R: send OK
