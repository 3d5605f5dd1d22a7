#!/bin/sh
# TLS against real servers: STARTTLS (auto, required, never), implicit TLS,
# certificate verification (CA file, hashed CA directory, wrong name,
# self-signed, expired, client certificates), no fallback to plaintext.
# $1 is the test program (integration/test_tls.c).
set -eu
. "$(dirname "$0")/it-lib.sh"
c=$work/certs

start_aiosmtpd plain
start_aiosmtpd starttls --starttls --cert "$c/server.pem" --key "$c/server.key"
start_aiosmtpd starttls-wronghost --starttls \
    --cert "$c/wronghost.pem" --key "$c/wronghost.key"
start_aiosmtpd tls --tls --cert "$c/server.pem" --key "$c/server.key"
start_aiosmtpd tls-selfsigned --tls \
    --cert "$c/selfsigned.pem" --key "$c/selfsigned.key"
start_aiosmtpd tls-expired --tls --cert "$c/expired.pem" --key "$c/expired.key"
start_aiosmtpd tls-clientcert --tls --cert "$c/server.pem" \
    --key "$c/server.key" --client-ca "$c/ca.pem" --require-client-cert
start_aiosmtpd unix-starttls --unix "$work/unix-starttls/smtp.sock" \
    --starttls --cert "$c/server.pem" --key "$c/server.key"
start_fault starttls-garbage starttls-garbage \
    --cert "$c/server.pem" --key "$c/server.key"
start_fault starttls-not-offered starttls-not-offered
wait_servers
run_tests "$1"
