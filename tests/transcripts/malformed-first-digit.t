# A first digit outside 2-5 (here 6) is a protocol violation:
# MALFORMED_REPLY.
OP noop
S: 220 mx
C: EHLO client.example
S: 250 mx
C: NOOP
S: 650 what
NOTHING
R: noop MALFORMED_REPLY
CLOSED yes
