# 8-bit content goes with BODY=8BITMIME when the server offers 8BITMIME;
# 7-bit content to the same server gets no BODY parameter.
OP send from=a@example.org to=b@example.net data="caf\xc3\xa9\r\n"
OP send from=a@example.org to=b@example.net data="plain\r\n"
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250 8BITMIME
C: MAIL FROM:<a@example.org> BODY=8BITMIME
S: 250 ok
C: RCPT TO:<b@example.net>
S: 250 ok
C: DATA
S: 354 go
C< caf\xc3\xa9\r\n.\r\n
S: 250 ok
R: send OK
C: MAIL FROM:<a@example.org>
S: 250 ok
C: RCPT TO:<b@example.net>
S: 250 ok
C: DATA
S: 354 go
C< plain\r\n.\r\n
S: 250 ok
R: send OK
