#!/bin/sh
# Messages against aiosmtpd: SMTPUTF8, 8BITMIME, SIZE, DSN, Unix sockets,
# adopted sockets, envelopes from headers (Bcc removed), streamed content
# (20 MiB, bounded memory), BDAT, refused recipients.
# $1 is the test program (integration/test_messages.c).
set -eu
. "$(dirname "$0")/it-lib.sh"

start_aiosmtpd plain
start_aiosmtpd utf8 --smtputf8
start_aiosmtpd sevenbit --no-8bitmime
start_aiosmtpd size --size 10000
start_aiosmtpd dsn --dsn
start_aiosmtpd unix --unix "$work/unix/smtp.sock"
start_aiosmtpd refuse --pipelining \
    --rcpt-reply 'nobody@=550 5.1.1 No such user' \
    --rcpt-reply '^full@=452 4.2.2 Mailbox full'
start_aiosmtpd chunking --chunking --pipelining
wait_servers
run_tests "$1"
