# Sourced by postfix.sh, aiosmtpd.sh and nodemailer.sh: one scratch
# directory ($work) for the run with fresh certificates and the corpus in
# it, servers started by name in $work/NAME and stopped by their PIDs on
# exit, and run_mode, which sends the corpus in one mode and compares what
# the server stored.
#
#   $1  the interop_send program    $2  where the table rows go
#
#   start_server NAME COMMAND...   (COMMAND gets no --dir: pass $work/NAME)
#   wait_server NAME               until $work/NAME/port exists
#   run_mode SERVER VERSION MODE TRANSFER AUTH STORE -- DRIVER-OPTIONS...
#
# ASMTP_IT_KEEP=1 keeps the scratch directory; ASMTP_INTEROP_SMALL=1 cuts
# the two 10 MiB attachments to 64 KiB.
top=$(cd "$(dirname "$0")/../.." && pwd)
here=$top/tests/interop
servers=$top/tests/servers
py=/usr/bin/python3
send=$1
outdir=$2
mkdir -p "$outdir"
work=$(mktemp -d "${TMPDIR:-/tmp}/asmtp-interop.XXXXXX")
# Postfix's daemons (users postfix and nobody) must reach into it.
chmod 755 "$work"
pids=
names=
status=0

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
small=
[ -n "${ASMTP_INTEROP_SMALL:-}" ] && small=--small
"$py" "$here/gen-corpus.py" "$work/corpus" $small >"$work/corpus.log" || {
    cat "$work/corpus.log"
    exit 1
}
ca=$work/certs/ca.pem
cert=$work/certs/server.pem
key=$work/certs/server.key

start_server() {
    name=$1
    shift
    mkdir -p "$work/$name"
    "$@" >"$work/$name.stdout" 2>"$work/$name.stderr" &
    pids="$pids $!"
    names="$names $name:$!"
}

wait_server() {
    for entry in $names; do
        [ "${entry%%:*}" = "$1" ] || continue
        pid=${entry#*:}
        i=0
        while [ ! -f "$work/$1/port" ]; do
            if ! kill -0 "$pid" 2>/dev/null; then
                wait "$pid" 2>/dev/null && rc=0 || rc=$?
                echo "server $1 exited early (status $rc):"
                cat "$work/$1.stderr"
                [ "$rc" -eq 77 ] && exit 77
                exit 1
            fi
            i=$((i + 1))
            if [ $i -gt 600 ]; then
                echo "server $1 did not start in 30 s"
                cat "$work/$1.stderr"
                exit 1
            fi
            sleep 0.05
        done
    done
}

# Send the corpus in one mode and compare; a failed mode sets status=1
# and the run goes on with the next one.
run_mode() {
    server=$1 version=$2 mode=$3 transfer=$4 auth=$5 store=$6
    shift 6
    [ "$1" = "--" ] && shift
    label=$server-$(echo "$mode-$transfer" | tr -c 'A-Za-z0-9\n' -)
    echo "# $server, $mode, $transfer, AUTH $auth"
    send_status=0
    "$send" --ca "$ca" "$@" "$work/corpus" "$work/results-$label" \
        >"$work/send-$label.log" 2>&1 || send_status=$?
    sed -n 's/^/#   /p' "$work/send-$label.log" | grep -v ': [0-9]*: ' |
        head -n 12
    if [ "$send_status" -ne 0 ]; then
        # Failed sends show below; a crash or a sanitizer report only here.
        echo "interop_send exited with status $send_status"
        tail -n 20 "$work/send-$label.log"
        status=1
    fi
    tls=yes
    [ "$mode" = plaintext ] && tls=no
    set -- --corpus "$work/corpus" --results "$work/results-$label" \
        --server "$server" --store "$store" --mode "$mode" --tls "$tls" \
        --transfer "$transfer" --auth "$auth" --version "$version" \
        --row "$rows" --diffs "$work/diffs-$label"
    [ -n "${queue:-}" ] && set -- "$@" --queue "$queue"
    "$py" "$here/compare.py" "$@" >"$work/compare-$label.log" 2>&1 ||
        status=1
    head -n 40 "$work/compare-$label.log"
}

# This server's part of the table.
print_rows() {
    "$py" "$here/table.py" "$rows"
}
