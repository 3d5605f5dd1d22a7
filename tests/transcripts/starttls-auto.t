# STARTTLS offered, policy auto: the client upgrades before anything else,
# stops for the handshake, then sends EHLO again and forgets every
# extension the pre-TLS reply announced.
OP noop
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250-SIZE 5000
S: 250-X-PLAINTEXT-ONLY
S: 250 STARTTLS
EXT X-PLAINTEXT-ONLY
C: STARTTLS
NOTHING
TLS_ACTIVE no
S: 220 2.0.0 go ahead
WANT_TLS yes
WAIT tls
NOTHING
NO_RESULT
NOEXT X-PLAINTEXT-ONLY
TLS yes
WANT_TLS no
TLS_ACTIVE yes
C: EHLO client.example
NOTHING
S: 250-mx secure
S: 250 AUTH PLAIN
NOEXT X-PLAINTEXT-ONLY
NOEXT SIZE
NOEXT STARTTLS
EXT AUTH PLAIN
C: NOOP
S: 250 ok
R: noop OK
TLS_ACTIVE yes
OP quit
C: QUIT
S: 221 bye
R: quit OK
