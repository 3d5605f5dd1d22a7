# VRFY first triggers EHLO; 250 and 252 (cannot verify, will accept) are
# successes, 550 is COMMAND_REFUSED with the reply.
OP vrfy alice
OP vrfy bob
OP vrfy nobody
S: 220 mx
C: EHLO client.example
NOTHING
S: 250-mx
S: 250 PIPELINING
C: VRFY alice
NOTHING
S: 250 2.1.5 Alice <alice@example.net>
R: vrfy OK code=250 enh=2.1.5 text="Alice <alice@example.net>"
C: VRFY bob
NOTHING
S: 252 2.5.2 cannot VRFY user, but will accept message
R: vrfy OK code=252 enh=2.5.2
C: VRFY nobody
S: 550 5.1.1 no such user
R: vrfy COMMAND_REFUSED code=550 enh=5.1.1 text="no such user"
