# Pipelined: MAIL refused with 550 while RCPT and DATA are already on the
# wire; both get 503. The send fails with SENDER_REFUSED (the MAIL reply,
# not the 503s) and RSET follows, the NOOP pipelined behind it.
OP send from=spammer@example.org to=b@example.net data="x\r\n"
OP noop
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250 PIPELINING
C< MAIL FROM:<spammer@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n
S< 550 5.7.1 sender rejected\r\n503 5.5.1 need MAIL\r\n503 5.5.1 need MAIL\r\n
R: send SENDER_REFUSED code=550 enh=5.7.1 mail=550 rcpt=503 data=503
C< RSET\r\nNOOP\r\n
S< 250 ok\r\n250 ok\r\n
R: noop OK
