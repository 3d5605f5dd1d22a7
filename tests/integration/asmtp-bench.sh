#!/bin/sh
# asmtp-bench against aiosmtpd with PIPELINING and CHUNKING, then with
# both turned off: every message is reported sent, none failed, and the
# server stored each one. $1 is the asmtp-bench program.
set -eu
bench=$1
. "$(dirname "$0")/it-lib.sh"
start_aiosmtpd sink --pipelining --chunking
wait_servers
port=$(cat "$work/sink/port")
for options in "" "--no-pipelining --no-chunking"; do
    # shellcheck disable=SC2086  # options are words
    out=$(wrapped "$bench" -H 127.0.0.1 -p "$port" -n 30 -c 3 -s 4096 -r 2 \
        --max-seconds 60 --kv $options)
    echo "$out"
    case $out in
    *" messages=30 failed=0 "*) ;;
    *) echo "not every message was sent"; exit 1 ;;
    esac
done
stored=$(find "$work/sink" -name '*.content' | wc -l)
echo "stored $stored"
[ "$stored" -eq 60 ]
