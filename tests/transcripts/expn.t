# EXPN first triggers EHLO; a multi-line 250 lists the members, and a 502
# is COMMAND_REFUSED.
OP expn staff
OP expn secret
S: 220 mx
C: EHLO client.example
S: 250 mx
C: EXPN staff
S: 250-2.1.5 Alice <alice@example.net>
S: 250 2.1.5 Bob <bob@example.net>
R: expn OK code=250 enh=2.1.5 text="Alice <alice@example.net>\nBob <bob@example.net>"
C: EXPN secret
S: 502 5.5.1 EXPN disabled
R: expn COMMAND_REFUSED code=502
