# The greeting timer: with timeout.greeting=1000, 999 ms pass quietly and
# the next one fails every op with CONNECT_TIMEOUT; CLOSED, nothing sent.
CONFIG timeout.greeting=1000
OP send from=a@example.org to=b@example.net data="x\r\n"
WAIT greeting
DEADLINE 1000
TICK 999
NOTHING
NO_RESULT
TICK 1
R: send CONNECT_TIMEOUT code=none msg~"greeting"
CLOSED yes
WAIT none
DEADLINE none
NOTHING
