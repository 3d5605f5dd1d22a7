# "start" on a connection that is already up needs no I/O: it is never
# completed inside the submitting call, and the deadline says 0 (call tick
# at once) so that an idle event loop delivers it straight away.
OP start
S: 220 mx
C: EHLO client.example
S: 250 mx
R: start OK
DEADLINE none
OP start
NOTHING
NO_RESULT
DEADLINE 0
TICK 0
R: start OK code=250
DEADLINE none
