#!/bin/sh
# The corpus through nodemailer's smtp-server (npm, installed by
# tests/servers/install-node-deps.sh; tests/servers/nodemailer-server.js):
# plaintext, STARTTLS and implicit TLS over one connection per AUTH
# mechanism (PLAIN, LOGIN, CRAM-MD5, XOAUTH2), and a pool of four over
# implicit TLS; AUTH required, PIPELINING, SMTPUTF8, 8BITMIME, DSN, SIZE.
# One server per mode. $1 is interop_send, $2 the directory for the rows.
set -eu
. "$(dirname "$0")/interop-lib.sh"

rows=$outdir/rows-nodemailer.tsv
: >"$rows"
if ! command -v node >/dev/null; then
    echo "node is missing (Debian packages nodejs and npm)"
    exit 1
fi
version=$(cd "$servers" &&
    node -p 'require("smtp-server/package.json").version') || {
    echo "smtp-server is not installed: run tests/servers/install-node-deps.sh"
    exit 1
}
mechs=PLAIN,LOGIN,CRAM-MD5,XOAUTH2
common="--lifetime 170 --auth-required --size 67108864
    --user alice:s3cret --token alice:ya29.interop-token"
tls="--cert $cert --key $key"
account="--user alice --password s3cret --token ya29.interop-token"

# shellcheck disable=SC2086
{
    start_server plain node "$servers/nodemailer-server.js" \
        --dir "$work/plain" $common
    start_server starttls node "$servers/nodemailer-server.js" \
        --dir "$work/starttls" $common $tls
    start_server tls node "$servers/nodemailer-server.js" \
        --dir "$work/tls" $common $tls --tls
    start_server pool node "$servers/nodemailer-server.js" \
        --dir "$work/pool" $common $tls --tls
    for name in plain starttls tls pool; do
        wait_server $name
    done

    run_mode nodemailer "$version" plaintext DATA "$mechs" "$work/plain" -- \
        --port "$(cat "$work/plain/port")" --mode plain --auth $mechs $account
    run_mode nodemailer "$version" STARTTLS DATA "$mechs" "$work/starttls" -- \
        --port "$(cat "$work/starttls/port")" --mode starttls \
        --auth $mechs $account
    run_mode nodemailer "$version" "implicit TLS" DATA "$mechs" "$work/tls" \
        -- --port "$(cat "$work/tls/port")" --mode tls --auth $mechs $account
    run_mode nodemailer "$version" "implicit TLS, pool of 4" DATA CRAM-MD5 \
        "$work/pool" -- --port "$(cat "$work/pool/port")" --mode tls \
        --pool 4 --auth CRAM-MD5 $account
}

print_rows
exit $status
