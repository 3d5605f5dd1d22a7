#!/bin/sh
# The poll() example drives a session against a real aiosmtpd server: the
# message that arrives must be the normalised, unstuffed input, byte for
# byte, with the envelope given on the command line.
set -eu
example=$1
. "$(dirname "$0")/aiosmtpd.sh"

# Leading dots, a lone dot line, bare LF and bare CR, no final newline.
printf 'Subject: poll example\n\n.leading dot\n.\nbare\rCR\r\nend' \
    >"$dir/message"
printf 'Subject: poll example\r\n\r\n.leading dot\r\n.\r\nbare\r\nCR\r\nend\r\n' \
    >"$dir/expected"

wrapped "$example" 127.0.0.1 "$port" sender@example.org one@example.net \
    two@example.net <"$dir/message"

cmp "$dir/expected" "$dir/1.content"
printf 'sender@example.org\none@example.net\ntwo@example.net\n' |
    cmp - "$dir/1.envelope"
echo "delivered byte for byte through aiosmtpd"
