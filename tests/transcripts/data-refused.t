# DATA answered 554: no content is sent; DATA_REFUSED with that reply,
# then RSET.
OP send from=a@example.org to=b@example.net data="x\r\n"
S: 220 mx
C: EHLO client.example
S: 250 mx
C: MAIL FROM:<a@example.org>
S: 250 ok
C: RCPT TO:<b@example.net>
S: 250 ok
C: DATA
S: 554 5.3.0 no DATA for you
R: send DATA_REFUSED code=554 enh=5.3.0 data=554 final=none
C: RSET
S: 250 ok
NOTHING
