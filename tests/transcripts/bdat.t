# CHUNKING offered: the content goes as one "BDAT n LAST" with n the exact
# octet count of the normalised content, which is not dot-stuffed and has
# no terminating dot.
OP send from=a@example.org to=b@example.net data=".dot\nline\r.\r\n"
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250 CHUNKING
C: MAIL FROM:<a@example.org>
S: 250 ok
C: RCPT TO:<b@example.net>
S: 250 ok
C< BDAT 15 LAST\r\n.dot\r\nline\r\n.\r\n
NOTHING
WAIT data-end
S: 250 2.0.0 queued
R: send OK code=250 data=none final=250
