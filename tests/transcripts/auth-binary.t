# Credentials that are not UTF-8 at all are sent byte for byte.
OP auth user=bob pass=\xff\xfe\x80pw mech=PLAIN
OP auth user=bob pass=\xff\xfe\x80pw mech=LOGIN
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250 AUTH PLAIN LOGIN
C: AUTH PLAIN AGJvYgD//oBwdw==
S: 235 ok
R: auth OK
C: AUTH LOGIN
S: 334 VXNlcm5hbWU6
C: Ym9i
S: 334 UGFzc3dvcmQ6
C: //6AcHc=
S: 235 ok
R: auth OK
