# What the session waits for at each stage, with distinct timeouts so that
# each deadline shows which timer runs: greeting, command, data-init,
# data-block (socket full), data-end, and none when idle.
CONFIG timeout.greeting=1000 timeout.command=2000 timeout.data-init=3000 timeout.data-block=4000 timeout.data-end=5000
OP send from=a@example.org to=b@example.net data="x\r\n"
WAIT greeting
DEADLINE 1000
TICK 10
S: 220 mx
C: EHLO client.example
WAIT command
DEADLINE 2010
S: 250 mx
C: MAIL FROM:<a@example.org>
WAIT command
S: 250 ok
C: RCPT TO:<b@example.net>
S: 250 ok
C: DATA
WAIT data-init
DEADLINE 3010
HOLD
S: 354 go
WAIT data-block
DEADLINE 4010
TICK 10
FLUSH
C< x\r\n.\r\n
WAIT data-end
DEADLINE 5020
S: 250 ok
R: send OK
WAIT none
DEADLINE none
TICK 100000
ERROR OK
OP quit
C: QUIT
WAIT command
DEADLINE 102020
S: 221 bye
R: quit OK
WAIT none
DEADLINE none
