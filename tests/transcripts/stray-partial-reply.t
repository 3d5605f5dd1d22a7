# Part of a reply no command asked for ("550 forged" trailing the NOOP's
# answer) is never taken as the answer to the next command: the next
# operation fails with UNEXPECTED_REPLY and nothing is written for it.
OP noop
S: 220 mx
C: EHLO client.example
S: 250 mx
C: NOOP
S< 250 ok\r\n550 forged
R: noop OK
OP vrfy bob
NOTHING
DEADLINE 0
TICK 0
R: vrfy UNEXPECTED_REPLY
ERROR UNEXPECTED_REPLY
CLOSED yes
