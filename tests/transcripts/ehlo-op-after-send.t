# An ehlo operation behind a pipelined send waits until everything in
# flight is answered (EHLO is never pipelined behind the final dot).
OP send from=a@example.org to=b@example.net data="x\r\n"
OP ehlo
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250 PIPELINING
C< MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n
S< 250 ok\r\n250 ok\r\n354 go\r\n
C< x\r\n.\r\n
NOTHING
S: 250 queued
R: send OK
C: EHLO client.example
S: 250-mx again
S: 250 CHUNKING
R: ehlo OK text="mx again\nCHUNKING"
EXT CHUNKING
NOEXT PIPELINING
