# The TLS handshake after STARTTLS fails: every operation fails with TLS,
# the session wants to close, and nothing more is written (no plaintext
# fallback, no QUIT even though one is queued).
OP noop
OP quit
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250 STARTTLS
C: STARTTLS
S: 220 go ahead
WANT_TLS yes
NO_RESULT
TLS no
NOTHING
R: noop TLS msg~"handshake"
R: quit TLS
CLOSED yes
TLS_ACTIVE no
WANT_TLS no
ERROR TLS
