# starttls=required and the server does not offer STARTTLS: every
# operation fails with TLS and nothing but QUIT is sent in plaintext.
CONFIG starttls=required
OP auth user=u pass=secret
OP send from=a@example.org to=b@example.net data="x\r\n"
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250-AUTH PLAIN
S: 250 PIPELINING
C: QUIT
NOTHING
R: auth TLS msg~"does not offer STARTTLS"
R: send TLS
ERROR TLS
REFUSE TLS noop
S: 221 bye
CLOSED yes
NOTHING
