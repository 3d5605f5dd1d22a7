# A password holding a NUL cannot go with PLAIN: with PLAIN and LOGIN both
# offered, LOGIN is chosen.
OP auth user=u pass=a\0b
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250 AUTH PLAIN LOGIN
C: AUTH LOGIN
S: 334 VXNlcm5hbWU6
C: dQ==
S: 334 UGFzc3dvcmQ6
C: YQBi
S: 235 ok
R: auth OK
