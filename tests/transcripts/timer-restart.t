# The inactivity timer restarts whenever bytes arrive: 600 ms, part of a
# reply, 600 ms more is fine with a 1000 ms timeout; 1000 ms of silence
# after the last bytes is not.
CONFIG timeout.command=1000
OP noop
S: 220 mx
C: EHLO client.example
S: 250 mx
C: NOOP
TICK 600
S< 250-still
DEADLINE 1600
TICK 600
S< thinking\r\n250 
TICK 600
NO_RESULT
S< ok\r\n
R: noop OK text="stillthinking\nok"
OP noop
C: NOOP
TICK 999
NO_RESULT
TICK 1
R: noop TIMEOUT
