# Streamed content (read 5 octets at a time) with DATA: normalised and
# dot-stuffed across read boundaries (".." lands where a piece ends), no
# SIZE declared when size= is not given.
OP send from=a@example.org to=b@example.net stream=5 data="abcd\n.efgh\r\n.\r\nx"
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250 SIZE 1000
C: MAIL FROM:<a@example.org>
S: 250 ok
C: RCPT TO:<b@example.net>
S: 250 ok
C: DATA
S: 354 go
C< abcd\r\n..efgh\r\n..\r\nx\r\n.\r\n
S: 250 ok
R: send OK data=354 final=250
