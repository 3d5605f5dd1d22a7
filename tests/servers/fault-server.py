#!/usr/bin/python3
"""A scripted SMTP fault server: plays a script per connection.

For the faults a real server cannot produce on cue (split or trickled
replies, oversized replies, garbage, injected lines after STARTTLS,
disconnects in mid-reply, silence). Standard library only; listens only on
loopback or a Unix socket; stops by itself.

Usage:
  fault-server.py --dir DIR --script FILE [--script FILE2 ...] [options]

  --dir DIR          scratch directory (must exist): DIR/port (written via
                     DIR/port.tmp and a rename once listening), DIR/pid,
                     DIR/conn-N.log, DIR/conn-N.done, received data.
  --script FILE      the script. Repeat to give connection N the N-th
                     script (the last one is reused for later connections).
  --connections N    play for N connections, then stop (default 1; 0 means
                     until stopped). Connection N+1 is refused.
  --host ADDR        literal loopback address (default 127.0.0.1; ::1).
  --port N           default 0: a free port.
  --unix PATH        listen on a Unix socket instead; DIR/port holds PATH.
  --tls              implicit TLS: handshake before the first step.
  --cert FILE --key FILE   for "starttls" and --tls.
  --lifetime SECONDS stop after this long (default 300), or when DIR/stop
                     appears, or on SIGTERM/SIGINT.
  --expect-timeout SECONDS   how long an expect-* step waits (default 30).
  --linger SECONDS   after the last step, keep recording what the client
                     sends until it closes, at most this long (default 2).
  --seed N           seed for "garbage" (default 0: reproducible bytes).

Exit status: 0 if every connection's script ran to its end ("END ok"),
1 if any failed, 2 for a bad command line or script.

Script: one step per line; blank lines and lines starting with # are
ignored. TEXT is everything after the first space, kept exactly (trailing
spaces too), with escapes \\r \\n \\t \\0 \\\\ and \\xNN decoded in every
step that sends text.

  send TEXT             send TEXT + CRLF
  sendraw TEXT          send TEXT as is (e.g. 250-a\\r\\n250 b\\r\\n)
  trickle SECONDS TEXT  send TEXT + CRLF one byte at a time, SECONDS apart
  close-mid TEXT        send TEXT (no CRLF) and close the connection
  long-line N TEXT      send TEXT padded with "x" to N octets, then CRLF
  repeat-line N TEXT    send TEXT + CRLF N times (an oversized reply)
  garbage N             send N pseudo-random bytes
  expect [PREFIX]       read one line from the client; fail unless it starts
                        with PREFIX (case-insensitive; no PREFIX: any line)
  expect-exact TEXT     read one line; fail unless it is exactly TEXT + CRLF
                        (case-sensitive: smtplib, for one, sends "mail FROM:")
  expect-data           read the data phase up to and including CRLF.CRLF
                        (or a first line "."), stored raw, still dot-stuffed,
                        as DIR/conn-N.data-M
  expect-bdat [last|more]  read "BDAT size [LAST]" and its octets, stored as
                        DIR/conn-N.bdat-M; optionally require LAST or not
  expect-close          wait for the client to close; fail if it sends
                        anything first
  starttls              TLS handshake (server side) with --cert/--key. Any
                        plaintext the client sent ahead is discarded and
                        logged as "TLS: discarded ..."
  sleep SECONDS         wait
  stall SECONDS         stop reading from the socket for SECONDS (the
                        client's writes back up), then go on
  silent                send nothing, record whatever arrives, until the
                        client closes (bounded by --lifetime)
  close                 close the connection (the script ends)

Transcript DIR/conn-N.log, one event per line (bytes escaped as above,
other non-printable and non-ASCII bytes as \\xNN, so "\\r\\n" shows the
client's line ends):
  # connection N from PEER
  C: EHLO client.example\\r\\n        a line the client sent
  S: 250-a\\r\\n250 b\\r\\n            what the server sent
  DATA: M 1234 octets -> conn-N.data-M
  BDAT: M 12 octets LAST -> conn-N.bdat-M
  TLS: ... / SLEEP ... / STALL ... / CLOSE / EOF
  END ok | END fail: REASON
DIR/conn-N.done is created after the END line.
"""
import argparse
import asyncio
import ipaddress
import os
import random
import re
import signal
import ssl
import sys
import threading


class ScriptError(Exception):
    pass


class Fail(Exception):
    pass


ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|.)", re.S)


def unescape_bytes(text):
    """Decode escapes; \\xNN are raw bytes, other text is UTF-8."""
    out = bytearray()
    pos = 0
    for m in ESCAPE.finditer(text):
        out += text[pos:m.start()].encode("utf-8")
        c = m.group(1)
        if c[0] == "x" and len(c) == 3:
            out.append(int(c[1:], 16))
        else:
            out += {"r": b"\r", "n": b"\n", "t": b"\t", "0": b"\0",
                    "\\": b"\\"}.get(c, ("\\" + c).encode("utf-8"))
        pos = m.end()
    out += text[pos:].encode("utf-8")
    return bytes(out)


def escape(data):
    out = []
    for b in data:
        if b == 0x5C:
            out.append("\\\\")
        elif b == 0x0D:
            out.append("\\r")
        elif b == 0x0A:
            out.append("\\n")
        elif b == 0x09:
            out.append("\\t")
        elif 0x20 <= b < 0x7F:
            out.append(chr(b))
        else:
            out.append("\\x%02x" % b)
    return "".join(out)


def parse_number(text, kind, lineno):
    try:
        value = kind(text)
    except ValueError:
        raise ScriptError("line %d: %r is not a number" % (lineno, text))
    if value < 0:
        raise ScriptError("line %d: %r is negative" % (lineno, text))
    return value


def parse_script(path):
    try:
        return _parse_script(path)
    except ScriptError as e:
        raise ScriptError("%s: %s" % (path, e))


def _parse_script(path):
    steps = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\r\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            name, sep, rest = line.partition(" ")
            name = name.strip().lower()
            if name in ("send", "sendraw", "close-mid", "expect",
                        "expect-exact"):
                steps.append((name, rest, lineno))
            elif name in ("trickle", "long-line", "repeat-line"):
                first, sep2, text = rest.partition(" ")
                kind = float if name == "trickle" else int
                steps.append((name, (parse_number(first, kind, lineno),
                                     text), lineno))
            elif name in ("sleep", "stall"):
                steps.append((name, parse_number(rest.strip(), float, lineno),
                              lineno))
            elif name == "garbage":
                steps.append((name, parse_number(rest.strip(), int, lineno),
                              lineno))
            elif name == "expect-bdat":
                arg = rest.strip().lower()
                if arg not in ("", "last", "more"):
                    raise ScriptError("line %d: expect-bdat takes last or "
                                      "more" % lineno)
                steps.append((name, arg, lineno))
            elif name in ("expect-data", "expect-close", "starttls",
                          "silent", "close"):
                if rest.strip():
                    raise ScriptError("line %d: %s takes no argument"
                                      % (lineno, name))
                steps.append((name, None, lineno))
            else:
                raise ScriptError("line %d: unknown step %r" % (lineno, name))
    return steps


class Conn(asyncio.Protocol):
    """One client connection: a byte buffer, optional TLS by memory BIO."""

    def __init__(self, server):
        self.server = server
        self.buf = bytearray()
        self.event = asyncio.Event()
        self.eof = False
        self.closed = False
        self.transport = None
        self.tls = None
        self.tls_ready = False
        self.incoming = None
        self.outgoing = None

    # -- asyncio callbacks -----------------------------------------------

    def connection_made(self, transport):
        self.transport = transport
        self.server.accepted(self)

    def data_received(self, data):
        if self.tls is None:
            self.buf += data
        else:
            self.incoming.write(data)
            self._pump()
        self.event.set()

    def eof_received(self):
        if self.tls is not None:
            self.incoming.write_eof()
            self._pump()
        self.eof = True
        self.event.set()
        return True  # keep our side open; the script decides when to close

    def connection_lost(self, exc):
        self.eof = True
        self.closed = True
        self.event.set()

    # -- TLS by memory BIO -------------------------------------------------

    def _pump(self):
        if not self.tls_ready:
            return
        while True:
            try:
                chunk = self.tls.read(65536)
            except ssl.SSLWantReadError:
                break
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                self.eof = True
                break
            except ssl.SSLError as e:
                self.log("TLS: error while reading: %s" % e)
                self.eof = True
                break
            if not chunk:
                self.eof = True
                break
            self.buf += chunk
        self._flush()

    def _flush(self):
        if self.outgoing is not None:
            data = self.outgoing.read()
            if data and not self.closed:
                self.transport.write(data)

    async def start_tls(self, ctx):
        pending = bytes(self.buf)
        self.buf.clear()
        start = pending.find(b"\x16\x03")  # a TLS handshake record
        plain = pending if start < 0 else pending[:start]
        hello = b"" if start < 0 else pending[start:]
        if plain:
            self.log("TLS: discarded %d plaintext octets sent ahead: %s"
                     % (len(plain), escape(plain)))
        self.incoming = ssl.MemoryBIO()
        self.outgoing = ssl.MemoryBIO()
        self.tls = ctx.wrap_bio(self.incoming, self.outgoing,
                                server_side=True)
        if hello:
            self.incoming.write(hello)
        while True:
            try:
                self.tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                self._flush()
                if self.eof:
                    raise Fail("client closed during the TLS handshake")
                await self.wait_data()
            except ssl.SSLError as e:
                self._flush()
                raise Fail("TLS handshake failed: %s" % e)
        self._flush()
        self.tls_ready = True
        self.log("TLS: handshake done, %s %s" % (self.tls.version(),
                                                 self.tls.cipher()[0]))
        self._pump()

    # -- helpers for the script --------------------------------------------

    def log(self, text):
        self.server.log(self, text)

    def write(self, data, note=None, quiet=False):
        if self.closed:
            self.log("S(not sent, connection closed): " + (note or
                                                           escape(data)))
            return
        if not quiet:
            self.log("S: " + (note or escape(data)))
        if self.tls is not None:
            try:
                self.tls.write(data)
            except ssl.SSLError as e:
                self.log("TLS: error while writing: %s" % e)
                return
            self._flush()
        else:
            self.transport.write(data)

    async def wait_data(self, timeout=None):
        self.event.clear()
        if timeout is None:
            await self.event.wait()
        else:
            await asyncio.wait_for(self.event.wait(), timeout)

    async def read_until(self, marker, limit, timeout, what):
        """Bytes up to and including marker; Fail on EOF or timeout."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            i = self.buf.find(marker)
            if i >= 0:
                data = bytes(self.buf[:i + len(marker)])
                del self.buf[:i + len(marker)]
                return data
            if len(self.buf) > limit:
                raise Fail("%s: more than %d octets without %s"
                           % (what, limit, escape(marker)))
            if self.eof:
                raise Fail("%s: client closed the connection (pending: %s)"
                           % (what, escape(bytes(self.buf))))
            left = deadline - loop.time()
            if left <= 0:
                raise Fail("%s: nothing after %g s (pending: %s)"
                           % (what, timeout, escape(bytes(self.buf))))
            try:
                await self.wait_data(left)
            except asyncio.TimeoutError:
                pass

    async def read_exactly(self, size, timeout, what):
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(self.buf) < size:
            if self.eof:
                raise Fail("%s: client closed after %d of %d octets"
                           % (what, len(self.buf), size))
            left = deadline - loop.time()
            if left <= 0:
                raise Fail("%s: only %d of %d octets after %g s"
                           % (what, len(self.buf), size, timeout))
            try:
                await self.wait_data(left)
            except asyncio.TimeoutError:
                pass
        data = bytes(self.buf[:size])
        del self.buf[:size]
        return data

    async def drain_until_eof(self, timeout, label):
        """Record whatever arrives until EOF or timeout.

        Returns (True on EOF, number of octets received)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        received = 0
        while True:
            while self.buf:
                i = self.buf.find(b"\n")
                if i < 0 and not self.eof:
                    break
                end = len(self.buf) if i < 0 else i + 1
                self.log("%s: %s" % (label, escape(bytes(self.buf[:end]))))
                received += end
                del self.buf[:end]
            if self.eof:
                return True, received
            left = deadline - loop.time()
            if left <= 0:
                if self.buf:
                    self.log("%s: %s" % (label, escape(bytes(self.buf))))
                    received += len(self.buf)
                    self.buf.clear()
                return False, received
            try:
                await self.wait_data(left)
            except asyncio.TimeoutError:
                pass

    def close(self):
        if self.tls is not None and self.tls_ready and not self.closed:
            try:
                self.tls.unwrap()
            except ssl.SSLError:
                pass
            self._flush()
        if not self.closed:
            self.transport.close()


class FaultServer:
    def __init__(self, opts):
        self.opts = opts
        self.scripts = [parse_script(p) for p in opts.script]
        self.count = 0
        self.failed = 0
        self.tasks = set()
        self.numbers = {}
        self.logs = {}
        self.listener = None
        self.done = asyncio.Event()
        self.rng = random.Random(opts.seed)
        self.ctx = None
        if opts.cert and opts.key:
            self.ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self.ctx.load_cert_chain(opts.cert, opts.key)
        elif opts.tls or any(s[0] == "starttls" for sc in self.scripts
                             for s in sc):
            raise ScriptError("starttls/--tls need --cert and --key")

    def path(self, name):
        return os.path.join(self.opts.dir, name)

    def accepted(self, conn):
        limit = self.opts.connections
        if limit and self.count >= limit:
            conn.transport.close()
            return
        self.count += 1
        n = self.count
        self.numbers[conn] = n
        self.logs[conn] = open(self.path("conn-%d.log" % n), "w",
                               encoding="ascii", buffering=1)
        peer = conn.transport.get_extra_info("peername") or "a Unix socket"
        self.log(conn, "# connection %d from %s" % (n, peer))
        script = self.scripts[min(n, len(self.scripts)) - 1]
        task = asyncio.get_running_loop().create_task(self.play(conn, script))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        if limit and self.count >= limit and self.listener is not None:
            self.listener.close()  # connection N+1 is refused

    def log(self, conn, text):
        f = self.logs.get(conn)
        if f is not None:
            f.write(text + "\n")

    async def play(self, conn, script):
        n = self.numbers[conn]
        result = "ok"
        data_count = bdat_count = 0
        opts = self.opts
        try:
            if opts.tls:
                await conn.start_tls(self.ctx)
            for name, arg, lineno in script:
                if name == "send":
                    conn.write(unescape_bytes(arg) + b"\r\n")
                elif name == "sendraw":
                    conn.write(unescape_bytes(arg))
                elif name == "trickle":
                    delay, text = arg
                    data = unescape_bytes(text) + b"\r\n"
                    conn.log("S(trickle, %g s per octet): %s"
                             % (delay, escape(data)))
                    for i in range(len(data)):
                        conn.write(data[i:i + 1], quiet=True)
                        await asyncio.sleep(delay)
                elif name == "close-mid":
                    conn.write(unescape_bytes(arg))
                    conn.log("CLOSE")
                    conn.close()
                    break
                elif name == "long-line":
                    size, text = arg
                    data = unescape_bytes(text)
                    data += b"x" * max(0, size - len(data))
                    conn.write(data + b"\r\n", note="%s... (%d octets)\\r\\n"
                               % (escape(data[:40]), len(data)))
                elif name == "repeat-line":
                    count, text = arg
                    line = unescape_bytes(text) + b"\r\n"
                    conn.write(line * count, note="%s x %d"
                               % (escape(line), count))
                elif name == "garbage":
                    data = self.rng.randbytes(arg)
                    conn.write(data)
                elif name in ("expect", "expect-exact"):
                    line = await conn.read_until(
                        b"\n", 1 << 20, opts.expect_timeout,
                        "line %d (%s %s)" % (lineno, name, arg))
                    conn.log("C: " + escape(line))
                    if name == "expect":
                        want = unescape_bytes(arg).lower()
                        ok = line.lower().startswith(want)
                    else:
                        ok = line == unescape_bytes(arg) + b"\r\n"
                    if not ok:
                        raise Fail("line %d (%s %s): got %s"
                                   % (lineno, name, arg, escape(line)))
                elif name == "expect-data":
                    data = await self.read_data(conn, lineno)
                    data_count += 1
                    fname = "conn-%d.data-%d" % (n, data_count)
                    with open(self.path(fname), "wb") as f:
                        f.write(data)
                    conn.log("DATA: %d %d octets -> %s"
                             % (data_count, len(data), fname))
                elif name == "expect-bdat":
                    what = "line %d (expect-bdat)" % lineno
                    line = await conn.read_until(b"\n", 1 << 20,
                                                 opts.expect_timeout, what)
                    conn.log("C: " + escape(line))
                    m = re.fullmatch(rb"BDAT +([0-9]+)( +LAST)? *\r?\n", line,
                                     re.I)
                    if not m:
                        raise Fail("%s: got %s" % (what, escape(line)))
                    size, last = int(m.group(1)), m.group(2) is not None
                    data = await conn.read_exactly(size, opts.expect_timeout,
                                                   what)
                    bdat_count += 1
                    fname = "conn-%d.bdat-%d" % (n, bdat_count)
                    with open(self.path(fname), "wb") as f:
                        f.write(data)
                    conn.log("BDAT: %d %d octets%s -> %s"
                             % (bdat_count, size, " LAST" if last else "",
                                fname))
                    if (arg == "last" and not last) or (arg == "more"
                                                        and last):
                        raise Fail("%s: LAST %s" % (
                            what, "missing" if arg == "last" else "too early"))
                elif name == "expect-close":
                    eof, extra = await conn.drain_until_eof(
                        opts.expect_timeout, "C")
                    if not eof:
                        raise Fail("line %d (expect-close): client still "
                                   "connected after %g s"
                                   % (lineno, opts.expect_timeout))
                    conn.log("EOF")
                    if extra:
                        raise Fail("line %d (expect-close): client sent %d "
                                   "octets before closing" % (lineno, extra))
                elif name == "starttls":
                    await conn.start_tls(self.ctx)
                elif name == "sleep":
                    conn.log("SLEEP: %g s" % arg)
                    await asyncio.sleep(arg)
                elif name == "stall":
                    conn.log("STALL: %g s" % arg)
                    if not conn.closed:
                        conn.transport.pause_reading()
                    await asyncio.sleep(arg)
                    if not conn.closed:
                        conn.transport.resume_reading()
                elif name == "silent":
                    conn.log("SILENT")
                    await conn.drain_until_eof(opts.lifetime, "C(silent)")
                    conn.log("EOF")
                    break
                elif name == "close":
                    conn.log("CLOSE")
                    conn.close()
                    break
            else:
                if not conn.closed and not conn.eof:
                    eof, _ = await conn.drain_until_eof(opts.linger,
                                                        "C(after end)")
                    if eof:
                        conn.log("EOF")
        except Fail as e:
            result = "fail: %s" % e
        except asyncio.CancelledError:
            result = "fail: server stopped during the script"
        except Exception as e:  # a bug here must show in the log
            result = "fail: internal error %r" % (e,)
        if result != "ok":
            self.failed += 1
        conn.log("END " + result)
        conn.close()
        f = self.logs.pop(conn)
        f.close()
        with open(self.path("conn-%d.done" % n), "w") as f:
            f.write(result + "\n")
        limit = self.opts.connections
        if limit and self.count >= limit and not self.tasks - {
                asyncio.current_task()}:
            self.done.set()

    async def read_data(self, conn, lineno):
        what = "line %d (expect-data)" % lineno
        timeout = self.opts.expect_timeout
        limit = 1 << 26
        # An empty message: the very first line is ".".
        while len(conn.buf) < 3 and not conn.eof and b"\n" not in conn.buf:
            try:
                await conn.wait_data(timeout)
            except asyncio.TimeoutError:
                raise Fail("%s: nothing after %g s" % (what, timeout))
        if conn.buf.startswith(b".\r\n"):
            del conn.buf[:3]
            return b".\r\n"
        return await conn.read_until(b"\r\n.\r\n", limit, timeout, what)


def check_loopback(host):
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    print("fault-server: refusing to listen on non-loopback address %r"
          % host, file=sys.stderr)
    sys.exit(2)


async def main_async(opts):
    loop = asyncio.get_running_loop()
    try:
        server = FaultServer(opts)
    except (ScriptError, OSError) as e:
        print("fault-server: %s" % e, file=sys.stderr)
        return 2
    if opts.unix:
        if os.path.exists(opts.unix):
            os.unlink(opts.unix)
        listener = await loop.create_unix_server(lambda: Conn(server),
                                                 opts.unix)
        where = opts.unix
    else:
        listener = await loop.create_server(lambda: Conn(server), opts.host,
                                            opts.port, reuse_address=True)
        where = str(listener.sockets[0].getsockname()[1])
    server.listener = listener
    with open(server.path("pid"), "w") as f:
        f.write("%d\n" % os.getpid())
    tmp = server.path("port.tmp")
    with open(tmp, "w") as f:
        f.write(where)
    os.rename(tmp, server.path("port"))

    stopping = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    deadline = loop.time() + opts.lifetime
    stop_file = server.path("stop")
    while loop.time() < deadline and not os.path.exists(stop_file):
        if server.done.is_set() or stopping.is_set():
            break
        await asyncio.sleep(0.05)
    listener.close()
    for task in list(server.tasks):
        task.cancel()
    if server.tasks:
        await asyncio.wait(list(server.tasks), timeout=5)
    if opts.unix and os.path.exists(opts.unix):
        os.unlink(opts.unix)
    return 1 if server.failed else 0


def main():
    p = argparse.ArgumentParser(
        description="scripted SMTP fault server (loopback only)")
    p.add_argument("--dir", required=True)
    p.add_argument("--script", action="append", required=True)
    p.add_argument("--connections", type=int, default=1)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--unix")
    p.add_argument("--tls", action="store_true")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--lifetime", type=float, default=300)
    p.add_argument("--expect-timeout", type=float, default=30)
    p.add_argument("--linger", type=float, default=2)
    p.add_argument("--seed", type=int, default=0)
    opts = p.parse_args()
    if opts.unix is None:
        check_loopback(opts.host)
    if not os.path.isdir(opts.dir):
        print("fault-server: --dir %s is not a directory" % opts.dir,
              file=sys.stderr)
        sys.exit(2)
    watchdog = threading.Timer(opts.lifetime + 15, os._exit, (3,))
    watchdog.daemon = True
    watchdog.start()
    sys.exit(asyncio.run(main_async(opts)))


if __name__ == "__main__":
    main()
