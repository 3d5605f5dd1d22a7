# Nothing is sent before the greeting, however many operations wait; the
# session waits for the greeting, then sends EHLO alone (a barrier).
OP noop
OP send from=a@example.org to=b@example.net data="x\r\n"
OP quit
WAIT greeting
NOTHING
TICK 5000
NOTHING
S< 220 mx ready
NOTHING
S< \r\n
C: EHLO client.example
NOTHING
WAIT command
S: 250-mx
S: 250 PIPELINING
C: NOOP
NOTHING
S: 250 2.0.0 ok
R: noop OK code=250 enh=2.0.0
C< MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n
S< 250 ok\r\n250 ok\r\n354 go\r\n
C< x\r\n.\r\n
S: 250 queued
R: send OK final=250
C: QUIT
S: 221 bye
R: quit OK
