# Enhanced status codes are split out of command replies (enh= and the
# text without them, on every line), but the greeting and EHLO texts are
# kept whole; a reply without one has enh none.
OP start
OP vrfy bob
OP noop
OP rset
S: 220 2.0.0 mx ready
C: EHLO client.example
S: 250-2.0.0 mx
S: 250 ENHANCEDSTATUSCODES
R: start OK enh=none text="2.0.0 mx\nENHANCEDSTATUSCODES"
C: VRFY bob
S: 250-2.1.5 Bob
S: 250 2.1.5 <bob@example.net>
R: vrfy OK code=250 enh=2.1.5 text="Bob\n<bob@example.net>"
C: NOOP
S: 250 ok 2.0.0
R: noop OK enh=none text="ok 2.0.0"
C: RSET
S: 250 2.0.0 
R: rset OK enh=2.0.0 text=""
TRANSCRIPT~ S: 250-2.1.5 Bob
