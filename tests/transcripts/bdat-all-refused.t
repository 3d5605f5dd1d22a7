# Pipelined BDAT has no 354 gate: the content goes with the envelope. If
# every recipient is refused, the BDAT's refusal is expected; the send
# fails with RECIPIENTS_REFUSED and RSET follows.
OP send from=a@example.org to=b@example.net data="x\r\n"
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250-PIPELINING
S: 250 CHUNKING
C< MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nBDAT 3 LAST\r\nx\r\n
S< 250 ok\r\n550 5.1.1 no b\r\n554 5.5.1 no valid recipients\r\n
R: send RECIPIENTS_REFUSED code=550 rcpt=550 final=554
C: RSET
S: 250 ok
