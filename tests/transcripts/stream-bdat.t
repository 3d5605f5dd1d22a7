# Streamed content (5 octets per read) with CHUNKING: a small message is
# one "BDAT n LAST" of normalised content, in the same write as MAIL and
# RCPT; size= is declared as SIZE and eightbit gives BODY=8BITMIME.
OP send from=a@example.org to=b@example.net stream=5 size=20 eightbit data="line one\nline tw\xc3\xb6\n"
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250-PIPELINING
S: 250-SIZE
S: 250-8BITMIME
S: 250 CHUNKING
C< MAIL FROM:<a@example.org> SIZE=20 BODY=8BITMIME\r\nRCPT TO:<b@example.net>\r\nBDAT 21 LAST\r\nline one\r\nline tw\xc3\xb6\r\n
NOTHING
S< 250 ok\r\n250 ok\r\n250 2.0.0 queued\r\n
R: send OK final=250 data=none
