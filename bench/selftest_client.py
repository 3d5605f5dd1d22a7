#!/usr/bin/python3
"""Drives discard-server for selftest.sh: Python's smtplib for whole
transactions, a raw socket for pipelining, BDAT, split reads and errors.
Each check prints "ok NAME" or "FAIL NAME: why"; the last line states the
messages and content octets the server should have counted. Mode "tls"
runs the protocol checks over implicit TLS."""

import re
import resource
import smtplib
import socket
import ssl
import sys
import time

CRLF = b"\r\n"
TIMEOUT = 10.0
# Set by mode "tls": every connection is then implicit TLS, unverified
# (the server's certificate is a throwaway one).
TLS_CONTEXT = None

results = {"passed": 0, "failed": 0}
expected = {"messages": 0, "message_bytes": 0}


def check(name, condition, why=""):
    if condition:
        results["passed"] += 1
        print(f"ok {name}")
    else:
        results["failed"] += 1
        print(f"FAIL {name}: {why}")


def wire_content(message):
    """The content octets smtplib puts on the wire for sendmail() of bytes:
    dots doubled at line starts, a CRLF added if missing, line ends as
    given."""
    data = re.sub(rb"(?m)^\.", b"..", message)
    if not data.endswith(CRLF):
        data += CRLF
    return len(data)


class Raw:
    """A socket that reads complete replies, one code per reply."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), TIMEOUT)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if TLS_CONTEXT is not None:
            self.sock = TLS_CONTEXT.wrap_socket(self.sock)
        self.buffer = b""

    def send(self, data):
        self.sock.sendall(data)

    def reply(self):
        """One reply (all its lines); returns (code, text)."""
        lines = []
        while True:
            while CRLF not in self.buffer:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise ConnectionError("server closed the connection")
                self.buffer += chunk
            line, self.buffer = self.buffer.split(CRLF, 1)
            lines.append(line)
            if len(line) < 4 or line[3:4] != b"-":
                return int(line[:3]), b"\n".join(lines)

    def codes(self, count):
        return [self.reply()[0] for _ in range(count)]

    def close(self):
        self.sock.close()


def smtplib_client(port):
    if TLS_CONTEXT is not None:
        return smtplib.SMTP_SSL("127.0.0.1", port, timeout=TIMEOUT,
                                context=TLS_CONTEXT)
    return smtplib.SMTP("127.0.0.1", port, timeout=TIMEOUT)


def test_smtplib(port):
    bodies = [
        b"Subject: one\r\n\r\nhello\r\n",
        b"Subject: dots\r\n\r\n.leading dot\r\n..two\r\n.\r\nend\r\n",
        b"Subject: bare newlines\n\nline one\nline two",
        b"Subject: big\r\n\r\n" + (b"x" * 998 + CRLF) * 300,
        b"",
    ]
    with smtplib_client(port) as client:
        code, _ = client.ehlo("selftest.example")
        check("smtplib EHLO", code == 250, f"code {code}")
        for ext in ("pipelining", "chunking", "8bitmime", "size"):
            check(f"EHLO advertises {ext}", client.has_extn(ext))
        for i, body in enumerate(bodies):
            refused = client.sendmail("a@example.org", ["b@example.org"],
                                      body)
            check(f"smtplib sendmail {i}", refused == {}, repr(refused))
            expected["messages"] += 1
            expected["message_bytes"] += wire_content(body)
        code, _ = client.noop()
        check("smtplib NOOP", code == 250, f"code {code}")
        code, _ = client.rset()
        check("smtplib RSET", code == 250, f"code {code}")
        refused = client.sendmail("a@example.org", ["b@example.org",
                                                    "c@example.org"],
                                  b"Subject: two rcpts\r\n\r\nx\r\n",
                                  mail_options=["BODY=8BITMIME",
                                                "SIZE=30"])
        check("smtplib two recipients, BODY and SIZE", refused == {})
        expected["messages"] += 1
        expected["message_bytes"] += len(b"Subject: two rcpts\r\n\r\nx\r\n")


def test_pipelined(port):
    raw = Raw(port)
    check("greeting", raw.reply()[0] == 220)
    body = b"Subject: p\r\n\r\nbody\r\n"
    transaction = (b"MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\n"
                   b"DATA\r\n" + body + b".\r\n")
    raw.send(b"EHLO selftest.example\r\n" + transaction * 3 + b"QUIT\r\n")
    codes = raw.codes(1 + 4 * 3 + 1)
    check("pipelined transactions in one write",
          codes == [250] + [250, 250, 354, 250] * 3 + [221], repr(codes))
    expected["messages"] += 3
    expected["message_bytes"] += 3 * len(body)
    raw.close()


def test_split_terminator(port):
    """The end of data split at every point across separate reads."""
    raw = Raw(port)
    raw.reply()
    raw.send(b"EHLO selftest.example\r\n")
    raw.reply()
    terminator = b"\r\n.\r\n"
    for cut in range(1, 5):
        raw.send(b"MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\n"
                 b"DATA\r\n")
        raw.codes(3)
        content = b"Subject: s\r\n\r\n..not the end\r\nx"
        raw.send(content + terminator[:cut])
        time.sleep(0.05)
        raw.send(terminator[cut:])
        code, _ = raw.reply()
        check(f"end of data split after {cut} octets", code == 250,
              f"code {code}")
        expected["messages"] += 1
        expected["message_bytes"] += len(content) + 2

    # A message that is only the terminator, and one whose dot arrives in
    # a read of its own.
    raw.send(b"MAIL FROM:<>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n.\r\n")
    codes = raw.codes(4)
    check("empty message", codes == [250, 250, 354, 250], repr(codes))
    expected["messages"] += 1
    raw.send(b"MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\n"
             b"DATA\r\n")
    raw.codes(3)
    for piece in (b"Subject: y\r\n", b"\r\n", b"z\r\n", b".", b"\r", b"\n"):
        raw.send(piece)
        time.sleep(0.02)
    check("end of data one octet a read", raw.reply()[0] == 250)
    expected["messages"] += 1
    expected["message_bytes"] += len(b"Subject: y\r\n\r\nz\r\n")
    raw.close()


def test_bdat(port):
    raw = Raw(port)
    raw.reply()
    raw.send(b"EHLO selftest.example\r\n")
    raw.reply()

    # Octets that look like commands and like the end of data are content.
    chunk1 = b"Subject: b\r\n\r\n.\r\nQUIT\r\n"
    chunk2 = b"RSET\r\n"
    raw.send(b"MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\n"
             + b"BDAT %d\r\n" % len(chunk1) + chunk1
             + b"BDAT %d LAST\r\n" % len(chunk2) + chunk2 + b"NOOP\r\n")
    codes = raw.codes(5)
    check("BDAT two chunks, pipelined", codes == [250, 250, 250, 250, 250],
          repr(codes))
    expected["messages"] += 1
    expected["message_bytes"] += len(chunk1) + len(chunk2)

    # A chunk split over several reads.
    big = b"y" * 300000
    raw.send(b"MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\n")
    raw.codes(2)
    raw.send(b"BDAT %d LAST\r\n" % len(big) + big[:1000])
    time.sleep(0.05)
    raw.send(big[1000:])
    code, _ = raw.reply()
    check("BDAT chunk over several reads", code == 250, f"code {code}")
    expected["messages"] += 1
    expected["message_bytes"] += len(big)

    raw.send(b"MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\n"
             b"BDAT 0 LAST\r\n")
    codes = raw.codes(3)
    check("BDAT 0 LAST", codes == [250, 250, 250], repr(codes))
    expected["messages"] += 1

    # Refused for want of a transaction, yet the octets are still consumed.
    raw.send(b"BDAT 6 LAST\r\nNOOP\r\nNOOP\r\n")
    codes = raw.codes(2)
    check("BDAT without MAIL consumes its chunk", codes == [503, 250],
          repr(codes))
    raw.send(b"BDAT x\r\nBDAT\r\nBDAT 1 FIRST\r\nQUIT\r\n")
    codes = raw.codes(4)
    check("BDAT syntax errors", codes == [501, 501, 501, 221], repr(codes))
    raw.close()


def test_errors(port):
    raw = Raw(port)
    raw.reply()
    raw.send(b"MAIL FROM:<a@example.org>\r\n")
    check("MAIL before EHLO", raw.reply()[0] == 503)
    raw.send(b"HELO selftest.example\r\n")
    check("HELO", raw.reply()[0] == 250)
    raw.send(b"RCPT TO:<b@example.org>\r\nDATA\r\n")
    check("RCPT and DATA before MAIL", raw.codes(2) == [503, 503])
    raw.send(b"FOO bar\r\nMAILX\r\nVRFY x\r\n")
    codes = raw.codes(3)
    check("unknown commands", codes == [500, 500, 502], repr(codes))
    raw.send(b"MAIL FROM:a@example.org\r\nMAIL TO:<a@example.org>\r\n")
    check("MAIL syntax", raw.codes(2) == [501, 501])
    raw.send(b"MAIL FROM:<a@example.org> SIZE=999999999\r\n")
    check("SIZE over the limit", raw.reply()[0] == 552)
    raw.send(b"MAIL FROM:<a@example.org> XYZ=1\r\n")
    check("unknown MAIL parameter", raw.reply()[0] == 555)
    raw.send(b"MAIL FROM:<a@example.org>\r\nMAIL FROM:<a@example.org>\r\n")
    check("nested MAIL", raw.codes(2) == [250, 503])
    raw.send(b"RSET\r\nRCPT TO:<b@example.org>\r\n")
    check("RSET ends the transaction", raw.codes(2) == [250, 503])
    raw.send(b"NOOP " + b"n" * 10000 + b"\r\nNOOP\r\n")
    check("line too long", raw.codes(2) == [500, 250])

    # Far more replies than one batch holds, from one write.
    count = 20000
    raw.send(b"NOOP\r\n" * count)
    codes = raw.codes(count)
    check(f"{count} pipelined NOOPs", codes == [250] * count,
          f"{len(codes)} replies")
    raw.send(b"QUIT\r\n")
    check("QUIT", raw.reply()[0] == 221)
    check("closed after QUIT", raw.sock.recv(1) == b"")
    raw.close()


def test_delay(port, delay_ms):
    delay = delay_ms / 1000.0

    started = time.monotonic()
    raw = Raw(port)
    raw.reply()
    waited = time.monotonic() - started
    check("greeting delayed", delay * 0.9 <= waited < delay * 5,
          f"{waited:.3f} s")

    # Pipelined, the replies stay in order and share one delay.
    body = b"Subject: d\r\n\r\nx\r\n"
    started = time.monotonic()
    raw.send(b"EHLO selftest.example\r\nMAIL FROM:<a@example.org>\r\n"
             b"RCPT TO:<b@example.org>\r\nDATA\r\n" + body + b".\r\n"
             b"NOOP\r\nRSET\r\nFOO\r\n")
    codes = raw.codes(8)
    waited = time.monotonic() - started
    check("delayed replies in order",
          codes == [250, 250, 250, 354, 250, 250, 250, 500], repr(codes))
    check("one delay for a pipelined group", waited < delay * 3,
          f"{waited:.3f} s")
    expected["messages"] += 1
    expected["message_bytes"] += len(body)
    raw.send(b"QUIT\r\n")
    check("delayed QUIT", raw.reply()[0] == 221 and raw.sock.recv(1) == b"")
    raw.close()

    # smtplib waits for each reply: greeting, EHLO, then MAIL, RCPT, DATA
    # and the dot for each message, and QUIT.
    count = 3
    started = time.monotonic()
    with smtplib.SMTP("127.0.0.1", port, timeout=TIMEOUT) as client:
        for _ in range(count):
            client.sendmail("a@example.org", ["b@example.org"], body)
            expected["messages"] += 1
            expected["message_bytes"] += len(body)
    waits = (time.monotonic() - started) / delay
    check("smtplib waits 4 times a message", 3 + 4 * count <= waits
          < 3 + 4 * count + 3, f"{waits:.1f} delays")


def test_idle(port, count, server_pid):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < count + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, count + 64),
                                                     hard))
    rss_before = rss_kib(server_pid)
    socks = []
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port), TIMEOUT)
        socks.append(s)
    greeted = 0
    for s in socks:
        if s.recv(512).startswith(b"220 "):
            greeted += 1
    check(f"{count} idle connections greeted", greeted == count,
          f"{greeted} greeted")
    rss_after = rss_kib(server_pid)
    per_conn = (rss_after - rss_before) * 1024.0 / count
    print(f"server RSS {rss_before} KiB before, {rss_after} KiB with {count} "
          f"idle connections: {per_conn:.0f} bytes each")
    check("idle connections are cheap", per_conn < 1024,
          f"{per_conn:.0f} bytes each")

    for s in socks:
        s.sendall(b"NOOP\r\n")
    answered = sum(1 for s in socks if s.recv(512).startswith(b"250 "))
    check(f"{count} connections active again", answered == count,
          f"{answered} answered")
    for s in socks:
        s.close()


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    global TLS_CONTEXT
    mode, port = sys.argv[1], int(sys.argv[2])
    if mode == "tls":
        TLS_CONTEXT = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        TLS_CONTEXT.check_hostname = False
        TLS_CONTEXT.verify_mode = ssl.CERT_NONE
        mode = "protocol"
    if mode == "protocol":
        test_smtplib(port)
        test_pipelined(port)
        test_split_terminator(port)
        test_bdat(port)
        test_errors(port)
    elif mode == "delay":
        test_delay(port, int(sys.argv[3]))
    elif mode == "idle":
        test_idle(port, int(sys.argv[3]), int(sys.argv[4]))
    else:
        sys.exit(f"unknown mode {mode}")
    print(f"expect messages={expected['messages']} "
          f"message_bytes={expected['message_bytes']} "
          f"passed={results['passed']} failed={results['failed']}")
    sys.exit(1 if results["failed"] else 0)


if __name__ == "__main__":
    main()
