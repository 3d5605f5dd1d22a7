# A raw command first triggers EHLO; its reply, whatever the code, comes
# back with OK. It is never pipelined.
OP raw XCLIENT ADDR=192.0.2.1
OP raw FOO bar
OP noop
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250 PIPELINING
C: XCLIENT ADDR=192.0.2.1
NOTHING
S: 220 mx ready again
R: raw OK code=220
C: FOO bar
NOTHING
S: 500 5.5.2 unrecognized command
R: raw OK code=500 enh=5.5.2 text="unrecognized command"
C: NOOP
S: 250 ok
R: noop OK
