#!/usr/bin/python3
"""The control for the smuggling checks: sends corpus messages the way a
client that does not normalise line ends does, so that the suite can show
its checks would notice a smuggled message.

    naive-send.py --port N --corpus DIR --category CATEGORY --results FILE

For each message of CATEGORY, one plaintext connection: EHLO, MAIL, RCPT,
DATA, then N.msg as it is, dot-stuffed only after CR LF (bare CR and bare
LF are left alone, as in the clients of the 2023 disclosure), CR LF . CR LF,
QUIT, and everything the server says is read until it closes. RESULTS gets
"N ok naive" for every message, in interop_send's format, so that
compare.py can judge what the server stored. Loopback only; standard
library only.
"""

import argparse
import os
import socket
import sys


def read_reply(f):
    lines = []
    while True:
        line = f.readline()
        if not line:
            raise ConnectionError("connection closed")
        lines.append(line)
        if line[3:4] != b"-":
            return lines


def send_one(port, sender, rcpts, content):
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        f = s.makefile("rb")
        read_reply(f)
        for command in [b"EHLO naive.test"] + \
                [b"MAIL FROM:<%s>" % sender.encode()] + \
                [b"RCPT TO:<%s>" % r.encode() for r in rcpts]:
            s.sendall(command + b"\r\n")
            read_reply(f)
        s.sendall(b"DATA\r\n")
        read_reply(f)
        stuffed = content.replace(b"\r\n.", b"\r\n..")
        if stuffed.startswith(b"."):
            stuffed = b"." + stuffed
        if not stuffed.endswith(b"\r\n"):
            stuffed += b"\r\n"
        s.sendall(stuffed + b".\r\nQUIT\r\n")
        while f.readline():
            pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--category", required=True)
    ap.add_argument("--results", required=True)
    args = ap.parse_args()

    sent = []
    with open(os.path.join(args.corpus, "index"), encoding="utf-8") as f:
        for line in f:
            n, category, _ = line.rstrip("\n").split("\t", 2)
            if category != args.category:
                continue
            sender, rcpts = None, []
            with open(os.path.join(args.corpus, n + ".env"),
                      encoding="utf-8") as e:
                for field in e.read().splitlines():
                    parts = field.split("\t")
                    if parts[0] == "sender":
                        sender = parts[1]
                    elif parts[0] == "rcpt":
                        rcpts.append(parts[1])
            with open(os.path.join(args.corpus, n + ".msg"), "rb") as m:
                send_one(args.port, sender, rcpts, m.read())
            sent.append(n)
    with open(args.results, "w", encoding="utf-8") as f:
        for n in sent:
            f.write("%s\tok\tnaive\n" % n)
    print("%d messages sent the naive way" % len(sent))
    return 0


if __name__ == "__main__":
    sys.exit(main())
