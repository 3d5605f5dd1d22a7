#!/bin/sh
# Runs the client tests (test_client, given as $1) against a real aiosmtpd
# on a free loopback port.
set -eu
program=$1
. "$(dirname "$0")/aiosmtpd.sh"
wrapped "$program" "$port"
