# The lines of a multi-line reply must share one code: "250-a" then
# "251 b" is MALFORMED_REPLY.
OP noop
S: 220 mx
C: EHLO client.example
S: 250-a
S: 251 b
NOTHING
R: noop MALFORMED_REPLY
CLOSED yes
