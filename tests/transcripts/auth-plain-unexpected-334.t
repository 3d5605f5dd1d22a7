# A 334 challenge to AUTH PLAIN, whose initial response was already sent,
# cannot be answered: the client cancels with "*" and the 501 fails the
# auth with AUTH.
OP auth user=alice pass=s3cret mech=PLAIN
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250 AUTH PLAIN
C: AUTH PLAIN AGFsaWNlAHMzY3JldA==
S: 334 
C: *
S: 501 5.7.0 cancelled
R: auth AUTH code=501
