# Local parts: a quoted local part stays as given, one that is not a
# dot-string (a space, a double dot) gets quoted with its quotes and
# backslashes escaped; a dot-string and postmaster go as they are.
OP send from="john doe@example.org" to="\"john doe\"@example.com,a..b@example.com,x\"y@example.com,first.last+tag@example.com,Postmaster" data="x\r\n"
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250 PIPELINING
C: MAIL FROM:<"john doe"@example.org>
C: RCPT TO:<"john doe"@example.com>
C: RCPT TO:<"a..b"@example.com>
C: RCPT TO:<"x\\\"y"@example.com>
C: RCPT TO:<first.last+tag@example.com>
C: RCPT TO:<Postmaster>
C: DATA
S< 250 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n
C< x\r\n.\r\n
S: 250 ok
R: send OK refused=0
