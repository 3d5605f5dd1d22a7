# A reply code that is not three digits ("25O") is MALFORMED_REPLY: every
# pending op fails with it and the connection is closed.
OP noop
S: 220 mx
C: EHLO client.example
S: 25O ok
NOTHING
R: noop MALFORMED_REPLY code=none msg~"malformed"
CLOSED yes
ERROR MALFORMED_REPLY
