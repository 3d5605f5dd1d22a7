#!/bin/sh
# The pool example sends twenty messages over connections that carry five
# each: all twenty arrive, over at least four connections.
set -eu
example=$1
. "$(dirname "$0")/aiosmtpd.sh"

wrapped "$example" 127.0.0.1 "$port" a@example.org b@example.net >"$dir/out"
grep -q '^20 delivered, 0 failed, ' "$dir/out"
connections=$(sed 's/.*failed, \([0-9]*\) connections/\1/' "$dir/out")
[ "$connections" -ge 4 ]
[ -f "$dir/20.content" ] && [ ! -f "$dir/21.content" ]
echo "twenty messages over $connections connections"
