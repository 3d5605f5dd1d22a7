# HELP (with and without an argument) first triggers EHLO; the multi-line
# 214 text comes back with its lines joined by LF.
OP help
OP help MAIL
S: 220 mx
C: EHLO client.example
S: 250 mx
C: HELP
S: 214-2.0.0 Commands:
S: 214-2.0.0   HELO EHLO MAIL RCPT DATA
S: 214 2.0.0 End of HELP info
R: help OK code=214 enh=2.0.0 text="Commands:\n  HELO EHLO MAIL RCPT DATA\nEnd of HELP info"
C: HELP MAIL
S: 214 MAIL FROM:<sender>
R: help OK code=214 enh=none text="MAIL FROM:<sender>"
