# QUIT as the first operation needs no EHLO: after the greeting the client
# sends QUIT and nothing else.
OP quit
NOTHING
S: 220 mx
C: QUIT
NOTHING
S: 221 2.0.0 bye
R: quit OK code=221 enh=2.0.0 text="bye"
CLOSED yes
WAIT none
