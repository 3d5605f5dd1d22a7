#!/usr/bin/python3
"""A configurable aiosmtpd server for asmtp's integration tests and demos.

Listens only on loopback (or on a Unix socket), stores every message it
accepts in a scratch directory, and stops by itself.

Usage:
  aiosmtpd-server.py --dir DIR [options]

Where and how long:
  --dir DIR            scratch directory (required, must exist). The server
                       writes DIR/port once it listens (via DIR/port.tmp and
                       a rename), DIR/pid, DIR/server.log, and one set of
                       files per accepted message (see below).
  --host ADDR          127.0.0.1 (default), ::1 or another literal
                       loopback address; anything else is refused.
  --port N             TCP port; default 0 = the kernel picks a free one.
  --unix PATH          listen on a Unix socket at PATH instead of TCP; PATH
                       is what DIR/port then contains. The socket file is
                       removed on exit.
  --lifetime SECONDS   stop after this long (default 300). The server also
                       stops when DIR/stop appears, and on SIGTERM/SIGINT.
  --timeout SECONDS    aiosmtpd's idle timeout per connection (default 300).
  --hostname NAME      name in the greeting and EHLO reply (default
                       localhost; never looked up).
  --ident TEXT         text after the name in the greeting.

TLS (certificates: see make-certs.sh):
  --starttls           offer STARTTLS (needs --cert and --key).
  --require-starttls   refuse everything but EHLO/NOOP/QUIT/STARTTLS before
                       TLS (aiosmtpd require_starttls; implies --starttls).
  --tls                implicit TLS (RFC 8314): TLS handshake on connect.
  --cert FILE --key FILE   server certificate chain and key (PEM).
  --client-ca FILE     ask for a client certificate and verify it with this
                       CA (optional for the client ...)
  --require-client-cert  ... or mandatory.

AUTH:
  --auth               offer AUTH (default mechanisms PLAIN LOGIN CRAM-MD5,
                       plus XOAUTH2 when a --token is given).
  --user NAME:PASSWORD account, repeatable. Split at the first colon; both
                       halves are taken as the exact bytes of the argument
                       (UTF-8 or anything else).
  --token NAME:TOKEN   XOAUTH2 bearer token for NAME, repeatable.
  --auth-mech LIST     comma-separated mechanisms to offer, e.g. PLAIN,LOGIN.
  --auth-require-tls   offer and accept AUTH only after TLS (aiosmtpd
                       auth_require_tls; off by default for loopback tests).
  --auth-required      refuse MAIL/RCPT/DATA/... before AUTH (530).

Extensions and limits:
  --smtputf8           enable_SMTPUTF8 (advertise SMTPUTF8, accept UTF-8
                       addresses and the SMTPUTF8 MAIL parameter).
  --size N             data_size_limit (advertised as SIZE N); 0 = no limit
                       and no SIZE keyword. Default: aiosmtpd's 33554432.
  --no-8bitmime        do not offer 8BITMIME (aiosmtpd decode_data=True):
                       BODY= is then refused with 555, and 8-bit content is
                       refused unless --smtputf8.
  --pipelining         advertise PIPELINING (aiosmtpd already reads
                       pipelined commands correctly; it just does not say so).
  --chunking           advertise CHUNKING and accept BDAT (RFC 3030). BDAT
                       is implemented here on top of aiosmtpd, which has none.
  --dsn                advertise DSN and accept RET/ENVID on MAIL and
                       NOTIFY/ORCPT on RCPT (recorded, not acted upon).

Canned refusals (real aiosmtpd handler hooks, for partial-failure tests):
  --mail-reply REGEX=REPLY  reply REPLY to MAIL FROM whose address matches
                       REGEX (re.search), e.g. '^bad@=550 5.7.1 Go away'.
  --rcpt-reply REGEX=REPLY  same for RCPT TO, repeatable; the first match
                       wins, e.g. 'nobody@=550 5.1.1 No such user'.
  --max-rcpt N         answer 452 4.5.3 Too many recipients to RCPT number
                       N+1 and later within one transaction.
  --data-reply REPLY   reply to the end of data with REPLY instead of
                       "250 2.0.0 stored as N"; a non-2xx REPLY stores nothing.

What is recorded, for message number N (1, 2, ... in order of acceptance;
all files are complete before the final reply is sent, N.envelope last):
  DIR/N.content   envelope.original_content: the message bytes exactly as
                  received, dot-unstuffed, final "." line removed (for
                  BDAT: the concatenated chunks).
  DIR/N.envelope  line 1 the MAIL FROM address, then one RCPT TO address
                  per line, then "mail_options: P1 P2 ..." and
                  "rcpt_options: P1 P2 ..." with the parameters exactly as
                  the client sent them (all recipients' parameters in
                  order, one space between). Addresses are the raw bytes
                  the client sent (UTF-8 with --smtputf8).
  DIR/N.json      the same plus details: per-recipient options, smtputf8,
                  transfer (DATA or BDAT and chunk sizes), helo name, tls
                  (version, cipher, client certificate subject), the login
                  name when authenticated, the peer.
  DIR/server.log  aiosmtpd's log (every command line, including AUTH lines:
                  test credentials only!) and this script's own notes.

Fixes over stock aiosmtpd 1.4.3 (so that a strict client sees a strict
server): "*" or bad base64 in a SASL exchange now gets exactly one 501
(stock sends 501 and then 535); AUTH mechanism names are case-insensitive;
AUTH is not advertised unless --auth is given.

Exit status 0 after a normal stop.
"""
import argparse
import asyncio
import base64
import collections
import hmac
import ipaddress
import json
import logging
import os
import re
import secrets
import signal
import ssl
import sys
import threading
import time
import weakref

from aiosmtpd.smtp import (MISSING, SMTP, AuthResult, Envelope, LoginPassword,
                           auth_mechanism)

log = logging.getLogger("asmtp.test-server")

ALL_MECHS = ("PLAIN", "LOGIN", "CRAM-MD5", "XOAUTH2")
AUTH_LINE_LIMIT = 12288  # RFC 4954 section 4


def fsbytes(text):
    """The exact bytes of a command-line argument."""
    return os.fsencode(text)


def wire(text):
    """aiosmtpd hands us str decoded with surrogateescape; get the bytes."""
    if text is None:
        return b""
    return text.encode("utf-8", "surrogateescape")


def wire_str(text):
    """For JSON: the wire bytes as UTF-8 where valid, else escaped."""
    return wire(text).decode("utf-8", "backslashreplace")


class CramData:
    def __init__(self, login, challenge, digest):
        self.login = login
        self.challenge = challenge
        self.digest = digest


class OAuthData:
    def __init__(self, login, token):
        self.login = login
        self.token = token


class Authenticator:
    """aiosmtpd 1.4 authenticator: (server, session, envelope, mech, data)."""

    def __init__(self, users, tokens):
        self.users = users
        self.tokens = tokens

    def __call__(self, server, session, envelope, mechanism, data):
        ok = False
        if isinstance(data, LoginPassword):
            expected = self.users.get(data.login)
            ok = expected is not None and hmac.compare_digest(
                expected, data.password)
        elif isinstance(data, CramData):
            password = self.users.get(data.login)
            if password is not None:
                want = hmac.new(password, data.challenge,
                                "md5").hexdigest().encode()
                ok = hmac.compare_digest(want, data.digest.lower())
        elif isinstance(data, OAuthData):
            expected = self.tokens.get(data.login)
            ok = expected is not None and hmac.compare_digest(
                expected, data.token)
        login = getattr(data, "login", b"")
        log.info("AUTH %s for %r: %s", mechanism, login,
                 "accepted" if ok else "refused")
        if ok:
            return AuthResult(success=True,
                              auth_data=LoginPassword(login, b""))
        return AuthResult(success=False, handled=False)


def split_params(text):
    return text.split() if text else []


class TestSMTP(SMTP):
    """aiosmtpd's SMTP with the additions listed in the module docstring."""

    def __init__(self, handler, opts, **kwargs):
        self.opts = opts
        # The stream reader's limit is line_length_limit (1001) at
        # construction, which cuts every line, AUTH lines and SASL responses
        # included, at 1001 octets. RFC 4954 allows 12288 for AUTH (long
        # XOAUTH2 tokens need it). Build the reader with room for that, then
        # restore 1001 for the DATA line check, which reads the attribute.
        self.line_length_limit = AUTH_LINE_LIMIT + 2
        super().__init__(handler, **kwargs)
        self.line_length_limit = SMTP.line_length_limit
        # aiosmtpd keeps the command limits in a class-level dict shared by
        # all connections; give each connection its own.
        self.command_size_limits = collections.defaultdict(
            lambda: SMTP.command_size_limit)
        self.command_size_limits["AUTH"] = AUTH_LINE_LIMIT
        self._sasl_replied = False

    # -- envelope bookkeeping ------------------------------------------

    def _create_envelope(self):
        env = Envelope()
        env.raw_mail_options = []
        env.raw_rcpt_options = []
        env.bdat_chunks = []
        env.bdat_data = bytearray()
        env.bdat_failed = None
        env.transfer = "DATA"
        return env

    def _address_and_params(self, keyword, arg):
        """(head, params) of 'FROM:<a> P1 P2' as sent; params may be []."""
        rest = self._strip_command_keyword(keyword, arg)
        if rest is None:
            return None, []
        address, params = self._getaddr(rest)
        if address is None or not params:
            return arg, []
        if not arg.endswith(params):
            return arg, []
        return arg[:len(arg) - len(params)].rstrip(), params.split()

    @staticmethod
    def _take(params, names):
        kept, taken = [], []
        for p in params:
            (taken if p.partition("=")[0].upper() in names else kept).append(p)
        return kept, taken

    async def smtp_MAIL(self, arg):
        params = []
        if arg is not None and self.session.extended_smtp:
            head, params = self._address_and_params("FROM:", arg)
            if head is not None and params:
                send = params
                if self.opts.dsn:
                    send, dsn = self._take(params, {"RET", "ENVID"})
                    for p in dsn:
                        name, _, value = p.partition("=")
                        if name.upper() == "RET" and value.upper() not in (
                                "FULL", "HDRS"):
                            return await self.push(
                                "501 5.5.4 RET must be FULL or HDRS")
                        if not value:
                            return await self.push(
                                "501 5.5.4 %s needs a value" % name.upper())
                arg = " ".join([head] + send)
        before = self.envelope.mail_from
        await super().smtp_MAIL(arg)
        if before is None and self.envelope.mail_from is not None:
            self.envelope.raw_mail_options = params

    async def smtp_RCPT(self, arg):
        params = []
        if arg is not None and self.session.extended_smtp:
            head, params = self._address_and_params("TO:", arg)
            if head is not None and params:
                send = params
                if self.opts.dsn:
                    send, dsn = self._take(params, {"NOTIFY", "ORCPT"})
                    for p in dsn:
                        name, _, value = p.partition("=")
                        if not value:
                            return await self.push(
                                "501 5.5.4 %s needs a value" % name.upper())
                        if name.upper() == "NOTIFY":
                            words = value.upper().split(",")
                            if not (words == ["NEVER"] or set(words) <= {
                                    "SUCCESS", "FAILURE", "DELAY"}):
                                return await self.push(
                                    "501 5.5.4 Bad NOTIFY value")
                arg = " ".join([head] + send)
        count = len(self.envelope.rcpt_tos)
        await super().smtp_RCPT(arg)
        if len(self.envelope.rcpt_tos) > count:
            self.envelope.raw_rcpt_options.append(params)

    # -- AUTH ------------------------------------------------------------

    async def smtp_AUTH(self, arg):
        if not self.opts.auth:
            return await self.push('500 Error: command "AUTH" not recognized')
        if arg:
            mech, sep, rest = arg.partition(" ")
            arg = mech.upper() + sep + rest
        self._sasl_replied = False
        await super().smtp_AUTH(arg)

    async def challenge_auth(self, challenge, encode_to_b64=True,
                             log_client_response=False):
        result = await super().challenge_auth(
            challenge, encode_to_b64, log_client_response)
        if result is MISSING:
            # Stock aiosmtpd already sent 501 here ("*" or bad base64).
            self._sasl_replied = True
        return result

    def _fix(self, result):
        if self._sasl_replied and not result.success:
            return AuthResult(success=False, handled=True)
        return result

    async def auth_PLAIN(self, _, args):
        if len(args) == 2 and args[1] == "=":
            args = [args[0]]  # RFC 4954 empty initial response: prompt
        return self._fix(await super().auth_PLAIN(_, args))

    async def auth_LOGIN(self, _, args):
        return self._fix(await super().auth_LOGIN(_, args))

    @auth_mechanism("CRAM-MD5")
    async def auth_CRAM_MD5(self, _, args):
        if len(args) > 1:
            await self.push("501 5.5.2 CRAM-MD5 takes no initial response")
            return AuthResult(success=False, handled=True)
        challenge = ("<%d.%d@%s>" % (secrets.randbits(48), int(time.time()),
                                     self.hostname)).encode()
        response = await self.challenge_auth(challenge)
        if response is MISSING:
            return AuthResult(success=False, handled=True)
        login, sep, digest = response.rpartition(b" ")
        if not sep or not login or not re.fullmatch(rb"[0-9a-fA-F]{32}",
                                                    digest):
            await self.push("501 5.5.2 Bad CRAM-MD5 response")
            return AuthResult(success=False, handled=True)
        return self._authenticate("CRAM-MD5",
                                  CramData(login, challenge, digest))

    @auth_mechanism("XOAUTH2")
    async def auth_XOAUTH2(self, _, args):
        if len(args) == 2:
            try:
                blob = base64.b64decode(args[1].encode(), validate=True)
            except Exception:
                await self.push("501 5.5.2 Can't decode base64")
                return AuthResult(success=False, handled=True)
        else:
            blob = await self.challenge_auth(b"")
            if blob is MISSING:
                return AuthResult(success=False, handled=True)
        fields = blob.split(b"\x01")
        login = token = None
        for f in fields:
            if f.startswith(b"user="):
                login = f[5:]
            elif f.lower().startswith(b"auth=bearer "):
                token = f[12:]
        if login is None or token is None or fields[-2:] != [b"", b""]:
            await self.push("501 5.5.2 Bad XOAUTH2 initial response")
            return AuthResult(success=False, handled=True)
        result = self._authenticate("XOAUTH2", OAuthData(login, token))
        if result.success:
            return result
        # Failure the way Gmail does it: a 334 with a JSON error, the client
        # answers with an empty line, then the final 535.
        error = json.dumps({"status": "401", "schemes": "bearer",
                            "scope": "https://mail.google.com/"}).encode()
        answer = await self.challenge_auth(error)
        if answer is MISSING:
            return AuthResult(success=False, handled=True)
        return AuthResult(success=False, handled=False,
                          message="535 5.7.8 Username and Password not "
                                  "accepted")

    # -- DATA and BDAT ---------------------------------------------------

    async def smtp_DATA(self, arg):
        if self.envelope.bdat_chunks:
            return await self.push("503 5.5.1 Error: BDAT in progress, "
                                   "DATA not allowed")
        await super().smtp_DATA(arg)

    async def _read_octets(self, size, keep):
        """Read exactly size octets; keep at most `keep` of them."""
        data = bytearray()
        remaining = size
        while remaining:
            piece = await self._reader.readexactly(min(remaining, 65536))
            remaining -= len(piece)
            if len(data) < keep:
                data += piece[:keep - len(data)]
            self._reset_timeout()
        return bytes(data)

    async def smtp_BDAT(self, arg):
        if not self.opts.chunking:
            return await self.push('500 Error: command "BDAT" not recognized')
        m = re.fullmatch(r"([0-9]{1,18})(?: +(LAST))? *", arg or "", re.I)
        if not m:
            return await self.push("501 5.5.4 Syntax: BDAT chunk-size [LAST]")
        size, last = int(m.group(1)), m.group(2) is not None
        env = self.envelope
        limit = self.data_size_limit
        room = size
        if limit:
            room = max(0, min(size, limit - len(env.bdat_data)))
        chunk = await self._read_octets(size, room)
        if await self.check_helo_needed():
            return
        if await self.check_auth_needed("BDAT"):
            return
        if not env.rcpt_tos:
            return await self.push("503 5.5.1 Error: need RCPT command")
        if env.bdat_failed:
            return await self.push("554 5.5.0 Error: this transaction "
                                   "already failed (%s); send RSET"
                                   % env.bdat_failed)
        env.bdat_chunks.append(size)
        env.transfer = "BDAT"
        if len(chunk) < size:
            env.bdat_failed = "too much mail data"
            return await self.push("552 5.3.4 Error: Too much mail data")
        env.bdat_data += chunk
        if not last:
            return await self.push("250 2.0.0 %d octets received" % size)
        content = bytes(env.bdat_data)
        env.original_content = content
        env.content = content
        status = await self._call_handler_hook("DATA")
        self._set_post_data_state()
        await self.push("250 OK" if status is MISSING else status)


class Store:
    """aiosmtpd handler: EHLO tailoring, canned refusals, storage."""

    def __init__(self, opts):
        self.opts = opts
        self.count = 0

    async def handle_EHLO(self, server, session, envelope, hostname,
                          responses):
        session.host_name = hostname
        out = []
        for line in responses[:-1]:
            keyword = line[4:].split(" ")[0].upper()
            if keyword == "AUTH" and not self.opts.auth:
                continue
            out.append(line)
        if self.opts.pipelining:
            out.append("250-PIPELINING")
        if self.opts.chunking:
            out.append("250-CHUNKING")
        if self.opts.dsn:
            out.append("250-DSN")
            server.command_size_limits["MAIL"] += 100  # ENVID, RFC 3461
            server.command_size_limits["RCPT"] += 500  # ORCPT
        out.append(responses[-1])
        return out

    @staticmethod
    def _rule(rules, address):
        for regex, reply in rules:
            if regex.search(address):
                return reply
        return None

    async def handle_MAIL(self, server, session, envelope, address, options):
        reply = self._rule(self.opts.mail_reply, address)
        if reply is not None and not reply.startswith("2"):
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return reply or "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, options):
        if self.opts.max_rcpt and len(envelope.rcpt_tos) >= self.opts.max_rcpt:
            return "452 4.5.3 Too many recipients"
        reply = self._rule(self.opts.rcpt_reply, address)
        if reply is not None and not reply.startswith("2"):
            return reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return reply or "250 OK"

    async def handle_DATA(self, server, session, envelope):
        reply = self.opts.data_reply
        if reply is not None and not reply.startswith("2"):
            log.info("refusing message from %r as told: %s",
                     envelope.mail_from, reply)
            return reply
        self.count += 1
        number = self.count
        base = os.path.join(self.opts.dir, str(number))
        content = envelope.original_content
        if content is None:
            content = envelope.content
        if isinstance(content, str):
            content = wire(content)
        mail_opts = getattr(envelope, "raw_mail_options", [])
        rcpt_opts = getattr(envelope, "raw_rcpt_options", [])
        flat = [p for group in rcpt_opts for p in group]
        lines = [wire(envelope.mail_from)]
        lines += [wire(r) for r in envelope.rcpt_tos]
        lines.append(wire("mail_options: " + " ".join(mail_opts)))
        lines.append(wire("rcpt_options: " + " ".join(flat)))
        login = session.auth_data.login if (
            session.authenticated and session.auth_data is not None) else None
        details = {
            "number": number,
            "mail_from": wire_str(envelope.mail_from),
            "rcpt_tos": [wire_str(r) for r in envelope.rcpt_tos],
            "mail_options": [wire_str(p) for p in mail_opts],
            "rcpt_options": [[wire_str(p) for p in g] for g in rcpt_opts],
            "smtputf8": bool(envelope.smtp_utf8),
            "transfer": getattr(envelope, "transfer", "DATA"),
            "bdat_chunks": getattr(envelope, "bdat_chunks", []),
            "size": len(content),
            "helo": wire_str(session.host_name),
            "tls": tls_info(server),
            "auth_login": (login.decode("utf-8", "backslashreplace")
                           if login is not None else None),
            "peer": str(session.peer),
        }
        write_file(base + ".content", content)
        write_file(base + ".json",
                   (json.dumps(details, indent=1) + "\n").encode())
        write_file(base + ".envelope", b"".join(x + b"\n" for x in lines))
        log.info("stored message %d: %d octets from %r to %r", number,
                 len(content), envelope.mail_from, envelope.rcpt_tos)
        return reply or "250 2.0.0 stored as %d" % number


def tls_info(server):
    transport = server.transport
    obj = transport.get_extra_info("ssl_object") if transport else None
    if obj is None:
        return None
    info = {"version": obj.version(), "cipher": obj.cipher()[0],
            "mode": "starttls" if server._tls_protocol else "tls",
            "client_cert": None}
    cert = obj.getpeercert()
    if cert:
        info["client_cert"] = dict(x[0] for x in cert.get("subject", ()))
    return info


def write_file(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, path)


def parse_pair(text, what):
    name, sep, value = text.partition(":")
    if not sep or not name:
        raise argparse.ArgumentTypeError("%s must be NAME:VALUE" % what)
    return name, value


def parse_rule(text):
    m = re.fullmatch(r"(.*)=([2-5][0-9][0-9](?:[ -].*)?)", text, re.S)
    if not m:
        raise argparse.ArgumentTypeError(
            "expected REGEX=REPLY with a 3-digit reply code")
    return re.compile(m.group(1)), m.group(2)


def check_loopback(host):
    # A literal address only: "localhost" may resolve to both 127.0.0.1 and
    # ::1, and with --port 0 each would get a different port.
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    sys.exit("aiosmtpd-server: refusing to listen on non-loopback "
             "address %r" % host)


def make_parser():
    p = argparse.ArgumentParser(
        description="aiosmtpd test server for asmtp (loopback only)",
        epilog="See the module docstring for what is recorded.")
    p.add_argument("--dir", required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--unix")
    p.add_argument("--lifetime", type=float, default=300)
    p.add_argument("--timeout", type=float, default=300)
    p.add_argument("--hostname", default="localhost")
    p.add_argument("--ident")
    p.add_argument("--starttls", action="store_true")
    p.add_argument("--require-starttls", action="store_true")
    p.add_argument("--tls", action="store_true")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--client-ca")
    p.add_argument("--require-client-cert", action="store_true")
    p.add_argument("--auth", action="store_true")
    p.add_argument("--user", action="append", default=[],
                   type=lambda t: parse_pair(t, "--user"))
    p.add_argument("--token", action="append", default=[],
                   type=lambda t: parse_pair(t, "--token"))
    p.add_argument("--auth-mech")
    p.add_argument("--auth-require-tls", action="store_true")
    p.add_argument("--auth-required", action="store_true")
    p.add_argument("--smtputf8", action="store_true")
    p.add_argument("--size", type=int)
    p.add_argument("--no-8bitmime", action="store_true")
    p.add_argument("--pipelining", action="store_true")
    p.add_argument("--chunking", action="store_true")
    p.add_argument("--dsn", action="store_true")
    p.add_argument("--mail-reply", action="append", default=[],
                   type=parse_rule)
    p.add_argument("--rcpt-reply", action="append", default=[],
                   type=parse_rule)
    p.add_argument("--max-rcpt", type=int, default=0)
    p.add_argument("--data-reply")
    return p


def tls_context(opts):
    if not (opts.cert and opts.key):
        sys.exit("aiosmtpd-server: --starttls/--tls need --cert and --key")
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(opts.cert, opts.key)
    if opts.client_ca:
        ctx.load_verify_locations(opts.client_ca)
        ctx.verify_mode = (ssl.CERT_REQUIRED if opts.require_client_cert
                           else ssl.CERT_OPTIONAL)
    return ctx


async def serve(opts):
    loop = asyncio.get_running_loop()
    ctx = tls_context(opts) if (opts.starttls or opts.tls) else None
    users = {fsbytes(n): fsbytes(p) for n, p in opts.user}
    tokens = {fsbytes(n): fsbytes(t) for n, t in opts.token}
    if opts.auth_mech:
        mechs = {m.strip().upper() for m in opts.auth_mech.split(",")
                 if m.strip()}
        unknown = mechs - set(ALL_MECHS)
        if unknown:
            sys.exit("aiosmtpd-server: unknown mechanism(s) %s"
                     % ", ".join(sorted(unknown)))
    else:
        mechs = {"PLAIN", "LOGIN", "CRAM-MD5"}
        if tokens:
            mechs.add("XOAUTH2")
    handler = Store(opts)
    authenticator = Authenticator(users, tokens)
    size = opts.size
    kwargs = dict(
        hostname=opts.hostname,
        enable_SMTPUTF8=opts.smtputf8,
        decode_data=opts.no_8bitmime,
        tls_context=ctx if opts.starttls else None,
        require_starttls=opts.require_starttls,
        timeout=opts.timeout,
        auth_required=opts.auth_required,
        auth_require_tls=opts.auth_require_tls,
        auth_exclude_mechanism=[m for m in ALL_MECHS if m not in mechs],
        authenticator=authenticator,
        loop=loop,
    )
    if opts.ident:
        kwargs["ident"] = opts.ident
    if size is not None:
        kwargs["data_size_limit"] = size or None
    live = weakref.WeakSet()

    def factory():
        proto = TestSMTP(handler, opts, **kwargs)
        live.add(proto)
        return proto

    implicit = ctx if opts.tls else None
    if opts.unix:
        if os.path.exists(opts.unix):
            os.unlink(opts.unix)
        server = await loop.create_unix_server(factory, opts.unix,
                                               ssl=implicit)
        where = opts.unix
    else:
        server = await loop.create_server(factory, opts.host, opts.port,
                                          ssl=implicit, reuse_address=True)
        where = str(server.sockets[0].getsockname()[1])
    write_file(os.path.join(opts.dir, "pid"), b"%d\n" % os.getpid())
    tmp = os.path.join(opts.dir, "port.tmp")
    with open(tmp, "w") as f:
        f.write(where)
    os.rename(tmp, os.path.join(opts.dir, "port"))
    log.info("listening on %s (%s)%s%s%s", where,
             opts.unix and "unix" or opts.host,
             " STARTTLS" if opts.starttls else "",
             " TLS" if opts.tls else "",
             " AUTH " + " ".join(sorted(mechs)) if opts.auth else "")

    stopping = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    deadline = loop.time() + opts.lifetime
    stop_file = os.path.join(opts.dir, "stop")
    reason = "lifetime over"
    while loop.time() < deadline:
        if os.path.exists(stop_file):
            reason = "stop file"
            break
        try:
            await asyncio.wait_for(stopping.wait(), 0.05)
            reason = "signal"
            break
        except asyncio.TimeoutError:
            pass
    log.info("stopping: %s", reason)
    server.close()
    for proto in list(live):
        if proto.transport is not None:
            proto.transport.close()
    await asyncio.sleep(0.1)
    if opts.unix and os.path.exists(opts.unix):
        os.unlink(opts.unix)


def main():
    opts = make_parser().parse_args()
    if opts.require_starttls:
        opts.starttls = True
    if opts.starttls and opts.tls:
        sys.exit("aiosmtpd-server: choose --starttls or --tls, not both")
    if opts.unix is None:
        check_loopback(opts.host)
    if not os.path.isdir(opts.dir):
        sys.exit("aiosmtpd-server: --dir %s is not a directory" % opts.dir)
    opts.dir = os.path.abspath(opts.dir)
    logging.basicConfig(
        filename=os.path.join(opts.dir, "server.log"), level=logging.INFO,
        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.captureWarnings(True)
    # Last line of defence: whatever happens, do not outlive the lifetime.
    watchdog = threading.Timer(opts.lifetime + 15, os._exit, (3,))
    watchdog.daemon = True
    watchdog.start()
    asyncio.run(serve(opts))


if __name__ == "__main__":
    main()
