# A 4xx to EHLO is not a reason to try HELO: every operation fails with
# HELO carrying the 451 and the client sends QUIT only.
OP start
OP noop
S: 220 mx
C: EHLO client.example
S: 451 try later
C: QUIT
NOTHING
R: start HELO code=451 msg~"refused EHLO"
R: noop HELO code=451
S: 221 bye
CLOSED yes
