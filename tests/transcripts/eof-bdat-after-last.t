# With BDAT: the connection closes after "BDAT n LAST" and its content were
# written: maybe_delivered, as with the final dot.
OP send from=a@example.org to=b@example.net data="x\r\n"
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250 CHUNKING
C: MAIL FROM:<a@example.org>
S: 250 ok
C: RCPT TO:<b@example.net>
S: 250 ok
C< BDAT 3 LAST\r\nx\r\n
EOF
R: send DISCONNECTED maybe
CLOSED yes
