#!/bin/sh
# TLS session resumption against aiosmtpd: pools and clients that share a
# session cache, over implicit TLS (TLS 1.3, and TLS 1.2 through an
# SSL_CTX of the test's own) and STARTTLS, and clients that must not
# resume. $1 is the test program (integration/test_resume.c).
set -eu
. "$(dirname "$0")/it-lib.sh"
c=$work/certs

start_aiosmtpd tls --tls --cert "$c/server.pem" --key "$c/server.key"
start_aiosmtpd starttls --starttls --cert "$c/server.pem" \
    --key "$c/server.key"
wait_servers
run_tests "$1"
