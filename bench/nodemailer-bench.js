#!/usr/bin/env node
// nodemailer as a benchmark peer: one pooled transport (pool: true,
// maxConnections c, maxMessages Infinity) kept fed with twice as many
// messages as it has connections. Messages go raw with an envelope, or
// are composed by nodemailer from fields. Prints one line of results in
// the format the other bench clients share; the CPU time is that of the
// sending, start-up left out. Install nodemailer with install-node-deps.sh.
'use strict';

const nodemailer = require('nodemailer');
const { version } = require('nodemailer/package.json');

const SENDER = 'sender@bench.example';
const RECIPIENT = 'rcpt@bench.example';
const HEADERS =
    'From: <sender@bench.example>\r\n' +
    'To: <rcpt@bench.example>\r\n' +
    'Subject: benchmark message\r\n' +
    'Message-ID: <bench@bench.example>\r\n' +
    '\r\n';

function usage(status) {
    const text =
        'usage: nodemailer-bench.js -p PORT [-H HOST] [-n MESSAGES] ' +
        '[-c CONNECTIONS] [-s SIZE] [-m raw|message] [-t SECONDS]\n';
    (status === 0 ? process.stdout : process.stderr).write(text);
    process.exit(status);
}

function parseArguments(argv) {
    const set = {
        host: '127.0.0.1', port: 0, messages: 5000, connections: 1,
        size: 2048, mode: 'raw', timeout: 60,
    };
    const numeric = { p: 'port', n: 'messages', c: 'connections', s: 'size',
                      t: 'timeout' };
    for (let i = 0; i < argv.length; i++) {
        const flag = argv[i].replace(/^-/, '');
        const value = argv[i + 1];
        if (flag === 'h') {
            usage(0);
        }
        if (value === undefined) {
            usage(2);
        }
        i++;
        if (flag === 'H') {
            set.host = value;
        } else if (flag === 'm' && (value === 'raw' || value === 'message')) {
            set.mode = value;
        } else if (numeric[flag] && /^[1-9][0-9]*$/.test(value)) {
            set[numeric[flag]] = Number(value);
        } else {
            usage(2);
        }
    }
    if (set.port === 0) {
        usage(2);
    }
    return set;
}

// Lines of 76 letters, like the other clients' messages.
function bodyText(size, eol) {
    const line = Array.from({ length: 76 },
        (_, i) => String.fromCharCode(97 + i % 26)).join('') + eol;
    const want = Math.max(size, eol.length);
    const text = line.repeat(Math.floor(want / line.length) + 1);
    return text.slice(0, want - eol.length) + eol;
}

function rawMessage(size) {
    return Buffer.from(HEADERS + bodyText(size - HEADERS.length, '\r\n'));
}

// nodemailer composes the message from fields, adding headers of its own
// (Date, Message-ID, MIME-Version, Content-Type); the text is sized so
// that the composed message, measured with a stream transport, is close
// to size octets.
async function fieldsMessage(size) {
    const composer = nodemailer.createTransport({
        streamTransport: true, buffer: true, newline: 'windows',
    });
    const fields = (textSize) => ({
        from: SENDER, to: RECIPIENT, subject: 'benchmark message',
        text: bodyText(Math.max(textSize, 2), '\n'),
    });
    const composed = async (m) => (await composer.sendMail(m)).message.length;
    let textSize = size;
    for (let i = 0; i < 3; i++) {
        textSize += size - await composed(fields(textSize));
    }
    const mail = fields(textSize);
    return { mail, size: await composed(mail) };
}

function cpuSeconds(usage) {
    return { user: usage.user / 1e6, system: usage.system / 1e6 };
}

async function main() {
    const set = parseArguments(process.argv.slice(2));
    const connections = Math.min(set.connections, set.messages);
    const transporter = nodemailer.createTransport({
        host: set.host, port: set.port, secure: false, ignoreTLS: true,
        name: 'client.bench.example',
        pool: true, maxConnections: connections, maxMessages: Infinity,
        connectionTimeout: 30000, socketTimeout: 30000,
    });
    let mail, size;
    if (set.mode === 'raw') {
        mail = { envelope: { from: SENDER, to: [RECIPIENT] },
                 raw: rawMessage(set.size) };
        size = mail.raw.length;
    } else {
        ({ mail, size } = await fieldsMessage(set.size));
    }

    let started = 0, sent = 0, failed = 0, timedOut = false;
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();

    await new Promise((resolve) => {
        const timer = setTimeout(() => {
            timedOut = true;
            resolve();
        }, set.timeout * 1000);
        const next = () => {
            if (timedOut) {
                return;
            }
            if (started >= set.messages) {
                if (sent + failed === set.messages) {
                    clearTimeout(timer);
                    resolve();
                }
                return;
            }
            started++;
            transporter.sendMail(mail).then(() => {
                sent++;
            }, (err) => {
                if (failed++ === 0) {
                    process.stderr.write(
                        `nodemailer-bench: a message failed: ${err.message}\n`);
                }
            }).then(next);
        };
        for (let i = 0; i < 2 * connections && i < set.messages; i++) {
            next();
        }
    });

    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = cpuSeconds(process.cpuUsage(cpu0));
    transporter.close();
    process.stdout.write(
        `client=nodemailer-${set.mode} version=${version} messages=${sent} ` +
        `failed=${failed} connections=${connections} size=${size} ` +
        `seconds=${seconds.toFixed(3)} ` +
        `msgs_per_s=${(sent / seconds).toFixed(1)} ` +
        `cpu_s=${(cpu.user + cpu.system).toFixed(3)} ` +
        `user_s=${cpu.user.toFixed(3)} sys_s=${cpu.system.toFixed(3)}\n`);
    if (timedOut) {
        process.stderr.write(
            `nodemailer-bench: stopped after ${set.timeout} seconds with ` +
            `${sent} of ${set.messages} messages sent\n`);
    }
    process.exit(sent === set.messages ? 0 : 1);
}

main();
