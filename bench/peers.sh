#!/bin/bash
# The servers and peer clients of the throughput comparison, as shell
# functions that bench/compare (or a person) can source, plus a command
# line to run one client or the whole peer table:
#
#   bench/peers.sh run CLIENT PORT CONNS SIZE COUNT   one run, one line
#   bench/peers.sh measure [RUNS]                     the table, medians
#
# Every client prints one line of key=value pairs: client, version,
# messages, failed, connections, size, seconds, msgs_per_s, cpu_s,
# user_s, sys_s. Every run is bounded in time (RUN_TIMEOUT, 60 s) and
# talks to loopback only.

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PYTHON=/usr/bin/python3
SMTP_SOURCE=${SMTP_SOURCE:-/usr/sbin/smtp-source}
SMTP_SINK=${SMTP_SINK:-/usr/sbin/smtp-sink}
RUN_TIMEOUT=${RUN_TIMEOUT:-60}
SERVER_LIFETIME=${SERVER_LIFETIME:-900}
BENCH_HOST=127.0.0.1
SENDER=sender@bench.example
RECIPIENT=rcpt@bench.example

# What smtp-source adds to its -l body with the sender, recipient and -M
# name below: From, To, Date, Message-Id, the blank line, a final CRLF.
SMTP_SOURCE_HEADER_OCTETS=156

# Where client and server run. On a 2-vCPU virtual machine an unpinned
# run lands the two on one CPU or on two, and a one-connection run is 3 to
# 4 times faster on one (no wake-up of an idle vCPU per reply), so unpinned
# runs cannot be compared. split: client on CPU 0, server on CPU 1, each
# with a core of its own; same: both on CPU 0; none: no pinning.
BENCH_PLACEMENT=${BENCH_PLACEMENT:-split}
case $BENCH_PLACEMENT in
split) CLIENT_CPU=0 SERVER_CPU=1 ;;
same) CLIENT_CPU=0 SERVER_CPU=0 ;;
*) CLIENT_CPU='' SERVER_CPU='' ;;
esac

SERVER_PIN=()
[ -n "$SERVER_CPU" ] && SERVER_PIN=(taskset -c "$SERVER_CPU")

SERVER_PID=
SERVER_PORT=
SERVER_NAME=

# on_cpu CPU COMMAND...: runs COMMAND on that CPU, or anywhere if CPU is
# empty.
on_cpu() {
    local cpu=$1
    shift
    if [ -n "$cpu" ]; then
        taskset -c "$cpu" "$@"
    else
        "$@"
    fi
}

# ---- servers --------------------------------------------------------------

# discard_start [OPTIONS...]: bench/discard-server on a free loopback
# port; sets SERVER_PID, SERVER_PORT and SERVER_NAME.
discard_start() {
    local port_file
    port_file=$(mktemp)
    rm -f "$port_file"
    make -s -C "$BENCH_DIR" discard-server || return 1
    # taskset execs the server, so $! is the server's own PID.
    "${SERVER_PIN[@]}" "$BENCH_DIR/discard-server" -p 0 \
        --host "$BENCH_HOST" --port-file "$port_file" \
        --lifetime "$SERVER_LIFETIME" "$@" >/dev/null &
    SERVER_PID=$!
    SERVER_NAME=discard-server
    for _ in $(seq 100); do
        [ -s "$port_file" ] && break
        sleep 0.05
    done
    SERVER_PORT=$(cat "$port_file" 2>/dev/null)
    rm -f "$port_file"
    [ -n "$SERVER_PORT" ] || { server_stop; return 1; }
}

# sink_start [OPTIONS...]: Postfix's smtp-sink on a free loopback port,
# stopped by timeout(1) after SERVER_LIFETIME seconds in any case. As
# root it must drop to another user (-u). SERVER_PID is the timeout
# process; signals sent to it reach smtp-sink.
# shellcheck disable=SC2120  # options are for callers that source this
sink_start() {
    local port
    port=$(free_port) || return 1
    local as=()
    [ "$(id -u)" = 0 ] && as=(-u nobody)
    timeout "$SERVER_LIFETIME" "${SERVER_PIN[@]}" "$SMTP_SINK" "${as[@]}" \
        -m 1000 "$@" "$BENCH_HOST:$port" 1024 &
    SERVER_PID=$!
    SERVER_PORT=$port
    SERVER_NAME=smtp-sink
    wait_for_port "$port" || { server_stop; return 1; }
}

server_stop() {
    if [ -n "$SERVER_PID" ]; then
        kill -TERM "$SERVER_PID" 2>/dev/null
        wait "$SERVER_PID" 2>/dev/null
    fi
    SERVER_PID=
    SERVER_PORT=
}

# The CPU seconds the server has used so far (smtp-sink: the child of
# timeout).
server_cpu() {
    local pid=$SERVER_PID
    if [ "$SERVER_NAME" = smtp-sink ]; then
        pid=$(cat "/proc/$SERVER_PID/task/$SERVER_PID/children" 2>/dev/null)
        pid=${pid%% *}
    fi
    awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f\n", ($14 + $15) / hz }' \
        "/proc/$pid/stat" 2>/dev/null || echo 0
}

free_port() {
    "$PYTHON" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

wait_for_port() {
    for _ in $(seq 100); do
        if "$PYTHON" -c 'import socket, sys
socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' \
            "$1" 2>/dev/null; then
            return 0
        fi
        sleep 0.05
    done
    return 1
}

# ---- clients --------------------------------------------------------------

# smtp-source -l counts the body only, line breaks inside it included, and
# it adds the header and a final CRLF; the -l for a message of SIZE octets.
smtp_source_length() {
    echo $(($1 - SMTP_SOURCE_HEADER_OCTETS))
}

# smtp_source_run PORT CONNS SIZE COUNT: Postfix's smtp-source, each
# session sending its share of the messages over one connection (-d).
# It speaks HELO, not EHLO, and never pipelines. CPU from /usr/bin/time.
smtp_source_run() {
    local port=$1 conns=$2 size=$3 count=$4 times rc=0 start end
    : "${POSTFIX_VERSION:=$(/usr/sbin/postconf -h mail_version 2>/dev/null)}"
    export POSTFIX_VERSION
    times=$(mktemp)
    start=$EPOCHREALTIME
    on_cpu "$CLIENT_CPU" timeout "$RUN_TIMEOUT" \
        /usr/bin/time -f '%U %S' -o "$times" \
        "$SMTP_SOURCE" -d -s "$conns" -m "$count" \
        -l "$(smtp_source_length "$size")" -f "$SENDER" -t "$RECIPIENT" \
        -M client.bench.example "$BENCH_HOST:$port" || rc=$?
    end=$EPOCHREALTIME
    awk -v start="$start" -v end="$end" -v rc="$rc" -v count="$count" \
        -v conns="$conns" -v size="$size" '
        END {
            seconds = end - start; sent = rc == 0 ? count : 0
            printf "client=smtp-source version=%s messages=%d failed=%d " \
                   "connections=%d size=%d seconds=%.3f msgs_per_s=%.1f " \
                   "cpu_s=%.3f user_s=%.3f sys_s=%.3f\n", \
                   ENVIRON["POSTFIX_VERSION"], sent, count - sent, conns, \
                   size, seconds, sent / seconds, $1 + $2, $1, $2
        }' "$times"
    rm -f "$times"
    return "$rc"
}

# curl_run PORT CONNS SIZE COUNT: bench/curl-smtp, libcurl's multi
# interface with one reused connection per slot.
curl_run() {
    make -s -C "$BENCH_DIR" curl-smtp || return 1
    on_cpu "$CLIENT_CPU" "$BENCH_DIR/curl-smtp" -H "$BENCH_HOST" -p "$1" \
        -c "$2" -s "$3" -n "$4" -t "$RUN_TIMEOUT"
}

# aiosmtplib_run PORT CONNS SIZE COUNT [raw|message]
aiosmtplib_run() {
    on_cpu "$CLIENT_CPU" "$PYTHON" "$BENCH_DIR/aiosmtplib-bench.py" \
        -H "$BENCH_HOST" -p "$1" -c "$2" -s "$3" -n "$4" -m "${5:-raw}" \
        -t "$RUN_TIMEOUT"
}

# nodemailer_run PORT CONNS SIZE COUNT [raw|message]
nodemailer_run() {
    if [ ! -d "$BENCH_DIR/node_modules/nodemailer" ]; then
        "$BENCH_DIR/install-node-deps.sh" >&2 || return 1
    fi
    on_cpu "$CLIENT_CPU" node "$BENCH_DIR/nodemailer-bench.js" \
        -H "$BENCH_HOST" -p "$1" -c "$2" -s "$3" -n "$4" -m "${5:-raw}" \
        -t "$RUN_TIMEOUT"
}

# ---- medians --------------------------------------------------------------

# field KEY LINE: the value of KEY in a result line.
field() {
    sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"
}

# median_run RUNS FUNCTION ARGS...: runs a client RUNS times against the
# current server and prints the line with the median msgs_per_s, with
# server_cpu_s (the server's CPU during that run) and the lowest and
# highest msgs_per_s of all runs added. Fails if any run fails.
median_run() {
    local runs=$1 lines=() i line before after
    shift
    for ((i = 0; i < runs; i++)); do
        before=$(server_cpu)
        line=$("$@") || { echo "$line" >&2; return 1; }
        after=$(server_cpu)
        lines+=("$line server_cpu_s=$(awk -v a="$after" -v b="$before" \
            'BEGIN { printf "%.2f", a - b }')")
    done
    printf '%s\n' "${lines[@]}" |
        awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^msgs_per_s=/) {
                   split($i, kv, "="); print kv[2], $0 } }' |
        sort -n | awk -v mid=$(((runs + 1) / 2)) '
            NR == 1 { low = $1 }
            NR == mid { median = $0 }
            { high = $1 }
            END {
                sub(/^[^ ]* /, "", median)
                print median, "msgs_per_s_min=" low, "msgs_per_s_max=" high
            }'
}

# ---- the peer table -------------------------------------------------------

# One row: server, client, connections, size, messages, median msgs/s and
# the range over the runs, then for the median run the client's CPU
# seconds and microseconds a message, and the server's CPU seconds.
table_row() {
    local line=$1 msgs cpu
    msgs=$(field messages "$line")
    cpu=$(field cpu_s "$line")
    printf '| %s | %s | %s | %s | %s | %s | %s-%s | %s | %.0f | %s |\n' \
        "$SERVER_NAME" "$(field client "$line")" \
        "$(field connections "$line")" "$(field size "$line")" "$msgs" \
        "$(field msgs_per_s "$line")" "$(field msgs_per_s_min "$line")" \
        "$(field msgs_per_s_max "$line")" "$cpu" \
        "$(awk -v c="$cpu" -v m="$msgs" 'BEGIN { print c * 1e6 / m }')" \
        "$(field server_cpu_s "$line")"
}

measure_with() {
    local runs=$1 line
    shift
    line=$(median_run "$runs" "$@") || {
        echo "peers.sh: $* failed against $SERVER_NAME" >&2
        return 1
    }
    table_row "$line"
}

# measure [RUNS]: the peer table, each row the median of RUNS runs.
measure() {
    local runs=${1:-3} failed=0 c client workload
    trap server_stop EXIT

    echo "Placement: $BENCH_PLACEMENT (client CPU ${CLIENT_CPU:-any}," \
         "server CPU ${SERVER_CPU:-any}); each row the median of $runs runs."
    echo
    echo "| server | client | conns | size | messages | msgs/s |" \
         "range | client CPU s | client CPU us/msg | server CPU s |"
    echo "|---|---|---|---|---|---|---|---|---|---|"

    discard_start --pipelining --8bitmime --max-conns 1000 || return 1
    for workload in "2048 5000" "1048576 500"; do
        # shellcheck disable=SC2086  # two words: size and count
        set -- $workload
        for c in 1 50; do
            measure_with "$runs" smtp_source_run "$SERVER_PORT" "$c" "$1" \
                "$2" || failed=1
            measure_with "$runs" curl_run "$SERVER_PORT" "$c" "$1" "$2" ||
                failed=1
            for client in aiosmtplib_run nodemailer_run; do
                measure_with "$runs" "$client" "$SERVER_PORT" "$c" "$1" \
                    "$2" raw || failed=1
                # At 1 MiB raw only: composing would time MIME encoding.
                [ "$1" -gt 65536 ] && continue
                measure_with "$runs" "$client" "$SERVER_PORT" "$c" "$1" \
                    "$2" message || failed=1
            done
        done
    done
    server_stop

    # shellcheck disable=SC2119
    sink_start || return 1
    for c in 1 50; do
        measure_with "$runs" smtp_source_run "$SERVER_PORT" "$c" 2048 \
            5000 || failed=1
        measure_with "$runs" smtp_source_run "$SERVER_PORT" "$c" 1048576 \
            500 || failed=1
    done
    server_stop
    return "$failed"
}

usage() {
    echo "usage: peers.sh run CLIENT PORT CONNS SIZE COUNT [raw|message]" >&2
    echo "       peers.sh measure [RUNS]" >&2
    echo "CLIENT: smtp-source, curl, aiosmtplib, nodemailer" >&2
    exit 2
}

main() {
    case ${1:-} in
    run)
        [ $# -ge 6 ] || usage
        local client=$2
        shift 2
        case $client in
        smtp-source) smtp_source_run "$@" ;;
        curl) curl_run "$@" ;;
        aiosmtplib) aiosmtplib_run "$@" ;;
        nodemailer) nodemailer_run "$@" ;;
        *) usage ;;
        esac
        ;;
    measure)
        shift
        measure "$@"
        ;;
    *) usage ;;
    esac
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -uo pipefail
    main "$@"
fi
