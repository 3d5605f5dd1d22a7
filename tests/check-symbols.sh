#!/bin/sh
# Checks that the shared library exports asmtp_ names only, that no
# internal asmtp__ name leaks, and that the public API is there at all.
set -eu
lib=$1
syms=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVW]$/ {print $3}')
bad=$(printf '%s\n' "$syms" | grep -v '^asmtp_' | grep -v '^_' || true)
internal=$(printf '%s\n' "$syms" | grep '^asmtp__' || true)
status=0
if [ -n "$bad" ]; then
    echo "exported symbols outside the asmtp_ namespace:"; echo "$bad"
    status=1
fi
if [ -n "$internal" ]; then
    echo "internal asmtp__ symbols exported:"; echo "$internal"
    status=1
fi
for want in asmtp_strerror asmtp_session_new asmtp_session_feed; do
    if ! printf '%s\n' "$syms" | grep -qx "$want"; then
        echo "public symbol missing: $want"; status=1
    fi
done
[ $status -eq 0 ] && echo "$(printf '%s\n' "$syms" | wc -l) symbols, all asmtp_"
exit $status
