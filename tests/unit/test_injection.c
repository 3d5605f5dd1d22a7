/*
 * Command injection through the public API: every control character
 * (0x01-0x1F and DEL; NUL too where an argument has a length) at the
 * start, middle and end of every argument that reaches the wire is
 * refused before a byte is written. The session is first brought to the
 * point where it would send at once, so that "nothing written" is
 * asmtp_session_output() staying empty, not a session still waiting for
 * its greeting. Credentials are the exception by design: they only ever
 * travel base64-encoded, so for them the test proves that every line
 * written is clean, and that the two separators SASL itself uses (NUL in
 * PLAIN, 0x01 in XOAUTH2) stop the exchange before it starts. test_command.c
 * checks the same refusals one level down, in the command encoder.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "asmtp.h"

#define HOSTNAME "client.example"

/* ---- A session ready to send ------------------------------------------- */

typedef struct record {
    int calls;
    int error;
} record;

static void on_done(asmtp_session *s, const asmtp_result *r, void *ud)
{
    record *rec = ud;

    (void)s;
    rec->calls++;
    rec->error = r->error;
}

static void feed(asmtp_session *s, const char *text)
{
    assert_int_equal(asmtp_session_feed(s, text, strlen(text), 0), 0);
}

/* Everything the session wants to write, NUL-terminated in buf. */
static size_t take_output(asmtp_session *s, char *buf, size_t cap)
{
    size_t total = 0, len;
    const unsigned char *out;

    while ((out = asmtp_session_output(s, &len)) && len) {
        assert_true(total + len < cap);
        memcpy(buf + total, out, len);
        total += len;
        asmtp_session_output_done(s, len, 0);
    }
    buf[total] = '\0';
    return total;
}

static void assert_no_output(asmtp_session *s)
{
    size_t len = 1;

    assert_null(asmtp_session_output(s, &len));
    assert_int_equal(len, 0);
}

/* Greeting and EHLO done, nothing in flight: whatever is submitted now
 * would be written at once. The server offers DSN (so ORCPT and ENVID
 * would go out) and every SASL mechanism. */
static asmtp_session *ready_session(void)
{
    asmtp_session_config config;
    asmtp_session *s = NULL;
    record start = {0, 0};
    char out[256];

    memset(&config, 0, sizeof config);
    config.local_hostname = HOSTNAME;
    assert_int_equal(asmtp_session_new(&s, &config, NULL), 0);
    asmtp_session_tick(s, 0);
    assert_int_equal(asmtp_session_start(s, on_done, &start), 0);
    feed(s, "220 mx.example\r\n");
    take_output(s, out, sizeof out);
    assert_string_equal(out, "EHLO " HOSTNAME "\r\n");
    feed(s, "250-mx.example\r\n250-DSN\r\n250-HELP\r\n"
            "250 AUTH PLAIN LOGIN CRAM-MD5 XOAUTH2\r\n");
    assert_int_equal(start.calls, 1);
    assert_int_equal(start.error, 0);
    assert_no_output(s);
    assert_int_equal(asmtp_session_deadline(s), UINT64_MAX);
    return s;
}

/* ---- The arguments ------------------------------------------------------- */

static asmtp_recipient rcpts[2];
static asmtp_envelope envelope;
static const char content_text[] = "Subject: x\r\n\r\nx\r\n";
static asmtp_content content;

static void reset_envelope(void)
{
    memset(rcpts, 0, sizeof rcpts);
    rcpts[0].address = "bob@example.net";
    rcpts[1].address = "carol@example.net";
    memset(&envelope, 0, sizeof envelope);
    envelope.sender = "alice@example.org";
    envelope.recipients = rcpts;
    envelope.recipient_count = 2;
    memset(&content, 0, sizeof content);
    content.data = content_text;
    content.len = strlen(content_text);
}

static int submit_sender(asmtp_session *s, const char *arg, record *rec)
{
    reset_envelope();
    envelope.sender = arg;
    return asmtp_session_send(s, &envelope, &content, on_done, rec);
}

static int submit_recipient(asmtp_session *s, const char *arg, record *rec)
{
    reset_envelope();
    rcpts[1].address = arg;
    return asmtp_session_send(s, &envelope, &content, on_done, rec);
}

static int submit_orcpt(asmtp_session *s, const char *arg, record *rec)
{
    reset_envelope();
    rcpts[0].orcpt = arg;
    rcpts[0].notify = ASMTP_NOTIFY_FAILURE;
    return asmtp_session_send(s, &envelope, &content, on_done, rec);
}

static int submit_envid(asmtp_session *s, const char *arg, record *rec)
{
    reset_envelope();
    envelope.envid = arg;
    envelope.ret = ASMTP_RET_HDRS;
    return asmtp_session_send(s, &envelope, &content, on_done, rec);
}

static int submit_vrfy(asmtp_session *s, const char *arg, record *rec)
{
    return asmtp_session_vrfy(s, arg, on_done, rec);
}

static int submit_expn(asmtp_session *s, const char *arg, record *rec)
{
    return asmtp_session_expn(s, arg, on_done, rec);
}

static int submit_help(asmtp_session *s, const char *arg, record *rec)
{
    return asmtp_session_help(s, arg, on_done, rec);
}

static int submit_raw(asmtp_session *s, const char *arg, record *rec)
{
    return asmtp_session_raw(s, arg, on_done, rec);
}

typedef struct argument {
    const char *name;
    const char *valid;
    const char *written; /* the start of what the valid one writes */
    int (*submit)(asmtp_session *s, const char *arg, record *rec);
} argument;

static const argument arguments[] = {
    {"reverse-path", "alice@example.org", "MAIL FROM:<alice@example.org>",
     submit_sender},
    {"forward-path", "carol@example.net", "MAIL FROM:<alice@example.org>",
     submit_recipient},
    {"ORCPT", "bob@example.net", "MAIL FROM:<alice@example.org>", submit_orcpt},
    {"ENVID", "QQ314159",
     "MAIL FROM:<alice@example.org> RET=HDRS "
     "ENVID=QQ314159",
     submit_envid},
    {"VRFY", "Smith", "VRFY Smith\r\n", submit_vrfy},
    {"EXPN", "staff", "EXPN staff\r\n", submit_expn},
    {"HELP", "MAIL", "HELP MAIL\r\n", submit_help},
    {"raw line", "XFOO bar", "XFOO bar\r\n", submit_raw},
};

/* valid with byte put in at position at. */
static void with_byte(char *out, size_t cap, const char *valid, size_t at,
                      unsigned char byte)
{
    size_t len = strlen(valid);

    assert_true(len + 2 <= cap);
    memcpy(out, valid, at);
    out[at] = (char)byte;
    memcpy(out + at + 1, valid + at, len - at + 1);
}

static bool is_control(unsigned byte)
{
    return byte < 0x20 || byte == 0x7f;
}

static void test_every_argument_refuses_control_characters(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof arguments / sizeof *arguments; i++) {
        const argument *a = &arguments[i];
        asmtp_session *s = ready_session();
        size_t len = strlen(a->valid);
        const size_t places[] = {0, len / 2, len};
        record rec = {0, 0};
        char arg[128], out[512];

        for (unsigned byte = 1; byte < 0x80; byte++) {
            if (!is_control(byte))
                continue;
            for (size_t p = 0; p < 3; p++) {
                int rv;

                with_byte(arg, sizeof arg, a->valid, places[p],
                          (unsigned char)byte);
                rv = a->submit(s, arg, &rec);
                if (rv != ASMTP_ERR_BAD_ARGUMENT)
                    fail_msg("%s with 0x%02x at %zu: %s, expected "
                             "ASMTP_ERR_BAD_ARGUMENT",
                             a->name, byte, places[p], asmtp_error_name(rv));
                assert_no_output(s);
            }
        }
        /* Nothing was queued: nothing to wait for, nothing completes. */
        assert_int_equal(asmtp_session_deadline(s), UINT64_MAX);
        assert_int_equal(asmtp_session_tick(s, 1), 0);
        assert_no_output(s);
        assert_int_equal(rec.calls, 0);
        assert_int_equal(asmtp_session_error(s), 0);

        /* The argument itself goes out as it should. */
        assert_int_equal(a->submit(s, a->valid, &rec), 0);
        take_output(s, out, sizeof out);
        if (strncmp(out, a->written, strlen(a->written)) != 0)
            fail_msg("%s: wrote \"%s\", expected it to start with \"%s\"",
                     a->name, out, a->written);
        asmtp_session_free(s);
        assert_int_equal(rec.calls, 1); /* cancelled by the free */
        assert_int_equal(rec.error, ASMTP_ERR_CANCELLED);
    }
}

/* The EHLO name, at creation and when changed before EHLO. */
static void test_ehlo_name_refuses_control_characters(void **state)
{
    asmtp_session_config config;
    asmtp_session *s = NULL;
    record start = {0, 0};
    char name[64], out[128];

    (void)state;
    memset(&config, 0, sizeof config);
    config.local_hostname = HOSTNAME;
    assert_int_equal(asmtp_session_new(&s, &config, NULL), 0);
    asmtp_session_tick(s, 0);
    for (unsigned byte = 1; byte < 0x80; byte++) {
        asmtp_session *other = NULL;

        if (!is_control(byte))
            continue;
        for (size_t at = 0; at <= strlen(HOSTNAME); at += 7) {
            with_byte(name, sizeof name, HOSTNAME, at, (unsigned char)byte);
            config.local_hostname = name;
            assert_int_equal(asmtp_session_new(&other, &config, NULL),
                             ASMTP_ERR_BAD_ARGUMENT);
            assert_null(other);
            assert_int_equal(asmtp_session_set_local_hostname(s, name),
                             ASMTP_ERR_BAD_ARGUMENT);
        }
    }
    /* The name EHLO carries is still the first one. */
    assert_int_equal(asmtp_session_start(s, on_done, &start), 0);
    feed(s, "220 mx.example\r\n");
    take_output(s, out, sizeof out);
    assert_string_equal(out, "EHLO " HOSTNAME "\r\n");
    asmtp_session_free(s);
}

/* ---- Credentials --------------------------------------------------------- */

/* Each CRLF-terminated line is printable ASCII only: no CR, LF or other
 * control character from the credentials survived encoding. */
static void assert_clean_lines(const char *out, size_t len, const char *what)
{
    size_t start = 0;

    assert_true(len >= 2);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)out[i];

        if (c == '\r' && i + 1 < len && out[i + 1] == '\n') {
            start = ++i + 1;
            continue;
        }
        if (c < 0x20 || c >= 0x7f)
            fail_msg("%s: byte 0x%02x at %zu of \"%.*s\"", what, c, i - start,
                     (int)len, out);
    }
    assert_int_equal(start, len); /* it ends with CRLF */
}

typedef struct mechanism {
    unsigned bit;
    const char *name;
    const char *replies[3]; /* what the server answers, step by step */
} mechanism;

static const mechanism mechanisms[] = {
    {ASMTP_AUTH_PLAIN, "PLAIN", {"235 2.7.0 ok\r\n", NULL, NULL}},
    {ASMTP_AUTH_LOGIN,
     "LOGIN",
     {"334 VXNlcm5hbWU6\r\n", "334 UGFzc3dvcmQ6\r\n", "235 2.7.0 ok\r\n"}},
    {ASMTP_AUTH_CRAM_MD5,
     "CRAM-MD5",
     {"334 PDEyMzQ1LjY3ODlAbXguZXhhbXBsZT4=\r\n", "235 2.7.0 ok\r\n", NULL}},
    {ASMTP_AUTH_XOAUTH2, "XOAUTH2", {"235 2.7.0 ok\r\n", NULL, NULL}},
};

enum field { USERNAME, SECRET, AUTHZID };

/* The error a credential with byte in it must end with: the separators
 * of PLAIN (NUL) and XOAUTH2 (0x01) cannot be carried. */
static int credential_error(const mechanism *m, int field, unsigned byte)
{
    if (m->bit == ASMTP_AUTH_PLAIN && byte == 0)
        return ASMTP_ERR_NOT_SUPPORTED; /* no allowed mechanism fits */
    if (m->bit == ASMTP_AUTH_XOAUTH2 && byte == 1 && field != AUTHZID)
        return ASMTP_ERR_BAD_ARGUMENT;
    return 0;
}

static void try_credential(const mechanism *m, int field, unsigned byte)
{
    asmtp_session *s = ready_session();
    unsigned char value[16] = "ab?cd";
    asmtp_credentials creds;
    asmtp_bytes *target;
    record rec = {0, 0};
    int want = credential_error(m, field, byte);
    char what[96], out[512];
    size_t len;

    memset(&creds, 0, sizeof creds);
    creds.username = (asmtp_bytes){(const unsigned char *)"alice", 5};
    if (m->bit == ASMTP_AUTH_XOAUTH2)
        creds.token = (asmtp_bytes){(const unsigned char *)"ya29.t", 6};
    else
        creds.password = (asmtp_bytes){(const unsigned char *)"secret", 6};
    target = field == USERNAME              ? &creds.username
             : field == AUTHZID             ? &creds.authzid
             : m->bit == ASMTP_AUTH_XOAUTH2 ? &creds.token
                                            : &creds.password;
    value[2] = (unsigned char)byte;
    *target = (asmtp_bytes){value, 5};
    snprintf(what, sizeof what, "%s, field %d, byte 0x%02x", m->name, field,
             byte);

    assert_int_equal(asmtp_session_auth(s, &creds, m->bit, on_done, &rec), 0);
    asmtp_session_tick(s, 0);
    if (want) {
        /* Refused before AUTH was written. */
        assert_no_output(s);
        if (rec.calls != 1 || rec.error != want)
            fail_msg("%s: %d calls, %s; expected %s", what, rec.calls,
                     asmtp_error_name(rec.error), asmtp_error_name(want));
        asmtp_session_free(s);
        return;
    }
    for (size_t step = 0; step < 3 && m->replies[step]; step++) {
        len = take_output(s, out, sizeof out);
        assert_clean_lines(out, len, what);
        if (step == 0 && strncmp(out, "AUTH ", 5) != 0)
            fail_msg("%s: wrote \"%s\"", what, out);
        feed(s, m->replies[step]);
    }
    assert_no_output(s);
    if (rec.calls != 1 || rec.error != 0)
        fail_msg("%s: %d calls, %s", what, rec.calls,
                 asmtp_error_name(rec.error));
    asmtp_session_free(s);
}

static void test_credentials_never_reach_the_wire_raw(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof mechanisms / sizeof *mechanisms; i++)
        for (int field = USERNAME; field <= AUTHZID; field++) {
            if (field == AUTHZID && mechanisms[i].bit != ASMTP_AUTH_PLAIN)
                continue; /* only PLAIN carries an authorization identity */
            for (unsigned byte = 0; byte < 0x80; byte++)
                if (is_control(byte))
                    try_credential(&mechanisms[i], field, byte);
        }
}

/* ---- The client ------------------------------------------------------------
 */

/* Configuration strings are refused by asmtp_client_new(). */
static void test_client_config_refuses_control_characters(void **state)
{
    static const char *const names[] = {"host",           "local_hostname",
                                        "source_address", "unix_path",
                                        "ca_file",        "server_name"};
    uv_loop_t loop;

    (void)state;
    assert_int_equal(uv_loop_init(&loop), 0);
    for (size_t f = 0; f < sizeof names / sizeof *names; f++)
        for (unsigned byte = 1; byte < 0x80; byte++) {
            asmtp_client_config config;
            asmtp_client *client = NULL;
            char value[64];
            int rv;

            if (!is_control(byte))
                continue;
            memset(&config, 0, sizeof config);
            with_byte(value, sizeof value, f == 2 ? "127.0.0.1" : "mx.test", 3,
                      (unsigned char)byte);
            switch (f) {
            case 0:
                config.host = value;
                break;
            case 1:
                config.local_hostname = value;
                break;
            case 2:
                config.source_address = value;
                break;
            case 3:
                config.unix_path = value;
                break;
            case 4:
                config.tls_config.ca_file = value;
                break;
            default:
                config.tls_config.server_name = value;
                break;
            }
            rv = asmtp_client_new(&client, &loop, &config, NULL);
            if (rv != ASMTP_ERR_BAD_ARGUMENT)
                fail_msg("%s with 0x%02x: %s", names[f], byte,
                         asmtp_error_name(rv));
            assert_null(client);
        }
    assert_int_equal(uv_loop_close(&loop), 0);
}

typedef struct client_record {
    int calls;
    int error;
} client_record;

static void on_client_done(asmtp_client *c, const asmtp_result *r, void *ud)
{
    client_record *rec = ud;

    (void)c;
    rec->calls++;
    rec->error = r->error;
}

/* What the peer end of the socket pair has received, waiting at most
 * wait_ms for the first byte. */
static size_t peer_read(int fd, char *buf, size_t cap, int wait_ms)
{
    struct pollfd p = {fd, POLLIN, 0};
    size_t total = 0;

    while (poll(&p, 1, total ? 0 : wait_ms) == 1) {
        ssize_t n = read(fd, buf + total, cap - 1 - total);

        if (n <= 0)
            break;
        total += (size_t)n;
    }
    buf[total] = '\0';
    return total;
}

static void run_until(uv_loop_t *loop, const client_record *rec)
{
    for (int i = 0; i < 1000 && rec->calls == 0; i++)
        uv_run(loop, UV_RUN_ONCE);
    assert_int_equal(rec->calls, 1);
}

/* The same refusals through the libuv client, on a socket pair: the
 * operations are refused on the spot and the peer receives nothing. */
static void test_client_operations_refuse_control_characters(void **state)
{
    asmtp_client_config config;
    client_record conn = {0, 0}, rec = {0, 0}, noop = {0, 0};
    asmtp_client *client = NULL;
    char buf[512], arg[64];
    uv_loop_t loop;
    int sv[2];

    (void)state;
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_int_equal(uv_loop_init(&loop), 0);
    memset(&config, 0, sizeof config);
    config.local_hostname = HOSTNAME;
    assert_int_equal(asmtp_client_new(&client, &loop, &config, NULL), 0);
    assert_int_equal(asmtp_client_adopt(client, sv[0], on_client_done, &conn),
                     0);
    assert_int_equal(write(sv[1], "220 mx\r\n", 8), 8);
    while (peer_read(sv[1], buf, sizeof buf, 0) == 0)
        uv_run(&loop, UV_RUN_ONCE);
    assert_string_equal(buf, "EHLO " HOSTNAME "\r\n");
    assert_int_equal(write(sv[1], "250 mx\r\n", 8), 8);
    run_until(&loop, &conn);
    assert_int_equal(conn.error, 0);

    for (unsigned byte = 1; byte < 0x80; byte++) {
        asmtp_recipient rcpt = {"bob@example.net", 0, NULL};
        asmtp_envelope env = {"alice@example.org", &rcpt, 1, 0, 0, NULL, 0};
        asmtp_content body = {"x\r\n", 3, NULL, 0, NULL, NULL, 0, false};

        if (!is_control(byte))
            continue;
        with_byte(arg, sizeof arg, "bob@example.net", 4, (unsigned char)byte);
        rcpt.address = arg;
        assert_int_equal(
            asmtp_client_send(client, &env, &body, on_client_done, &rec),
            ASMTP_ERR_BAD_ARGUMENT);
        rcpt.address = "bob@example.net";
        env.sender = arg;
        assert_int_equal(asmtp_client_send_message(client, &env, &body,
                                                   on_client_done, &rec),
                         ASMTP_ERR_BAD_ARGUMENT);
        assert_int_equal(asmtp_client_vrfy(client, arg, on_client_done, &rec),
                         ASMTP_ERR_BAD_ARGUMENT);
        assert_int_equal(asmtp_client_expn(client, arg, on_client_done, &rec),
                         ASMTP_ERR_BAD_ARGUMENT);
        assert_int_equal(asmtp_client_help(client, arg, on_client_done, &rec),
                         ASMTP_ERR_BAD_ARGUMENT);
        assert_int_equal(asmtp_client_raw(client, arg, on_client_done, &rec),
                         ASMTP_ERR_BAD_ARGUMENT);
    }
    uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(peer_read(sv[1], buf, sizeof buf, 50), 0);
    assert_int_equal(rec.calls, 0);
    assert_true(asmtp_client_is_connected(client));

    /* The connection is fine: the next command is the first one written. */
    assert_int_equal(asmtp_client_noop(client, on_client_done, &noop), 0);
    while (peer_read(sv[1], buf, sizeof buf, 0) == 0)
        uv_run(&loop, UV_RUN_ONCE);
    assert_string_equal(buf, "NOOP\r\n");
    assert_int_equal(write(sv[1], "250 ok\r\n", 8), 8);
    run_until(&loop, &noop);
    assert_int_equal(noop.error, 0);

    asmtp_client_free(client);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    close(sv[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_argument_refuses_control_characters),
        cmocka_unit_test(test_ehlo_name_refuses_control_characters),
        cmocka_unit_test(test_credentials_never_reach_the_wire_raw),
        cmocka_unit_test(test_client_config_refuses_control_characters),
        cmocka_unit_test(test_client_operations_refuse_control_characters),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
