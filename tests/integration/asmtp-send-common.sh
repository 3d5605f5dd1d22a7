# Sourced by the asmtp-send-*.sh tests (not a test itself). $1 of the test
# is the asmtp-send binary. Provides:
#   $send             the binary
#   $work             a scratch directory, removed on exit
#   start_server NAME ARGS...
#                     starts tests/servers/aiosmtpd-server.py on loopback in
#                     $work/NAME with ARGS; sets $srv (its directory) and
#                     $srv_port (its port, or socket path with --unix)
#   start_fault NAME SCRIPT
#                     starts tests/servers/fault-server.py in $work/NAME
#                     playing SCRIPT (its text) for one connection; sets
#                     $srv and $srv_port
#   make_certs        writes test certificates to $work/certs ($certs)
#   run_send STATUS ARGS...
#                     runs asmtp-send with ARGS, standard input from $msg,
#                     stdout to $work/out and stderr to $work/err, and fails
#                     the test unless the exit status is STATUS
#   fail MESSAGE      prints MESSAGE with the last output and exits 1
#   wrapped PROGRAM ARGS...
#                     runs PROGRAM, under ASMTP_TEST_WRAPPER when set
# Every server started here is stopped by its own PID on exit.
set -eu

send=$1
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/integration/wrapped.sh
. "$top/tests/integration/wrapped.sh"
py=/usr/bin/python3
work=$(mktemp -d "${TMPDIR:-/tmp}/asmtp-send-test.XXXXXX")
msg=$work/message
server_pids=

stop_servers() {
    for pid in $server_pids; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in $server_pids; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap stop_servers EXIT
trap 'exit 1' INT TERM HUP

fail() {
    echo "FAIL: $*"
    for f in "$work/out" "$work/err"; do
        [ -f "$f" ] && { echo "--- $f"; cat "$f"; }
    done
    for f in "$work"/*/server.log; do
        [ -f "$f" ] && { echo "--- $f"; tail -n 20 "$f"; }
    done
    exit 1
}

# wait_server ARGS...: wait for the server just started ($pid, $srv).
wait_server() {
    server_pids="$server_pids $pid"
    i=0
    while [ ! -f "$srv/port" ]; do
        kill -0 "$pid" 2>/dev/null ||
            fail "$* exited: $(cat "$srv/stderr")"
        i=$((i + 1))
        [ $i -gt 200 ] && fail "$* did not start"
        sleep 0.05
    done
    srv_port=$(cat "$srv/port")
}

start_server() {
    name=$1
    shift
    srv=$work/$name
    mkdir "$srv"
    "$py" "$top/tests/servers/aiosmtpd-server.py" --dir "$srv" \
        --lifetime 290 "$@" >"$srv/stdout" 2>"$srv/stderr" &
    pid=$!
    wait_server aiosmtpd-server.py "$@"
}

start_fault() {
    srv=$work/$1
    mkdir "$srv"
    printf '%s\n' "$2" >"$srv/script"
    "$py" "$top/tests/servers/fault-server.py" --dir "$srv" \
        --script "$srv/script" --lifetime 290 >"$srv/stdout" \
        2>"$srv/stderr" &
    pid=$!
    wait_server fault-server.py
}

make_certs() {
    certs=$work/certs
    sh "$top/tests/servers/make-certs.sh" "$certs" >"$work/certs.log" 2>&1 ||
        fail "make-certs.sh: $(cat "$work/certs.log")"
}

run_send() {
    want=$1
    shift
    set +e
    wrapped "$send" "$@" <"$msg" >"$work/out" 2>"$work/err"
    got=$?
    set -e
    [ "$got" -eq "$want" ] ||
        fail "asmtp-send $* exited with $got, not $want"
}

# A message with CRLF line ends, as the server stores it.
printf '%s\r\n' 'From: Alice <alice@example.org>' 'To: bob@example.net' \
    'Subject: test' '' 'Hello.' >"$msg"
