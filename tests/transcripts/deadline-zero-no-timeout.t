# A deadline of 0 (a completion waiting for delivery) is not a timeout:
# the tick delivers it and the NOOP still unwritten is left alone.
OP start
S: 220 mx
C: EHLO client.example
S: 250 mx
R: start OK
HOLD
OP start
OP noop
DEADLINE 0
TICK 0
R: start OK
NO_RESULT
ERROR OK
FLUSH
C: NOOP
S: 250 ok
R: noop OK
