# Twenty recipients pipelined: MAIL, every RCPT and DATA (22 commands in
# flight) go in one write, and each reply is paired with its command.
OP send from=a@example.org to=r01@example.net,r02@example.net,r03@example.net,r04@example.net,r05@example.net,r06@example.net,r07@example.net,r08@example.net,r09@example.net,r10@example.net,r11@example.net,r12@example.net,r13@example.net,r14@example.net,r15@example.net,r16@example.net,r17@example.net,r18@example.net,r19@example.net,r20@example.net data="x\r\n"
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250 PIPELINING
C< MAIL FROM:<a@example.org>\r\nRCPT TO:<r01@example.net>\r\nRCPT TO:<r02@example.net>\r\nRCPT TO:<r03@example.net>\r\nRCPT TO:<r04@example.net>\r\nRCPT TO:<r05@example.net>\r\nRCPT TO:<r06@example.net>\r\nRCPT TO:<r07@example.net>\r\nRCPT TO:<r08@example.net>\r\nRCPT TO:<r09@example.net>\r\nRCPT TO:<r10@example.net>\r\nRCPT TO:<r11@example.net>\r\nRCPT TO:<r12@example.net>\r\nRCPT TO:<r13@example.net>\r\nRCPT TO:<r14@example.net>\r\nRCPT TO:<r15@example.net>\r\nRCPT TO:<r16@example.net>\r\nRCPT TO:<r17@example.net>\r\nRCPT TO:<r18@example.net>\r\nRCPT TO:<r19@example.net>\r\nRCPT TO:<r20@example.net>\r\nDATA\r\n
NOTHING
S< 250 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n550 no\r\n250 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n550 no\r\n250 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n550 no\r\n250 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n550 no\r\n354 go\r\n
C< x\r\n.\r\n
S: 250 ok
R: send OK refused=4 rcpt=250,250,250,250,550,250,250,250,250,550,250,250,250,250,550,250,250,250,250,550 msg~"16 of 20"
