#!/bin/sh
# AUTH with the password from ASMTP_PASSWORD or --password-file, a forced
# mechanism, XOAUTH2 from --oauth-token-file, and a refusal (77). The
# password and the token never appear in the -v transcript, in any
# encoding, nor in asmtp-send's argv.
set -eu
. "$(dirname "$0")/asmtp-send-common.sh"

password='pa ss:w0rd-Ünïcode'
token='ya29.test-token-0123456789'
start_server auth --auth --auth-mech PLAIN,LOGIN,CRAM-MD5,XOAUTH2 \
    --user "bob:$password" --token "bob:$token"
auth_dir=$srv
auth_port=$srv_port

# no_secret: the secrets are not in stdout or stderr, plain or base64.
no_secret() {
    "$py" - "$work/out" "$work/err" "$password" "$token" <<'PY' ||
import base64, sys
outputs = [open(f, "rb").read() for f in sys.argv[1:3]]
secrets = []
for s in sys.argv[3:]:
    b = s.encode()
    secrets += [b, base64.b64encode(b), base64.b64encode(b"\0bob\0" + b),
                base64.b64encode(b"user=bob\1auth=Bearer " + b + b"\1\1")]
for out in outputs:
    for s in secrets:
        assert s not in out, "a secret is in the output: %r" % s
PY
        fail "a secret leaked"
}

# login_of N: the name message N was sent under.
login_of() {
    "$py" -c 'import json, sys
print(json.load(open(sys.argv[1])).get("auth_login"))' "$auth_dir/$1.json"
}

ASMTP_PASSWORD=$password run_send 0 -v -u bob -H 127.0.0.1 -p "$auth_port"
no_secret
grep -q '<redacted>' "$work/err" || fail "no AUTH in the -v transcript"
[ "$(login_of 1)" = bob ] || fail "message 1 not sent as bob"

for mech in PLAIN LOGIN CRAM-MD5; do
    ASMTP_PASSWORD=$password run_send 0 -v -u bob --auth "$mech" \
        -H 127.0.0.1 -p "$auth_port"
    no_secret
    grep -q "^C: AUTH $mech" "$work/err" || fail "--auth $mech not used"
done

printf '%s\r\nthe second line is not the password\n' "$password" \
    >"$work/password"
run_send 0 -v -u bob --password-file "$work/password" -H 127.0.0.1 \
    -p "$auth_port"
no_secret

printf '%s\n' "$token" >"$work/token"
run_send 0 -v -u bob --oauth-token-file "$work/token" -H 127.0.0.1 \
    -p "$auth_port"
no_secret
grep -q '^C: AUTH XOAUTH2' "$work/err" || fail "XOAUTH2 not used"

# A wrong password: 77, kind "auth", and the wrong password not shown.
password=not-the-password
ASMTP_PASSWORD=$password run_send 77 -v --json -u bob -H 127.0.0.1 \
    -p "$auth_port"
no_secret
grep -q '"kind": "auth"' "$work/out" || fail "not an auth error"
grep -q 'authenticating as bob failed' "$work/err" || fail "no sentence"

# No password at all: a usage error, nothing sent.
(
    unset ASMTP_PASSWORD
    run_send 64 -u bob -H 127.0.0.1 -p "$auth_port"
)

# While asmtp-send waits for a silent server, its argv holds no password.
start_fault silent 'sleep 30'
ASMTP_PASSWORD=argv-secret-42 "$send" -u bob -H 127.0.0.1 -p "$srv_port" \
    --connect-timeout 20 <"$msg" >"$work/out" 2>"$work/err" &
client=$!
sleep 0.5
tr '\0' ' ' <"/proc/$client/cmdline" >"$work/cmdline" || true
kill "$client" 2>/dev/null || true
wait "$client" 2>/dev/null || true
grep -q -- '-u bob' "$work/cmdline" || fail "could not read argv"
grep -q 'argv-secret-42' "$work/cmdline" && fail "the password is in argv"
echo "AUTH with every way of giving secrets; none of them shown"
