# An explicit ehlo operation sends EHLO again and replaces the extensions
# with the new answer; it completes with the new reply.
OP start
S: 220 mx
C: EHLO client.example
S: 250-mx first
S: 250-PIPELINING
S: 250 SIZE 1000
R: start OK code=250 text="mx first\nPIPELINING\nSIZE 1000"
EXT PIPELINING
EXT SIZE 1000
NOEXT DSN
OP ehlo
C: EHLO client.example
NOTHING
S: 250-mx second
S: 250 DSN
R: ehlo OK code=250 text="mx second\nDSN"
EXT DSN
NOEXT PIPELINING
NOEXT SIZE
