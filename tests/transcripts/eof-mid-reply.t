# The connection closes in the middle of a multi-line reply: DISCONNECTED,
# and the message says so.
OP noop
S: 220 mx
C: EHLO client.example
S< 250-partial
EOF
R: noop DISCONNECTED msg~"middle"
CLOSED yes
