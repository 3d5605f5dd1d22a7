# Freeing the session with operations pending completes each of them with
# CANCELLED, in order, during the free.
OP send from=a@example.org to=b@example.net data="x\r\n"
OP noop
OP quit
S: 220 mx
C: EHLO client.example
S: 250 mx
C: MAIL FROM:<a@example.org>
NO_RESULT
FREE
R: send CANCELLED msg~"freed"
R: noop CANCELLED
R: quit CANCELLED
NO_RESULT
