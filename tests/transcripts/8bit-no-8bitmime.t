# 8-bit content to a server without 8BITMIME is sent anyway, without a
# BODY parameter; the result is marked warned and a warning is logged.
OP send from=a@example.org to=b@example.net data="caf\xc3\xa9\r\n"
S: 220 mx
C: EHLO client.example
S: 250 mx
C: MAIL FROM:<a@example.org>
S: 250 ok
C: RCPT TO:<b@example.net>
S: 250 ok
C: DATA
S: 354 go
C< caf\xc3\xa9\r\n.\r\n
S: 250 ok
R: send OK warned
LOG~ 8BITMIME
