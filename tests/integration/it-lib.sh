# Sourced by the integration wrappers (tls.sh, auth.sh, messages.sh,
# faults.sh, sync.sh): one scratch directory ($work) for the run, fresh
# certificates in $work/certs, servers started by name in $work/NAME, every
# one of them stopped by its PID on exit.
#
#   start_aiosmtpd NAME [aiosmtpd-server.py options...]
#   start_fault NAME "SCRIPT [SCRIPT2...]" [fault-server.py options...]
#       (SCRIPT is a file name in tests/integration/faults/, without .script)
#   wait_servers      wait until every server started has written its port
#   wrapped PROGRAM ARGS...   PROGRAM, under ASMTP_TEST_WRAPPER when set
#   run_tests PROGRAM         PROGRAM $work, wrapped, with the servers'
#                             logs shown when it fails
#
# The C programs get $work as their first argument and find server NAME's
# port (or socket path) in $work/NAME/port and its records in $work/NAME.
top=$(cd "$(dirname "$0")/../.." && pwd)
here=$top/tests/integration
# shellcheck source=tests/integration/wrapped.sh
. "$here/wrapped.sh"
servers=$top/tests/servers
py=/usr/bin/python3
work=$(mktemp -d "${TMPDIR:-/tmp}/asmtp-it.XXXXXX")
pids=
names=

stop_servers() {
    for pid in $pids; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in $pids; do
        wait "$pid" 2>/dev/null || true
    done
    if [ -n "${ASMTP_IT_KEEP:-}" ]; then
        echo "# kept $work"
    else
        rm -rf "$work"
    fi
}
trap stop_servers EXIT
trap 'exit 1' INT TERM HUP

"$servers/make-certs.sh" "$work/certs" >"$work/certs.log" 2>&1 || {
    cat "$work/certs.log"
    exit 1
}
# A hashed CA directory for ca_path.
mkdir "$work/certs/hashed"
cp "$work/certs/ca.pem" "$work/certs/hashed/ca.pem"
openssl rehash "$work/certs/hashed" 2>/dev/null ||
    c_rehash "$work/certs/hashed" >/dev/null

start_aiosmtpd() {
    name=$1
    shift
    mkdir "$work/$name"
    "$py" "$servers/aiosmtpd-server.py" --dir "$work/$name" --lifetime 110 \
        "$@" 2>"$work/$name/stderr" &
    pids="$pids $!"
    names="$names $name:$!"
}

start_fault() {
    name=$1
    scripts=$2
    shift 2
    mkdir "$work/$name"
    set -- --dir "$work/$name" --lifetime 110 --expect-timeout 20 "$@"
    for s in $scripts; do
        set -- "$@" --script "$here/faults/$s.script"
    done
    "$py" "$servers/fault-server.py" "$@" 2>"$work/$name/stderr" &
    pids="$pids $!"
    names="$names $name:$!"
}

wait_servers() {
    for entry in $names; do
        name=${entry%%:*}
        pid=${entry#*:}
        i=0
        while [ ! -f "$work/$name/port" ]; do
            if ! kill -0 "$pid" 2>/dev/null; then
                echo "server $name exited early:"
                cat "$work/$name/stderr"
                exit 1
            fi
            i=$((i + 1))
            if [ $i -gt 400 ]; then
                echo "server $name did not start"
                cat "$work/$name/stderr"
                exit 1
            fi
            sleep 0.05
        done
    done
}


# Run the test program, wrapped; on failure show what the servers saw.
run_tests() {
    rc=0
    wrapped "$@" "$work" || rc=$?
    if [ $rc -ne 0 ]; then
        for f in "$work"/*/server.log "$work"/*/conn-*.log "$work"/*/stderr; do
            [ -s "$f" ] || continue
            echo "# --- $f"
            tail -n 30 "$f" | sed 's/^/# /'
        done
    fi
    return $rc
}
