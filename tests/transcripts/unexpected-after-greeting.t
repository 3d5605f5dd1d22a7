# A reply nobody asked for, in the same read as the greeting: the
# connection is desynchronised; UNEXPECTED_REPLY for every pending op,
# CLOSED, and EHLO is never sent.
OP noop
S< 220 mx\r\n250 x\r\n
NOTHING
R: noop UNEXPECTED_REPLY code=250 msg~"no command asked for"
CLOSED yes
ERROR UNEXPECTED_REPLY
