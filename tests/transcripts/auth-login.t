# AUTH LOGIN: no initial response; the first 334 prompt gets the base64
# username, the second the base64 password, then 235.
OP auth user=alice pass=s3cret mech=LOGIN
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250 AUTH LOGIN
C: AUTH LOGIN
NOTHING
S: 334 VXNlcm5hbWU6
C: YWxpY2U=
NOTHING
S: 334 UGFzc3dvcmQ6
C: czNjcmV0
NOTHING
NO_RESULT
S: 235 2.7.0 ok
R: auth OK code=235 enh=2.7.0
