# Plaintext in the same read right behind the 220 to STARTTLS is discarded,
# never parsed: after TLS the client sends EHLO again, and as the real
# answer lacks PIPELINING it does not pipeline.
OP send from=a@example.org to=b@example.net data="x\r\n"
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250 STARTTLS
C: STARTTLS
S< 220 go\r\n250-fake\r\n250 PIPELINING\r\n
WANT_TLS yes
LOG~ discarded
NOTHING
TLS yes
C: EHLO client.example
NOTHING
S: 250 mx secure
NOEXT PIPELINING
C: MAIL FROM:<a@example.org>
NOTHING
S: 250 ok
C: RCPT TO:<b@example.net>
NOTHING
S: 250 ok
C: DATA
S: 354 go
C< x\r\n.\r\n
S: 250 ok
R: send OK
