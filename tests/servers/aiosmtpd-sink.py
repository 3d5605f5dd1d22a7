#!/usr/bin/python3
"""A real aiosmtpd server on loopback that stores what it receives.

Usage: aiosmtpd-sink.py DIR
Listens on 127.0.0.1 on a free port, writes the port to DIR/port, and for
every message writes DIR/N.envelope (MAIL FROM, then one RCPT TO per line)
and DIR/N.content (the message bytes as received, end of data removed).
Stops by itself after 120 seconds, or when DIR/stop appears.
"""
import os
import socket
import sys
import time

from aiosmtpd.controller import Controller


class Store:
    def __init__(self, directory):
        self.directory = directory
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        base = os.path.join(self.directory, str(self.count))
        with open(base + ".envelope", "w", encoding="utf-8") as f:
            f.write(envelope.mail_from + "\n")
            for rcpt in envelope.rcpt_tos:
                f.write(rcpt + "\n")
        with open(base + ".content", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        return "250 2.0.0 stored as %d" % self.count


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main():
    directory = sys.argv[1]
    port = free_port()
    controller = Controller(Store(directory), hostname="127.0.0.1",
                            port=port, decode_data=False)
    controller.start()
    with open(os.path.join(directory, "port.tmp"), "w") as f:
        f.write(str(port))
    os.rename(os.path.join(directory, "port.tmp"),
              os.path.join(directory, "port"))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if os.path.exists(os.path.join(directory, "stop")):
            break
        time.sleep(0.05)
    controller.stop()


if __name__ == "__main__":
    main()
