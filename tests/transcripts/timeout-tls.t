# The TLS handshake has its own timer (timeout.tls): when it expires the
# ops fail with TIMEOUT naming the handshake, and the session closes.
CONFIG timeout.tls=500
OP noop
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250 STARTTLS
C: STARTTLS
S: 220 go ahead
WAIT tls
DEADLINE 500
TICK 499
NO_RESULT
TICK 1
R: noop TIMEOUT msg~"TLS handshake"
CLOSED yes
WANT_TLS no
NOTHING
