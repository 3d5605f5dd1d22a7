#!/bin/sh
# The blocking API (asmtp_sync_*) against aiosmtpd.
# $1 is the test program (integration/test_sync.c).
set -eu
. "$(dirname "$0")/it-lib.sh"

start_aiosmtpd sync --pipelining --auth --user alice:secret \
    --rcpt-reply 'nobody@=550 5.1.1 No such user'
wait_servers
run_tests "$1"
