#!/bin/sh
# Recipients on the command line replace the header fields' (Bcc is still
# stripped); -f replaces the sender; -f '' and -f '<>' send MAIL FROM:<>
# (which aiosmtpd records as "<>").
set -eu
send=$1
. "$(dirname "$0")/aiosmtpd.sh"

printf '%s\r\n' 'From: alice@example.org' 'To: bob@example.net' \
    'Bcc: hidden@example.net' 'Subject: envelope' '' 'Body.' >"$dir/in"
printf '%s\r\n' 'From: alice@example.org' 'To: bob@example.net' \
    'Subject: envelope' '' 'Body.' >"$dir/want.content"

n=0
# expect ENVELOPE-LINES -- ARGS...: send with ARGS, compare the envelope.
expect() {
    want=$1
    shift 2
    n=$((n + 1))
    wrapped "$send" -H 127.0.0.1 -p "$port" "$@" <"$dir/in" >"$dir/out" \
        2>"$dir/err" ||
        { echo "asmtp-send $* failed ($?):"; cat "$dir/err"; exit 1; }
    printf '%s' "$want" | cmp - "$dir/$n.envelope" ||
        { echo "asmtp-send $*: envelope:"; cat "$dir/$n.envelope"; exit 1; }
    cmp "$dir/want.content" "$dir/$n.content" ||
        { echo "asmtp-send $*: content:"; cat "$dir/$n.content"; exit 1; }
}

expect 'alice@example.org
x@example.com
y@example.com
' -- x@example.com y@example.com
expect 'bounces@example.org
z@example.com
' -- -f bounces@example.org z@example.com
expect '<>
z@example.com
' -- -f '' z@example.com
expect '<>
bob@example.net
hidden@example.net
' -- --from='<>'
expect 'other@example.org
w@example.com
-dash@example.com
' -- '<w@example.com>' --from '<other@example.org>' -- -dash@example.com
echo "recipients and sender from the command line, null sender"

