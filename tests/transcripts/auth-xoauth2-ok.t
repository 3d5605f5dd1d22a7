# XOAUTH2 accepted at once: a 235 to the AUTH line completes it.
OP auth user=alice@example.com token=ya29.token mech=XOAUTH2
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250 AUTH XOAUTH2
C: AUTH XOAUTH2 dXNlcj1hbGljZUBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnRva2VuAQE=
S: 235 2.7.0 Accepted
R: auth OK code=235
