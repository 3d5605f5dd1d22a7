# No reply after the final dot within timeout.data-end: TIMEOUT with
# maybe_delivered, and the message warns that the server may have
# accepted the message.
CONFIG timeout.data-end=3000 timeout.command=100
OP send from=a@example.org to=b@example.net data="x\r\n"
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250 PIPELINING
C< MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n
S< 250 ok\r\n250 ok\r\n354 go\r\n
C< x\r\n.\r\n
WAIT data-end
DEADLINE 3000
TICK 2999
NO_RESULT
TICK 1
R: send TIMEOUT maybe msg~"may have accepted"
CLOSED yes
