# RSET as the first operation triggers EHLO first; a 250 completes it, a
# refusal of a caller's RSET is COMMAND_REFUSED (not fatal).
OP rset
OP rset
OP noop
S: 220 mx
C: EHLO client.example
S: 250 mx
C: RSET
S: 250 2.0.0 flushed
R: rset OK code=250 enh=2.0.0
C: RSET
S: 502 5.5.1 no RSET today
R: rset COMMAND_REFUSED code=502 enh=5.5.1
C: NOOP
S: 250 ok
R: noop OK
ERROR OK
