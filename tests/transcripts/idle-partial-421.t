# A 421 that arrives in pieces while the session is idle is still a
# shutdown, not an unexpected reply.
OP noop
S: 220 mx
C: EHLO client.example
S: 250 mx
C: NOOP
S: 250 ok
R: noop OK
S< 421 4.3.2 shutting
S< \x20down\r\n
ERROR SHUTDOWN
CLOSED yes
