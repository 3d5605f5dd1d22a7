#!/bin/sh
# The pool against aiosmtpd (many messages, few connections) and the
# fault server (a dropped first connection, with and without retries).
# $1 is the test program (integration/test_pool.c).
set -eu
. "$(dirname "$0")/it-lib.sh"
start_aiosmtpd sink --pipelining
start_aiosmtpd sink2
start_aiosmtpd max3 --max-rcpt 3
start_fault drop "pool-drop-first pool-ok" --connections 2
start_fault drop-once "pool-drop-first" --connections 1
wait_servers
run_tests "$1"
