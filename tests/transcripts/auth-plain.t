# AUTH PLAIN sends base64(NUL user NUL pass) as an initial response on the
# AUTH line itself, and 235 completes it.
OP auth user=alice pass=s3cret mech=PLAIN
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250 AUTH PLAIN
C: AUTH PLAIN AGFsaWNlAHMzY3JldA==
NOTHING
S: 235 2.7.0 Authentication successful
R: auth OK code=235 enh=2.7.0 text="Authentication successful"
