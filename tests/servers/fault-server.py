#!/usr/bin/python3
"""A scripted SMTP fault server: plays a script per connection.

For the faults a real server cannot produce on cue (split or trickled
replies, oversized replies, garbage, injected lines after STARTTLS,
disconnects in mid-reply, silence). Standard library only; listens only on
loopback or a Unix socket; stops by itself.

Usage:
  fault-server.py --dir DIR --script FILE [--script FILE2 ...] [options]
  fault-server.py --dir DIR --step STEP --fault FAULT [options]
  fault-server.py --dir DIR --matrix --cert FILE --key FILE [options]
  fault-server.py --step STEP --fault FAULT --print-script
  fault-server.py --dir DIR --sink [--drop-every N] [--shutdown-after K]
                  [--stall-every N --stall-at greeting|dot] [options]

  The fault matrix: --step and --fault play one generated script, the
  conversation of tests/integration/test_fault_matrix.c with FAULT at STEP
  (--print-script shows it). STEP is one of connect greeting ehlo starttls
  tls auth mail rcpt1 rcpt2 data content dot rset quit; FAULT one of 4xx
  5xx 421 close close-mid silence garbage oversized unsolicited trickle.
  --matrix listens for every cell at once, a port each, records in
  DIR/STEP.FAULT/; DIR/cells lists "STEP FAULT PORT CODE ENHANCED" (the
  code and enhanced code of the reply the fault sends, 0 and - for none)
  or "STEP FAULT n/a REASON", and DIR/port holds the number of cells.

  The sink: a small SMTP server for many messages (PIPELINING, RSET,
  NOOP), DIR/received gets "MESSAGE-ID conn=N" per stored message, and it
  fails on purpose: --drop-every N closes every Nth connection at its
  first MAIL; --shutdown-after K answers 421 to the MAIL after K messages
  of a connection; --stall-every N makes every Nth connection stall, at
  the greeting (it never comes) or at the dot (the message is stored and
  its final dot never answered). DIR/sink.log notes each fault.

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
  expect-close [tls]    wait for the client to close; fail if it sends
                        anything first (with tls: anything but whole TLS
                        records, so no plaintext after a failed handshake)
  expect-tls-record     read one TLS record (a ClientHello, say) without
                        doing TLS
  expect-bytes N        read N octets (of message content, say)
  starttls              TLS handshake (server side) with --cert/--key. Any
                        plaintext the client sent ahead is discarded and
                        logged as "TLS: discarded ..."
  sleep SECONDS         wait
  stall SECONDS         stop reading from the socket for SECONDS (the
                        client's writes back up), then go on
  silent                send nothing, record whatever arrives, until the
                        client closes (bounded by --lifetime)
  close                 close the connection (the script ends)
  stop-reading          stop reading from the socket for good
  half-close            send FIN (what was sent first is still read)
  hold                  end the script, leaving the connection open and
                        unread until the server stops

Transcript DIR/conn-N.log, one event per line (bytes escaped as above,
other non-printable and non-ASCII bytes as \\xNN, so "\\r\\n" shows the
client's line ends):
  # connection N from PEER
  C: EHLO client.example\\r\\n        a line the client sent
  S: 250-a\\r\\n250 b\\r\\n            what the server sent
  DATA: M 1234 octets -> conn-N.data-M
  BDAT: M 12 octets LAST -> conn-N.bdat-M
  C: TLS record type 22, 288 octets / C: 65536 octets
  TLS: ... / SLEEP ... / STALL ... / CLOSE / HALF-CLOSE / HOLD / EOF
  END ok | END fail: REASON
DIR/conn-N.done is created after the END line.
"""
import argparse
import asyncio
import copy
import ipaddress
import os
import random
import re
import signal
import socket
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
        with open(path, encoding="utf-8") as f:
            return parse_script_text(f.read())
    except ScriptError as e:
        raise ScriptError("%s: %s" % (path, e))


def parse_script_text(text):
    steps = []
    for lineno, line in enumerate(text.splitlines(), 1):
        step = parse_step(line, lineno)
        if step is not None:
            steps.append(step)
    return steps


def parse_step(line, lineno):
    """One script line as (name, argument, lineno), or None for a comment."""
    line = line.rstrip("\r\n")
    if not line.strip() or line.lstrip().startswith("#"):
        return None
    name, sep, rest = line.partition(" ")
    name = name.strip().lower()
    if name in ("send", "sendraw", "close-mid", "expect", "expect-exact"):
        return (name, rest, lineno)
    if name in ("trickle", "long-line", "repeat-line"):
        first, sep2, text = rest.partition(" ")
        kind = float if name == "trickle" else int
        return (name, (parse_number(first, kind, lineno), text), lineno)
    if name in ("sleep", "stall"):
        return (name, parse_number(rest.strip(), float, lineno), lineno)
    if name in ("garbage", "expect-bytes"):
        return (name, parse_number(rest.strip(), int, lineno), lineno)
    if name == "expect-bdat":
        arg = rest.strip().lower()
        if arg not in ("", "last", "more"):
            raise ScriptError("line %d: expect-bdat takes last or more"
                              % lineno)
        return (name, arg, lineno)
    if name == "expect-close":
        arg = rest.strip().lower()
        if arg not in ("", "tls"):
            raise ScriptError("line %d: expect-close takes nothing or tls"
                              % lineno)
        return (name, arg, lineno)
    if name in ("expect-data", "expect-tls-record", "starttls", "silent",
                "close", "half-close", "stop-reading", "hold"):
        if rest.strip():
            raise ScriptError("line %d: %s takes no argument"
                              % (lineno, name))
        return (name, None, lineno)
    raise ScriptError("line %d: unknown step %r" % (lineno, name))


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
        self.held = False  # "hold": left open, unread, until the server stops

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

    async def read_tls_record(self, timeout, what):
        """One TLS record (plaintext framing, before any handshake here):
        returns (content type, length); Fail on anything else."""
        header = await self.read_exactly(5, timeout, what)
        if not tls_header_ok(header):
            raise Fail("%s: not a TLS record: %s" % (what, escape(header)))
        size = int.from_bytes(header[3:5], "big")
        await self.read_exactly(size, timeout, what)
        return header[0], size

    async def drain_tls_until_eof(self, timeout, what):
        """Until EOF accept nothing but whole TLS records (an alert, say):
        proof that no plaintext follows a failed handshake. Returns the
        records seen as (type, length)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        records = []
        while True:
            while len(self.buf) >= 5:
                header = bytes(self.buf[:5])
                if not tls_header_ok(header):
                    raise Fail("%s: the client sent plaintext: %s"
                               % (what, escape(bytes(self.buf[:80]))))
                size = int.from_bytes(header[3:5], "big")
                if len(self.buf) < 5 + size:
                    break
                del self.buf[:5 + size]
                records.append((header[0], size))
                self.log("C: TLS record type %d, %d octets"
                         % (header[0], size))
            if self.eof:
                if self.buf:
                    raise Fail("%s: the client sent %d octets that are no "
                               "TLS record: %s" % (what, len(self.buf),
                                                   escape(bytes(self.buf))))
                return records
            left = deadline - loop.time()
            if left <= 0:
                raise Fail("%s: client still connected after %g s"
                           % (what, timeout))
            try:
                await self.wait_data(left)
            except asyncio.TimeoutError:
                pass

    def close(self):
        if self.held:
            return
        if self.tls is not None and self.tls_ready and not self.closed:
            try:
                self.tls.unwrap()
            except ssl.SSLError:
                pass
            self._flush()
        if not self.closed:
            self.transport.close()


def tls_header_ok(header):
    """A TLS record header: a known content type, protocol version 3.x."""
    return len(header) == 5 and 20 <= header[0] <= 23 and header[1] == 3


class FaultServer:
    """Plays scripts[N-1] to connection N (the last one again after that),
    writing its records into opts.dir."""

    def __init__(self, opts, scripts, ctx=None):
        self.opts = opts
        self.scripts = scripts
        self.count = 0
        self.failed = 0
        self.tasks = set()
        self.numbers = {}
        self.logs = {}
        self.listener = None
        self.done = asyncio.Event()
        self.rng = random.Random(opts.seed)
        self.ctx = ctx if ctx is not None else server_context(opts)
        if self.ctx is None and (opts.tls or any(
                s[0] == "starttls" for sc in self.scripts for s in sc)):
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
                elif name == "expect-close" and arg == "tls":
                    await conn.drain_tls_until_eof(
                        opts.expect_timeout,
                        "line %d (expect-close tls)" % lineno)
                    conn.log("EOF")
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
                elif name == "expect-tls-record":
                    kind, size = await conn.read_tls_record(
                        opts.expect_timeout,
                        "line %d (expect-tls-record)" % lineno)
                    conn.log("C: TLS record type %d, %d octets"
                             % (kind, size))
                elif name == "expect-bytes":
                    await conn.read_exactly(arg, opts.expect_timeout,
                                            "line %d (expect-bytes %d)"
                                            % (lineno, arg))
                    conn.log("C: %d octets" % arg)
                elif name == "stop-reading":
                    conn.log("STOP READING")
                    if not conn.closed:
                        conn.transport.pause_reading()
                elif name == "half-close":
                    conn.log("HALF-CLOSE")
                    if not conn.closed and conn.transport.can_write_eof():
                        conn.transport.write_eof()
                elif name == "hold":
                    conn.log("HOLD")
                    conn.held = True
                    break
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
                if not conn.closed and not conn.eof and not conn.held:
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
        write_atomically(self.path("conn-%d.done" % n), result + "\n")
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


def server_context(opts):
    if not (opts.cert and opts.key):
        return None
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(opts.cert, opts.key)
    return ctx


# ---- The fault matrix --------------------------------------------------------
#
# One generated script per (step, fault): the conversation a client of
# tests/integration/test_fault_matrix.c has (EHLO matrix.test, MAIL from
# alice@example.org to bob@ and carol@example.net, then NOOP or RSET, then
# QUIT), played normally up to STEP, where FAULT happens instead of the
# server's reply. No PIPELINING is offered, so every command is answered
# before the next is sent and a fault belongs to exactly one step.

MATRIX_STEPS = ("connect", "greeting", "ehlo", "starttls", "tls", "auth",
                "mail", "rcpt1", "rcpt2", "data", "content", "dot", "rset",
                "quit")
MATRIX_FAULTS = ("4xx", "5xx", "421", "close", "close-mid", "silence",
                 "garbage", "oversized", "unsolicited", "trickle")
MATRIX_EHLO = "matrix.test"
TRICKLE_SECONDS = 0.1       # one octet per 100 ms
CONTENT_PREFIX = 65536      # octets of content read before a mid-content fault
GARBAGE = r"\xde\xad\xbe\xef garbage \x01\x02\xff\xfe"
UNSOLICITED = "250 2.0.0 unsolicited"
POLITE_QUIT = ["expect-exact QUIT", "send 221 2.0.0 bye", "expect-close"]
RSET_OK = ["expect-exact RSET", "send 250 2.0.0 ok"]

# The refusal each step gets for 4xx and 5xx.
REFUSALS = {
    "greeting": ("451 mx.test busy, try later", "554 mx.test no service here"),
    "ehlo": ("451 try again later", "550 no EHLO for you"),
    "starttls": ("454 4.7.0 TLS not available now", "501 5.5.4 no TLS here"),
    "auth": ("454 4.7.0 temporary authentication failure",
             "535 5.7.8 bad credentials"),
    "mail": ("451 4.3.0 try again later", "550 5.7.1 sender refused"),
    "rcpt1": ("450 4.2.1 mailbox busy", "550 5.1.1 no such user"),
    "rcpt2": ("450 4.2.1 mailbox busy", "550 5.1.1 no such user"),
    "data": ("451 4.3.0 not now", "554 5.5.1 no valid recipients"),
    "content": ("451 4.3.0 stop sending", "552 5.3.4 message too big"),
    "dot": ("451 4.3.0 queue full", "554 5.7.1 message rejected"),
    "rset": ("451 4.3.0 not now", "502 5.5.1 RSET not implemented"),
    "quit": ("451 4.3.0 not now", "502 5.5.1 QUIT not implemented"),
}

NOT_APPLICABLE = {
    ("tls", "4xx"): "a TLS handshake carries no reply code",
    ("tls", "5xx"): "a TLS handshake carries no reply code",
    ("tls", "trickle"): "a handshake of about 1 KB at one octet per 100 ms "
                        "takes minutes; the starttls row trickles the 220",
    ("content", "trickle"): "no reply is due in the middle of the content; "
                            "a server that stops reading is the silence cell",
}
for _fault in MATRIX_FAULTS:
    if _fault not in ("close", "silence"):
        NOT_APPLICABLE[("connect", _fault)] = (
            "no reply exists before the TCP connection does; the greeting "
            "row sends each reply fault")


class NotApplicable(Exception):
    pass


def conversation(row):
    """The normal exchanges of a row's conversation: (name, lines reading
    the client's command, the server's reply, lines after the reply)."""
    ehlo = {"starttls": r"250-mx.test\r\n250 STARTTLS",
            "tls": r"250-mx.test\r\n250 STARTTLS",
            "auth": r"250-mx.test\r\n250 AUTH PLAIN"}.get(row, "250 mx.test")
    ex = [("greeting", [], "220 mx.test", []),
          ("ehlo", ["expect-exact EHLO " + MATRIX_EHLO], ehlo, [])]
    if row in ("starttls", "tls"):
        ex.append(("starttls", ["expect-exact STARTTLS"], "220 2.0.0 ready",
                   ["starttls"]))
        ex.append(("ehlo-tls", ["expect-exact EHLO " + MATRIX_EHLO],
                   "250 mx.test", []))
    if row == "auth":
        ex.append(("auth", ["expect AUTH PLAIN "], "235 2.7.0 ok", []))
    ex += [("mail", ["expect-exact MAIL FROM:<alice@example.org>"],
            "250 2.1.0 ok", []),
           ("rcpt1", ["expect-exact RCPT TO:<bob@example.net>"],
            "250 2.1.5 ok", []),
           ("rcpt2", ["expect-exact RCPT TO:<carol@example.net>"],
            "250 2.1.5 ok", []),
           ("data", ["expect-exact DATA"], "354 go ahead", []),
           ("dot", ["expect-data"], "250 2.0.0 queued", [])]
    if row == "rset":
        ex.append(("rset", ["expect-exact RSET"], "250 2.0.0 ok", []))
    if row != "quit":
        ex.append(("noop", ["expect-exact NOOP"], "250 2.0.0 ok", []))
    ex.append(("quit", ["expect-exact QUIT"], "221 2.0.0 bye",
               ["expect-close"]))
    return ex


def played(exchanges):
    lines = []
    for name, expects, reply, after in exchanges:
        lines += expects + ["send " + reply] + after
    return lines


def rest_after(exchanges, name):
    names = [e[0] for e in exchanges]
    return played(exchanges[names.index(name) + 1:])


def oversized(code):
    """A reply of 70 lines of 1000 octets: over the client's 64 KiB."""
    return ["repeat-line 70 %d-%s" % (code, "x" * 996),
            "send %d end of a very long reply" % code]


def refusal_continuation(step, fault, exchanges):
    if step in ("greeting", "starttls") or (step, fault) == ("ehlo", "4xx"):
        return POLITE_QUIT
    if step == "ehlo":
        return ["expect-exact HELO " + MATRIX_EHLO,
                "send 550 no HELO either"] + POLITE_QUIT
    if step in ("mail", "data", "dot"):
        return RSET_OK + rest_after(exchanges, "dot")
    if step == "content":
        return ["hold"]
    if step == "quit":
        return ["expect-close"]
    return rest_after(exchanges, step)  # auth, rcpt1, rcpt2, rset


def fault_lines(step, fault, exchanges, reply, after):
    """What the server does at the step instead of answering normally."""
    code = int(reply[:3])
    content, tls = step == "content", step == "tls"
    if fault in ("4xx", "5xx"):
        text = REFUSALS[step][fault == "5xx"]
        return ["send " + text] + refusal_continuation(step, fault, exchanges)
    if fault == "421":
        return ["send 421 4.3.2 closing"] + (
            ["half-close", "hold"] if content else ["close"])
    if fault == "close":
        # Mid-content a full close: the unread content makes it a reset
        # under the client's writes (EPIPE, and SIGPIPE where not ignored).
        return ["close"]
    if fault == "close-mid":
        if tls:  # a TLS record header and the start of a ServerHello
            return [r"sendraw \x16\x03\x03\x00\x40\x02\x00\x00\x3c\x03\x03",
                    "close"]
        partial = reply.split("\\r\\n")[0][:7]
        if content:
            return ["sendraw 451 4.3", "half-close", "hold"]
        return ["close-mid " + partial]
    if fault == "silence":
        return ["hold"] if content else [
            "expect-close tls" if tls else "expect-close"]
    end = ["hold"] if content else [
        "expect-close tls" if tls else "expect-close"]
    if fault == "garbage":
        return ["sendraw " + GARBAGE + r"\r\n"] + end
    if fault == "oversized":
        if tls:  # a record longer than TLS allows
            return [r"sendraw \x16\x03\x03\xff\xff", "garbage 64"] + end
        return oversized(code) + end
    if fault == "unsolicited":
        if content or tls:
            return ["send " + UNSOLICITED] + end
        if step == "starttls":
            return ["sendraw %s\\r\\n%s\\r\\n" % (reply, UNSOLICITED)] + \
                after + rest_after(exchanges, "starttls")
        return ["sendraw %s\\r\\n%s\\r\\n" % (reply, UNSOLICITED),
                "expect-close"]
    if fault == "trickle":
        return ["trickle %g %s" % (TRICKLE_SECONDS, reply)] + after + \
            rest_after(exchanges, step)
    raise NotApplicable("unknown fault %r" % fault)


def matrix_script(step, fault):
    """The script text of one cell; NotApplicable when the fault cannot
    happen at the step (or needs no script: the connect row)."""
    if step not in MATRIX_STEPS or fault not in MATRIX_FAULTS:
        raise ScriptError("no cell %s/%s (steps: %s; faults: %s)"
                          % (step, fault, " ".join(MATRIX_STEPS),
                             " ".join(MATRIX_FAULTS)))
    if (step, fault) in NOT_APPLICABLE:
        raise NotApplicable(NOT_APPLICABLE[(step, fault)])
    if step == "connect":
        raise NotApplicable("no script: the listener itself is the fault")
    exchanges = conversation(step)
    at = {"tls": "starttls", "content": "dot"}.get(step, step)
    names = [e[0] for e in exchanges]
    i = names.index(at)
    name, expects, reply, after = exchanges[i]
    lines = ["# fault matrix cell %s/%s (generated by fault-server.py)"
             % (step, fault)] + played(exchanges[:i])
    if step == "tls":
        lines += expects + ["send " + reply, "expect-tls-record"]
        reply = "220 2.0.0 ready"
    elif step == "content":
        lines += ["expect-bytes %d" % CONTENT_PREFIX, "stop-reading"]
        reply = "250 2.0.0 queued"
    else:
        lines += expects
    lines += fault_lines(step, fault, exchanges, reply, after)
    return "\n".join(lines) + "\n"


def cell_reply(step, fault):
    """The code and enhanced code ("-" for none) of the reply the fault
    sends, 0 when it sends none."""
    if fault in ("4xx", "5xx"):
        text = REFUSALS.get(step, ("000", "000"))[fault == "5xx"]
    elif fault == "421":
        text = "421 4.3.2 closing"
    elif fault == "unsolicited":
        text = UNSOLICITED
    else:
        return 0, "-"
    parts = text.split(" ")
    enhanced = parts[1] if re.fullmatch(r"[245]\.[0-9]+\.[0-9]+",
                                        parts[1]) else "-"
    return int(parts[0]), enhanced


def listening_socket(host, port, rcvbuf=None):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if rcvbuf:
        # Accepted sockets inherit it: a client blocked on a full socket
        # has written little, so a big message cannot reach its end.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.bind((host, port))
    sock.listen(64)
    sock.setblocking(False)
    return sock


def connect_fault_sockets(host, port, fault):
    """The connect row: a port that refuses (bound, never listening), or
    one that never completes a handshake (a listener with a backlog of 0,
    filled by a connection of its own, so the kernel drops new SYNs).
    Returns the sockets to keep open and the port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.bind((host, port))
    keep = [sock]
    if fault == "silence":
        sock.listen(0)
        keep.append(socket.create_connection(sock.getsockname()[:2]))
    return keep, sock.getsockname()[1]


class Listeners:
    """Everything main_async listens with, and the servers behind it."""

    def __init__(self):
        self.servers = []
        self.listeners = []
        self.sockets = []

    def close(self):
        for listener in self.listeners:
            listener.close()
        for sock in self.sockets:
            sock.close()

    def tasks(self):
        return [t for server in self.servers for t in server.tasks]

    def failed(self):
        return sum(server.failed for server in self.servers)

    def done(self):
        return any(server.done.is_set() for server in self.servers)


async def listen_for(listeners, server, opts, rcvbuf=None):
    loop = asyncio.get_running_loop()
    if opts.unix:
        if os.path.exists(opts.unix):
            os.unlink(opts.unix)
        listener = await loop.create_unix_server(lambda: Conn(server),
                                                 opts.unix)
        where = opts.unix
    else:
        sock = listening_socket(opts.host, opts.port, rcvbuf)
        listener = await loop.create_server(lambda: Conn(server), sock=sock)
        where = str(sock.getsockname()[1])
    server.listener = listener
    listeners.servers.append(server)
    listeners.listeners.append(listener)
    return where


async def start_cell(listeners, opts, step, fault, ctx):
    """Listen for one cell; returns its port, or raises NotApplicable."""
    if step == "connect" and (step, fault) not in NOT_APPLICABLE:
        keep, port = connect_fault_sockets(opts.host, opts.port, fault)
        listeners.sockets += keep
        return str(port)
    text = matrix_script(step, fault)
    if ctx is None and step in ("starttls", "tls"):
        raise NotApplicable("needs --cert and --key")
    server = FaultServer(opts, [parse_script_text(text)], ctx)
    return await listen_for(listeners, server, opts,
                            65536 if step == "content" else None)


def write_atomically(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.rename(path + ".tmp", path)


async def start_matrix(listeners, opts):
    """Every cell on a port of its own, records in DIR/STEP.FAULT/; the
    list in DIR/cells. Returns the number of cells listening."""
    ctx = server_context(opts)
    lines, count = [], 0
    for step in MATRIX_STEPS:
        for fault in MATRIX_FAULTS:
            cell = copy.copy(opts)
            cell.dir = os.path.join(opts.dir, "%s.%s" % (step, fault))
            cell.connections = 0
            cell.port = 0
            try:
                os.makedirs(cell.dir, exist_ok=True)
                port = await start_cell(listeners, cell, step, fault, ctx)
            except NotApplicable as e:
                lines.append("%s %s n/a %s" % (step, fault, e))
                continue
            code, enhanced = cell_reply(step, fault)
            lines.append("%s %s %s %d %s" % (step, fault, port, code,
                                             enhanced))
            count += 1
    write_atomically(os.path.join(opts.dir, "cells"), "\n".join(lines) + "\n")
    return count


# ---- The sink: a small SMTP server that misbehaves by the connection -------


class SinkServer:
    """Takes messages like a real server (pipelined input, RSET, NOOP),
    records each stored message's Message-ID in DIR/received, and fails on
    purpose: drops every Nth connection at its first MAIL, answers 421 to
    the MAIL after K messages, or stalls every Nth connection (no
    greeting, or no reply to a final dot it has stored)."""

    def __init__(self, opts):
        self.opts = opts
        self.count = 0
        self.failed = 0
        self.tasks = set()
        self.done = asyncio.Event()
        self.numbers = {}
        self.listener = None

    def path(self, name):
        return os.path.join(self.opts.dir, name)

    def note(self, text):
        with open(self.path("sink.log"), "a", encoding="ascii") as f:
            f.write(text + "\n")

    def accepted(self, conn):
        self.count += 1
        self.numbers[conn] = self.count
        task = asyncio.get_running_loop().create_task(self.play(conn))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def log(self, conn, text):
        pass

    def every(self, n, every):
        return every > 0 and n % every == 0

    async def line(self, conn):
        """The next command line, or None when the client has gone."""
        try:
            return await conn.read_until(b"\n", 65536, self.opts.lifetime,
                                         "command")
        except Fail:
            return None

    async def play(self, conn):
        n = self.numbers[conn]
        opts = self.opts
        stall = self.every(n, opts.stall_every)
        try:
            if stall and opts.stall_at == "greeting":
                self.note("conn %d: stall before the greeting" % n)
                await conn.drain_until_eof(opts.lifetime, "C")
                return
            await self.session(conn, n, stall)
        except asyncio.CancelledError:
            pass
        finally:
            conn.close()

    async def session(self, conn, n, stall):
        opts = self.opts
        stored = 0
        rcpts = None
        conn.write(b"220 mx.test ESMTP sink\r\n", quiet=True)
        while True:
            line = await self.line(conn)
            if line is None:
                return
            verb = line[:4].upper()
            if verb == b"EHLO":
                conn.write(b"250-mx.test\r\n250-PIPELINING\r\n"
                           b"250 8BITMIME\r\n", quiet=True)
            elif verb == b"HELO":
                conn.write(b"250 mx.test\r\n", quiet=True)
            elif verb == b"MAIL":
                if self.every(n, opts.drop_every):
                    self.note("conn %d: dropped at MAIL" % n)
                    return
                if opts.shutdown_after is not None and \
                        stored >= opts.shutdown_after:
                    self.note("conn %d: 421 after %d messages" % (n, stored))
                    conn.write(b"421 4.3.2 enough for this connection\r\n",
                               quiet=True)
                    return
                rcpts = 0
                conn.write(b"250 2.1.0 ok\r\n", quiet=True)
            elif verb == b"RCPT":
                if rcpts is None:
                    conn.write(b"503 5.5.1 MAIL first\r\n", quiet=True)
                else:
                    rcpts += 1
                    conn.write(b"250 2.1.5 ok\r\n", quiet=True)
            elif verb == b"DATA":
                if not rcpts:
                    conn.write(b"554 5.5.1 no valid recipients\r\n",
                               quiet=True)
                    continue
                conn.write(b"354 go ahead\r\n", quiet=True)
                try:
                    data = await conn.read_until(b"\r\n.\r\n", 1 << 26,
                                                 opts.lifetime, "data")
                except Fail:
                    return
                message_id = self.store(data, n)
                stored += 1
                rcpts = None
                if stall and opts.stall_at == "dot":
                    self.note("conn %d: stored %s, then stalled" % (
                        n, message_id))
                    await conn.drain_until_eof(opts.lifetime, "C")
                    return
                conn.write(b"250 2.0.0 queued as " + message_id + b"\r\n",
                           quiet=True)
            elif verb == b"RSET":
                rcpts = None
                conn.write(b"250 2.0.0 ok\r\n", quiet=True)
            elif verb == b"NOOP":
                conn.write(b"250 2.0.0 ok\r\n", quiet=True)
            elif verb == b"QUIT":
                conn.write(b"221 2.0.0 bye\r\n", quiet=True)
                return
            else:
                conn.write(b"500 5.5.2 what\r\n", quiet=True)

    def store(self, data, n):
        m = re.search(rb"(?im)^Message-ID:[ \t]*<([^>\r\n]*)>", data)
        message_id = m.group(1) if m else b"none"
        with open(self.path("received"), "ab") as f:
            f.write(message_id + b" conn=%d\n" % n)
        return message_id


# ---- Running -----------------------------------------------------------------


async def start_servers(listeners, opts):
    """Listen as the command line says; returns what DIR/port holds."""
    if opts.matrix:
        return str(await start_matrix(listeners, opts))
    if opts.sink:
        return await listen_for(listeners, SinkServer(opts), opts)
    if opts.step:
        return await start_cell(listeners, opts, opts.step, opts.fault,
                                server_context(opts))
    scripts = [parse_script(p) for p in opts.script]
    return await listen_for(listeners, FaultServer(opts, scripts), opts)


async def main_async(opts):
    loop = asyncio.get_running_loop()
    listeners = Listeners()
    try:
        where = await start_servers(listeners, opts)
    except (ScriptError, NotApplicable, OSError) as e:
        print("fault-server: %s" % e, file=sys.stderr)
        listeners.close()
        return 2
    with open(os.path.join(opts.dir, "pid"), "w") as f:
        f.write("%d\n" % os.getpid())
    write_atomically(os.path.join(opts.dir, "port"), where)

    stopping = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    deadline = loop.time() + opts.lifetime
    stop_file = os.path.join(opts.dir, "stop")
    while loop.time() < deadline and not os.path.exists(stop_file):
        if listeners.done() or stopping.is_set():
            break
        await asyncio.sleep(0.05)
    listeners.close()
    tasks = listeners.tasks()
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.wait(tasks, timeout=5)
    if opts.unix and os.path.exists(opts.unix):
        os.unlink(opts.unix)
    return 1 if listeners.failed() else 0


def print_cell(step, fault):
    try:
        sys.stdout.write(matrix_script(step, fault))
    except NotApplicable as e:
        print("# %s/%s: %s" % (step, fault, e))
    except ScriptError as e:
        print("fault-server: %s" % e, file=sys.stderr)
        sys.exit(2)


def main():
    p = argparse.ArgumentParser(
        description="scripted SMTP fault server (loopback only)")
    p.add_argument("--dir")
    p.add_argument("--script", action="append")
    p.add_argument("--step", help="a fault matrix cell: with --fault")
    p.add_argument("--fault")
    p.add_argument("--matrix", action="store_true",
                   help="every cell of the fault matrix, a port each")
    p.add_argument("--print-script", action="store_true",
                   help="print the script of --step/--fault and exit")
    p.add_argument("--sink", action="store_true",
                   help="a message sink that fails on purpose (see below)")
    p.add_argument("--drop-every", type=int, default=0)
    p.add_argument("--shutdown-after", type=int)
    p.add_argument("--stall-every", type=int, default=0)
    p.add_argument("--stall-at", choices=("greeting", "dot"),
                   default="greeting")
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
    if opts.print_script:
        if not (opts.step and opts.fault):
            p.error("--print-script needs --step and --fault")
        print_cell(opts.step, opts.fault)
        return
    modes = sum([bool(opts.script), bool(opts.step or opts.fault),
                 opts.matrix, opts.sink])
    if modes != 1 or bool(opts.step) != bool(opts.fault):
        p.error("give one of --script, --step with --fault, --matrix, --sink")
    if not opts.dir:
        p.error("--dir is required")
    if (opts.matrix or opts.step) and opts.unix:
        p.error("the fault matrix listens on TCP only")
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
