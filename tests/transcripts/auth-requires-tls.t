# With auth_requires_tls, a password never goes in the clear: PLAIN is
# refused with TLS before anything is written, CRAM-MD5 (which does not
# reveal the password) is still allowed, and after STARTTLS PLAIN goes.
CONFIG auth_requires_tls starttls=never
OP auth user=alice pass=secret mech=PLAIN
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250 AUTH PLAIN CRAM-MD5
R: auth TLS msg~"unencrypted"
NOTHING
TRANSCRIPT! C: AUTH PLAIN
OP auth user=tim pass=tanstaaftanstaaf
C: AUTH CRAM-MD5
S: 334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+
C: dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw
S: 235 ok
R: auth OK
