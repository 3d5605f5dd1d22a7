#!/bin/sh
# The blocking example sends a message whose envelope comes from its
# headers through a real aiosmtpd: the recipients are To, Cc and Bcc, and
# what arrives is the message without its Bcc field, byte for byte.
set -eu
example=$1
. "$(dirname "$0")/aiosmtpd.sh"

printf 'From: Alice <alice@example.org>\nTo: bob@example.net, "Carol, C." <carol@example.net>\nBcc: hidden@example.net\nSubject: hi\n\nHello\n.dot line\n' \
    >"$dir/message"
printf 'From: Alice <alice@example.org>\r\nTo: bob@example.net, "Carol, C." <carol@example.net>\r\nSubject: hi\r\n\r\nHello\r\n.dot line\r\n' \
    >"$dir/expected"
wrapped "$example" 127.0.0.1 "$port" <"$dir/message" 2>"$dir/log"
cmp "$dir/expected" "$dir/1.content"
printf 'alice@example.org\nbob@example.net\ncarol@example.net\nhidden@example.net\n' |
    cmp - "$dir/1.envelope"
echo "envelope from the headers, Bcc removed, content byte for byte"
