#!/bin/sh
# asmtp-send with no recipients takes the envelope from the header fields:
# the sender from From, the recipients from To, Cc and Bcc. The Bcc field
# (continuation line included) is not sent; everything else arrives byte
# for byte, a lone "." line and LF-only input included.
set -eu
send=$1
. "$(dirname "$0")/aiosmtpd.sh"

printf '%s\r\n' \
    'From: "Alice A." <alice@example.org>' \
    'To: Bob <bob@example.net>, carol@example.net' \
    'Cc: dave@example.net' \
    'Bcc: secret@example.net,' \
    '  other-secret@example.net' \
    'Subject: recipients from the headers' \
    '' \
    'Hello.' \
    '.' \
    '..two dots' \
    'The end.' >"$dir/in"
printf '%s\r\n' \
    'From: "Alice A." <alice@example.org>' \
    'To: Bob <bob@example.net>, carol@example.net' \
    'Cc: dave@example.net' \
    'Subject: recipients from the headers' \
    '' \
    'Hello.' \
    '.' \
    '..two dots' \
    'The end.' >"$dir/want.content"
printf '%s\n' alice@example.org bob@example.net carol@example.net \
    dave@example.net secret@example.net other-secret@example.net \
    >"$dir/want.envelope"

check() {
    n=$1
    [ -s "$dir/out" ] && { echo "stdout not empty:"; cat "$dir/out"; exit 1; }
    cmp "$dir/want.content" "$dir/$n.content" ||
        { echo "message $n differs:"; od -c "$dir/$n.content"; exit 1; }
    cmp "$dir/want.envelope" "$dir/$n.envelope" ||
        { echo "envelope $n differs:"; cat "$dir/$n.envelope"; exit 1; }
}

wrapped "$send" -H 127.0.0.1 -p "$port" <"$dir/in" >"$dir/out" 2>"$dir/err" ||
    { echo "asmtp-send failed ($?):"; cat "$dir/err"; exit 1; }
check 1

# The same message with LF line ends, from --file: sent with CRLF.
tr -d '\r' <"$dir/in" >"$dir/in-lf"
wrapped "$send" -H 127.0.0.1 -p "$port" --file "$dir/in-lf" </dev/null \
    >"$dir/out" 2>"$dir/err" ||
    { echo "asmtp-send --file failed ($?):"; cat "$dir/err"; exit 1; }
check 2
echo "envelope from the headers, Bcc stripped, content byte for byte"

