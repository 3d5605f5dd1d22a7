# UTF-8 credentials are sent as their UTF-8 octets, base64-encoded, with
# PLAIN and with LOGIN.
OP auth user=jos\xc3\xa9 pass=p\xc3\xa4ss\xe2\x82\xac mech=PLAIN
OP auth user=jos\xc3\xa9 pass=p\xc3\xa4ss\xe2\x82\xac mech=LOGIN
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250 AUTH PLAIN LOGIN
C: AUTH PLAIN AGpvc8OpAHDDpHNz4oKs
S: 235 ok
R: auth OK
C: AUTH LOGIN
S: 334 VXNlcm5hbWU6
C: am9zw6k=
S: 334 UGFzc3dvcmQ6
C: cMOkc3Pigqw=
S: 235 ok
R: auth OK
