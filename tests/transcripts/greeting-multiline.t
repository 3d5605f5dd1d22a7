# A multi-line 220 greeting is one reply: EHLO follows only after its last
# line, and greeting text is not split into an enhanced code.
OP start
S: 220-mx.example.net ESMTP
NOTHING
S: 220-2.0.0 this is not an enhanced code
NOTHING
S: 220 ready
C: EHLO client.example
S: 250-mx.example.net
S: 250 2.0.0 not enhanced either
R: start OK code=250 enh=none text="mx.example.net\n2.0.0 not enhanced either"
NO_RESULT
OP quit
C: QUIT
S: 221 2.0.0 Bye
R: quit OK code=221 enh=2.0.0 text="Bye"
CLOSED yes
