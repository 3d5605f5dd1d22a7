#!/bin/sh
# selftest.sh: prove the test servers in this directory work.
#
# Starts every server variant on loopback (or a Unix socket) in a fresh
# temporary directory, talks to it with Python's smtplib and raw sockets
# (selftest-client.py) and with openssl s_client, checks what it recorded,
# and stops it by its PID. Needs only /usr/bin/python3 with python3-aiosmtpd
# and the openssl command. Exit status 0 when every check passed.
#
# Usage: tests/servers/selftest.sh [-k]   (-k keeps the scratch directory)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3
keep=
[ "${1:-}" = -k ] && keep=1
work=$(mktemp -d "${TMPDIR:-/tmp}/asmtp-servers-selftest.XXXXXX")
pids=

cleanup() {
    for pid in $pids; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in $pids; do
        wait "$pid" 2>/dev/null || true
    done
    if [ -n "$keep" ]; then
        echo "# kept $work"
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

fail() {
    echo "not ok - $*"
    for f in "$work"/*/server.log; do
        [ -f "$f" ] && { echo "# --- $f"; tail -n 20 "$f" | sed 's/^/# /'; }
    done
    exit 1
}

# wait_port DIR PID: wait until the server in DIR listens.
wait_port() {
    i=0
    while [ ! -f "$1/port" ]; do
        kill -0 "$2" 2>/dev/null || fail "server in $1 exited early: $(cat "$1/stderr" 2>/dev/null)"
        i=$((i + 1))
        [ $i -gt 200 ] && fail "server in $1 did not start"
        sleep 0.05
    done
}

# start NAME ARGS...: start aiosmtpd-server.py in $work/NAME, sets $pid.
start() {
    name=$1
    shift
    mkdir "$work/$name"
    "$py" "$here/aiosmtpd-server.py" --dir "$work/$name" --lifetime 120 \
        "$@" 2>"$work/$name/stderr" &
    pid=$!
    pids="$pids $pid"
    wait_port "$work/$name" "$pid"
}

# stop PID: stop a server by its PID and check it exited cleanly.
stop() {
    kill "$1"
    rc=0
    wait "$1" || rc=$?
    [ "$rc" -eq 0 ] || fail "server $1 exited with status $rc"
    echo "ok - stopped server $1 by PID"
}

client() {
    "$py" "$here/selftest-client.py" "$1" "$work/$1" "$certs" ||
        fail "checks for $1"
}

certs=$work/certs
sh "$here/make-certs.sh" "$certs" || fail "make-certs.sh"
for f in ca.pem server.pem server.key selfsigned.pem selfsigned.key \
    client.pem client.key; do
    [ -s "$certs/$f" ] || fail "make-certs.sh did not write $f"
done
openssl verify -CAfile "$certs/ca.pem" "$certs/server.pem" \
    "$certs/client.pem" >/dev/null || fail "certificates do not verify"
if openssl verify -CAfile "$certs/ca.pem" "$certs/selfsigned.pem" \
    >/dev/null 2>&1; then
    fail "selfsigned.pem must not verify against ca.pem"
fi
openssl x509 -in "$certs/server.pem" -noout -ext subjectAltName |
    grep -q 'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1' ||
    fail "server.pem subjectAltName"
echo "ok - make-certs.sh: CA, server (localhost, 127.0.0.1, ::1), self-signed, client"

cert=$certs/server.pem
key=$certs/server.key

# Non-loopback addresses are refused.
mkdir "$work/refuse"
if "$py" "$here/aiosmtpd-server.py" --dir "$work/refuse" --host 0.0.0.0 \
    --lifetime 1 2>/dev/null; then
    fail "aiosmtpd-server.py accepted --host 0.0.0.0"
fi
echo "ok - aiosmtpd-server.py refuses a non-loopback address"

# plain: DATA, BDAT, DSN, pipelining, refusals; stopped via DIR/stop.
start plain --pipelining --chunking --dsn --max-rcpt 3 \
    --rcpt-reply 'nobody@=550 5.1.1 No such user'
client plain
touch "$work/plain/stop"
wait "$pid" || fail "plain server exit status"
echo "ok - plain server stopped by DIR/stop"

# starttls: required STARTTLS, AUTH only after TLS.
start starttls --require-starttls --cert "$cert" --key "$key" --auth --auth-require-tls \
    --user "alice:s3cret:with colon" --user "jürgen:pässwörd"
client starttls
out=$(printf 'NOOP\r\nQUIT\r\n' | openssl s_client -starttls smtp \
    -connect "127.0.0.1:$(cat "$work/starttls/port")" \
    -CAfile "$certs/ca.pem" -verify_hostname localhost \
    -verify_return_error -crlf -quiet -ign_eof 2>&1) ||
    fail "openssl s_client -starttls smtp: $out"
echo "$out" | grep -q '^221' || fail "openssl s_client: no 221 in: $out"
echo "ok - openssl s_client -starttls smtp verifies and gets 221"
stop "$pid"

# tls: implicit TLS with an optional client certificate.
start tls --tls --cert "$cert" --key "$key" --client-ca "$certs/ca.pem" --auth \
    --user "alice:s3cret:with colon"
client tls
out=$(printf 'QUIT\r\n' | openssl s_client \
    -connect "127.0.0.1:$(cat "$work/tls/port")" -CAfile "$certs/ca.pem" \
    -verify_hostname localhost -verify_return_error -crlf -quiet \
    -ign_eof 2>&1) || fail "openssl s_client (implicit TLS): $out"
echo "$out" | grep -q '^220 localhost' || fail "openssl s_client: no greeting in: $out"
echo "ok - openssl s_client implicit TLS verifies and gets the greeting"
stop "$pid"

# auth: every mechanism on plain loopback, AUTH required.
start auth --auth --auth-required --user "alice:s3cret:with colon" \
    --token bob:tok-123 --token "carol:$("$py" -c 'print("L" * 3000)')" \
    --auth-mech PLAIN,LOGIN,CRAM-MD5,XOAUTH2
client auth
stop "$pid"

# smtputf8 and a small SIZE.
start smtputf8 --smtputf8 --size 1000
client smtputf8
stop "$pid"

# no8bit: a 7-bit server.
start no8bit --no-8bitmime
client no8bit
stop "$pid"

# unix: a Unix socket.
mkdir "$work/sock"
start unix --unix "$work/sock/smtp.sock"
client unix
stop "$pid"
[ ! -e "$work/sock/smtp.sock" ] || fail "Unix socket not removed on exit"
echo "ok - Unix socket removed on exit"

# ipv6: ::1 when the machine has it.
if "$py" -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null; then
    start ipv6 --host ::1
    client ipv6
    stop "$pid"
else
    echo "ok - ipv6: skipped, no ::1 on this machine"
fi

# lifetime: a server stops by itself.
mkdir "$work/life"
"$py" "$here/aiosmtpd-server.py" --dir "$work/life" --lifetime 1 &
pid=$!
pids="$pids $pid"
wait_port "$work/life" "$pid"
i=0
while kill -0 "$pid" 2>/dev/null; do
    i=$((i + 1))
    [ $i -gt 100 ] && fail "--lifetime 1 server still running after 5 s"
    sleep 0.05
done
wait "$pid" || fail "lifetime server exit status"
echo "ok - --lifetime 1 server stopped by itself"

# fault: four connections, four scripts.
f=$work/fault
mkdir "$f"
cat >"$f/1.script" <<'EOF'
# a whole transaction with odd but valid replies
send 220 mx ESMTP fault server
expect EHLO
sendraw 250-mx\r\n250-PIPELINING\r\n250 CHUNKING\r\n
expect MAIL FROM:<a@example.org>
send 250 2.1.0 ok
expect RCPT TO:<b@example.net>
send 250 2.1.5 ok
expect DATA
send 354 go ahead
expect-data
send 250 2.0.0 queued
expect-bdat last
trickle 0.005 250 2.0.0 trickled
expect QUIT
send 221 2.0.0 bye
expect-close
EOF
cat >"$f/2.script" <<'EOF'
send 220 mx
expect EHLO
sendraw 250-mx\r\n250 STARTTLS\r\n
expect STARTTLS
sendraw 220 go\r\n250 injected\r\n
starttls
expect EHLO
send 250 after-tls
expect QUIT
send 221 bye
close
EOF
cat >"$f/3.script" <<'EOF'
long-line 1000 220-
repeat-line 70000 250-x
garbage 200
close-mid 250-partia
EOF
cat >"$f/4.script" <<'EOF'
send 220 mx
expect EHLO
send 250 never reached
EOF
"$py" "$here/fault-server.py" --dir "$f" --connections 4 --lifetime 60 \
    --script "$f/1.script" --script "$f/2.script" --script "$f/3.script" \
    --script "$f/4.script" --cert "$cert" --key "$key" 2>"$f/stderr" &
pid=$!
pids="$pids $pid"
wait_port "$f" "$pid"
client fault
rc=0
wait "$pid" || rc=$?
[ "$rc" -eq 1 ] || fail "fault server: exit status $rc, want 1 (script 4 fails on purpose)"
echo "ok - fault server stopped after 4 connections, exit status 1 for the failed script"

# fault: "silent" over a Unix socket; the first client leaves, during the
# second connection the server is stopped by its PID.
g=$work/silent
mkdir "$g"
printf 'send 220 hello\nsilent\n' >"$g/script"
"$py" "$here/fault-server.py" --dir "$g" --script "$g/script" \
    --connections 2 --lifetime 60 --unix "$g/sock" 2>"$g/stderr" &
pid=$!
pids="$pids $pid"
wait_port "$g" "$pid"
"$py" - "$g/sock" "$pid" "$g" <<'EOF' || fail "silent fault server over a Unix socket"
import os, signal, socket, sys, time
path, pid, d = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def talk():
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    s.connect(path)
    assert s.recv(100) == b"220 hello\r\n"
    s.sendall(b"EHLO x\r\n")
    s.settimeout(0.5)
    try:
        s.recv(100)
        raise SystemExit("silent server answered")
    except socket.timeout:
        pass
    return s
talk().close()
for _ in range(100):
    if os.path.exists(d + "/conn-1.done"):
        break
    time.sleep(0.05)
s = talk()
os.kill(pid, signal.SIGTERM)   # stop the server by its PID
s.settimeout(5)
assert s.recv(100) == b"", "server did not close the connection"
EOF
rc=0
wait "$pid" || rc=$?
[ "$rc" -eq 1 ] || fail "silent: exit status $rc, want 1 (stopped mid-script)"
grep -q '^C(silent): EHLO x\\r\\n$' "$g/conn-1.log" || fail "silent: client line not recorded"
grep -q '^END ok$' "$g/conn-1.log" || fail "silent: connection 1 did not end ok"
grep -q '^END fail: server stopped during the script$' "$g/conn-2.log" ||
    fail "silent: connection 2 not marked as stopped"
echo "ok - fault server: silent over a Unix socket; client close recorded; stopped by PID"

echo "# all server self-checks passed"
