# With auth_requires_tls, PLAIN goes once the connection is encrypted.
CONFIG auth_requires_tls
OP auth user=alice pass=secret mech=PLAIN
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250 STARTTLS
C: STARTTLS
S: 220 go
TLS yes
C: EHLO client.example
S: 250-mx
S: 250 AUTH PLAIN
C: AUTH PLAIN AGFsaWNlAHNlY3JldA==
S: 235 ok
R: auth OK
