# starttls=required and the server refuses STARTTLS with 454: every
# operation fails with TLS carrying the 454; only QUIT follows.
CONFIG starttls=required
OP send from=a@example.org to=b@example.net data="x\r\n"
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250 STARTTLS
C: STARTTLS
S: 454 4.7.0 TLS not available due to temporary reason
C: QUIT
NOTHING
R: send TLS code=454 enh=4.7.0 msg~"refused STARTTLS"
S: 221 bye
CLOSED yes
