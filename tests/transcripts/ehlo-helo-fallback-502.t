# EHLO answered 502 (not implemented) falls back to HELO.
OP noop
S: 220 old.example
C: EHLO client.example
S: 502 not implemented
C: HELO client.example
S: 250 old.example hello
C: NOOP
S: 250 ok
R: noop OK code=250
