# The server closes the connection before greeting: DISCONNECTED for all.
OP quit
EOF
R: quit DISCONNECTED
CLOSED yes
NOTHING
