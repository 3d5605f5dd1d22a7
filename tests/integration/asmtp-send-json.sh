#!/bin/sh
# --json prints one JSON object on stdout: checked with Python's parser for
# a clean send, a partial refusal (5xx: 67, 4xx: 75), a refused message,
# a usage error and escaping of server text.
set -eu
. "$(dirname "$0")/asmtp-send-common.sh"

# check PYTHON-EXPRESSIONS: each line must hold for d, the parsed output.
check() {
    "$py" -c '
import json, sys
text = open(sys.argv[1], "rb").read()
assert text.count(b"\n") == 1 and text.endswith(b"\n"), "not one line"
d = json.loads(text)
assert set(d) >= {"ok", "error", "sender", "recipients", "data", "tls"}, d
for line in sys.argv[2].strip().splitlines():
    assert eval(line.strip()), "%s\n%s" % (line.strip(), json.dumps(d))
' "$work/out" "$1" || fail "JSON check failed"
}

start_server plain --rcpt-reply 'nobody@=550 5.1.1 No such "user"' \
    --rcpt-reply 'later@=450 4.2.1 Try again later'
plain=$srv_port

run_send 0 --json -H 127.0.0.1 -p "$plain"
check '
d["ok"] is True and d["error"] is None
d["sender"] == "alice@example.org"
[r["address"] for r in d["recipients"]] == ["bob@example.net"]
d["recipients"][0]["accepted"] is True and d["recipients"][0]["code"] == 250
d["data"]["code"] == 250 and d["data"]["enhanced"] == "2.0.0"
d["data"]["text"].startswith("stored as")
d["tls"] is False
'

run_send 67 --json -H 127.0.0.1 -p "$plain" -- a@example.com \
    nobody@example.com
check '
d["ok"] is False and d["error"]["kind"] == "recipients-refused"
d["error"]["code"] is None
[r["accepted"] for r in d["recipients"]] == [True, False]
d["recipients"][1]["code"] == 550 and d["recipients"][1]["enhanced"] == "5.1.1"
d["recipients"][1]["text"] == "No such \"user\""
d["data"]["code"] == 250
'
grep -q 'nobody@example.com: 550 5.1.1 No such "user"' "$work/err" ||
    fail "the refused recipient is not listed on stderr"
grep -qx 'a@example.com' "$work/plain/2.envelope" ||
    fail "the message did not go to the accepted recipient"

run_send 75 --json -H 127.0.0.1 -p "$plain" -- a@example.com \
    nobody@example.com later@example.com
check '
d["ok"] is False and d["error"]["kind"] == "recipients-refused"
[r["code"] for r in d["recipients"]] == [250, 550, 450]
'

run_send 67 --json -H 127.0.0.1 -p "$plain" -f '' -- nobody@example.com
check '
d["error"]["kind"] == "recipients-refused"
d["error"]["code"] == 550
d["data"] is None
d["sender"] == ""
'

start_server refusing --data-reply '554 5.6.0 Content "refused"' \
    --mail-reply '^bad@=550 5.7.1 Not you'
run_send 69 --json -H 127.0.0.1 -p "$srv_port"
check '
d["error"]["kind"] == "data-refused"
d["error"]["code"] == 554 and d["error"]["enhanced"] == "5.6.0"
d["data"]["code"] == 554 and d["data"]["text"] == "Content \"refused\""
'
run_send 69 --json -H 127.0.0.1 -p "$srv_port" -f bad@example.org
check '
d["error"]["kind"] == "sender-refused"
d["error"]["code"] == 550 and d["sender"] == "bad@example.org"
'

run_send 64 --json --no-such-option
check '
d["ok"] is False and d["error"]["kind"] == "usage"
"--help" in d["error"]["message"]
d["recipients"] == [] and d["data"] is None
'

# Server text with a control byte, a quote, a backslash, valid UTF-8
# and an invalid byte, from a scripted server.
start_fault escapes 'send 220 fault.example ESMTP
expect EHLO
send 250 fault.example
expect MAIL
send 250 ok
expect RCPT
send 550 5.1.1 ctl\x01 q" bs\\ \xc3\xa9 bad\xff
expect RSET
send 250 ok
expect QUIT
send 221 bye'
run_send 67 --json -H 127.0.0.1 -p "$srv_port" -- x@example.com
check '
d["recipients"][0]["text"] == "ctl\x01 q\" bs\\ \u00e9 bad\ufffd"
'
grep -q '"ctl\\u0001 q\\" bs\\\\ é bad\\ufffd"' "$work/out" ||
    fail "escapes are not as expected"
echo "JSON output parsed and checked for success, refusals and usage"

# --dsn-notify also applies to recipients taken from the headers, and the
# JSON names the sender the headers gave.
start_server dsn --dsn
printf 'From: a@example.org\nTo: b@example.net\n\nx\n' >"$msg"
run_send 0 --json -H 127.0.0.1 -p "$srv_port" --dsn-notify success,failure
grep -q '^rcpt_options: NOTIFY=SUCCESS,FAILURE$' "$srv/1.envelope" ||
    fail "NOTIFY not sent for a header recipient: $(cat "$srv/1.envelope")"
/usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["sender"] == "a@example.org", d' <"$work/out" ||
    fail "JSON sender: $(cat "$work/out")"
