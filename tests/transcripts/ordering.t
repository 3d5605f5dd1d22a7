# Operations of different kinds submitted together complete in submission
# order, each once, even when a later one is decided first (the auth
# below has no mechanism and is decided before the send's reply).
OP start
OP send from=a@example.org to=b@example.net data="x\r\n"
OP auth user=u pass=p mech=XOAUTH2
OP vrfy bob
OP noop
OP quit
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250-AUTH PLAIN
S: 250 PIPELINING
R: start OK
C< MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n
NO_RESULT
S< 250 ok\r\n250 ok\r\n354 go\r\n
C< x\r\n.\r\nVRFY bob\r\n
S< 250 queued\r\n252 maybe\r\n
R: send OK
R: auth NOT_SUPPORTED
R: vrfy OK code=252
C: NOOP
S: 250 ok
R: noop OK
C: QUIT
S: 221 bye
R: quit OK
NO_RESULT
