#!/bin/sh
# Exit statuses (sysexits.h) for what can be produced on loopback: usage
# (64) before anything is sent, unusable messages (65), unreadable input
# (66), refusals (67, 69), temporary failures (75), broken replies (76).
set -eu
. "$(dirname "$0")/asmtp-send-common.sh"

start_server sink --rcpt-reply 'nobody@=550 5.1.1 No such user' \
    --mail-reply '^later@=451 4.3.0 Try later'
sink=$srv_port
sink_dir=$srv

# expect_err TEXT: stderr holds TEXT.
expect_err() {
    grep -qF -- "$1" "$work/err" || fail "stderr lacks \"$1\""
}

# 64: a control character in any argument, named; nothing is sent.
run_send 64 -H 127.0.0.1 -p "$sink" -f "$(printf 'a@b\r\nRCPT TO:<x@y>')"
expect_err 'the value of --from'
run_send 64 -H 127.0.0.1 -p "$sink" "$(printf 'x@y\tz')"
expect_err 'the recipient "x@y\x09z"'
run_send 64 -H 127.0.0.1 -p "$sink" --local-hostname "$(printf 'a\033b')"
expect_err 'the value of --local-hostname'
run_send 64 -H 127.0.0.1 -p "$sink" --dsn-envid "$(printf 'id\177')"
expect_err 'the value of --dsn-envid'
# Even where the option is unknown, or after --help.
run_send 64 --help "$(printf 'x\ny')"
[ -f "$sink_dir/1.envelope" ] && fail "a message was sent despite a usage error"

# 64: unknown options, bad values, a password on the command line.
run_send 64 --frobnicate
expect_err 'unknown option "--frobnicate"; see asmtp-send --help'
run_send 64 -Z
expect_err 'see asmtp-send --help'
run_send 64 --password secret
run_send 64 -p 70000
run_send 64 --timeout abc
run_send 64 --starttls sometimes
run_send 64 -u bob </dev/null
expect_err 'ASMTP_PASSWORD'
run_send 64 -f
[ -f "$sink_dir/1.envelope" ] && fail "a message was sent despite a usage error"

# --help and --version.
run_send 0 --help
for option in host port unix tls starttls cafile capath no-verify cert key \
    local-hostname source-address timeout connect-timeout user \
    password-file auth oauth-token-file allow-insecure-auth from \
    dsn-notify dsn-ret dsn-envid file verbose json help version; do
    grep -q -- "--$option" "$work/out" || fail "--help lacks --$option"
done
run_send 0 --version
grep -q '^asmtp-send [0-9]' "$work/out" || fail "--version: $(cat "$work/out")"

# 65: no recipients to be found in the message; two Resent- blocks.
printf 'From: alice@example.org\r\nSubject: nobody\r\n\r\nBody.\r\n' >"$msg"
run_send 65 -H 127.0.0.1 -p "$sink"
printf '%s\r\n' 'Resent-From: r2@example.org' 'Resent-To: t2@example.org' \
    'Received: by x' 'Resent-From: r1@example.org' \
    'Resent-To: t1@example.org' 'From: a@example.org' 'To: b@example.org' \
    '' 'Body.' >"$msg"
run_send 65 -H 127.0.0.1 -p "$sink"
[ -f "$sink_dir/1.envelope" ] && fail "an unusable message was sent"
printf 'From: alice@example.org\r\nTo: bob@example.net\r\n\r\nBody.\r\n' >"$msg"

# 66: the input cannot be read.
run_send 66 -H 127.0.0.1 -p "$sink" --file "$work/no-such-file"
expect_err 'no-such-file'
run_send 66 -u bob --password-file "$work/no-such-file" -H 127.0.0.1 \
    -p "$sink"
run_send 66 -H 127.0.0.1 -p "$sink" --cafile "$work/no-such-ca.pem"
expect_err 'no-such-ca.pem, given with --cafile'

# 0, then 67: one recipient refused for good, the other got the message.
run_send 0 -H 127.0.0.1 -p "$sink"
run_send 67 -H 127.0.0.1 -p "$sink" -- ok@example.com nobody@example.com
expect_err 'nobody@example.com: 550 5.1.1 No such user'
grep -qx 'ok@example.com' "$sink_dir/2.envelope" ||
    fail "the accepted recipient did not get the message"
run_send 67 -H 127.0.0.1 -p "$sink" -- nobody@example.com

# 75: a 4xx to MAIL; a closed port.
run_send 75 -H 127.0.0.1 -p "$sink" -f later@example.org
closed=$("$py" -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
run_send 75 -H 127.0.0.1 -p "$closed" --connect-timeout 5
expect_err 'connecting to 127.0.0.1 port'

# 69 and 75: a 554 and a 421 greeting.
start_fault greet554 'send 554 5.3.2 No service for you'
run_send 69 -H 127.0.0.1 -p "$srv_port"
start_fault greet421 'send 421 4.3.2 Busy, come back later'
run_send 75 -H 127.0.0.1 -p "$srv_port"

# 75: a server that stops answering, with a sub-second timeout.
start_fault silent 'send 220 silent.example ESMTP
expect EHLO
sleep 20'
run_send 75 --json -H 127.0.0.1 -p "$srv_port" --timeout 0.5
grep -q '"kind": "timeout"' "$work/out" || fail "not a timeout"

# 76: garbage instead of a reply.
start_fault garbage 'send 220 garbage.example ESMTP
expect EHLO
send this is not an SMTP reply'
run_send 76 -H 127.0.0.1 -p "$srv_port"
echo "exit statuses 0, 64, 65, 66, 67, 69, 75 and 76 as documented"
