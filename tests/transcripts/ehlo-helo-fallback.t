# EHLO refused with 500 falls back to HELO; the session then runs without
# extensions (no pipelining: one command per write) and start completes
# with the HELO reply.
OP start
OP send from=a@example.org to=b@example.net data="x\r\n"
S: 220 old.example SMTP
C: EHLO client.example
S: 500 5.5.1 command unrecognized
C: HELO client.example
NOTHING
S: 250 old.example
R: start OK code=250 text="old.example"
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
S: 250 queued
R: send OK
LOG~ trying HELO
