# The transcript callback never sees AUTH payloads: the AUTH PLAIN line is
# shown as "AUTH PLAIN <redacted>", and neither the base64 nor the password
# appears anywhere in it.
OP auth user=alice pass=s3cret mech=PLAIN
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250 AUTH PLAIN LOGIN
C: AUTH PLAIN AGFsaWNlAHMzY3JldA==
S: 235 ok
R: auth OK
TRANSCRIPT~ C: AUTH PLAIN <redacted>
TRANSCRIPT! AGFsaWNlAHMzY3JldA==
TRANSCRIPT! s3cret
OP auth user=alice pass=s3cret mech=LOGIN
C: AUTH LOGIN
S: 334 VXNlcm5hbWU6
C: YWxpY2U=
S: 334 UGFzc3dvcmQ6
C: czNjcmV0
S: 235 ok
R: auth OK
TRANSCRIPT~ C: AUTH LOGIN
TRANSCRIPT~ C: <redacted>
TRANSCRIPT! YWxpY2U=
TRANSCRIPT! czNjcmV0
TRANSCRIPT! s3cret
