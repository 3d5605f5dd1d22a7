# XOAUTH2 sends base64("user=U^Aauth=Bearer T^A^A") as the initial
# response; a 334 carrying the server's JSON error is answered with an
# empty line, and the final 535 fails the operation with AUTH.
OP auth user=U token=T
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250 AUTH XOAUTH2 PLAIN
C: AUTH XOAUTH2 dXNlcj1VAWF1dGg9QmVhcmVyIFQBAQ==
NOTHING
S: 334 eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIiwic2NvcGUiOiJodHRwczovL21haWwuZ29vZ2xlLmNvbS8ifQ==
C: 
NOTHING
NO_RESULT
S: 535 5.7.8 Username and Password not accepted
R: auth AUTH code=535 enh=5.7.8 text="Username and Password not accepted"
TRANSCRIPT~ C: AUTH XOAUTH2 <redacted>
TRANSCRIPT! dXNlcj1VAWF1dGg9QmVhcmVyIFQBAQ==
ERROR OK
