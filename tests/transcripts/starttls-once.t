# After the upgrade, a STARTTLS announced again in the EHLO reply over TLS
# is not acted on: the client never sends STARTTLS twice.
CONFIG starttls=required
OP noop
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250 STARTTLS
C: STARTTLS
S: 220 go
TLS yes
C: EHLO client.example
S: 250-mx
S: 250 STARTTLS
EXT STARTTLS
C: NOOP
S: 250 ok
R: noop OK
TLS_ACTIVE yes
