# No usable mechanism: NOT_SUPPORTED without sending anything, both when
# the server offers no AUTH and when it offers only mechanisms that are
# not allowed; the session carries on.
OP auth user=alice pass=s3cret
OP noop
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250 PIPELINING
R: auth NOT_SUPPORTED code=none msg~"does not offer AUTH"
C: NOOP
S: 250 ok
R: noop OK
OP ehlo
OP auth user=alice pass=s3cret mech=PLAIN
OP auth user=alice pass=s3cret mech=XOAUTH2
OP auth user=alice token=T mech=CRAM-MD5
C: EHLO client.example
S: 250-mx
S: 250 AUTH CRAM-MD5 LOGIN
R: ehlo OK
R: auth NOT_SUPPORTED code=none msg~"no SASL mechanism"
R: auth NOT_SUPPORTED
R: auth NOT_SUPPORTED
NOTHING
ERROR OK
