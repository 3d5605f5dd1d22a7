# EHLO answered 421: every operation fails with SHUTDOWN carrying the 421,
# the session wants to close, and no QUIT is sent (nor HELO).
OP start
OP noop
S: 220 mx
C: EHLO client.example
S: 421 4.3.2 shutting down
NOTHING
R: start SHUTDOWN code=421 enh=none
R: noop SHUTDOWN code=421
CLOSED yes
ERROR SHUTDOWN
WAIT none
