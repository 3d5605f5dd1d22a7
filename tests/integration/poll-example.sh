#!/bin/sh
# The poll() example drives a session against a real aiosmtpd server: the
# message that arrives must be the normalised, unstuffed input, byte for
# byte, with the envelope given on the command line.
set -eu
example=$1
top=$(cd "$(dirname "$0")/../.." && pwd)
dir=$(mktemp -d)
server_pid=
cleanup() {
    touch "$dir/stop"
    [ -n "$server_pid" ] && wait "$server_pid" 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT

/usr/bin/python3 "$top/tests/servers/aiosmtpd-sink.py" "$dir" &
server_pid=$!
i=0
while [ ! -f "$dir/port" ]; do
    i=$((i + 1))
    [ $i -gt 200 ] && { echo "aiosmtpd did not start"; exit 1; }
    sleep 0.05
done
port=$(cat "$dir/port")

# Leading dots, a lone dot line, bare LF and bare CR, no final newline.
printf 'Subject: poll example\n\n.leading dot\n.\nbare\rCR\r\nend' \
    >"$dir/message"
printf 'Subject: poll example\r\n\r\n.leading dot\r\n.\r\nbare\r\nCR\r\nend\r\n' \
    >"$dir/expected"

"$example" 127.0.0.1 "$port" sender@example.org one@example.net \
    two@example.net <"$dir/message"

cmp "$dir/expected" "$dir/1.content"
printf 'sender@example.org\none@example.net\ntwo@example.net\n' |
    cmp - "$dir/1.envelope"
echo "delivered byte for byte through aiosmtpd"
