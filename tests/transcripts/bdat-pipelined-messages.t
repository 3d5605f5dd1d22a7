# CHUNKING with PIPELINING: a BDAT LAST from memory carries the whole
# content, so the next messages follow it in the same write and every
# reply comes back in one batch: one wait for three messages.
OP send from=a@example.org to=b@example.net data="one\n"
OP send from=a@example.org to=c@example.net data="two\n"
OP send from=a@example.org to=d@example.net data="three\n"
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250-PIPELINING
S: 250 CHUNKING
C< MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nBDAT 5 LAST\r\none\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<c@example.net>\r\nBDAT 5 LAST\r\ntwo\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<d@example.net>\r\nBDAT 7 LAST\r\nthree\r\n
NOTHING
S< 250 ok\r\n250 ok\r\n250 2.0.0 first\r\n250 ok\r\n550 no c\r\n554 5.5.1 no valid recipients\r\n250 ok\r\n250 ok\r\n250 2.0.0 third\r\n
R: send OK rcpt=250 final=250 text="first"
R: send RECIPIENTS_REFUSED code=550 rcpt=550 final=554
R: send OK rcpt=250 final=250
# The second one failed: RSET follows, behind the third (already sent).
C: RSET
S: 250 ok
NOTHING
