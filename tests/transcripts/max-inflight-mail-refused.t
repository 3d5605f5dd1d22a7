# Pipelined but split by max_inflight: once MAIL is refused no more of the
# transaction is written; SENDER_REFUSED when the in-flight RCPT is
# answered, then RSET.
CONFIG max_inflight=60
OP send from=a@example.org to=r1@example.net,r2@example.net,r3@example.net,r4@example.net data="x\r\n"
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250 PIPELINING
C< MAIL FROM:<a@example.org>\r\nRCPT TO:<r1@example.net>\r\n
S: 550 5.7.1 no
NOTHING
S: 503 5.5.1 need MAIL
R: send SENDER_REFUSED code=550
C: RSET
S: 250 ok
