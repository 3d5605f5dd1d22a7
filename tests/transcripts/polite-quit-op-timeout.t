# The caller's own QUIT after a refused greeting completes with TIMEOUT
# when its reply never comes.
CONFIG timeout.command=1000
OP noop
OP quit
S: 554 not today
C: QUIT
R: noop GREETING code=554
TICK 1000
R: quit TIMEOUT
CLOSED yes
