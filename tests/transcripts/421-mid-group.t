# 421 in the middle of a pipelined group (after MAIL's 250): the rest of
# the group's replies never come; everything fails with SHUTDOWN, CLOSED,
# no QUIT.
OP send from=a@example.org to=b@example.net,c@example.net data="x\r\n"
OP send from=a@example.org to=d@example.net data="y\r\n"
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250 PIPELINING
C< MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nRCPT TO:<c@example.net>\r\nDATA\r\n
S< 250 ok\r\n250 ok\r\n421 4.3.0 shutting down\r\n
NOTHING
R: send SHUTDOWN code=421 mail=250 rcpt=250,421 data=none
R: send SHUTDOWN code=421
CLOSED yes
