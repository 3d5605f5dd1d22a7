#!/bin/sh
# The probe example queues nine operations at once against a real aiosmtpd
# server; each must complete, in submission order, with the server's real
# answer (VRFY 252 is a success, EXPN 502 a refusal, an unknown command's
# 500 is reported as it is).
set -eu
example=$1
. "$(dirname "$0")/aiosmtpd.sh"

wrapped "$example" 127.0.0.1 "$port" someone@example.net >"$dir/out"
grep -E '^[A-Z]' "$dir/out" | cut -d: -f1 >"$dir/order"
printf 'EHLO\nNOOP\nHELP\nVRFY\nEXPN\nRSET\nXPROBE\nEHLO again\nQUIT\n' |
    cmp - "$dir/order"
grep -q '^  offers SIZE 33554432$' "$dir/out"
grep -q '^VRFY: ok 252 ' "$dir/out"
grep -q '^EXPN: ASMTP_ERR_COMMAND_REFUSED 502 ' "$dir/out"
grep -q '^XPROBE: ok 500 ' "$dir/out"
grep -q '^QUIT: ok 221 ' "$dir/out"
echo "nine operations completed in order against aiosmtpd"
