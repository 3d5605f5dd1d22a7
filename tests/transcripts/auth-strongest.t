# With no mechanism forced, the strongest one both sides allow is used:
# of LOGIN PLAIN CRAM-MD5 that is CRAM-MD5.
OP auth user=tim pass=tanstaaftanstaaf
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250 AUTH LOGIN PLAIN CRAM-MD5
C: AUTH CRAM-MD5
S: 334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+
C: dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw
S: 235 ok
R: auth OK
