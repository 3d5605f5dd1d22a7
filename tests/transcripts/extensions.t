# Extension queries: keywords match case-insensitively and as whole
# tokens, SIZE keeps its parameter, unknown keywords are kept, and the old
# "AUTH=" form counts as AUTH. Nothing is known before the EHLO reply.
OP start
NOEXT PIPELINING
S: 220 mx
NOEXT PIPELINING
C: EHLO client.example
S: 250-mx.example.net greets you
S: 250-pipelining
S: 250-SIZE 1000
S: 250-AUTH PLAIN LOGIN
S: 250-X-EXPERIMENTAL some params
S: 250-DSNX
S: 250 8BITMIME
R: start OK
EXT PIPELINING
EXT Pipelining
EXT SIZE 1000
EXT size 1000
EXT AUTH
EXT X-EXPERIMENTAL
EXT x-experimental
EXT 8BITMIME
EXT DSNX
NOEXT DSN
NOEXT PIPE
NOEXT CHUNKING
NOEXT mx.example.net
NOEXT STARTTLS
