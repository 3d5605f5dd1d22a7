# A forgeable plaintext "SIZE 10" does not decide the send: after TLS the
# server announces SIZE 100000 and the 21-octet message goes, declared.
OP send from=a@example.org to=b@example.net data="0123456789012345678\n"
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250-SIZE 10
S: 250 STARTTLS
C: STARTTLS
NO_RESULT
S: 220 go ahead
NO_RESULT
TLS yes
C: EHLO client.example
S: 250-mx secure
S: 250 SIZE 100000
C: MAIL FROM:<a@example.org> SIZE=21
S: 250 ok
C: RCPT TO:<b@example.net>
S: 250 ok
C: DATA
S: 354 go
C< 0123456789012345678\r\n.\r\n
S: 250 ok
R: send OK
