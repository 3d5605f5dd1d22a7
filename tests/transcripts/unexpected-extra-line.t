# An extra reply right behind a complete one, when nothing else is
# outstanding, is fatal (it would otherwise be taken as the answer to the
# next command): UNEXPECTED_REPLY, CLOSED.
OP noop
OP vrfy bob
S: 220 mx
C: EHLO client.example
S: 250 mx
C: NOOP
S< 250 ok\r\n250 2.1.5 bob is fine\r\n
NOTHING
R: noop OK code=250
R: vrfy UNEXPECTED_REPLY
CLOSED yes
