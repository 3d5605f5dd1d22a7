#!/bin/sh
# Installs the library into a scratch prefix and builds a small program
# against it twice: through pkg-config and through find_package(asmtp).
# Nothing of the tests, fuzzers or docs may be installed.
set -eu
build=$1
source_dir=$2
prefix=$(mktemp -d)
work=$(mktemp -d)
trap 'rm -rf "$prefix" "$work"' EXIT

cmake --install "$build" --prefix "$prefix" >/dev/null
libdir=$(ls -d "$prefix"/lib*)
for want in include/asmtp.h include/asmtp/session.h; do
    [ -f "$prefix/$want" ] || { echo "missing $want"; exit 1; }
done
ls "$libdir"/libasmtp.so* "$libdir"/libasmtp.a >/dev/null
if find "$prefix" -name '*test*' -o -name '*fuzz*' -o -name '*.md' | grep -q .; then
    echo "tests, fuzzers or docs were installed:"
    find "$prefix" -name '*test*' -o -name '*fuzz*' -o -name '*.md'
    exit 1
fi

cat >"$work/use.c" <<'C'
#include <asmtp.h>
#include <stdio.h>
int main(void)
{
    asmtp_session_config config = {0};
    asmtp_session *session;
    config.local_hostname = "client.example";
    if (asmtp_session_new(&session, &config, NULL) != 0)
        return 1;
    asmtp_session_free(session);
    puts(asmtp_strerror(ASMTP_ERR_TIMEOUT));
    return 0;
}
C

PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --cflags --libs asmtp >/dev/null
cc -std=c11 -o "$work/use-pc" "$work/use.c" \
    $(PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --cflags --libs asmtp)
LD_LIBRARY_PATH="$libdir" "$work/use-pc" >/dev/null

mkdir "$work/cm"
cat >"$work/cm/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.18)
project(use C)
find_package(asmtp REQUIRED)
add_executable(use ../use.c)
target_link_libraries(use PRIVATE asmtp::asmtp_static)
CM
cmake -S "$work/cm" -B "$work/cm/build" -DCMAKE_PREFIX_PATH="$prefix" \
    >/dev/null
cmake --build "$work/cm/build" >/dev/null
"$work/cm/build/use" >/dev/null
echo "installed; pkg-config and find_package consumers build and run"
