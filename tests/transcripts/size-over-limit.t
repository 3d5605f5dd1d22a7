# A message over the server's SIZE maximum fails with NOT_SUPPORTED
# before MAIL; one exactly at the limit goes, declaring its size.
OP send from=a@example.org to=b@example.net data="0123456789" repeat=12
OP send from=a@example.org to=b@example.net data="0123456789" repeat=11
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250 SIZE 112
R: send NOT_SUPPORTED code=none mail=none msg~"at most 112"
C: MAIL FROM:<a@example.org> SIZE=112
S: 250 ok
C: RCPT TO:<b@example.net>
S: 250 ok
C: DATA
S: 354 go
C< 01234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789\r\n.\r\n
S: 250 ok
R: send OK
