# body=binarymime needs both BINARYMIME and CHUNKING: with only one of
# them (or CHUNKING disabled) the send fails with NOT_SUPPORTED before MAIL.
OP send from=a@example.org to=b@example.net body=binarymime data="x\r\n"
OP ehlo
OP send from=a@example.org to=b@example.net body=binarymime data="x\r\n"
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250 BINARYMIME
R: send NOT_SUPPORTED mail=none msg~"BINARYMIME"
C: EHLO client.example
S: 250-mx
S: 250 CHUNKING
R: ehlo OK
R: send NOT_SUPPORTED mail=none
NOTHING
