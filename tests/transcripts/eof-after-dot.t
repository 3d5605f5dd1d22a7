# The connection closes after the final dot was written but before its
# reply: the server may have accepted the message, so the send fails with
# DISCONNECTED and maybe_delivered set.
OP send from=a@example.org to=b@example.net data="x\r\n"
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250 PIPELINING
C< MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n
S< 250 ok\r\n250 ok\r\n354 go\r\n
C< x\r\n.\r\n
WAIT data-end
EOF
R: send DISCONNECTED maybe data=354 final=none
CLOSED yes
