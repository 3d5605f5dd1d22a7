# NOOP as the first operation triggers EHLO first; its 250 completes it.
OP noop
S: 220 mx
C: EHLO client.example
NOTHING
S: 250 mx
C: NOOP
NOTHING
S: 250 2.0.0 Ok
R: noop OK code=250 enh=2.0.0 text="Ok"
