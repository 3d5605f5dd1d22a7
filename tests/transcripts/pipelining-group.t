# With PIPELINING, MAIL, every RCPT and DATA go in one write; one refused
# recipient makes a partial success with the refusal listed. The next
# message's envelope rides behind the final dot.
OP send from=a@example.org to=b@example.net,c@example.net,d@example.net data="one\r\n"
OP send from=a@example.org to=e@example.net data="two\r\n"
S: 220 mx ESMTP
C: EHLO client.example
S: 250-mx
S: 250-PIPELINING
S: 250 ENHANCEDSTATUSCODES
C< MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nRCPT TO:<c@example.net>\r\nRCPT TO:<d@example.net>\r\nDATA\r\n
NOTHING
S< 250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n550 5.1.1 <c@example.net>: unknown\r\n250 2.1.5 Ok\r\n354 go ahead\r\n
C< one\r\n.\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<e@example.net>\r\nDATA\r\n
S< 250 2.0.0 queued 1\r\n250 2.1.0 Ok\r\n
R: send OK code=250 refused=1 rcpt=250,550,250 final=250 msg~"2 of 3"
S< 250 2.1.5 Ok\r\n354 go ahead\r\n
C< two\r\n.\r\n
S: 250 2.0.0 queued 2
R: send OK refused=0
OP quit
C: QUIT
S: 221 Bye
R: quit OK
