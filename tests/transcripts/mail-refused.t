# Without pipelining, a MAIL refused with 550 sends no RCPT and no DATA:
# the send fails with SENDER_REFUSED carrying that reply, then RSET clears
# the transaction before the next operation.
OP send from=spammer@example.org to=b@example.net data="x\r\n"
OP noop
S: 220 mx
C: EHLO client.example
S: 250 mx
C: MAIL FROM:<spammer@example.org>
NOTHING
S: 550 5.7.1 sender rejected
R: send SENDER_REFUSED code=550 enh=5.7.1 mail=550 rcpt=none data=none final=none
C: RSET
NOTHING
S: 250 ok
C: NOOP
S: 250 ok
R: noop OK
