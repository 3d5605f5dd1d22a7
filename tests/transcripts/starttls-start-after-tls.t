# A start op with STARTTLS offered completes only with the EHLO reply
# after TLS, not when STARTTLS is written; the plaintext extensions stay
# queryable until the 220 and are gone (unless re-announced) after TLS.
OP start
S: 220 mx
C: EHLO client.example
S: 250-mx
S: 250-SIZE 5000
S: 250-X-PLAINTEXT-ONLY
S: 250 STARTTLS
C: STARTTLS
NOTHING
NO_RESULT
EXT X-PLAINTEXT-ONLY
TLS_ACTIVE no
S: 220 2.0.0 go ahead
WANT_TLS yes
WAIT tls
NOTHING
NO_RESULT
TLS yes
WANT_TLS no
TLS_ACTIVE yes
C: EHLO client.example
NOEXT X-PLAINTEXT-ONLY
NOEXT STARTTLS
S: 250-mx secure
S: 250 AUTH PLAIN
R: start OK code=250 text="mx secure\nAUTH PLAIN"
NOEXT X-PLAINTEXT-ONLY
NOEXT SIZE
NOEXT STARTTLS
EXT AUTH PLAIN
TLS_ACTIVE yes
OP quit
C: QUIT
S: 221 bye
R: quit OK
