# A streamed send declaring size= over the server's SIZE maximum fails
# with NOT_SUPPORTED before MAIL; the source is never read.
OP send from=a@example.org to=b@example.net stream=5 size=5000 data="x\r\n"
OP noop
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250 SIZE 4096
R: send NOT_SUPPORTED mail=none msg~"5000"
C: NOOP
S: 250 ok
R: noop OK
