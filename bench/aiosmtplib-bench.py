#!/usr/bin/python3
"""aiosmtplib as a benchmark peer: with -c 1, one SMTP object sends every
message over one connection; with -c N, N such objects share the count,
each on its own connection, under one asyncio loop. Messages go as raw
bytes (sendmail) or as email.message.EmailMessage objects (send_message).
Prints one line of results in the format the other bench clients share;
the CPU time is that of the sending, interpreter start-up left out."""

import argparse
import asyncio
import email.message
import resource
import sys
import time

import aiosmtplib

SENDER = "sender@bench.example"
RECIPIENT = "rcpt@bench.example"
HEADERS = (b"From: <sender@bench.example>\r\n"
           b"To: <rcpt@bench.example>\r\n"
           b"Subject: benchmark message\r\n"
           b"Message-ID: <bench@bench.example>\r\n"
           b"\r\n")


def raw_message(size):
    """size octets (at least the headers): CRLF lines of 76 letters."""
    body_size = max(size - len(HEADERS), 2)
    line = bytes(ord("a") + i % 26 for i in range(76)) + b"\r\n"
    body = (line * (body_size // len(line) + 1))[:body_size - 2] + b"\r\n"
    return HEADERS + body


def object_message(size):
    """An EmailMessage whose serialised form is about size octets."""
    def build(text):
        m = email.message.EmailMessage()
        m["From"] = SENDER
        m["To"] = RECIPIENT
        m["Subject"] = "benchmark message"
        m.set_content(text)
        return m

    line = "".join(chr(ord("a") + i % 26) for i in range(76)) + "\n"
    overhead = len(build("").as_bytes())
    text_size = max(size - overhead, 1)
    text = (line * (text_size // len(line) + 1))[:text_size - 1] + "\n"
    return build(text)


class Counter:
    """Hands out message numbers until the count is reached."""

    def __init__(self, total):
        self.left = total
        self.sent = 0
        self.failed = 0

    def take(self):
        if self.left == 0:
            return False
        self.left -= 1
        return True


async def connection(args, counter, payload):
    smtp = aiosmtplib.SMTP(hostname=args.host, port=args.port,
                           local_hostname="client.bench.example",
                           start_tls=False, timeout=30)
    await smtp.connect()
    try:
        while counter.take():
            try:
                if args.mode == "raw":
                    await smtp.sendmail(SENDER, [RECIPIENT], payload)
                else:
                    await smtp.send_message(payload)
                counter.sent += 1
            except aiosmtplib.SMTPResponseException as e:
                if counter.failed == 0:
                    print(f"aiosmtplib-bench: a message failed: {e}",
                          file=sys.stderr)
                counter.failed += 1
        await smtp.quit()
    finally:
        smtp.close()


async def run(args, counter, payload):
    connections = min(args.connections, args.messages)
    await asyncio.gather(*(connection(args, counter, payload)
                           for _ in range(connections)))


def cpu_seconds():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime, ru.ru_stime


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("-H", dest="host", default="127.0.0.1")
    p.add_argument("-p", dest="port", type=int, required=True)
    p.add_argument("-n", dest="messages", type=int, default=5000)
    p.add_argument("-c", dest="connections", type=int, default=1)
    p.add_argument("-s", dest="size", type=int, default=2048,
                   help="message size in octets, headers included")
    p.add_argument("-m", dest="mode", choices=("raw", "message"),
                   default="raw", help="sendmail with bytes, or "
                   "send_message with an EmailMessage")
    p.add_argument("-t", dest="timeout", type=float, default=60,
                   help="give up after this many seconds")
    args = p.parse_args()
    if args.messages < 1 or args.connections < 1:
        p.error("-n and -c must be at least 1")

    if args.mode == "raw":
        payload = raw_message(args.size)
        size = len(payload)
    else:
        payload = object_message(args.size)
        size = len(payload.as_bytes())

    counter = Counter(args.messages)
    user0, sys0 = cpu_seconds()
    start = time.monotonic()
    timed_out = False
    try:
        asyncio.run(asyncio.wait_for(run(args, counter, payload),
                                     args.timeout))
    except asyncio.TimeoutError:
        timed_out = True
    except (OSError, aiosmtplib.SMTPException) as e:
        print(f"aiosmtplib-bench: {e}", file=sys.stderr)
    elapsed = time.monotonic() - start
    user1, sys1 = cpu_seconds()
    user, system = user1 - user0, sys1 - sys0

    print(f"client=aiosmtplib-{args.mode} version={aiosmtplib.__version__} "
          f"messages={counter.sent} failed={counter.failed} "
          f"connections={min(args.connections, args.messages)} size={size} "
          f"seconds={elapsed:.3f} msgs_per_s={counter.sent / elapsed:.1f} "
          f"cpu_s={user + system:.3f} user_s={user:.3f} sys_s={system:.3f}")
    if timed_out:
        print(f"aiosmtplib-bench: stopped after {args.timeout:g} seconds "
              f"with {counter.sent} of {args.messages} messages sent",
              file=sys.stderr)
    sys.exit(0 if counter.sent == args.messages else 1)


if __name__ == "__main__":
    main()
