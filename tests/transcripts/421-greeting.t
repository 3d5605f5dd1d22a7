# A 421 greeting (service not available) is a shutdown: SHUTDOWN for all,
# no QUIT.
OP send from=a@example.org to=b@example.net data="x\r\n"
S: 421 mx too busy
NOTHING
R: send SHUTDOWN code=421
CLOSED yes
