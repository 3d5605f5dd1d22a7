# With a QUIT operation already queued, a refused greeting fails the other
# operations and the caller's QUIT is the one command sent; it completes
# with the server's 221.
OP send from=a@example.org to=b@example.net data="hello\r\n"
OP quit
S: 554 not today
C: QUIT
NOTHING
R: send GREETING code=554
NO_RESULT
S: 221 bye
R: quit OK code=221
CLOSED yes
NOTHING
