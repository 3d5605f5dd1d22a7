#!/bin/sh
# The libuv example submits three messages and a QUIT at once; all arrive,
# in order, over one connection.
set -eu
example=$1
. "$(dirname "$0")/aiosmtpd.sh"

wrapped "$example" 127.0.0.1 "$port" a@example.org b@example.net >"$dir/out"
printf 'connect: ok\nmessage 1: ok\nmessage 2: ok\nmessage 3: ok\nquit: ok\n' |
    cmp - "$dir/out"
for i in 1 2 3; do
    grep -q "^Subject: message $i" "$dir/$i.content"
done
echo "three messages delivered in order"
