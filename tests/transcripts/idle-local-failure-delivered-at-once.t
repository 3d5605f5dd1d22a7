# An operation decided without I/O (auth with no usable mechanism) while
# the session is idle: nothing is written, the deadline is 0, and the next
# tick delivers it.
OP noop
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250 AUTH CRAM-MD5
C: NOOP
S: 250 ok
R: noop OK
WAIT none
OP auth user=alice pass=s3cret mech=PLAIN
NOTHING
WAIT none
DEADLINE 0
TICK 0
R: auth NOT_SUPPORTED
DEADLINE none
