# Replies may arrive in any fragments: split inside the code, between CR
# and LF, and between the lines of a multi-line reply; a bare LF line end
# is accepted too.
OP noop
S< 2
S< 20 mx\r
NOTHING
S< \n
C: EHLO client.example
S< 25
S< 0-mx\r\n250-PIPE
S< LINING\r
S< \n250 SIZE 10
NOTHING
S< 0\n
EXT PIPELINING
EXT SIZE 100
C: NOOP
S< 250 2.0.0 o
NO_RESULT
S< k\r\n
R: noop OK enh=2.0.0 text="ok"
