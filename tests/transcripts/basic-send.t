# A plain send without pipelining: greeting, EHLO, one transaction, QUIT.
OP send from=alice@example.org to=bob@example.net data="Subject: hi\r\n\r\nHello.\r\n"
OP quit
NOTHING
S: 220 mx.example.net ESMTP
C: EHLO client.example
S: 250-mx.example.net
S: 250 8BITMIME
C: MAIL FROM:<alice@example.org>
S: 250 2.1.0 Ok
C: RCPT TO:<bob@example.net>
S: 250 2.1.5 Ok
C: DATA
S: 354 End data with <CR><LF>.<CR><LF>
C< Subject: hi\r\n\r\nHello.\r\n.\r\n
S: 250 2.0.0 Ok: queued as 12345
R: send OK code=250 enh=2.0.0 text="Ok: queued as 12345" refused=0 mail=250 rcpt=250 data=354 final=250
C: QUIT
S: 221 2.0.0 Bye
R: quit OK code=221
CLOSED yes
