#!/bin/sh
# The pool against the fault server's sink misbehaving across connections
# (fault-server.py --sink): every 3rd connection (or every one) dropped at
# MAIL, 421 after 4 messages, every 3rd connection never greeting, every
# 3rd connection silent after storing its first message. $1 is the test
# program (integration/test_pool_faults.c).
set -eu
. "$(dirname "$0")/it-lib.sh"
start_fault drop "" --sink --drop-every 3
start_fault drop-all "" --sink --drop-every 1
start_fault shutdown "" --sink --shutdown-after 4
start_fault stall-greeting "" --sink --stall-every 3 --stall-at greeting
start_fault stall-dot "" --sink --stall-every 3 --stall-at dot
wait_servers
run_tests "$1"
