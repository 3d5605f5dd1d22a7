# A 554 greeting fails every pending operation with GREETING carrying that
# reply (its text unsplit); the only thing the client then writes is QUIT.
OP send from=a@example.org to=b@example.net data="hello\r\n"
OP noop
OP vrfy bob
NOTHING
S: 554 5.7.1 mx.example.net no service for you
C: QUIT
NOTHING
R: send GREETING code=554 enh=none text="5.7.1 mx.example.net no service for you" msg~"refused the connection"
R: noop GREETING code=554
R: vrfy GREETING code=554
ERROR GREETING
REFUSE GREETING noop
S: 221 bye
NOTHING
CLOSED yes
