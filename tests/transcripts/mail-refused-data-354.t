# Pipelined: MAIL refused but the server still answers DATA with 354. The
# client sends no content, only a lone "." to end the DATA, then RSET; the
# send fails with SENDER_REFUSED.
OP send from=a@example.org to=b@example.net data="must not be sent\r\n"
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250 PIPELINING
C< MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n
S< 550 5.7.1 no\r\n250 ok\r\n354 go\r\n
C< .\r\n
S: 250 empty message accepted
R: send SENDER_REFUSED code=550 mail=550 data=354
C: RSET
S: 250 ok
NOTHING
