#!/usr/bin/python3
"""Writes the interop corpus: messages to send through real MTAs, each with
its envelope and the exact bytes the server must store.

    gen-corpus.py OUTDIR [--small]

Deterministic (a fixed seed): the same files on every run. For message N
(001, 002, ...):

  N.msg       the content handed to the client, as it is
  N.expected  what a server must store: N.msg with every bare CR and bare
              LF turned into CRLF, and a CRLF added at the end when the
              content does not end with one (what asmtp sends, less the
              dot-stuffing the server undoes). Nothing else changes.
  N.env       the envelope, one field per line, fields separated by TABs:
                sender ADDRESS        ("" is the null reverse-path)
                rcpt ADDRESS [notify=LIST] [orcpt=TYPE;ADDRESS]
                ret FULL|HDRS
                envid TEXT
  index       one line per message: N, category, what it is about.

Every sender is unique, so that a server's records can be matched to the
messages by reverse-path alone; nothing is added to the content for that.
Recipients are in example.net, example.com and example.org, plus
UTF-8 local parts in those domains. --small writes the same corpus with
the two 10 MiB attachments cut to 64 KiB (for trying things out).

Only the standard library; no network, no clock.
"""

import base64
import os
import random
import re
import sys

SEED = 20231218  # the week of the SMTP smuggling disclosure

LINE_END = re.compile(rb"\r\n|\r|\n")
BARE_CR_OR_LF = re.compile(rb"\r(?!\n)|(?<!\r)\n")


def normalise(content):
    """What the server must store for content sent with DATA or BDAT."""
    out = LINE_END.sub(b"\r\n", content)
    if out and not out.endswith(b"\r\n"):
        out += b"\r\n"
    return out


class Corpus:
    def __init__(self, outdir):
        self.outdir = outdir
        self.count = 0
        self.index = []

    def add(self, category, about, content, rcpts=None, sender=None,
            ret=None, envid=None):
        """One message. rcpts is a list of addresses or (address, notify,
        orcpt) tuples; sender defaults to a unique address."""
        self.count += 1
        n = "%03d" % self.count
        if sender is None:
            sender = "c%s@sender.example" % n
        if rcpts is None:
            rcpts = ["bob@example.net"]
        env = ["sender\t" + sender]
        for rcpt in rcpts:
            if isinstance(rcpt, str):
                rcpt = (rcpt, None, None)
            address, notify, orcpt = rcpt
            line = "rcpt\t" + address
            if notify:
                line += "\tnotify=" + notify
            if orcpt:
                line += "\torcpt=" + orcpt
            env.append(line)
        if ret:
            env.append("ret\t" + ret)
        if envid:
            env.append("envid\t" + envid)
        expected = normalise(content)
        # What every server must be able to take: CRLF line ends only,
        # no line over 998 octets (RFC 5322 2.1.1).
        assert BARE_CR_OR_LF.search(expected) is None, n
        assert all(len(x) <= 998 for x in expected.split(b"\r\n")), n
        for name, data in ((n + ".msg", content),
                           (n + ".expected", expected),
                           (n + ".env", ("\n".join(env) + "\n").encode())):
            with open(os.path.join(self.outdir, name), "wb") as f:
                f.write(data)
        assert "\t" not in about and "\n" not in about
        self.index.append("%s\t%s\t%s" % (n, category, about))
        return n

    def finish(self):
        with open(os.path.join(self.outdir, "index"), "w") as f:
            f.write("\n".join(self.index) + "\n")


def headers(n, subject, extra=b"", sender=None, to=b"bob@example.net"):
    if sender is None:
        sender = b"c%03d@sender.example" % n
    return (b"From: Interop Sender <" + sender + b">\r\n"
            b"To: " + to + b"\r\n"
            b"Subject: " + subject + b"\r\n"
            b"Date: Mon, 18 Dec 2023 10:00:00 +0000\r\n"
            b"Message-ID: <interop-%03d@asmtp.test>\r\n" % n +
            b"MIME-Version: 1.0\r\n" + extra)


ASCII_WORDS = (b"the quick brown fox jumps over lazy dog mail server client "
               b"envelope reply command transaction SMTP DATA BDAT RCPT MAIL "
               b"pipelining extension octet line").split()


def ascii_line(rng, length):
    words = []
    size = 0
    while size < length:
        w = rng.choice(ASCII_WORDS)
        words.append(w)
        size += len(w) + 1
    return b" ".join(words)[:length]


def ascii_body(rng, lines, max_len):
    out = []
    for _ in range(lines):
        shape = rng.random()
        if shape < 0.08:
            out.append(b"")
        elif shape < 0.12:
            out.append(ascii_line(rng, rng.randint(1, 40)) + b"   ")
        elif shape < 0.16:
            out.append(b"\t" + ascii_line(rng, rng.randint(1, 60)))
        else:
            out.append(ascii_line(rng, rng.randint(1, max_len)))
    return b"\r\n".join(out) + b"\r\n"


def gen_ascii(c, rng):
    # Sizes from a few octets to a MiB, line lengths up to 200.
    shapes = [(1, 20), (2, 40), (5, 78), (10, 78), (30, 78), (100, 78),
              (300, 120), (1000, 78), (3000, 200), (13000, 78)]
    for i in range(40):
        lines, width = shapes[i % len(shapes)]
        n = c.count + 1
        body = ascii_body(rng, lines, width)
        c.add("ascii", "ASCII text, %d lines up to %d octets" % (lines, width),
              headers(n, b"ascii %d" % i,
                      b"Content-Type: text/plain; charset=us-ascii\r\n") +
              b"\r\n" + body)
    for size in (256 * 1024, 1024 * 1024):
        n = c.count + 1
        body = ascii_body(rng, size // 40, 78)
        c.add("ascii", "ASCII text, %d octets" % len(body),
              headers(n, b"big ascii") + b"\r\n" + body)
    # Content shapes: no final CRLF, many empty lines, only spaces, controls.
    odd = [
        ("no CRLF at the end", b"\r\nlast line has no line end"),
        ("ends with an empty line", b"\r\nbody\r\n\r\n"),
        ("ends with three empty lines", b"\r\nbody\r\n\r\n\r\n\r\n"),
        ("a thousand empty lines", b"\r\n" + b"\r\n" * 1000),
        ("lines of spaces and tabs", b"\r\n \r\n\t\r\n  \t  \r\nx\r\n"),
        ("trailing white space", b"\r\nspaces   \r\ntab\t\r\n"),
        ("7-bit control octets", b"\r\nbell\x07 escape\x1b[0m form\x0cfeed"
                                 b" vt\x0b del\x7f\r\n"),
        ("From lines in the body (no mbox quoting)",
         b"\r\nFrom here on\r\nFrom: not a header\r\n>From quoted\r\n"),
        ("body lines that look like SMTP", b"\r\nMAIL FROM:<x@y>\r\n"
                                           b"RCPT TO:<z@w>\r\nDATA\r\n"
                                           b"QUIT\r\n"),
        ("one octet body", b"\r\nx"),
        ("folded header fields", b"X-Folded: one\r\n two\r\n\tthree\r\n"
                                 b"X-Empty:\r\n\r\nbody\r\n"),
        ("RFC 2047 encoded words", b"X-Note: =?UTF-8?B?R3LDvMOfZQ==?= and "
                                   b"=?ISO-8859-1?Q?caf=E9?=\r\n\r\nx\r\n"),
    ]
    for about, tail in odd:
        n = c.count + 1
        c.add("ascii", about, headers(n, about.encode()) + tail)


def gen_eightbit(c, rng):
    latin1 = bytes(range(0xa0, 0x100))
    utf8_text = ("Grüße aus Köln, ½ € für naïve façades — 日本語のテキスト, "
                 "Ελληνικά, русский текст, עברית, emoji 📬✉️").encode()
    every_high = bytes(range(0x80, 0x100))
    for i in range(8):
        n = c.count + 1
        body = b"\r\n".join(utf8_text[: 40 + 17 * j] for j in range(1, 6 + i))
        c.add("8bit", "UTF-8 body, 8bit transfer encoding",
              headers(n, b"utf-8 body %d" % i,
                      b"Content-Type: text/plain; charset=utf-8\r\n"
                      b"Content-Transfer-Encoding: 8bit\r\n") +
              b"\r\n" + body + b"\r\n")
    for i in range(6):
        n = c.count + 1
        body = b"\r\n".join(latin1[j:] + latin1[:j] for j in range(0, 96, 7))
        c.add("8bit", "ISO-8859-1 body",
              headers(n, b"latin-1 body %d" % i,
                      b"Content-Type: text/plain; charset=iso-8859-1\r\n"
                      b"Content-Transfer-Encoding: 8bit\r\n") +
              b"\r\n" + body + b"\r\n")
    for i in range(5):
        n = c.count + 1
        rows = []
        for j in range(20 + 10 * i):
            rows.append(bytes(rng.choice(every_high)
                              for _ in range(rng.randint(1, 120))))
        c.add("8bit", "random octets 0x80-0xff",
              headers(n, b"high octets %d" % i,
                      b"Content-Type: application/octet-stream\r\n"
                      b"Content-Transfer-Encoding: 8bit\r\n") +
              b"\r\n" + b"\r\n".join(rows) + b"\r\n")
    n = c.count + 1
    c.add("8bit", "every octet 0x80-0xff on one line",
          headers(n, b"every high octet") + b"\r\n" + every_high + b"\r\n")
    n = c.count + 1
    c.add("8bit", "8-bit text without a Content-Transfer-Encoding",
          headers(n, b"undeclared 8bit") + b"\r\n" + utf8_text + b"\r\n")
    n = c.count + 1
    c.add("8bit", "invalid UTF-8 sequences",
          headers(n, b"broken utf-8") + b"\r\n\xc3\x28 \xa0\xa1 \xe2\x82 "
          b"\xf0\x28\x8c\x28 \xed\xa0\x80 \xc0\xaf\r\n")


def gen_utf8_headers(c, rng):
    subjects = ["Grüße", "日本語の件名", "Привет, мир", "Ελληνικά θέματα",
                "naïve café — résumé", "📬 new mail ✉️", "עברית", "中文主题",
                "Ünïcödé ëvërÿwhërë", "한국어 제목", "mixed ascii and ß",
                "x" * 20 + "ü" * 300]
    for i, subject in enumerate(subjects):
        n = c.count + 1
        c.add("utf8-headers", "raw UTF-8 in Subject and display names",
              b"From: J\xc3\xbcrgen M\xc3\xbcller <c%03d@sender.example>\r\n"
              % n +
              b"To: Bj\xc3\xb6rk <bob@example.net>\r\n"
              b"Subject: " + subject.encode() + b"\r\n"
              b"Content-Type: text/plain; charset=utf-8\r\n"
              b"Content-Transfer-Encoding: 8bit\r\n"
              b"X-Unicode-%d: \xe2\x9c\x93\r\n" % i +
              b"\r\nbody " + subject.encode() + b"\r\n")
    n = c.count + 1
    c.add("utf8-headers", "UTF-8 address in a header, ASCII envelope",
          headers(n, b"utf-8 in To", to=b"J\xc3\xb6rg <j\xc3\xb6rg@"
                  b"example.net>") + b"\r\nx\r\n")
    n = c.count + 1
    c.add("utf8-headers", "UTF-8 in a folded header",
          headers(n, b"folded",
                  b"X-Folded: \xc3\xa4\xc3\xb6\xc3\xbc\r\n \xe2\x82\xac\r\n"
                  b"\t\xe6\x97\xa5\r\n") + b"\r\nx\r\n")


def gen_utf8_addresses(c, rng):
    cases = [
        ("UTF-8 sender local part", "jürgen.c%03d@sender.example",
         ["bob@example.net"]),
        ("UTF-8 recipient local part", None, ["björk@example.net"]),
        ("UTF-8 sender and recipient", "josé.c%03d@sender.example",
         ["zoë@example.com"]),
        ("CJK recipient", None, ["用户@example.net"]),
        ("Cyrillic recipient", None, ["пользователь@example.org"]),
        ("UTF-8 sender domain", "c%03d@bücher.example", ["bob@example.net"]),
        ("two UTF-8 recipients", None, ["ärger@example.net",
                                        "øre@example.com"]),
        ("Greek sender, ASCII recipient", "αλφα.c%03d@sender.example",
         ["carol@example.com"]),
        ("emoji local part", None, ["📬@example.net"]),
        ("UTF-8 recipient and UTF-8 headers", None, ["jörg@example.net"]),
    ]
    for about, sender, rcpts in cases:
        n = c.count + 1
        if sender is not None:
            sender = sender % n
        display = (sender or "c%03d@sender.example" % n).encode()
        c.add("utf8-addresses", about,
              headers(n, about.encode(), sender=display,
                      to=", ".join(rcpts).encode()) +
              b"\r\nSMTPUTF8 " + " ".join(rcpts).encode() + b"\r\n",
              rcpts=rcpts, sender=sender)


def gen_long_lines(c, rng):
    def line(length, first=b"y"):
        return first + bytes(rng.choice(b"abcdefghij") for _ in
                             range(length - len(first)))

    cases = [
        ("a header line of 998 octets",
         b"X-Long: " + line(990) + b"\r\n\r\nbody\r\n"),
        ("a body line of 998 octets", b"\r\n" + line(998) + b"\r\n"),
        ("every body line 998 octets",
         b"\r\n" + b"\r\n".join(line(998) for _ in range(50)) + b"\r\n"),
        ("998 octets starting with a dot (999 on the wire)",
         b"\r\n" + line(998, b".") + b"\r\n"),
        ("998 octets of only dots", b"\r\n" + b"." * 998 + b"\r\n"),
        ("998 octets at the end without CRLF", b"\r\n" + line(998)),
        ("997 and 998 octets with bare LF", b"\r\n" + line(997) + b"\n" +
         line(998) + b"\n"),
        ("998 octets with bare CR", b"\r\n" + line(998) + b"\r" + line(998) +
         b"\r"),
        ("998 octets of UTF-8 (octets, not characters)",
         b"\r\n" + "é".encode() * 499 + b"\r\n"),
        ("998 octets then a dot line", b"\r\n" + line(998) + b"\r\n.\r\n" +
         line(998) + b"\r\n"),
        ("lines of 997, 998, 1 alternating",
         b"\r\n" + b"\r\n".join(line(k) for k in (997, 998, 1) * 20) +
         b"\r\n"),
        ("998 octets of spaces", b"\r\n" + b" " * 998 + b"\r\n"),
    ]
    for about, tail in cases:
        n = c.count + 1
        c.add("998-octets", about, headers(n, about.encode()) + tail)


def gen_bare_line_ends(c, rng):
    lf_message = (b"From: LF Only <c%03d@sender.example>\n"
                  b"To: bob@example.net\nSubject: bare LF everywhere\n\n"
                  b"line one\nline two\n\nline four\n")
    cases = [
        ("LF line ends everywhere", None),
        ("CR line ends everywhere", "cr"),
        ("CR and LF alternating", "mixed"),
        ("bare LF in the body", b"\r\none\ntwo\nthree\r\n"),
        ("bare CR in the body", b"\r\none\rtwo\rthree\r\n"),
        ("CR CR LF", b"\r\none\r\r\ntwo\r\n"),
        ("LF CR", b"\r\none\n\rtwo\r\n"),
        ("LF CR LF", b"\r\none\n\r\ntwo\r\n"),
        ("CR at the very end", b"\r\nlast\r"),
        ("LF at the very end", b"\r\nlast\n"),
        ("only LFs", b"\r\n\n\n\n\n"),
        ("only CRs", b"\r\n\r\r\r\r"),
        ("CR LF CR", b"\r\na\r\n\rb\r\n"),
        ("bare CR in a header", b"X-Bare-CR: a\rb\r\n\r\nx\r\n"),
        ("bare LF in a header", b"X-Bare-LF: a\nb\r\n\r\nx\r\n"),
        ("LF as the header/body separator", b"\nbody after LF\r\n"),
        ("CR as the header/body separator", b"\rbody after CR\r\n"),
        ("bare LF before a space (a fold)", b"X-Fold: a\n b\r\n\r\nx\r\n"),
        ("many CRs in a row", b"\r\na" + b"\r" * 50 + b"b\r\n"),
        ("many LFs in a row", b"\r\na" + b"\n" * 50 + b"b\r\n"),
        ("CR LF split by text", b"\r\na\rx\nb\r\n"),
        ("LF LF CR CR", b"\r\na\n\n\r\rb\r\n"),
        ("bare LF then a dot at the end", b"\r\na\n."),
        ("bare CR then a dot at the end", b"\r\na\r."),
        ("every line end form, repeated",
         b"\r\n" + b"x\ry\nz\r\n\n\r\r\n" * 40),
    ]
    for about, tail in cases:
        n = c.count + 1
        if tail is None:
            content = lf_message % n
        elif tail == "cr":
            content = (lf_message % n).replace(b"\n", b"\r")
        elif tail == "mixed":
            content = (lf_message % n).replace(b"\n", b"\r", 3)
        else:
            content = headers(n, about.encode()) + tail
        c.add("bare-cr-lf", about, content)


def gen_dots(c, rng):
    cases = [
        ("a line that is one dot", b"\r\nbefore\r\n.\r\nafter\r\n"),
        ("a line of two dots", b"\r\n..\r\n"),
        ("a line of three dots", b"\r\n...\r\n"),
        ("lines starting with a dot", b"\r\n.hidden\r\n.profile\r\n. x\r\n"),
        ("a dot line first in the body", b"\r\n.\r\nrest\r\n"),
        ("dot lines only", b"\r\n.\r\n.\r\n.\r\n"),
        ("dot and space", b"\r\n. \r\n.\t\r\n"),
        ("dots inside lines", b"\r\na.b.c\r\n...x...\r\n"),
        ("a dot after bare LF", b"\r\nx\n.y\n"),
        ("a dot after bare CR", b"\r\nx\r.y\r"),
        ("many dot lines", b"\r\n" + b".\r\n" * 500),
        ("dots of growing length",
         b"\r\n" + b"\r\n".join(b"." * k for k in range(1, 60)) + b"\r\n"),
        ("a header value starting with a dot",
         b"X-Dot:\r\n .folded\r\n\r\nx\r\n"),
        ("dot CR LF dot", b"\r\n.\r\n.\r\nx\r\n"),
        ("dot lines with 8-bit octets", b"\r\n.\xc3\xa9\r\n.\xff\r\n"),
    ]
    for about, tail in cases:
        n = c.count + 1
        c.add("leading-dots", about, headers(n, about.encode()) + tail)


def gen_lone_dot(c, rng):
    cases = [
        ("the body is one dot", b"\r\n.\r\n"),
        ("the body is one dot without CRLF", b"\r\n."),
        ("ends with CRLF dot", b"\r\ntext\r\n."),
        ("ends with CRLF dot CRLF", b"\r\ntext\r\n.\r\n"),
        ("ends with CRLF dot CRLF dot", b"\r\ntext\r\n.\r\n."),
        ("a dot line after an empty line", b"\r\ntext\r\n\r\n.\r\n\r\n"),
        ("ends with two dot lines", b"\r\n.\r\n.\r\n"),
        ("dot lines between 8-bit lines", b"\r\n\xc3\xa4\r\n.\r\n\xc3\xb6"
                                          b"\r\n.\r\n"),
    ]
    for about, tail in cases:
        n = c.count + 1
        c.add("lone-dot", about, headers(n, about.encode()) + tail)


def gen_empty(c, rng):
    c.add("empty-body", "an empty message: no octets at all", b"")
    c.add("empty-body", "no header section: body lines only",
          b"just a body line\r\nand another\r\n")
    n = c.count + 1
    c.add("empty-body", "an empty header section: the first line is empty",
          b"\r\nbody after an empty first line\r\n")
    n = c.count + 1
    c.add("empty-body", "header fields and the empty line, no body",
          headers(n, b"empty body") + b"\r\n")
    n = c.count + 1
    c.add("empty-body", "header fields, no empty line, no body",
          headers(n, b"no separator"))
    n = c.count + 1
    c.add("empty-body", "header fields, no empty line, no final CRLF",
          headers(n, b"no final CRLF") + b"X-Last: no CRLF")
    n = c.count + 1
    c.add("empty-body", "a body of one empty line",
          headers(n, b"one empty line") + b"\r\n\r\n")
    n = c.count + 1
    c.add("empty-body", "a single header field",
          b"Subject: only this %03d\r\n\r\n" % n)
    n = c.count + 1
    c.add("empty-body", "header fields with bare LF, no body",
          (b"Subject: bare LF %03d\nTo: bob@example.net\n\n" % n))


def gen_large(c, rng, size):
    n = c.count + 1
    blob = rng.randbytes(size)
    encoded = base64.encodebytes(blob).replace(b"\n", b"\r\n")
    content = (headers(n, b"a 10 MiB attachment, base64",
                       b"Content-Type: multipart/mixed; boundary=\"b1\"\r\n") +
               b"\r\n--b1\r\nContent-Type: text/plain\r\n\r\nSee the "
               b"attachment.\r\n--b1\r\n"
               b"Content-Type: application/octet-stream\r\n"
               b"Content-Disposition: attachment; filename=\"blob.bin\"\r\n"
               b"Content-Transfer-Encoding: base64\r\n\r\n" + encoded +
               b"--b1--\r\n")
    c.add("10-MiB", "%d octets attached in base64" % size, content)

    n = c.count + 1
    words = ("Grüße 日本語 ελληνικά русский . .. façade naïve € ½ "
             "plain ascii words here").encode().split(b" ")
    rows = []
    total = 0
    while total < size:
        row = b" ".join(rng.choice(words) for _ in range(rng.randint(1, 30)))
        if rng.random() < 0.02:
            row = b"." + row
        rows.append(row)
        total += len(row) + 2
    content = (headers(n, b"a 10 MiB attachment, 8bit",
                       b"Content-Type: multipart/mixed; boundary=\"b2\"\r\n") +
               b"\r\n--b2\r\nContent-Type: text/plain; charset=utf-8\r\n"
               b"Content-Disposition: attachment; filename=\"text.txt\"\r\n"
               b"Content-Transfer-Encoding: 8bit\r\n\r\n" +
               b"\r\n".join(rows) + b"\r\n--b2--\r\n")
    c.add("10-MiB", "%d octets of 8-bit text attached, some dot lines" %
          total, content)


def gen_many_recipients(c, rng):
    domains = ["example.net", "example.com", "example.org"]
    for count in (2, 10, 50, 100, 250):
        n = c.count + 1
        rcpts = ["r%03d.c%03d@%s" % (k, n, domains[k % 3])
                 for k in range(count)]
        c.add("many-rcpt", "%d recipients" % count,
              headers(n, b"%d recipients" % count,
                      to=b"undisclosed-recipients:;") +
              b"\r\nto many\r\n", rcpts=rcpts)
    n = c.count + 1
    c.add("many-rcpt", "recipients with DSN parameters",
          headers(n, b"DSN") + b"\r\nDSN parameters\r\n",
          rcpts=[("dsn1@example.net", "FAILURE,DELAY",
                  "rfc822;dsn1@example.net"),
                 ("dsn2@example.com", "NEVER", None),
                 ("dsn3@example.org", "FAILURE", None)],
          ret="HDRS", envid="interop-envid-%03d" % n)


SMUGGLE_SEPARATORS = [
    ("LF . LF", b"\n.\n"),
    ("LF . CR LF", b"\n.\r\n"),
    ("CR LF . LF", b"\r\n.\n"),
    ("CR . CR", b"\r.\r"),
    ("CR LF . CR", b"\r\n.\r"),
    ("LF . CR", b"\n.\r"),
    ("CR . LF", b"\r.\n"),
    ("CR . CR LF", b"\r.\r\n"),
    ("CR LF . CR CR LF", b"\r\n.\r\r\n"),
    ("CR LF . LF CR LF", b"\r\n.\n\r\n"),
    ("LF . LF CR", b"\n.\n\r"),
    ("CR CR LF . CR LF", b"\r\r\n.\r\n"),
    ("LF CR . CR LF", b"\n\r.\r\n"),
    ("LF . . LF", b"\n..\n"),
    ("CR LF . CR LF (the real end of data)", b"\r\n.\r\n"),
    ("CR LF . SP CR LF", b"\r\n. \r\n"),
    ("LF LF . LF LF", b"\n\n.\n\n"),
    ("CR CR . CR CR", b"\r\r.\r\r"),
]


def gen_smuggling(c, rng):
    for about, sep in SMUGGLE_SEPARATORS:
        n = c.count + 1
        smuggled = (b"MAIL FROM:<smuggled%03d@attacker.example>\r\n"
                    b"RCPT TO:<bob@example.net>\r\n"
                    b"DATA\r\n"
                    b"From: Attacker <smuggled%03d@attacker.example>\r\n"
                    b"To: bob@example.net\r\n"
                    b"Subject: smuggled %03d\r\n"
                    b"\r\n"
                    b"This must stay inside message %03d." % (n, n, n, n))
        body = (b"before the separator" + sep + smuggled + sep +
                b"after the separator\r\n")
        c.add("smuggling", "%s inside the body" % about,
              headers(n, b"smuggling: " + about.encode()) + b"\r\n" + body)
    for about, sep in SMUGGLE_SEPARATORS[:8]:
        n = c.count + 1
        c.add("smuggling", "%s first in the body" % about,
              headers(n, b"smuggling first: " + about.encode()) + b"\r\n" +
              sep[1:] + b"QUIT\r\n")
    for tail in (b"\n.", b"\r.", b"\r\n.", b"\n.\n", b"\r.\r", b"\n.\r"):
        n = c.count + 1
        c.add("smuggling", "content ends with %r" % tail,
              headers(n, b"smuggling at the end") + b"\r\nend" + tail)


def gen_misc(c, rng):
    n = c.count + 1
    c.add("misc", "the null reverse-path (a bounce)",
          b"From: Mail Delivery System <MAILER-DAEMON@sender.example>\r\n"
          b"To: bob@example.net\r\nSubject: Undelivered Mail Returned to "
          b"Sender\r\nAuto-Submitted: auto-replied\r\n\r\nbounce\r\n",
          sender="")
    n = c.count + 1
    # A comma needs the quotes. (Not a space: nodemailer's smtp-server cuts
    # MAIL and RCPT at white space, quoted or not.)
    c.add("misc", "a quoted local part in the envelope",
          headers(n, b"quoted local part") + b"\r\nx\r\n",
          rcpts=['"doe,john"@example.net'])
    n = c.count + 1
    c.add("misc", "a MIME multipart/alternative message",
          headers(n, b"alternative",
                  b"Content-Type: multipart/alternative; boundary=\"alt\"\r\n")
          + b"\r\n--alt\r\nContent-Type: text/plain; charset=utf-8\r\n"
          b"Content-Transfer-Encoding: quoted-printable\r\n\r\nGr=C3=BC=C3"
          b"=9Fe=\r\n soft break\r\n--alt\r\nContent-Type: text/html\r\n\r\n"
          b"<p>Gr&uuml;&szlig;e</p>\r\n.\r\n--alt--\r\n")
    n = c.count + 1
    c.add("misc", "many short lines",
          headers(n, b"short lines") + b"\r\n" + b"a\r\n" * 20000)
    n = c.count + 1
    c.add("misc", "a recipient in mixed case",
          headers(n, b"mixed case") + b"\r\nx\r\n",
          rcpts=["Mixed.Case@Example.NET"])
    n = c.count + 1
    c.add("misc", "sender with a plus and a hyphen",
          headers(n, b"plus") + b"\r\nx\r\n",
          sender="c%03d+tag-x@sub.sender.example" % n)
    n = c.count + 1
    c.add("misc", "Received fields of its own",
          b"Received: from a.example by b.example; Mon, 18 Dec 2023 "
          b"09:00:00 +0000\r\nReceived: from c.example\r\n\tby d.example; "
          b"Mon, 18 Dec 2023 08:00:00 +0000\r\n" +
          headers(n, b"own Received") + b"\r\nx\r\n")
    n = c.count + 1
    c.add("misc", "a message/rfc822 part with its own dot lines",
          headers(n, b"forwarded",
                  b"Content-Type: message/rfc822\r\n") +
          b"\r\nFrom: inner@example.org\r\nSubject: inner\r\n\r\n.\r\n"
          b"..\r\ninner body\r\n")


def main(argv):
    if len(argv) < 2 or argv[1].startswith("-"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    outdir = argv[1]
    small = "--small" in argv[2:]
    os.makedirs(outdir, exist_ok=True)
    rng = random.Random(SEED)
    c = Corpus(outdir)
    gen_ascii(c, rng)
    gen_eightbit(c, rng)
    gen_utf8_headers(c, rng)
    gen_utf8_addresses(c, rng)
    gen_long_lines(c, rng)
    gen_bare_line_ends(c, rng)
    gen_dots(c, rng)
    gen_lone_dot(c, rng)
    gen_empty(c, rng)
    gen_large(c, rng, 64 * 1024 if small else 10 * 1024 * 1024)
    gen_many_recipients(c, rng)
    gen_smuggling(c, rng)
    gen_misc(c, rng)
    c.finish()
    print("%d messages in %s" % (c.count, outdir))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
