# Sourced by the integration tests: starts tests/servers/aiosmtpd-sink.py
# in a scratch directory ($dir), sets $port, and stops it on exit; and
# defines wrapped (wrapped.sh).
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/integration/wrapped.sh
. "$top/tests/integration/wrapped.sh"
dir=$(mktemp -d)
server_pid=
stop_server() {
    touch "$dir/stop"
    [ -n "$server_pid" ] && wait "$server_pid" 2>/dev/null || true
    rm -rf "$dir"
}
trap stop_server EXIT

/usr/bin/python3 "$top/tests/servers/aiosmtpd-sink.py" "$dir" \
    2>"$dir/server.log" &
server_pid=$!
i=0
while [ ! -f "$dir/port" ]; do
    i=$((i + 1))
    [ $i -gt 200 ] && { echo "aiosmtpd did not start"; cat "$dir/server.log"; exit 1; }
    sleep 0.05
done
port=$(cat "$dir/port")

