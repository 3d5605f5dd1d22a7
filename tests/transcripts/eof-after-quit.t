# The server drops the connection after QUIT without a 221: it has still
# quit, so QUIT completes OK.
OP noop
OP quit
S: 220 mx
C: EHLO client.example
S: 250 mx
C: NOOP
S: 250 ok
R: noop OK
C: QUIT
EOF
R: quit OK code=none msg~"closed the connection after QUIT"
CLOSED yes
ERROR OK
