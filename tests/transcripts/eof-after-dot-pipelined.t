# The connection drops after the first message's dot with the second
# envelope riding behind it: the first send may have been delivered
# (maybe), the second was not (delivered flag clear).
OP send from=a@example.org to=b@example.net data="one\r\n"
OP send from=a@example.org to=c@example.net data="two\r\n"
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250 PIPELINING
C< MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n
S< 250 ok\r\n250 ok\r\n354 go\r\n
C< one\r\n.\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<c@example.net>\r\nDATA\r\n
EOF
R: send DISCONNECTED maybe final=none
R: send DISCONNECTED delivered mail=none
CLOSED yes
