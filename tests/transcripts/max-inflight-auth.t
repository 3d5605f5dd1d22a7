# AUTH goes alone: it never joins the RSET in flight after a failed
# transaction, so the in-flight bound holds.
CONFIG max_inflight=32
OP send from=a@example.org to=b@example.net data="x\r\n"
OP auth user=user pass=hunter2
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250-PIPELINING
S: 250 AUTH PLAIN
C< MAIL FROM:<a@example.org>\r\n
S< 550 no\r\n
R: send SENDER_REFUSED code=550
C< RSET\r\n
NOTHING
S: 250 ok
C: AUTH PLAIN AHVzZXIAaHVudGVyMg==
S: 235 ok
R: auth OK
