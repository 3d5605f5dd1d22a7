# BDAT LAST refused with 554: DATA_REFUSED carrying it. The NOOP queued
# behind it went at once (a BDAT LAST from memory is no barrier), and RSET
# follows the refusal once the NOOP (a barrier) is answered: RFC 3030
# leaves the server's state undefined after a failed BDAT.
OP send from=a@example.org to=b@example.net data="x\r\n"
OP noop
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250-PIPELINING
S: 250 CHUNKING
C< MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nBDAT 3 LAST\r\nx\r\nNOOP\r\n
S< 250 ok\r\n250 ok\r\n554 5.6.0 content rejected\r\n
R: send DATA_REFUSED code=554 enh=5.6.0 final=554
S: 250 ok
R: noop OK
C: RSET
S: 250 ok
NOTHING
