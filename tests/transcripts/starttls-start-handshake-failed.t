# A start op pending when the TLS handshake fails ends with TLS (it was
# not completed early); the queued QUIT fails too and nothing is written.
OP start
OP quit
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250 STARTTLS
C: STARTTLS
S: 220 go ahead
WANT_TLS yes
TLS no
NOTHING
R: start TLS msg~"handshake"
R: quit TLS
CLOSED yes
TLS_ACTIVE no
ERROR TLS
