# The read callback fails before the first BDAT chunk is complete: with
# pipelining the envelope was not written yet either, so nothing at all
# goes out; SOURCE for that send, CANCELLED for the rest, CLOSED.
OP send from=a@example.org to=b@example.net stream=4 fail_at=6 data="0123456789\r\n"
OP noop
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250-PIPELINING
S: 250 CHUNKING
NOTHING
R: send SOURCE
R: noop CANCELLED
CLOSED yes
