#!/bin/sh
# The corpus through a private Postfix instance (tests/servers/
# postfix-instance.sh): plaintext, STARTTLS and implicit TLS with DATA,
# STARTTLS with BDAT, and a pool of four over implicit TLS; AUTH PLAIN,
# LOGIN and CRAM-MD5 through Cyrus SASL. Each mode's mail is compared once
# the instance's queue has drained, then moved aside for the next mode.
# Then: Postfix refused no bare newline (smtpd_forbid_bare_newline =
# reject); a control run (naive-send.py) proves the checks see smuggled
# mail; and the machine's own Postfix directories were not written.
# $1 is interop_send, $2 the directory for the table rows.
set -eu
. "$(dirname "$0")/interop-lib.sh"

rows=$outdir/rows-postfix.tsv
: >"$rows"
rm -f "$outdir/rows-postfix.skipped"
if [ "$(id -u)" -ne 0 ]; then
    echo "a Postfix instance needs root to start" |
        tee "$outdir/rows-postfix.skipped"
    exit 77
fi
touch "$work/stamp"

start_server postfix "$servers/postfix-instance.sh" --dir "$work/postfix" \
    --cert "$cert" --key "$key" --lifetime 170 --user alice:s3cret
wait_server postfix
port=$(cat "$work/postfix/port")
tls_port=$(cat "$work/postfix/tls-port")
version=$(/usr/sbin/postconf -c "$work/postfix/conf" -h mail_version)
queue=$work/postfix/queue
inbox=$work/postfix/mail/inbox
mechs=PLAIN,LOGIN,CRAM-MD5
account="--user alice --password s3cret"
done_modes=0

postfix_mode() {
    run_mode postfix "$version" "$@"
    done_modes=$((done_modes + 1))
    if [ -d "$inbox" ]; then
        mv "$inbox" "$work/postfix/mail/mode-$done_modes"
    fi
}

# shellcheck disable=SC2086
{
    postfix_mode plaintext DATA "$mechs" "$inbox" -- --port "$port" \
        --mode plain --no-chunking --auth $mechs $account
    postfix_mode STARTTLS DATA "$mechs" "$inbox" -- --port "$port" \
        --mode starttls --no-chunking --auth $mechs $account
    postfix_mode "implicit TLS" DATA "$mechs" "$inbox" -- --port "$tls_port" \
        --mode tls --no-chunking --auth $mechs $account
    postfix_mode STARTTLS BDAT "$mechs" "$inbox" -- --port "$port" \
        --mode starttls --auth $mechs $account
    postfix_mode "implicit TLS, pool of 4" BDAT PLAIN "$inbox" -- \
        --port "$tls_port" --mode tls --pool 4 --auth PLAIN $account
}

# Nothing was refused for a bare newline: the client sent none.
bare=$(grep -c 'bare <LF>' "$work/postfix/maillog" || true)
echo "# bare <LF> refusals in Postfix's log: $bare"
[ "$bare" -eq 0 ] || status=1

# The control: the smuggling messages sent by a client that does not
# normalise line ends, to a listener of the same Postfix that takes a bare
# LF as a line end (smtpd_forbid_bare_newline=no, Postfix's default before
# 3.9). The checks above must see what gets smuggled there.
"$py" "$here/naive-send.py" --port "$(cat "$work/postfix/legacy-port")" \
    --corpus "$work/corpus" --category smuggling \
    --results "$work/results-control" >"$work/send-control.log" 2>&1 ||
    status=1
"$py" "$here/compare.py" --corpus "$work/corpus" --subset smuggling \
    --results "$work/results-control" --server postfix --store "$inbox" \
    --queue "$queue" --mode control --tls no \
    >"$work/compare-control.log" 2>&1 || true
smuggled=$(grep -c '^EXTRA' "$work/compare-control.log" || true)
broken=$(grep -c '^MISMATCH' "$work/compare-control.log" || true)
echo "# control, a client that does not normalise line ends, to Postfix" \
    "with smtpd_forbid_bare_newline=no: $smuggled smuggled messages" \
    "stored, $broken of the 32 not delivered as meant"
grep '^EXTRA' "$work/compare-control.log" | sed 's/^/#   /'
if [ "$smuggled" -eq 0 ]; then
    echo "the control run smuggled nothing: the checks would not notice" \
        "a smuggled message"
    status=1
fi

# The machine's own Postfix: configuration, queue and mail untouched. (Not
# checkable while the machine's Postfix runs: its queue then changes.)
system_pid=$(sed -n '1s/ //gp' /var/spool/postfix/pid/master.pid \
    2>/dev/null || true)
if [ -n "$system_pid" ] && kill -0 "$system_pid" 2>/dev/null; then
    echo "# the machine's Postfix is running; not checking its directories"
else
    touched=$(find /etc/postfix /var/spool/postfix /var/mail \
        -newer "$work/stamp" 2>/dev/null | head -n 5)
    if [ -n "$touched" ]; then
        echo "the machine's Postfix directories changed during the run:"
        echo "$touched"
        status=1
    else
        echo "# /etc/postfix, /var/spool/postfix, /var/mail: unchanged"
    fi
fi

print_rows
exit $status
