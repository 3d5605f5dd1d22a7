# A final reply line may be the bare code, with or without a trailing
# space; and a multi-line reply's last line may be bare too.
OP noop
OP noop
OP noop
S: 220
C: EHLO client.example
S: 250-mx
S: 250
C: NOOP
S: 250
R: noop OK code=250 text=""
C: NOOP
S: 250 
R: noop OK code=250
C: NOOP
S: 250-2.0.0 first
S: 250
R: noop OK code=250
