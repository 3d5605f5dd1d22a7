# No reply to MAIL within timeout.command: every op fails with TIMEOUT,
# the message names what was awaited, and no QUIT is sent.
CONFIG timeout.command=500
OP send from=a@example.org to=b@example.net data="x\r\n"
OP quit
S: 220 mx
C: EHLO client.example
S: 250 mx
C: MAIL FROM:<a@example.org>
WAIT command
DEADLINE 500
TICK 499
NO_RESULT
TICK 1
NOTHING
R: send TIMEOUT code=none msg~"MAIL FROM" delivered
R: quit TIMEOUT
CLOSED yes
ERROR TIMEOUT
