# The old "AUTH=LOGIN" form announces AUTH: an auth operation can use it.
# "AUTH PLAIN-CLIENTTOKEN" is not PLAIN.
OP auth user=u pass=p
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250-AUTH PLAIN-CLIENTTOKEN
S: 250 AUTH=LOGIN
EXT AUTH PLAIN-CLIENTTOKEN
C: AUTH LOGIN
S: 334 VXNlcm5hbWU6
C: dQ==
S: 334 UGFzc3dvcmQ6
C: cA==
S: 235 2.7.0 ok
R: auth OK code=235
