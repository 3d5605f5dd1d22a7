# starttls=never: no STARTTLS even when offered; the session stays
# plaintext and goes straight on.
CONFIG starttls=never
OP noop
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250 STARTTLS
C: NOOP
S: 250 ok
R: noop OK
TLS_ACTIVE no
WANT_TLS no
TLS yes
TLS_ACTIVE no
NOTHING
