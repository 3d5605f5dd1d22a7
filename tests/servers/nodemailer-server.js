#!/usr/bin/env node
// A test server on nodemailer's smtp-server (npm), for the interop suite:
// plaintext, STARTTLS or implicit TLS; AUTH PLAIN, LOGIN, CRAM-MD5 and
// XOAUTH2; PIPELINING, 8BITMIME, SMTPUTF8, ENHANCEDSTATUSCODES, DSN and
// SIZE. Kept to the house rules of tests/servers/README.md: loopback only,
// everything under --dir, DIR/port once listening, stops by itself.
//
//   node nodemailer-server.js --dir DIR [--host 127.0.0.1|::1] [--port N]
//       [--lifetime S] [--hostname NAME] [--tls | --no-starttls]
//       [--cert FILE --key FILE] [--auth] [--auth-required]
//       [--user NAME:PASSWORD ...] [--token NAME:TOKEN ...] [--size N]
//
// Message N (1, 2, ... in the order accepted) is stored as DIR/N.eml, the
// bytes smtp-server hands over (dot-unstuffed, without the final dot line;
// the server adds no header), then DIR/N.json, its envelope: mailFrom,
// rcptTo (addresses as the client sent them), mailArgs, rcptArgs, dsn,
// bodyType, smtpUtf8, tls, user, helo. The reply is "250 2.0.0 stored as
// N". DIR/server.log has one line per event; DIR/pid the PID.
// Install the module first: tests/servers/install-node-deps.sh.
'use strict';

const fs = require('node:fs');
const path = require('node:path');

let SMTPServer;
try {
    ({ SMTPServer } = require('smtp-server'));
} catch (err) {
    process.stderr.write('nodemailer-server.js: the smtp-server module is ' +
        'missing; run tests/servers/install-node-deps.sh\n');
    process.exit(77);
}

function usage(text) {
    process.stderr.write('nodemailer-server.js: ' + text + '\n');
    process.exit(2);
}

function parseArgs(argv) {
    const opts = {
        host: '127.0.0.1', port: 0, lifetime: 300, hostname: 'localhost',
        tls: false, starttls: true, cert: null, key: null, auth: false,
        authRequired: false, users: new Map(), tokens: new Map(),
        size: 33554432, dir: null
    };
    for (let i = 0; i < argv.length; i++) {
        const name = argv[i];
        const value = () => {
            if (i + 1 >= argv.length) {
                usage(name + ' needs a value');
            }
            return argv[++i];
        };
        const account = (map) => {
            const v = value();
            const colon = v.indexOf(':');
            if (colon < 1) {
                usage(name + ' takes NAME:SECRET');
            }
            map.set(v.slice(0, colon), v.slice(colon + 1));
        };
        switch (name) {
        case '--dir': opts.dir = value(); break;
        case '--host': opts.host = value(); break;
        case '--port': opts.port = Number(value()); break;
        case '--lifetime': opts.lifetime = Number(value()); break;
        case '--hostname': opts.hostname = value(); break;
        case '--tls': opts.tls = true; break;
        case '--no-starttls': opts.starttls = false; break;
        case '--cert': opts.cert = value(); break;
        case '--key': opts.key = value(); break;
        case '--auth': opts.auth = true; break;
        case '--auth-required': opts.auth = true; opts.authRequired = true;
            break;
        case '--user': account(opts.users); break;
        case '--token': account(opts.tokens); break;
        case '--size': opts.size = Number(value()); break;
        default: usage('unknown option ' + name);
        }
    }
    if (!opts.dir) {
        usage('--dir is required');
    }
    if (opts.host !== '127.0.0.1' && opts.host !== '::1') {
        usage('--host must be 127.0.0.1 or ::1 (loopback only)');
    }
    if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535 ||
        !(opts.lifetime > 0) || !Number.isInteger(opts.size) ||
        opts.size < 0) {
        usage('bad --port, --lifetime or --size');
    }
    if ((opts.tls || opts.starttls) && !(opts.cert && opts.key)) {
        if (opts.tls) {
            usage('--tls needs --cert and --key');
        }
        opts.starttls = false;
    }
    return opts;
}

const opts = parseArgs(process.argv.slice(2));
const dir = path.resolve(opts.dir);
const logFile = fs.openSync(path.join(dir, 'server.log'), 'a');

function log(text) {
    fs.writeSync(logFile, new Date().toISOString() + ' ' + text + '\n');
}

function writeAtomically(file, data) {
    fs.writeFileSync(file + '.tmp', data);
    fs.renameSync(file + '.tmp', file);
}

let stored = 0;

function onAuth(auth, session, callback) {
    const user = auth.username;
    let ok = false;
    if (auth.method === 'XOAUTH2') {
        ok = opts.tokens.has(user) &&
            opts.tokens.get(user) === auth.accessToken;
        if (!ok) {
            log('AUTH XOAUTH2 for ' + JSON.stringify(user) + ': refused');
            return callback(null, {
                data: { status: '401', schemes: 'bearer', scope: 'mail' }
            });
        }
    } else if (opts.users.has(user)) {
        const password = opts.users.get(user);
        ok = auth.method === 'CRAM-MD5' ? auth.validatePassword(password)
            : auth.password === password;
    }
    log('AUTH ' + auth.method + ' for ' + JSON.stringify(user) + ': ' +
        (ok ? 'accepted' : 'refused'));
    if (!ok) {
        const err = new Error('5.7.8 Authentication credentials invalid');
        err.responseCode = 535;
        return callback(err);
    }
    return callback(null, { user });
}

function onData(stream, session, callback) {
    const chunks = [];
    stream.on('data', (chunk) => chunks.push(chunk));
    stream.on('end', () => {
        if (stream.sizeExceeded) {
            log('message over the SIZE limit refused');
            const err = new Error('5.3.4 Message too big for this server');
            err.responseCode = 552;
            return callback(err);
        }
        const n = ++stored;
        const env = session.envelope;
        const record = {
            mailFrom: env.mailFrom ? env.mailFrom.address : null,
            rcptTo: env.rcptTo.map((r) => r.address),
            mailArgs: env.mailFrom ? env.mailFrom.args || {} : {},
            rcptArgs: env.rcptTo.map((r) => r.args || {}),
            rcptDsn: env.rcptTo.map((r) => r.dsn || null),
            dsn: env.dsn || null,
            bodyType: env.bodyType || null,
            smtpUtf8: Boolean(env.smtpUtf8),
            size: stream.byteLength,
            tls: session.secure ? session.tlsOptions : null,
            user: session.user || null,
            helo: session.hostNameAppearsAs || null
        };
        const base = path.join(dir, String(n));
        writeAtomically(base + '.eml', Buffer.concat(chunks));
        writeAtomically(base + '.json',
            JSON.stringify(record, null, 1) + '\n');
        log('stored message ' + n + ': ' + stream.byteLength +
            ' octets from <' + record.mailFrom + '> for ' +
            record.rcptTo.length + ' recipient(s)');
        return callback(null, '2.0.0 stored as ' + n);
    });
}

const disabled = [];
if (!opts.auth) {
    disabled.push('AUTH');
}
if (!opts.starttls || opts.tls) {
    disabled.push('STARTTLS');
}
const serverOptions = {
    name: opts.hostname,
    banner: 'nodemailer smtp-server (asmtp interop)',
    secure: opts.tls,
    disabledCommands: disabled,
    authMethods: ['PLAIN', 'LOGIN', 'CRAM-MD5', 'XOAUTH2'],
    authOptional: !opts.authRequired,
    allowInsecureAuth: true,
    maxAllowedUnauthenticatedCommands: false,
    disableReverseLookup: true,
    hideENHANCEDSTATUSCODES: false,
    hideDSN: false,
    logger: false,
    onAuth,
    onData
};
if (opts.size > 0) {
    serverOptions.size = opts.size;
    serverOptions.rejectOversized = true;
}
if (opts.cert) {
    serverOptions.cert = fs.readFileSync(opts.cert);
    serverOptions.key = fs.readFileSync(opts.key);
}

const server = new SMTPServer(serverOptions);
let stopping = false;

function stop(reason) {
    if (stopping) {
        return;
    }
    stopping = true;
    log('stopping: ' + reason);
    server.close(() => process.exit(0));
    // Open connections get closeTimeout (30 s) by default; do not wait.
    setTimeout(() => process.exit(0), 2000).unref();
}

server.on('error', (err) => log('error: ' + err.message));
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));

server.listen(opts.port, opts.host, () => {
    const port = server.server.address().port;
    fs.writeFileSync(path.join(dir, 'pid'), String(process.pid) + '\n');
    writeAtomically(path.join(dir, 'port'), String(port) + '\n');
    log('listening on ' + opts.host + ' port ' + port +
        (opts.tls ? ' (implicit TLS)' : opts.starttls ? ' (STARTTLS)' : ''));
});

setTimeout(() => stop('lifetime of ' + opts.lifetime + ' s over'),
    opts.lifetime * 1000).unref();
// The watchdog: whatever happens, the process ends 15 s after its lifetime.
setTimeout(() => process.exit(1), (opts.lifetime + 15) * 1000).unref();
setInterval(() => {
    if (fs.existsSync(path.join(dir, 'stop'))) {
        stop(path.join(dir, 'stop') + ' appeared');
    }
}, 200).unref();
// Keep the process alive while listening (the timers above are unref'd).
setInterval(() => {}, 1 << 30);
