# A malformed reply while the courtesy QUIT is outstanding closes the
# session.
OP noop
S: 554 no
R: noop GREETING code=554
C: QUIT
S: garbage
CLOSED yes
