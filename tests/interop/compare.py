#!/usr/bin/python3
"""Compares what a server stored with what the corpus meant it to store.

    compare.py --corpus DIR --results FILE --server postfix|aiosmtpd|nodemailer
        --store DIR --mode MODE [--tls yes|no] [--transfer DATA|BDAT]
        [--auth TEXT]
        [--version TEXT] [--queue DIR [--wait S]] [--subset CATEGORY]
        [--row FILE] [--diffs DIR]

--results is interop_send's output (one line per message: N, ok or fail,
what the client was told); --store is where the server put the mail:

  postfix     a Maildir (DIR/new/*): one file per recipient, LF line ends,
              and Return-Path, X-Original-To, Delivered-To and Received
              prepended at delivery. Exactly those four fields are removed
              from the top; the envelope is read back from Return-Path and
              Delivered-To.
  aiosmtpd    DIR/N.content and DIR/N.envelope (aiosmtpd-server.py): the
              bytes as received, nothing added.
  nodemailer  DIR/N.eml and DIR/N.json (nodemailer-server.js): the same.

Messages are matched by reverse-path: every corpus message has its own.
A message counts as delivered identical when the client reported success,
the server stored it exactly once per recipient (Postfix) or once with the
whole recipient list (the others), from a session with TLS (--tls yes) or
without, and authenticated when --auth names mechanisms (Postfix's
Received field, the others' records say), and every stored copy is byte
for byte N.expected. Anything stored under a reverse-path that is not in
the corpus (a smuggled message, say) is counted as extra and fails the
run.

Postfix stores messages as lines, not as SMTP bytes, so its copy is
compared with N.expected written the way Postfix writes every message
(documented in docs/RELIABILITY.md): LF line ends, and the empty line that
ends the header section inserted where the content lacks one: before the
first line that is neither a header field nor the continuation of one
(content made only of header fields, and empty content, get none).
N.expected never holds a bare CR or LF, so the LF form is one-to-one.

--subset judges only the messages of one corpus category (for the control
run of naive-send.py, which sends only those).

For Postfix, --queue names the instance's queue directory: the comparison
first waits (at most --wait seconds, default 120) until its incoming and
active queues are empty, so that every message Postfix took has been
delivered; a message still deferred or held then counts as a problem.

Prints one row and the mismatches; appends the row to --row (TAB-separated:
server, version, mode, transfer, auth, sent, accepted, identical,
smuggling ok/total, extra); exit status 0 when every message was delivered
identical and nothing extra arrived.
"""

import argparse
import json
import os
import re
import sys
import time

HEADER_FIELD = re.compile(rb"[!-9;-~]+[ \t]*:")


def read(path):
    with open(path, "rb") as f:
        return f.read()


def load_corpus(corpus):
    messages = []
    with open(os.path.join(corpus, "index"), encoding="utf-8") as f:
        for line in f:
            n, category, about = line.rstrip("\n").split("\t", 2)
            env = read(os.path.join(corpus, n + ".env")).decode("utf-8")
            sender = None
            rcpts = []
            for field in env.splitlines():
                parts = field.split("\t")
                if parts[0] == "sender":
                    sender = parts[1]
                elif parts[0] == "rcpt":
                    rcpts.append(parts[1])
            messages.append({
                "n": n, "category": category, "about": about,
                "sender": sender, "rcpts": rcpts,
                "expected": read(os.path.join(corpus, n + ".expected")),
            })
    return messages


def load_results(path):
    results = {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            n, status, text = line.rstrip("\n").split("\t", 2)
            results[n] = (status, text)
    return results


# ---- What each server stored: a list of (sender, [rcpts], content) ----

def postfix_copies(store, hostname):
    copies = []
    problems = []
    names = []
    for sub in ("new", "cur"):
        d = os.path.join(store, sub)
        if os.path.isdir(d):
            names += [os.path.join(d, x) for x in sorted(os.listdir(d))]
    for path in names:
        data = read(path)
        parsed = strip_postfix_trace(data, hostname)
        if parsed is None:
            problems.append("%s: no Postfix trace header block at the top"
                            % path)
            continue
        copies.append(parsed)
    return copies, problems


def strip_postfix_trace(data, hostname):
    """Removes Return-Path, X-Original-To, Delivered-To and one Received
    field (with its continuation lines) from the top; returns (sender,
    [recipient], rest, session) or None when they are not there in that
    order. session says whether Received names TLS and AUTH."""
    lines = data.split(b"\n")
    m = re.fullmatch(rb"Return-Path: <(.*)>", lines[0])
    if m is None or not lines[1].startswith(b"X-Original-To: "):
        return None
    sender = m.group(1).decode("utf-8", "surrogateescape")
    m = re.fullmatch(rb"Delivered-To: (.*)", lines[2])
    if m is None or not lines[3].startswith(b"Received: "):
        return None
    rcpt = m.group(1).decode("utf-8", "surrogateescape")
    i = 4
    while i < len(lines) and lines[i][:1] in (b" ", b"\t"):
        i += 1
    received = b"\n".join(lines[3:i])
    if b"by " + hostname.encode() + b" (Postfix)" not in received:
        return None
    # "(using TLSv1.3 with cipher ...)", and ESMTPSA, ESMTPA (RFC 3848),
    # UTF8SMTPSA, UTF8SMTPA (RFC 6531).
    session = {"tls": b"(using TLS" in received,
               "auth": re.search(rb"with (E|UTF8)SMTPS?A ", received)
               is not None}
    return sender, [rcpt], b"\n".join(lines[i:]), session


def aiosmtpd_copies(store):
    copies = []
    for name in sorted(os.listdir(store)):
        if not name.endswith(".envelope"):
            continue
        n = name[: -len(".envelope")]
        env = read(os.path.join(store, name)).decode("utf-8",
                                                     "surrogateescape")
        lines = env.split("\n")
        rcpts = [x for x in lines[1:]
                 if x and not x.startswith(("mail_options:",
                                            "rcpt_options:"))]
        # aiosmtpd writes the null reverse-path as "<>".
        sender = "" if lines[0] == "<>" else lines[0]
        with open(os.path.join(store, n + ".json"), encoding="utf-8") as f:
            record = json.load(f)
        session = {"tls": record["tls"] is not None,
                   "auth": record["auth_login"] is not None}
        copies.append((sender, rcpts,
                       read(os.path.join(store, n + ".content")), session))
    return copies, []


def nodemailer_copies(store):
    copies = []
    for name in sorted(os.listdir(store)):
        if not name.endswith(".json"):
            continue
        n = name[: -len(".json")]
        with open(os.path.join(store, name), encoding="utf-8") as f:
            env = json.load(f)
        session = {"tls": env["tls"] is not None,
                   "auth": env["user"] is not None}
        copies.append((env["mailFrom"], env["rcptTo"],
                       read(os.path.join(store, n + ".eml")), session))
    return copies, []


def queued(queue, subdirs):
    count = 0
    for sub in subdirs:
        for _, _, files in os.walk(os.path.join(queue, sub)):
            count += len(files)
    return count


def wait_for_postfix(queue, seconds):
    """Until nothing is incoming or active; returns the problems left."""
    deadline = time.monotonic() + seconds
    while queued(queue, ("incoming", "active", "maildrop")) > 0:
        if time.monotonic() > deadline:
            return ["the queue did not drain in %d s" % seconds]
        time.sleep(0.1)
    left = queued(queue, ("deferred", "hold", "corrupt"))
    return ["%d message(s) deferred, held or corrupt" % left] if left else []


def postfix_view(expected):
    """N.expected as Postfix writes it (see the docstring)."""
    if expected == b"":
        return b""
    lines = expected[:-2].split(b"\r\n")
    i = 0
    in_header = False
    while i < len(lines):
        line = lines[i]
        if HEADER_FIELD.match(line):
            in_header = True
        elif not (in_header and line[:1] in (b" ", b"\t")):
            break
        i += 1
    if i < len(lines) and lines[i] != b"":
        lines.insert(i, b"")
    return b"\n".join(lines) + b"\n"


def first_difference(a, b):
    for i in range(min(len(a), len(b))):
        if a[i] != b[i]:
            return i
    return min(len(a), len(b))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--results", required=True)
    ap.add_argument("--server", required=True,
                    choices=["postfix", "aiosmtpd", "nodemailer"])
    ap.add_argument("--store", required=True)
    ap.add_argument("--mode", required=True)
    ap.add_argument("--transfer", default="DATA")
    ap.add_argument("--auth", default="-")
    ap.add_argument("--version", default="?")
    ap.add_argument("--queue")
    ap.add_argument("--wait", type=int, default=120)
    ap.add_argument("--hostname", default="mx.interop.test")
    ap.add_argument("--row")
    ap.add_argument("--diffs")
    ap.add_argument("--tls", choices=["yes", "no"], default="no")
    ap.add_argument("--subset")
    args = ap.parse_args()
    args.tls = args.tls == "yes"
    args.authed = args.auth != "-"

    messages = load_corpus(args.corpus)
    if args.subset:
        messages = [m for m in messages if m["category"] == args.subset]
    results = load_results(args.results)
    if args.server == "postfix":
        problems = []
        if args.queue:
            problems = wait_for_postfix(args.queue, args.wait)
        copies, more = postfix_copies(args.store, args.hostname)
        problems += more
    elif args.server == "aiosmtpd":
        copies, problems = aiosmtpd_copies(args.store)
    else:
        copies, problems = nodemailer_copies(args.store)

    by_sender = {}
    for sender, rcpts, content, session in copies:
        by_sender.setdefault(sender, []).append((rcpts, content, session))
    known = {m["sender"] for m in messages}
    extra = [(s, len(v)) for s, v in by_sender.items() if s not in known]

    accepted = identical = adjusted = 0
    smuggling_total = smuggling_ok = 0
    for m in messages:
        status, told = results.get(m["n"], ("missing", "no result"))
        got = by_sender.get(m["sender"], [])
        if args.server == "postfix":
            want = postfix_view(m["expected"])
            if want != m["expected"].replace(b"\r\n", b"\n"):
                adjusted += 1
            want_rcpts = sorted(m["rcpts"])
            got_rcpts = sorted(r[0] for r, _, _ in got)
        else:
            want = m["expected"]
            want_rcpts = [m["rcpts"]]
            got_rcpts = [r for r, _, _ in got]
        why = None
        if status == "ok":
            accepted += 1
        else:
            why = "the client was told: " + told
        if why is None and got_rcpts != want_rcpts:
            why = ("stored %d time(s) for %s, expected %s" %
                   (len(got), got_rcpts[:5], want_rcpts[:5]))
        if why is None:
            for _, _, session in got:
                if (session["tls"], session["auth"]) != (args.tls,
                                                         args.authed):
                    why = ("stored from a session with TLS %s and AUTH %s, "
                           "expected TLS %s and AUTH %s" %
                           (session["tls"], session["auth"], args.tls,
                            args.authed))
                    break
        if why is None:
            for _, content, _ in got:
                if content != want:
                    at = first_difference(content, want)
                    why = ("content differs at octet %d of %d (expected "
                           "%d): got %r, expected %r" %
                           (at, len(content), len(want),
                            content[max(0, at - 20):at + 20],
                            want[max(0, at - 20):at + 20]))
                    if args.diffs:
                        os.makedirs(args.diffs, exist_ok=True)
                        base = os.path.join(args.diffs, m["n"])
                        with open(base + ".got", "wb") as f:
                            f.write(content)
                        with open(base + ".want", "wb") as f:
                            f.write(want)
                    break
        if m["category"] == "smuggling":
            smuggling_total += 1
        if why is None:
            identical += 1
            if m["category"] == "smuggling":
                smuggling_ok += 1
        else:
            print("MISMATCH %s %s %s: %s (%s): %s" %
                  (args.server, args.mode, m["n"], m["category"], m["about"],
                   why))
    for sender, count in extra:
        print("EXTRA %s %s: %d stored under reverse-path <%s>, which is not "
              "in the corpus" % (args.server, args.mode, count, sender))
    for p in problems:
        print("PROBLEM %s %s: %s" % (args.server, args.mode, p))

    extras = sum(c for _, c in extra) + len(problems)
    row = [args.server, args.version, args.mode, args.transfer, args.auth,
           str(len(messages)), str(accepted), str(identical),
           "%d/%d" % (smuggling_ok, smuggling_total), str(extras)]
    print("%s %s, %s, %s, AUTH %s: sent %s, accepted %s, identical %s, "
          "smuggling %s, extra %s" % tuple(row))
    if args.server == "postfix":
        print("(postfix: %d messages compared with the empty line Postfix "
              "inserts after a header section that lacks one)" % adjusted)
    if args.row:
        with open(args.row, "a", encoding="utf-8") as f:
            f.write("\t".join(row) + "\n")
    ok = identical == len(messages) and extras == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
