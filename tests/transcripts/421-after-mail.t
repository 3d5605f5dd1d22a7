# 421 in answer to MAIL: every pending operation fails with SHUTDOWN
# carrying the 421, the session wants to close, and no QUIT is sent even
# though one is queued.
OP send from=a@example.org to=b@example.net data="x\r\n"
OP noop
OP quit
S: 220 mx
C: EHLO client.example
S: 250 mx
C: MAIL FROM:<a@example.org>
S: 421 4.4.2 mx closing: idle too long
NOTHING
R: send SHUTDOWN code=421 enh=4.4.2 text="mx closing: idle too long" msg~"closing the connection"
R: noop SHUTDOWN code=421
R: quit SHUTDOWN code=421
CLOSED yes
ERROR SHUTDOWN
REFUSE SHUTDOWN noop
