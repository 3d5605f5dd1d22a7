# CRAM-MD5 with the example of RFC 2195: the answer is
# base64("tim " hex(HMAC-MD5(password, challenge))).
OP auth user=tim pass=tanstaaftanstaaf mech=CRAM-MD5
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250 AUTH CRAM-MD5
C: AUTH CRAM-MD5
NOTHING
S: 334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+
C: dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw
S: 235 2.7.0 ok
R: auth OK code=235
TRANSCRIPT! dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw
