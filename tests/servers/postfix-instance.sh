#!/bin/sh
# A private Postfix instance for the interop tests: its own main.cf and
# master.cf, queue, data directory, log file and Maildir, all under DIR.
# Every postfix command here runs with -c DIR/conf. The machine's own
# Postfix (/etc/postfix, /var/spool/postfix, its mail, its log) is never
# written; of /etc/postfix/main.cf, postfix-script only reads
# multi_instance_directories.
#
#   postfix-instance.sh --dir DIR --cert FILE --key FILE [--lifetime S]
#       [--hostname NAME] [--domain DOMAIN ...] [--user NAME:PASSWORD ...]
#
# Runs in the foreground as the instance's supervisor (start it with &).
# It starts Postfix with `postfix -c DIR/conf start` and, once every
# listener accepts connections, writes DIR/legacy-port, DIR/tls-port and
# DIR/port (the last one last): DIR/port is plaintext with STARTTLS,
# DIR/tls-port implicit TLS, DIR/legacy-port plaintext with
# smtpd_forbid_bare_newline=no (Postfix's default before 3.9, which takes
# a bare LF as a line end; for control runs). It stops Postfix with
# `postfix -c DIR/conf stop` on SIGTERM or SIGINT, when DIR/stop appears,
# or after --lifetime seconds (default 300). DIR/pid holds this script's
# PID, DIR/master-pid the master's. Needs root (Postfix starts as root and
# drops privileges).
#
# Mail for every DOMAIN (default example.net, example.com, example.org)
# goes by virtual(8) into the Maildir DIR/mail/inbox/ as uid nobody; each
# recipient gets its own file, with Return-Path, X-Original-To,
# Delivered-To and Received prepended. Nothing is ever sent out: the
# default transport is error(8), and DNS is never used.
#
# --user NAME:PASSWORD accounts for AUTH (PLAIN, LOGIN, CRAM-MD5) through
# Cyrus SASL with a sasldb in DIR/sasl (needs saslpasswd2 from Debian's
# sasl2-bin); without --user, AUTH is not offered.
set -eu

usage() {
    echo "usage: $0 --dir DIR --cert FILE --key FILE [--lifetime S]" \
        "[--hostname NAME] [--domain D ...] [--user NAME:PASSWORD ...]" >&2
    exit 2
}

dir=
cert=
key=
lifetime=300
hostname=mx.interop.test
domains=
users=
while [ $# -gt 0 ]; do
    case $1 in
    --dir) dir=$2; shift 2 ;;
    --cert) cert=$2; shift 2 ;;
    --key) key=$2; shift 2 ;;
    --lifetime) lifetime=$2; shift 2 ;;
    --hostname) hostname=$2; shift 2 ;;
    --domain) domains="$domains $2"; shift 2 ;;
    --user) users="$users
$2"; shift 2 ;;
    *) usage ;;
    esac
done
if [ -z "$dir" ] || [ -z "$cert" ] || [ -z "$key" ]; then
    usage
fi
[ -n "$domains" ] || domains="example.net example.com example.org"
case $lifetime in
'' | *[!0-9]*) usage ;;
esac
if [ "$(id -u)" -ne 0 ]; then
    echo "$0: Postfix must be started as root" >&2
    exit 77
fi
for cmd in /usr/sbin/postfix /usr/sbin/postconf; do
    [ -x "$cmd" ] || {
        echo "$0: $cmd is missing (Debian package postfix)" >&2
        exit 77
    }
done

dir=$(cd "$dir" && pwd)
# The daemons drop privileges early: user postfix and user nobody must be
# able to reach DIR, so every directory above it must be searchable.
d=$dir
while [ "$d" != / ]; do
    d=$(dirname "$d")
    case $(stat -c %A "$d") in
    ?????????[xt]) ;;
    *)
        echo "$0: $d is not searchable by other users;" \
            "Postfix's daemons could not reach $dir" >&2
        exit 2
        ;;
    esac
done
conf=$dir/conf
queue=$dir/queue
postfix() { /usr/sbin/postfix -c "$conf" "$@"; }

echo $$ >"$dir/pid"
mkdir -p "$conf" "$queue" "$dir/data" "$dir/mail"
# Postfix's own checks want root-owned, not group- or world-writable
# directories; the daemons (user postfix) and virtual(8) (user nobody)
# must reach into DIR.
chmod 755 "$dir" "$conf" "$queue"
chown postfix "$dir/data"
chmod 700 "$dir/data"
chown nobody:nogroup "$dir/mail"
cp "$cert" "$conf/server.pem"
cp "$key" "$conf/server.key"
chmod 600 "$conf/server.key"

# Three free loopback ports, picked by the kernel.
free_ports() {
    /usr/bin/python3 - <<'EOF'
import socket
socks = []
for _ in range(3):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

sasl_config() {
    [ -n "$users" ] || return 0
    command -v saslpasswd2 >/dev/null || {
        echo "$0: saslpasswd2 is missing (Debian package sasl2-bin)" >&2
        exit 77
    }
    # Debian's Postfix reads the Cyrus SASL application configuration from
    # $config_directory/sasl/smtpd.conf (cyrus_sasl_config_path is not
    # consulted).
    mkdir -p "$dir/sasl" "$conf/sasl"
    cat >"$conf/sasl/smtpd.conf" <<EOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
sasldb_path: $dir/sasl/sasldb2
mech_list: PLAIN LOGIN CRAM-MD5
EOF
    echo "$users" | while IFS= read -r account; do
        [ -n "$account" ] || continue
        printf '%s' "${account#*:}" |
            saslpasswd2 -f "$dir/sasl/sasldb2" -p -c -u "$hostname" \
                "${account%%:*}"
    done
    chown postfix:postfix "$dir/sasl/sasldb2"
    chmod 600 "$dir/sasl/sasldb2"
}

write_config() {
    smtp_port=$1
    tls_port=$2
    legacy_port=$3
    {
        cat <<EOF
# Written by tests/servers/postfix-instance.sh; everything lives under
# $dir.
compatibility_level = 3.6
config_directory = $conf
queue_directory = $queue
data_directory = $dir/data
mail_owner = postfix
setgid_group = postdrop
maillog_file = $dir/maillog
maillog_file_prefixes = $dir
import_environment = MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C

myhostname = $hostname
mydomain = interop.test
myorigin = \$myhostname
mydestination =
mynetworks = 127.0.0.0/8
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
smtp_dns_support_level = disabled
smtpd_peername_lookup = no
biff = no
in_flow_delay = 0

# Mail stays here: virtual(8) into one Maildir, nothing goes out.
virtual_mailbox_domains = $domains
virtual_mailbox_base = $dir/mail
virtual_mailbox_maps = static:inbox/
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
virtual_mailbox_limit = 0
message_size_limit = 67108864
default_transport = error:no mail leaves the interop instance
relay_transport = error:no mail leaves the interop instance
relay_domains =
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_recipient_limit = 1000
alias_maps =
alias_database =
local_recipient_maps =

# What the client sent, as it sent it: no header rewriting or additions
# for local clients, and bare newlines refused (SMTP smuggling).
local_header_rewrite_clients =
smtputf8_enable = yes
smtpd_forbid_bare_newline = reject
smtpd_forbid_bare_newline_exclusions =
enable_long_queue_ids = yes

smtpd_tls_security_level = may
smtpd_tls_cert_file = $conf/server.pem
smtpd_tls_key_file = $conf/server.key
smtpd_tls_loglevel = 1
smtpd_tls_received_header = yes
EOF
        if [ -n "$users" ]; then
            cat <<EOF

smtpd_sasl_auth_enable = yes
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
smtpd_sasl_local_domain = \$myhostname
smtpd_sasl_security_options = noanonymous
smtpd_sasl_tls_security_options = noanonymous
EOF
        fi
    } >"$conf/main.cf"

    # No chroot: the daemons run from the real file system, where DIR is.
    cat >"$conf/master.cf" <<EOF
# service type  private unpriv  chroot  wakeup  maxproc command
127.0.0.1:$smtp_port inet n - n - - smtpd
127.0.0.1:$tls_port inet n - n - - smtpd
  -o smtpd_tls_wrappermode=yes
  -o smtpd_tls_security_level=encrypt
127.0.0.1:$legacy_port inet n - n - - smtpd
  -o smtpd_forbid_bare_newline=no
  -o smtpd_tls_security_level=none
  -o smtpd_sasl_auth_enable=no
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
}

accepts() {
    /usr/bin/python3 - "$1" <<'EOF'
import socket, sys
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()
except OSError:
    sys.exit(1)
EOF
}

master_pid() {
    sed -n '1s/ //gp' "$queue/pid/master.pid" 2>/dev/null || true
}

running=
stop_postfix() {
    [ -n "$running" ] || return 0
    running=
    pid=$(master_pid)
    postfix stop >>"$dir/postfix.out" 2>&1 || true
    # postfix stop waits up to five seconds, then kills the master's
    # process group; make sure the master is gone before we exit.
    i=0
    while [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; do
        i=$((i + 1))
        if [ $i -gt 100 ]; then
            kill -9 "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.1
    done
    echo "stopped: $reason" >>"$dir/postfix.out"
}

reason="signal"
trap 'stop_postfix' EXIT
trap 'reason="signal"; exit 0' TERM INT HUP

sasl_config
postfix_started=
for attempt in 1 2 3; do
    # shellcheck disable=SC2046
    set -- $(free_ports)
    write_config "$1" "$2" "$3"
    postfix check >>"$dir/postfix.out" 2>&1 || {
        echo "$0: postfix check failed:" >&2
        cat "$dir/postfix.out" >&2
        exit 1
    }
    running=1
    if postfix start >>"$dir/postfix.out" 2>&1; then
        i=0
        while [ $i -lt 200 ]; do
            if accepts "$1" && accepts "$2" && accepts "$3"; then
                postfix_started=1
                break
            fi
            pid=$(master_pid)
            if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
                break
            fi
            i=$((i + 1))
            sleep 0.05
        done
    fi
    [ -n "$postfix_started" ] && break
    # A port taken in between, most likely: stop and try other ports.
    reason="start attempt $attempt failed"
    stop_postfix
done
if [ -z "$postfix_started" ]; then
    echo "$0: Postfix did not start; see $dir/postfix.out and $dir/maillog" >&2
    cat "$dir/postfix.out" >&2
    exit 1
fi

master_pid >"$dir/master-pid"
echo "$3" >"$dir/legacy-port.tmp"
mv "$dir/legacy-port.tmp" "$dir/legacy-port"
echo "$2" >"$dir/tls-port.tmp"
mv "$dir/tls-port.tmp" "$dir/tls-port"
echo "$1" >"$dir/port.tmp"
mv "$dir/port.tmp" "$dir/port"

# Supervise: stop on DIR/stop, at the end of the lifetime, or when the
# master has gone away by itself.
start=$(date +%s)
while :; do
    if [ -e "$dir/stop" ]; then
        reason="$dir/stop appeared"
        break
    fi
    if [ $(($(date +%s) - start)) -ge "$lifetime" ]; then
        reason="lifetime of $lifetime s over"
        break
    fi
    pid=$(master_pid)
    if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
        reason="the master exited by itself"
        running=
        echo "$0: the Postfix master exited by itself" >&2
        exit 1
    fi
    sleep 0.2
done
exit 0
