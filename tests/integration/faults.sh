#!/bin/sh
# Faults against the scripted fault server (one instance per fault, each
# playing faults/NAME.script), and client state against aiosmtpd.
# $1 is the test program (integration/test_faults.c).
set -eu
. "$(dirname "$0")/it-lib.sh"
c=$work/certs

for f in greeting-554 ehlo-502 mail-421 drop-mid-reply drop-after-data \
    silent-after-rcpt silent-after-dot garbage-text garbage-binary \
    long-line long-reply unsolicited rcpt-partial rcpt-total; do
    start_fault "$f" "$f"
done
start_fault mail-421-reply mail-421
start_fault starttls-inject starttls-inject \
    --cert "$c/server.pem" --key "$c/server.key"
start_fault reconnect "drop-at-mail plain-ok" --connections 2
start_fault state-cleared "rich-ehlo plain-ok" --connections 2
start_aiosmtpd plain
start_aiosmtpd pipelining --pipelining
wait_servers
run_tests "$1"
