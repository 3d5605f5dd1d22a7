# mech= restricts the choice: with LOGIN alone allowed, LOGIN is used even
# though the server also offers CRAM-MD5 and PLAIN.
OP auth user=alice pass=s3cret mech=LOGIN
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250 AUTH CRAM-MD5 PLAIN LOGIN
C: AUTH LOGIN
S: 334 VXNlcm5hbWU6
C: YWxpY2U=
S: 334 UGFzc3dvcmQ6
C: czNjcmV0
S: 235 ok
R: auth OK
