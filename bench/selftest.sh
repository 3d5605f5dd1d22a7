#!/bin/bash
# Checks discard-server on loopback: the protocol with --pipelining and
# --chunking (smtplib and a raw socket), the same with --delay-ms and over
# implicit TLS, and many idle connections; then compares the counters the server prints on exit
# with what the client sent. IDLE_CONNS sets the idle count (default 2000).
set -euo pipefail

cd "$(dirname "$0")"
PYTHON=/usr/bin/python3
IDLE_CONNS=${IDLE_CONNS:-2000}
DELAY_MS=${DELAY_MS:-40}

make -s discard-server
work=$(mktemp -d)
server_pid=
passed=0
failed=0

cleanup() {
    if [ -n "$server_pid" ]; then
        kill -TERM "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# start_server NAME OPTIONS...: sets server_pid and port.
start_server() {
    local name=$1
    shift
    rm -f "$work/$name.port"
    ./discard-server -p 0 --port-file "$work/$name.port" --stats \
        --lifetime 120 "$@" >"$work/$name.out" 2>"$work/$name.err" &
    server_pid=$!
    for _ in $(seq 100); do
        [ -s "$work/$name.port" ] && break
        sleep 0.05
    done
    if [ ! -s "$work/$name.port" ]; then
        echo "FAIL $name: the server did not start" >&2
        cat "$work/$name.err" >&2
        exit 1
    fi
    port=$(cat "$work/$name.port")
}

# stop_server NAME: the server must exit 0 and say nothing on stderr.
stop_server() {
    local rc=0
    kill -TERM "$server_pid"
    wait "$server_pid" || rc=$?
    server_pid=
    if [ "$rc" -ne 0 ] || [ -s "$work/$1.err" ]; then
        echo "FAIL $1: the server exited with status $rc"
        cat "$work/$1.err"
        failed=$((failed + 1))
    fi
}

stat_of() {
    awk -v key="$2" '$1 == key { print $2 }' "$work/$1.out"
}

# run_client NAME MODE ARGS...: runs the client, then checks the server's
# counts against the client's "expect" line.
run_client() {
    local name=$1 mode=$2
    shift 2
    local log="$work/$name.client" rc=0
    timeout 60 "$PYTHON" selftest_client.py "$mode" "$port" "$@" >"$log" \
        || rc=$?
    cat "$log"
    stop_server "$name"
    local expect
    expect=$(grep '^expect ' "$log" || true)
    passed=$((passed + $(sed -n 's/.* passed=\([0-9]*\).*/\1/p' <<<"$expect")))
    failed=$((failed + $(sed -n 's/.* failed=\([0-9]*\).*/\1/p' <<<"$expect")))
    if [ -z "$expect" ] || [ "$rc" -ne 0 ]; then
        failed=$((failed + 1))
        return
    fi

    local want_msgs want_bytes got_msgs got_bytes
    want_msgs=$(sed -n 's/.*messages=\([0-9]*\).*/\1/p' <<<"$expect")
    want_bytes=$(sed -n 's/.*message_bytes=\([0-9]*\).*/\1/p' <<<"$expect")
    got_msgs=$(stat_of "$name" messages)
    got_bytes=$(stat_of "$name" message_bytes)
    if [ "$got_msgs" = "$want_msgs" ] && [ "$got_bytes" = "$want_bytes" ]
    then
        echo "ok $name: server counted $got_msgs messages, $got_bytes octets"
        passed=$((passed + 1))
    else
        echo "FAIL $name: server counted $got_msgs messages and" \
             "$got_bytes octets, client sent $want_msgs and $want_bytes"
        failed=$((failed + 1))
    fi
}

echo "== protocol (--pipelining --chunking --8bitmime --size=10000000)"
start_server protocol --max-conns 100 --pipelining --chunking --8bitmime \
    --size=10000000
run_client protocol protocol

echo "== --delay-ms $DELAY_MS"
start_server delay --max-conns 100 --pipelining --chunking \
    --delay-ms "$DELAY_MS"
run_client delay delay "$DELAY_MS"

echo "== protocol again under --delay-ms 1"
start_server protocol-delay --max-conns 100 --pipelining --chunking \
    --8bitmime --size=10000000 --delay-ms 1
run_client protocol-delay protocol

echo "== protocol over implicit TLS (--tls-cert)"
sh ../tests/servers/make-certs.sh "$work/certs" 1 >/dev/null
start_server tls --max-conns 100 --pipelining --chunking --8bitmime \
    --size=10000000 --tls-cert "$work/certs/server-chain.pem" \
    --tls-key "$work/certs/server.key"
run_client tls tls

echo "== $IDLE_CONNS idle connections"
start_server idle --max-conns "$IDLE_CONNS"
run_client idle idle "$IDLE_CONNS" "$server_pid"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
