# Arguments that cannot be sent are refused at submission: CR or LF in an
# address, a VRFY/EXPN argument or a raw line is BAD_ARGUMENT; a 600-octet
# VRFY argument is COMMAND_TOO_LONG. Nothing is queued, nothing written.
REFUSE BAD_ARGUMENT send from="a@example.org\r\nRCPT TO:<x@evil>" to=b@example.net data="x\r\n"
REFUSE BAD_ARGUMENT send from=a@example.org to=b@example.net\r\nDATA data="x\r\n"
REFUSE BAD_ARGUMENT send from=a@example.org to=b@exa\nmple.net data="x\r\n"
REFUSE BAD_ARGUMENT send from=a@example.org to=no-at-sign data="x\r\n"
REFUSE BAD_ARGUMENT send from=a@example.org to=b@bad..domain data="x\r\n"
REFUSE BAD_ARGUMENT send from=a@example.org to= data="x\r\n"
REFUSE BAD_ARGUMENT vrfy bob\r\nDATA
REFUSE BAD_ARGUMENT expn list\nQUIT
REFUSE BAD_ARGUMENT raw NOOP\r\nQUIT
REFUSE BAD_ARGUMENT raw NOOP\tx
REFUSE BAD_ARGUMENT vrfy
REFUSE BAD_ARGUMENT help a\rb
REFUSE COMMAND_TOO_LONG vrfy vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv
REFUSE COMMAND_TOO_LONG send from=a@example.org to=rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr@example.net data="x"
OP noop
S: 220 mx
C: EHLO client.example
S: 250 mx
C: NOOP
S: 250 ok
R: noop OK
