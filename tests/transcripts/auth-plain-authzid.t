# AUTH PLAIN with an authorization identity puts it before the first NUL.
OP auth user=alice pass=s3cret authzid=admin
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250 AUTH PLAIN
C: AUTH PLAIN YWRtaW4AYWxpY2UAczNjcmV0
S: 235 ok
R: auth OK code=235
