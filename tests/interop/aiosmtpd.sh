#!/bin/sh
# The corpus through aiosmtpd (tests/servers/aiosmtpd-server.py, Debian's
# python3-aiosmtpd): plaintext, STARTTLS and implicit TLS over one
# connection per AUTH mechanism (PLAIN, LOGIN, CRAM-MD5, XOAUTH2), and a
# pool of four over implicit TLS; AUTH required, SMTPUTF8, PIPELINING, DSN.
# One server per mode. $1 is interop_send, $2 the directory for the rows.
set -eu
. "$(dirname "$0")/interop-lib.sh"

rows=$outdir/rows-aiosmtpd.tsv
: >"$rows"
version=$("$py" -c 'import aiosmtpd; print(aiosmtpd.__version__)')
mechs=PLAIN,LOGIN,CRAM-MD5,XOAUTH2
common="--lifetime 170 --smtputf8 --pipelining --dsn --auth --auth-required
    --user alice:s3cret --token alice:ya29.interop-token
    --cert $cert --key $key"
account="--user alice --password s3cret --token ya29.interop-token"

# shellcheck disable=SC2086
{
    start_server plain "$py" "$servers/aiosmtpd-server.py" \
        --dir "$work/plain" $common
    start_server starttls "$py" "$servers/aiosmtpd-server.py" \
        --dir "$work/starttls" $common --starttls
    start_server tls "$py" "$servers/aiosmtpd-server.py" \
        --dir "$work/tls" $common --tls
    start_server pool "$py" "$servers/aiosmtpd-server.py" \
        --dir "$work/pool" $common --tls
    for name in plain starttls tls pool; do
        wait_server $name
    done

    run_mode aiosmtpd "$version" plaintext DATA "$mechs" "$work/plain" -- \
        --port "$(cat "$work/plain/port")" --mode plain --auth $mechs $account
    run_mode aiosmtpd "$version" STARTTLS DATA "$mechs" "$work/starttls" -- \
        --port "$(cat "$work/starttls/port")" --mode starttls \
        --auth $mechs $account
    run_mode aiosmtpd "$version" "implicit TLS" DATA "$mechs" "$work/tls" -- \
        --port "$(cat "$work/tls/port")" --mode tls --auth $mechs $account
    run_mode aiosmtpd "$version" "implicit TLS, pool of 4" DATA XOAUTH2 \
        "$work/pool" -- --port "$(cat "$work/pool/port")" --mode tls \
        --pool 4 --auth XOAUTH2 $account
}

print_rows
exit $status
