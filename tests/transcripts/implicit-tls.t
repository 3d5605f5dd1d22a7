# CONFIG tls (implicit TLS): the connection is already encrypted, so no
# STARTTLS is sent even when offered, even with starttls=required.
CONFIG tls starttls=required
OP noop
TLS_ACTIVE yes
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250 STARTTLS
C: NOOP
S: 250 ok
R: noop OK
TLS_ACTIVE yes
