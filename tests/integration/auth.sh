#!/bin/sh
# AUTH against aiosmtpd: PLAIN, LOGIN, CRAM-MD5 and XOAUTH2 over STARTTLS
# with ASCII, UTF-8 and non-UTF-8 credentials; PLAIN over plaintext to
# loopback. $1 is the test program (integration/test_auth.c).
set -eu
. "$(dirname "$0")/it-lib.sh"
c=$work/certs

# The third account is bytes that are not UTF-8: b\377n / p\200\201\376ss.
start_aiosmtpd auth-tls --starttls --cert "$c/server.pem" --key "$c/server.key" \
    --auth --auth-require-tls --user alice:secret \
    --user 'jürgen:pässwörd' --user "$(printf 'b\377n:p\200\201\376ss')" \
    --token alice:ya29.good-token
start_aiosmtpd auth-plain --auth --user alice:secret
wait_servers
run_tests "$1"
