#!/bin/sh
# STARTTLS and implicit TLS against aiosmtpd with test certificates: the
# certificate is verified (--cafile), a certificate that cannot be trusted
# or names another host fails with 69, --no-verify and a client
# certificate work, and "tls" in the JSON says whether the send was
# encrypted. Also a plain and a STARTTLS send over a Unix socket.
set -eu
. "$(dirname "$0")/asmtp-send-common.sh"
make_certs

# tls_of N DIR: how message N in DIR was protected ("starttls", "tls" or
# "None").
tls_of() {
    "$py" -c 'import json, sys
t = json.load(open(sys.argv[1])).get("tls")
print(t["mode"] if t else None)' "$2/$1.json"
}

json_tls() {
    grep -q "\"tls\": $1}" "$work/out" || fail "JSON tls is not $1"
}

start_server starttls --starttls --cert "$certs/server-chain.pem" \
    --key "$certs/server.key"
st=$srv_port
st_dir=$srv

run_send 0 --json -H localhost -p "$st" --cafile "$certs/ca.pem"
json_tls true
[ "$(tls_of 1 "$st_dir")" = starttls ] || fail "message 1 not over STARTTLS"
run_send 0 --json -H 127.0.0.1 -p "$st" --starttls required \
    --cafile "$certs/ca.pem"
json_tls true
run_send 0 --json -H localhost -p "$st" --starttls never
json_tls false
[ "$(tls_of 3 "$st_dir")" = None ] || fail "message 3 not in plaintext"

# The test CA is not in the system store: verification fails, 69.
run_send 69 --json -H localhost -p "$st" --starttls required
grep -q '"kind": "tls"' "$work/out" || fail "not a TLS error"
run_send 0 --json -H localhost -p "$st" --starttls required --no-verify
json_tls true

start_server wronghost --starttls --cert "$certs/wronghost.pem" \
    --key "$certs/wronghost.key"
run_send 69 -H localhost -p "$srv_port" --cafile "$certs/ca.pem"

# STARTTLS required by a server that does not offer it: 69, nothing sent.
start_server plain
run_send 69 --json -H 127.0.0.1 -p "$srv_port" --starttls required
grep -q '"kind": "tls"' "$work/out" || fail "not a TLS error"
[ -f "$srv/1.envelope" ] && fail "sent in plaintext despite required"

# Implicit TLS, with a client certificate the server insists on.
start_server implicit --tls --cert "$certs/server-chain.pem" \
    --key "$certs/server.key" --client-ca "$certs/ca.pem" \
    --require-client-cert
run_send 0 --json --tls -H localhost -p "$srv_port" \
    --cafile "$certs/ca.pem" --cert "$certs/client.pem" \
    --key "$certs/client.key"
json_tls true
[ "$(tls_of 1 "$srv")" = tls ] || fail "not sent over implicit TLS"

# A Unix socket, in plaintext and then with STARTTLS verified against
# --host.
start_server unix-plain --unix "$work/plain.sock"
run_send 0 --json --unix "$srv_port"
json_tls false
[ -f "$srv/1.envelope" ] || fail "nothing arrived over the Unix socket"
start_server unix-tls --unix "$work/tls.sock" --starttls \
    --cert "$certs/server-chain.pem" --key "$certs/server.key"
run_send 64 --unix "$srv_port" --starttls required
run_send 0 --json --unix "$srv_port" -H localhost --starttls required \
    --cafile "$certs/ca.pem"
json_tls true
echo "STARTTLS, implicit TLS, verification and Unix sockets as documented"
