# The server closes the connection while a reply is awaited: every
# pending op fails with DISCONNECTED and the session wants to close.
OP noop
OP send from=a@example.org to=b@example.net data="x\r\n"
S: 220 mx
C: EHLO client.example
S: 250 mx
C: NOOP
EOF
NOTHING
R: noop DISCONNECTED code=none msg~"unexpectedly"
R: send DISCONNECTED mail=none delivered
CLOSED yes
ERROR DISCONNECTED
REFUSE DISCONNECTED noop
