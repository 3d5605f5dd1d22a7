# A 535 refusal fails the auth operation with AUTH, carrying the code, the
# enhanced code and the text; the session stays usable.
OP auth user=alice pass=wrong mech=PLAIN
OP noop
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250 AUTH PLAIN
C: AUTH PLAIN AGFsaWNlAHdyb25n
S: 535 5.7.8 Authentication credentials invalid
R: auth AUTH code=535 enh=5.7.8 text="Authentication credentials invalid" msg~"refused PLAIN"
C: NOOP
S: 250 ok
R: noop OK
ERROR OK
