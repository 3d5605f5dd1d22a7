#!/bin/sh
# The fault matrix: one fault server with a port for every cell
# (fault-server.py --matrix, records in $work/matrix/STEP.FAULT/); one
# Postfix smtp-sink per cell its fault options can play, on a Unix socket
# ($work/sink.COMMAND.FAULT/sock); a server for a caller that pauses
# between two operations; and the program that runs each cell with the
# libuv client and the blocking API. $1 is the test program
# (integration/test_fault_matrix.c).
set -eu
. "$(dirname "$0")/it-lib.sh"
# The servers outlive the matrix however slowly it runs (valgrind takes
# minutes); they are stopped by PID at the end in any case.
start_fault matrix "" --matrix --lifetime 1700 \
    --cert "$work/certs/server.pem" --key "$work/certs/server.key"
start_fault stale-clock stale-clock --connections 2 --lifetime 1700

# smtp-sink OPTION COMMAND: -r 4xx, -f 5xx, -Q 421 and disconnect, -q
# disconnect without a reply; -p: no PIPELINING. It must drop root.
sink=/usr/sbin/smtp-sink
sockets=
if [ ! -x "$sink" ]; then
    echo "smtp-sink is not installed (Debian postfix)" >"$work/sink.skip"
else
    as=
    [ "$(id -u)" = 0 ] && as="-u nobody"
    for command in CONNECT EHLO MAIL RCPT DATA . RSET QUIT; do
        dir=$(printf %s "$command" | tr 'A-Z' 'a-z')
        [ "$command" = . ] && dir=dot
        for fault in -r:4xx -f:5xx -Q:421 -q:close; do
            d=$work/sink.$dir.${fault#*:}
            mkdir "$d"
            # shellcheck disable=SC2086
            "$sink" $as -p -h mx.sink.test "${fault%%:*}" "$command" \
                "unix:$d/sock" 16 2>"$d/stderr" &
            pids="$pids $!"
            sockets="$sockets $d/sock"
        done
    done
fi
wait_servers
for s in $sockets; do
    i=0
    while [ ! -S "$s" ]; do
        i=$((i + 1))
        if [ $i -gt 200 ]; then
            echo "smtp-sink did not start on $s"
            cat "$(dirname "$s")/stderr"
            exit 1
        fi
        sleep 0.05
    done
done
run_tests "$1"
