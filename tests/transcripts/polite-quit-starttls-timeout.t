# STARTTLS required and refused: the courtesy QUIT times out like any
# command and the session closes.
CONFIG starttls=required timeout.command=1000
OP start
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250 STARTTLS
C: STARTTLS
S: 454 4.7.0 not now
R: start TLS code=454
C: QUIT
TICK 1000
CLOSED yes
