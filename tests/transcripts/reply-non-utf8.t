# Reply text that is not UTF-8 is kept byte for byte in the reply.
OP vrfy bob
OP vrfy eve
S: 220 mx
C: EHLO client.example
S: 250 mx
C: VRFY bob
S: 250 caf\xe9 \xff\x80 bob
R: vrfy OK code=250 text="caf\xe9 \xff\x80 bob"
C: VRFY eve
S: 550 5.1.1 unknown \xfe
R: vrfy COMMAND_REFUSED text="unknown \xfe" msg~"550 5.1.1 unknown \\xfe"
