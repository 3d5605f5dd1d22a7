#!/usr/bin/python3
"""Client half of selftest.sh: talks to one running test server and checks
what it did and what it recorded. Standard library only.

Usage: selftest-client.py CASE SERVERDIR CERTDIR
Prints one "ok - ..." line per check; exits 1 at the first failed check.
"""
import base64
import hmac
import json
import os
import re
import smtplib
import socket
import ssl
import sys
import time

CASE, DIR, CERTS = sys.argv[1], sys.argv[2], sys.argv[3]


def ok(text):
    print("ok - %s: %s" % (CASE, text))
    sys.stdout.flush()


def check(cond, text, detail=""):
    if not cond:
        print("not ok - %s: %s %s" % (CASE, text, detail))
        sys.exit(1)
    ok(text)


def read(name, mode="rb"):
    with open(os.path.join(DIR, name), mode) as f:
        return f.read()


def port():
    return int(read("port", "r"))


def b64(data):
    return base64.b64encode(data).decode()


class Raw:
    """A minimal SMTP client on a socket, to send exactly what we want."""

    def __init__(self, sock):
        self.sock = sock
        self.sock.settimeout(10)
        self.buf = b""

    @classmethod
    def tcp(cls, host="127.0.0.1", p=None, tls=None):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        s = socket.socket(family)
        s.settimeout(10)
        s.connect((host, p or port()))
        if tls is not None:
            s = tls.wrap_socket(s, server_hostname="localhost")
        return cls(s)

    def send(self, data):
        self.sock.sendall(data)

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("server closed; pending %r" % self.buf)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def reply(self):
        lines = []
        while True:
            line = self.line()
            lines.append(line)
            if len(line) == 3 or line[3:4] == b" ":
                return int(line[:3]), lines

    def cmd(self, text):
        if isinstance(text, str):
            text = text.encode()
        self.send(text + b"\r\n")
        return self.reply()

    def starttls(self, ctx):
        code, _ = self.cmd("STARTTLS")
        assert code == 220, code
        assert not self.buf
        self.sock = ctx.wrap_socket(self.sock, server_hostname="localhost")

    def close(self):
        self.sock.close()


def ca_context():
    return ssl.create_default_context(cafile=os.path.join(CERTS, "ca.pem"))


def wait_file(name, timeout=5):
    path = os.path.join(DIR, name)
    end = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > end:
            return False
        time.sleep(0.02)
    return True


# A body that needs care: leading dots, a lone dot, 8-bit bytes, no
# trailing CRLF in the source (smtplib adds one).
BODY = (b"From: a@example.org\r\nSubject: selftest\r\n\r\n"
        b".leading dot\r\n.\r\n..two dots\r\n8bit: \xc3\xa4\xff\r\nend")


def expect_message(n, mail_from, rcpts, mail_opts, rcpt_opts, content):
    check(wait_file("%d.envelope" % n), "message %d stored" % n)
    env = read("%d.envelope" % n)
    want = b"".join(x + b"\n" for x in [mail_from] + rcpts + [
        b"mail_options: " + mail_opts, b"rcpt_options: " + rcpt_opts])
    check(env == want, "message %d envelope exact" % n,
          "got %r want %r" % (env, want))
    got = read("%d.content" % n)
    check(got == content, "message %d content byte-exact" % n,
          "got %r want %r" % (got, content))
    return json.loads(read("%d.json" % n))


def case_plain():
    # smtplib: dot-stuffing, 8-bit, SIZE and BODY recorded as sent.
    s = smtplib.SMTP("127.0.0.1", port(), local_hostname="selftest.local")
    code, text = s.ehlo()
    for kw in (b"PIPELINING", b"CHUNKING", b"DSN", b"8BITMIME", b"SIZE"):
        check(kw in text, "EHLO advertises %s" % kw.decode())
    check(b"AUTH" not in text, "no AUTH without --auth")
    s.sendmail("a@example.org", ["one@example.net", "two@example.net"],
               BODY, mail_options=["BODY=8BITMIME"])
    # smtplib adds size= itself when SIZE is advertised.
    expect_message(1, b"a@example.org",
                   [b"one@example.net", b"two@example.net"],
                   b"size=%d BODY=8BITMIME" % len(BODY), b"",
                   BODY + b"\r\n")
    # Partial refusal through the real handler hooks.
    refused = s.sendmail("a@example.org",
                         ["nobody@example.net", "three@example.net"], b"x\r\n")
    check(refused == {"nobody@example.net": (550, b"5.1.1 No such user")},
          "--rcpt-reply refuses one recipient", repr(refused))
    expect_message(2, b"a@example.org", [b"three@example.net"], b"size=3",
                   b"",
                   b"x\r\n")
    s.quit()

    # Raw and pipelined: DSN parameters, the next MAIL behind the final dot,
    # a BDAT transaction, --max-rcpt.
    c = Raw.tcp()
    c.reply()
    c.cmd("EHLO raw.local")
    c.send(b"MAIL FROM:<dsn@example.org> RET=HDRS ENVID=Q123\r\n"
           b"RCPT TO:<r1@example.net> NOTIFY=SUCCESS,FAILURE "
           b"ORCPT=rfc822;r1@example.net\r\n"
           b"RCPT TO:<r2@example.net>\r\n"
           b"DATA\r\n")
    codes = [c.reply()[0] for _ in range(4)]
    check(codes == [250, 250, 250, 354], "pipelined MAIL/RCPT/RCPT/DATA",
          repr(codes))
    c.send(b"Subject: dsn\r\n\r\n..x\r\n.\r\n"
           b"MAIL FROM:<bdat@example.org> BODY=8BITMIME\r\n"
           b"RCPT TO:<b@example.net>\r\n"
           b"BDAT 6\r\nline1\n"
           b"BDAT 7 LAST\r\n.\r\nz\r\n\xff")
    codes = [c.reply()[0] for _ in range(5)]
    check(codes == [250, 250, 250, 250, 250],
          "content + MAIL + RCPT + BDAT + BDAT LAST in one write",
          repr(codes))
    info = expect_message(3, b"dsn@example.org",
                          [b"r1@example.net", b"r2@example.net"],
                          b"RET=HDRS ENVID=Q123",
                          b"NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;r1@example.net",
                          b"Subject: dsn\r\n\r\n.x\r\n")
    check(info["rcpt_options"] == [["NOTIFY=SUCCESS,FAILURE",
                                    "ORCPT=rfc822;r1@example.net"], []],
          "per-recipient options in N.json")
    info = expect_message(4, b"bdat@example.org", [b"b@example.net"],
                          b"BODY=8BITMIME", b"", b"line1\n.\r\nz\r\n\xff")
    check(info["transfer"] == "BDAT" and info["bdat_chunks"] == [6, 7],
          "BDAT recorded as BDAT, chunks 6 and 7", repr(info))
    c.cmd("MAIL FROM:<m@example.org>")
    codes = [c.cmd("RCPT TO:<r%d@example.net>" % i)[0] for i in range(4)]
    check(codes == [250, 250, 250, 452], "--max-rcpt 3 gives 452 to the "
          "fourth", repr(codes))
    code, _ = c.cmd("RSET")
    c.cmd("MAIL FROM:<long@example.org>")
    c.cmd("RCPT TO:<r@example.net>")
    c.cmd("DATA")
    code, lines = c.cmd(b"y" * 1100 + b"\r\n.")
    check(code == 500, "a 1100-octet body line is refused (aiosmtpd's 1001 "
          "limit)", repr(lines))
    code, _ = c.cmd("QUIT")
    check(code == 221, "QUIT answered 221")
    c.close()


def case_starttls():
    ctx = ca_context()
    c = Raw.tcp()
    c.reply()
    code, lines = c.cmd("EHLO before.tls")
    check(b"250-STARTTLS" in lines and not any(b"AUTH" in x for x in lines),
          "STARTTLS offered, AUTH not before TLS")
    code, _ = c.cmd("MAIL FROM:<a@example.org>")
    check(code == 530, "MAIL before STARTTLS refused (530)", str(code))
    c.starttls(ctx)
    check(c.sock.version() is not None, "TLS handshake verified against "
          "ca.pem for localhost (%s)" % c.sock.version())
    code, lines = c.cmd("EHLO after.tls")
    check(any(x.startswith(b"250-AUTH ") and b"CRAM-MD5" in x
              for x in lines) and b"250-STARTTLS" not in lines,
          "after TLS: AUTH offered, STARTTLS not")
    code, lines = c.cmd("AUTH LOGIN")
    check(code == 334, "AUTH LOGIN prompts")
    code, lines = c.cmd("*")
    check(code == 501, "'*' cancels with 501")
    code, _ = c.cmd("NOOP")
    check(code == 250, "exactly one reply to the cancel (NOOP then 250)",
          str(code))
    # UTF-8 account by raw AUTH PLAIN.
    user, pw = "jürgen".encode(), "pässwörd".encode()
    code, _ = c.cmd("AUTH PLAIN " + b64(b"\0" + user + b"\0" + b"wrong"))
    check(code == 535, "wrong password refused (535)")
    code, _ = c.cmd("AUTH PLAIN " + b64(b"\0" + user + b"\0" + pw))
    check(code == 235, "UTF-8 user and password accepted by AUTH PLAIN")
    c.cmd("MAIL FROM:<tls@example.org>")
    c.cmd("RCPT TO:<x@example.net>")
    c.cmd("DATA")
    code, _ = c.cmd(b"Subject: over tls\r\n\r\nbody\r\n.")
    check(code == 250, "message accepted over STARTTLS")
    info = expect_message(1, b"tls@example.org", [b"x@example.net"], b"", b"",
                          b"Subject: over tls\r\n\r\nbody\r\n")
    check(info["tls"] and info["tls"]["mode"] == "starttls"
          and info["auth_login"] == "jürgen",
          "N.json records STARTTLS and the login", repr(info["tls"]))
    c.cmd("QUIT")
    c.close()

    # smtplib: STARTTLS then each mechanism (ASCII account).
    for mech, method in (("PLAIN", "auth_plain"), ("LOGIN", "auth_login"),
                         ("CRAM-MD5", "auth_cram_md5")):
        for initial in (True, False):
            s = smtplib.SMTP("127.0.0.1", port())
            s.starttls(context=ctx)
            s.ehlo()
            s.user, s.password = "alice", "s3cret:with colon"
            code, _ = s.auth(mech, getattr(s, method),
                             initial_response_ok=initial)
            check(code == 235, "smtplib STARTTLS + AUTH %s%s" % (
                mech, "" if initial else " (no initial response)"))
            s.quit()
    # CRAM-MD5 with the UTF-8 account, by hand.
    c = Raw.tcp()
    c.reply()
    c.cmd("EHLO cram.local")
    c.starttls(ctx)
    c.cmd("EHLO cram.local")
    code, lines = c.cmd("AUTH CRAM-MD5")
    check(code == 334, "CRAM-MD5 challenge")
    challenge = base64.b64decode(lines[0][4:])
    check(re.fullmatch(rb"<[0-9]+\.[0-9]+@localhost>", challenge) is not None,
          "challenge looks like RFC 2195's", repr(challenge))
    digest = hmac.new(pw, challenge, "md5").hexdigest().encode()
    code, _ = c.cmd(b64(user + b" " + digest))
    check(code == 235, "CRAM-MD5 with UTF-8 user and password")
    c.close()


def case_tls():
    ctx = ca_context()
    ctx.load_cert_chain(os.path.join(CERTS, "client.pem"),
                        os.path.join(CERTS, "client.key"))
    s = smtplib.SMTP_SSL("localhost", port(), context=ctx)
    check(s.sock.version() is not None,
          "implicit TLS handshake (%s)" % s.sock.version())
    code, text = s.ehlo()
    check(b"STARTTLS" not in text, "no STARTTLS inside implicit TLS")
    s.login("alice", "s3cret:with colon")
    ok("AUTH over implicit TLS (smtplib login)")
    s.sendmail("t@example.org", ["u@example.net"], b"Subject: t\r\n\r\nx")
    info = expect_message(1, b"t@example.org", [b"u@example.net"],
                          b"size=15", b"",
                          b"Subject: t\r\n\r\nx\r\n")
    check(info["tls"]["mode"] == "tls" and info["tls"]["client_cert"] ==
          {"commonName": "asmtp test client"},
          "N.json records implicit TLS and the client certificate",
          repr(info["tls"]))
    s.quit()
    # A client that does not trust the CA fails the handshake.
    strict = ssl.create_default_context(
        cafile=os.path.join(CERTS, "selfsigned.pem"))
    try:
        Raw.tcp(tls=strict)
        check(False, "untrusted CA must fail")
    except ssl.SSLCertVerificationError:
        ok("client with the wrong trust anchor fails verification")
    # Plaintext to a TLS port gets no SMTP greeting.
    sock = socket.create_connection(("127.0.0.1", port()), timeout=5)
    sock.sendall(b"EHLO x\r\n")
    try:
        data = sock.recv(100)
    except (ConnectionResetError, socket.timeout):
        data = b""
    check(not data.startswith(b"220"), "no plaintext greeting on the TLS port")
    sock.close()


def case_auth():
    c = Raw.tcp()
    code, _ = c.reply()
    code, lines = c.cmd("EHLO auth.local")
    check(b"250-AUTH CRAM-MD5 LOGIN PLAIN XOAUTH2" in lines,
          "AUTH offered without TLS (loopback)", repr(lines))
    code, _ = c.cmd("MAIL FROM:<a@example.org>")
    check(code == 530, "--auth-required: MAIL before AUTH gets 530")
    code, _ = c.cmd("AUTH plain " + b64(b"\0alice\0s3cret:with colon"))
    check(code == 235, "lower-case mechanism name accepted")
    code, _ = c.cmd("AUTH PLAIN " + b64(b"\0alice\0s3cret:with colon"))
    check(code == 503, "second AUTH refused (503)")
    c.close()

    def fresh():
        c = Raw.tcp()
        c.reply()
        c.cmd("EHLO auth.local")
        return c

    c = fresh()
    code, lines = c.cmd("AUTH PLAIN")
    check(code == 334 and lines == [b"334 "], "AUTH PLAIN without initial "
          "response: empty 334 prompt", repr(lines))
    code, _ = c.cmd(b64(b"\0alice\0s3cret:with colon"))
    check(code == 235, "AUTH PLAIN after the prompt")
    c.close()
    c = fresh()
    code, lines = c.cmd("AUTH PLAIN =")
    check(code == 334, "AUTH PLAIN = (empty initial response) prompts",
          repr(lines))
    code, _ = c.cmd(b64(b"\0alice\0s3cret:with colon"))
    check(code == 235, "...and then accepts")
    c.close()
    c = fresh()
    code, _ = c.cmd("AUTH LOGIN " + b64(b"alice"))
    check(code == 334, "AUTH LOGIN with initial user name")
    code, _ = c.cmd(b64(b"nope"))
    check(code == 535, "AUTH LOGIN wrong password: 535")
    code, _ = c.cmd("NOOP")
    check(code == 250, "one reply only")
    code, lines = c.cmd("AUTH LOGIN")
    code2, lines2 = c.cmd(b64(b"alice"))
    code3, _ = c.cmd(b64(b"s3cret:with colon"))
    check((code, code2, code3) == (334, 334, 235), "AUTH LOGIN two prompts")
    c.close()
    c = fresh()
    code, _ = c.cmd("AUTH PLAIN !!!notbase64")
    check(code == 501, "bad base64 initial response: 501")
    code, _ = c.cmd("AUTH PLAIN")
    code, _ = c.cmd("!!!")
    check(code == 501, "bad base64 response: 501")
    code, _ = c.cmd("NOOP")
    check(code == 250, "...and exactly one reply")
    c.close()
    # XOAUTH2.
    c = fresh()
    good = b"user=bob\x01auth=Bearer tok-123\x01\x01"
    code, _ = c.cmd("AUTH XOAUTH2 " + b64(good))
    check(code == 235, "XOAUTH2 with a good token")
    c.close()
    c = fresh()
    code, lines = c.cmd("AUTH XOAUTH2 " + b64(
        b"user=bob\x01auth=Bearer wrong\x01\x01"))
    err = json.loads(base64.b64decode(lines[0][4:]))
    check(code == 334 and err.get("status") == "401",
          "XOAUTH2 bad token: 334 with a JSON error", repr(lines))
    code, _ = c.cmd("")
    check(code == 535, "empty answer, then 535")
    code, _ = c.cmd("NOOP")
    check(code == 250, "one reply only after the XOAUTH2 failure")
    c.close()
    # A long token (RFC 4954 allows AUTH lines up to 12288 octets), both as
    # an initial response and after an empty 334.
    long_token = "L" * 3000
    for initial in (True, False):
        c = fresh()
        blob = b64(b"user=carol\x01auth=Bearer " + long_token.encode() +
                   b"\x01\x01")
        if initial:
            code, _ = c.cmd("AUTH XOAUTH2 " + blob)
        else:
            code, lines = c.cmd("AUTH XOAUTH2")
            check(code == 334 and lines == [b"334 "], "XOAUTH2 empty prompt")
            code, _ = c.cmd(blob)
        check(code == 235, "XOAUTH2 with a 3000-octet token%s" % (
            " as initial response" if initial else " after the prompt"))
        c.close()
    c = fresh()
    code, _ = c.cmd("NOOP " + "x" * 600)
    check(code == 500, "other commands keep the 512-octet limit")
    c.close()
    # Authenticated message.
    s = smtplib.SMTP("127.0.0.1", port())
    s.login("alice", "s3cret:with colon")
    s.sendmail("a@example.org", ["b@example.net"], b"authenticated\r\n")
    info = expect_message(1, b"a@example.org", [b"b@example.net"],
                          b"size=15", b"", b"authenticated\r\n")
    check(info["auth_login"] == "alice" and info["tls"] is None,
          "N.json records the login and no TLS")
    s.quit()


def case_smtputf8():
    s = smtplib.SMTP("127.0.0.1", port())
    code, text = s.ehlo()
    check(b"SMTPUTF8" in text and b"SIZE 1000" in text,
          "EHLO advertises SMTPUTF8 and SIZE 1000")
    s.command_encoding = "utf-8"
    body = "Subject: ünïcode\r\n\r\nGrüße\r\n".encode()
    s.sendmail("jürgen@bücher.example", ["δοκιμή@παράδειγμα.δοκιμή"], body,
               mail_options=["SMTPUTF8", "BODY=8BITMIME"])
    info = expect_message(1, "jürgen@bücher.example".encode(),
                          ["δοκιμή@παράδειγμα.δοκιμή".encode()],
                          b"size=%d SMTPUTF8 BODY=8BITMIME" % len(body),
                          b"", body)
    check(info["smtputf8"] is True, "N.json: smtputf8 true")
    code, text = s.mail("a@example.org", ["SIZE=5000"])
    check(code == 552, "SIZE over the limit refused at MAIL (552)")
    s.quit()
    c = Raw.tcp()
    c.reply()
    c.cmd("EHLO big.local")
    c.cmd("MAIL FROM:<a@example.org>")
    c.cmd("RCPT TO:<b@example.net>")
    c.cmd("DATA")
    code, _ = c.cmd(b"x" * 900 + b"\r\n" + b"y" * 900 + b"\r\n.")
    check(code == 552, "body over the limit refused after data (552)",
          str(code))
    check(not os.path.exists(os.path.join(DIR, "2.envelope")),
          "refused message not stored")
    code, _ = c.cmd("QUIT")
    c.close()


def case_no8bit():
    s = smtplib.SMTP("127.0.0.1", port())
    code, text = s.ehlo()
    check(b"8BITMIME" not in text, "--no-8bitmime: 8BITMIME not offered")
    code, _ = s.mail("a@example.org", ["BODY=8BITMIME"])
    check(code == 555, "BODY=8BITMIME refused (555)", str(code))
    s.rset()
    s.sendmail("a@example.org", ["b@example.net"], b"seven bit\r\n")
    expect_message(1, b"a@example.org", [b"b@example.net"], b"size=11", b"",
                   b"seven bit\r\n")
    s.quit()


class UnixSMTP(smtplib.SMTP):
    def _get_socket(self, host, port, timeout):
        sock = socket.socket(socket.AF_UNIX)
        sock.settimeout(timeout)
        sock.connect(host)
        return sock


def case_unix():
    path = read("port", "r")
    check(path.startswith("/") and os.path.exists(path),
          "DIR/port names the socket")
    s = UnixSMTP(timeout=10)
    s.connect(path)
    s.sendmail("u@example.org", ["v@example.net"], BODY)
    expect_message(1, b"u@example.org", [b"v@example.net"],
                   b"size=%d" % len(BODY), b"", BODY + b"\r\n")
    s.quit()


def case_ipv6():
    s = smtplib.SMTP("::1", port())
    s.sendmail("six@example.org", ["v@example.net"], b"v6\r\n")
    expect_message(1, b"six@example.org", [b"v@example.net"], b"size=4",
                   b"", b"v6\r\n")
    s.quit()


def fault_log(n):
    check(wait_file("conn-%d.done" % n), "connection %d finished" % n)
    return read("conn-%d.log" % n, "r")


def case_fault():
    # Connection 1: a whole transaction with odd but valid replies.
    s = smtplib.SMTP("127.0.0.1", port(), local_hostname="fault.local")
    code, text = s.ehlo()
    check(code == 250 and text == b"mx\nPIPELINING\nCHUNKING",
          "multi-line EHLO reply from sendraw", repr(text))
    s.sendmail("a@example.org", ["b@example.net"], BODY)
    s.send(b"BDAT 4 LAST\r\nabcd")
    code, text = s.getreply()
    check(code == 250 and text == b"2.0.0 trickled",
          "trickled reply reassembled", repr(text))
    s.quit()
    log = fault_log(1)
    check("C: ehlo fault.local\\r\\n" in log, "transcript has the EHLO line")
    check("END ok" in log, "script 1 played to the end")
    want = BODY.replace(b"\r\n.", b"\r\n..") + b"\r\n.\r\n"
    check(read("conn-1.data-1") == want, "DATA stored raw, dot-stuffed")
    check(read("conn-1.bdat-1") == b"abcd", "BDAT octets stored")

    # Connection 2: STARTTLS with an injected line after the 220.
    c = Raw.tcp()
    c.reply()
    c.cmd("EHLO tls.local")
    c.send(b"STARTTLS\r\n")
    code, _ = c.reply()
    check(code == 220 and c.buf == b"250 injected\r\n",
          "injected plaintext after 220 arrives in the same read", repr(c.buf))
    c.buf = b""  # what a correct client does
    c.sock = ca_context().wrap_socket(c.sock, server_hostname="localhost")
    code, lines = c.cmd("EHLO tls.local")
    check(lines == [b"250 after-tls"], "EHLO answered inside TLS",
          repr(lines))
    code, _ = c.cmd("QUIT")
    c.close()
    log = fault_log(2)
    check("TLS: handshake done" in log and "END ok" in log,
          "script 2: TLS handshake recorded, played to the end")

    # Connection 3: the nasty replies.
    c = Raw.tcp()
    data = b""
    while not data.endswith(b"250-partia"):
        chunk = c.sock.recv(1 << 20)
        if not chunk:
            break
        data += chunk
    rest = c.sock.recv(10)
    check(rest == b"", "close-mid: connection closed after the fragment")
    head = b"220-" + b"x" * 996 + b"\r\n"
    check(data.startswith(head), "long-line: a 1000-octet line")
    rep = b"250-x\r\n" * 70000
    check(data[len(head):len(head) + len(rep)] == rep,
          "repeat-line: 70000 lines")
    check(len(data) == len(head) + len(rep) + 200 + 10,
          "garbage: 200 octets, then the fragment", str(len(data)))
    c.close()
    log = fault_log(3)
    check("END ok" in log and "x 70000" in log, "script 3 logged compactly")

    # Connection 4: expectation not met -> END fail, server exit status 1
    # is checked by selftest.sh.
    c = Raw.tcp()
    c.reply()
    c.send(b"HELO wrong.local\r\n")
    try:
        c.line()
        check(False, "server must close after a failed expect")
    except (EOFError, ConnectionResetError):
        ok("connection closed after the failed expect")
    log = fault_log(4)
    check("END fail: line 2 (expect EHLO): got HELO wrong.local\\r\\n" in log,
          "failed expect recorded", log)


CASES = {name[5:]: f for name, f in globals().items()
         if name.startswith("case_")}

if __name__ == "__main__":
    CASES[CASE]()
