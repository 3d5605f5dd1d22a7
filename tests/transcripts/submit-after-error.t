# After a fatal error every submission is refused with that error, and
# nothing is written.
OP noop
S: 220 mx
C: EHLO client.example
S: 25O broken
R: noop MALFORMED_REPLY
REFUSE MALFORMED_REPLY noop
REFUSE MALFORMED_REPLY quit
REFUSE MALFORMED_REPLY send from=a@example.org to=b@example.net data="x\r\n"
REFUSE MALFORMED_REPLY auth user=u pass=p
NOTHING
