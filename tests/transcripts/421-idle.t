# An unsolicited 421 while idle (nothing outstanding) is a shutdown, not
# an unexpected reply; pending ops fail with SHUTDOWN and no QUIT goes.
OP start
S: 220 mx
C: EHLO client.example
S: 250 mx
R: start OK
WAIT none
S: 421 4.4.2 idle timeout
NOTHING
CLOSED yes
ERROR SHUTDOWN
REFUSE SHUTDOWN quit
