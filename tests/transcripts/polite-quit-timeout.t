# After a refused greeting the session sends its own QUIT; if that is never
# answered it times out like any command and the session closes.
CONFIG timeout.command=1000
OP noop
S: 554 not today
R: noop GREETING code=554
C: QUIT
WAIT command
DEADLINE 1000
TICK 1000
CLOSED yes
WAIT none
DEADLINE none
