# A CRAM-MD5 challenge that is not base64 cancels the exchange with "*";
# the server's 501 then fails the operation with AUTH, and the session
# goes on.
OP auth user=tim pass=tanstaaftanstaaf mech=CRAM-MD5
OP noop
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250 AUTH CRAM-MD5
C: AUTH CRAM-MD5
S: 334 !!!
C: *
NOTHING
S: 501 5.7.0 authentication cancelled
R: auth AUTH code=501 msg~"challenge was not valid"
C: NOOP
S: 250 ok
R: noop OK
