/*
 * AUTH against aiosmtpd (tests/integration/auth.sh starts it): every
 * mechanism with ASCII, UTF-8 and non-UTF-8 credentials over STARTTLS, the
 * server refusing a wrong password or token, and PLAIN over plaintext to
 * loopback with the transcript proving the secret never shows. The server's
 * own note ("AUTH PLAIN for b'alice': accepted") and the login it recorded
 * with the message are the evidence.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it_support.h"

typedef struct account {
    const char *user;
    size_t user_len;
    const char *password;
    size_t password_len;
    const char *repr;       /* Python's repr of the user name bytes */
    const char *json_login; /* how N.json shows the login */
} account;

#define BYTES(s) s, sizeof(s) - 1

static const account ascii = {BYTES("alice"), BYTES("secret"), "b'alice'",
                              "\"auth_login\": \"alice\""};
static const account utf8 = {
    BYTES("j\xc3\xbcrgen"), BYTES("p\xc3\xa4ssw\xc3\xb6rd"),
    "b'j\\xc3\\xbcrgen'", "\"auth_login\": \"j\\u00fcrgen\""};
static const account binary = {BYTES("b\xffn"), BYTES("p\x80\x81\xfess"),
                               "b'b\\xffn'", "\"auth_login\": \"b\\\\xffn\""};

typedef struct auth_run {
    it_record conn, auth, sent, quit;
    unsigned mechanisms; /* what the server offered, seen after connect */
} auth_run;

static void on_connected(asmtp_client *c, const asmtp_result *r, void *ud)
{
    auth_run *run = ud;
    const asmtp_session *s = asmtp_client_session(c);

    it_copy_result(&run->conn, r);
    if (s)
        run->mechanisms = asmtp_session_auth_mechanisms(s);
}

/* Connect (STARTTLS required unless plaintext), AUTH, send, QUIT. */
static void run_auth(const char *server, const char *ehlo, bool plaintext,
                     const asmtp_credentials *creds, unsigned allowed,
                     auth_run *run, it_transcript *transcript)
{
    asmtp_client_config config = it_config(server, ehlo);
    asmtp_recipient rcpt = {"bob@example.net", 0, NULL};
    asmtp_envelope env = {0};
    asmtp_content body = {0};
    uv_loop_t loop;
    asmtp_client *c;

    memset(run, 0, sizeof *run);
    if (!plaintext) {
        config.starttls = ASMTP_STARTTLS_REQUIRED;
        config.tls_config.ca_file = it_cert("ca.pem");
    }
    if (transcript) {
        config.transcript = it_transcript_cb;
        config.user_data = transcript;
    }
    env.sender = "alice@example.org";
    env.recipients = &rcpt;
    env.recipient_count = 1;
    body.data = it_default_body;
    body.len = strlen(it_default_body);

    uv_loop_init(&loop);
    assert_int_equal(asmtp_client_new(&c, &loop, &config, NULL), 0);
    assert_int_equal(asmtp_client_connect(c, on_connected, run), 0);
    assert_int_equal(
        asmtp_client_auth(c, creds, allowed, it_on_done, &run->auth), 0);
    assert_int_equal(asmtp_client_send(c, &env, &body, it_on_done, &run->sent),
                     0);
    assert_int_equal(asmtp_client_quit(c, it_on_done, &run->quit), 0);
    it_run_until(&loop, &run->quit);
    it_finish(&loop, c);
    uv_loop_close(&loop);
}

static asmtp_credentials creds_of(const account *a)
{
    asmtp_credentials creds;

    memset(&creds, 0, sizeof creds);
    creds.username.data = (const unsigned char *)a->user;
    creds.username.len = a->user_len;
    creds.password.data = (const unsigned char *)a->password;
    creds.password.len = a->password_len;
    return creds;
}

static const char *mechanism_name(unsigned mech)
{
    switch (mech) {
    case ASMTP_AUTH_PLAIN:
        return "PLAIN";
    case ASMTP_AUTH_LOGIN:
        return "LOGIN";
    case ASMTP_AUTH_CRAM_MD5:
        return "CRAM-MD5";
    default:
        return "XOAUTH2";
    }
}

/* The server accepted mech for the account, and stored the message sent
 * after it with that login, over STARTTLS. */
static void assert_authenticated(const char *server, const auth_run *run,
                                 unsigned mech, const account *a)
{
    char note[256], *log, *json;

    assert_int_equal(run->conn.error, 0);
    if (run->auth.error)
        fail_msg("AUTH %s: %s: %s", mechanism_name(mech),
                 asmtp_error_name(run->auth.error), run->auth.message);
    assert_int_equal(run->auth.reply.code, 235);
    assert_int_equal(run->sent.error, 0);
    assert_int_equal(run->quit.error, 0);

    snprintf(note, sizeof note, "AUTH %s for %s: accepted",
             mechanism_name(mech), a->repr);
    log = it_read_file(it_path(server, "server.log"), NULL);
    it_assert_contains(log, note);
    free(log);
    json = it_read_file(
        it_message_file(server, it_stored_number(&run->sent), "json"), NULL);
    it_assert_contains(json, a->json_login);
    free(json);
}

static void check_mechanism(unsigned mech, const account *a, const char *ehlo)
{
    asmtp_credentials creds = creds_of(a);
    auth_run run;
    char *json;

    run_auth("auth-tls", ehlo, false, &creds, mech, &run, NULL);
    assert_authenticated("auth-tls", &run, mech, a);
    /* --auth-require-tls: AUTH was only offered after the upgrade. */
    json = it_read_file(
        it_message_file("auth-tls", it_stored_number(&run.sent), "json"), NULL);
    it_assert_contains(json, "\"mode\": \"starttls\"");
    free(json);
}

static void test_plain_ascii(void **state)
{
    (void)state;
    check_mechanism(ASMTP_AUTH_PLAIN, &ascii, "plain-ascii.test");
}

static void test_plain_utf8(void **state)
{
    (void)state;
    check_mechanism(ASMTP_AUTH_PLAIN, &utf8, "plain-utf8.test");
}

static void test_plain_binary(void **state)
{
    (void)state;
    check_mechanism(ASMTP_AUTH_PLAIN, &binary, "plain-binary.test");
}

static void test_login_ascii(void **state)
{
    (void)state;
    check_mechanism(ASMTP_AUTH_LOGIN, &ascii, "login-ascii.test");
}

static void test_login_utf8(void **state)
{
    (void)state;
    check_mechanism(ASMTP_AUTH_LOGIN, &utf8, "login-utf8.test");
}

static void test_login_binary(void **state)
{
    (void)state;
    check_mechanism(ASMTP_AUTH_LOGIN, &binary, "login-binary.test");
}

static void test_cram_md5_ascii(void **state)
{
    (void)state;
    check_mechanism(ASMTP_AUTH_CRAM_MD5, &ascii, "cram-ascii.test");
}

static void test_cram_md5_utf8(void **state)
{
    (void)state;
    check_mechanism(ASMTP_AUTH_CRAM_MD5, &utf8, "cram-utf8.test");
}

static void test_cram_md5_binary(void **state)
{
    (void)state;
    check_mechanism(ASMTP_AUTH_CRAM_MD5, &binary, "cram-binary.test");
}

static void test_strongest_mechanism_by_default(void **state)
{
    asmtp_credentials creds = creds_of(&ascii);
    auth_run run;
    char *cmds;

    (void)state;
    /* allowed 0: any. The server offers all four; with a password (no
     * token) CRAM-MD5 is the strongest that fits (docs/client.md). */
    run_auth("auth-tls", "auth-any.test", false, &creds, 0, &run, NULL);
    assert_true(run.mechanisms & ASMTP_AUTH_XOAUTH2);
    assert_true(run.mechanisms & ASMTP_AUTH_CRAM_MD5);
    assert_authenticated("auth-tls", &run, ASMTP_AUTH_CRAM_MD5, &ascii);
    cmds = it_server_commands("auth-tls", "auth-any.test");
    it_assert_contains(cmds, "STARTTLS\nEHLO auth-any.test\nAUTH CRAM-MD5");
    free(cmds);
}

static void test_xoauth2(void **state)
{
    asmtp_credentials creds;
    auth_run run;

    (void)state;
    memset(&creds, 0, sizeof creds);
    creds.username.data = (const unsigned char *)"alice";
    creds.username.len = 5;
    creds.token.data = (const unsigned char *)"ya29.good-token";
    creds.token.len = strlen("ya29.good-token");
    run_auth("auth-tls", "xoauth2.test", false, &creds, ASMTP_AUTH_XOAUTH2,
             &run, NULL);
    assert_authenticated("auth-tls", &run, ASMTP_AUTH_XOAUTH2, &ascii);

    /* A bad token: 334 with a JSON error, the client's empty answer, 535. */
    creds.token.data = (const unsigned char *)"ya29.bad-token";
    creds.token.len = strlen("ya29.bad-token");
    run_auth("auth-tls", "xoauth2-bad.test", false, &creds, ASMTP_AUTH_XOAUTH2,
             &run, NULL);
    assert_int_equal(run.auth.error, ASMTP_ERR_AUTH);
    assert_int_equal(run.auth.reply.code, 535);
    assert_string_equal(run.auth.reply.enhanced, "5.7.8");
    /* The session goes on: the message is still sent, unauthenticated. */
    assert_int_equal(run.sent.error, 0);
    assert_int_equal(run.quit.error, 0);
}

static void check_wrong_password(unsigned mech, const char *ehlo)
{
    asmtp_credentials creds = creds_of(&ascii);
    char *log;
    auth_run run;
    char note[128];

    creds.password.data = (const unsigned char *)"wrong";
    creds.password.len = 5;
    run_auth("auth-tls", ehlo, false, &creds, mech, &run, NULL);
    assert_int_equal(run.conn.error, 0);
    assert_int_equal(run.auth.error, ASMTP_ERR_AUTH);
    assert_int_equal(run.auth.reply.code, 535);
    assert_string_equal(run.auth.reply.enhanced, "5.7.8");
    it_assert_contains(run.auth.message, mechanism_name(mech));
    assert_int_equal(run.quit.error, 0);
    snprintf(note, sizeof note, "AUTH %s for b'alice': refused",
             mechanism_name(mech));
    log = it_read_file(it_path("auth-tls", "server.log"), NULL);
    it_assert_contains(log, note);
    free(log);
}

static void test_wrong_password(void **state)
{
    (void)state;
    check_wrong_password(ASMTP_AUTH_PLAIN, "wrong-plain.test");
    check_wrong_password(ASMTP_AUTH_LOGIN, "wrong-login.test");
    check_wrong_password(ASMTP_AUTH_CRAM_MD5, "wrong-cram.test");
}

static void test_auth_not_offered_before_tls(void **state)
{
    asmtp_client_config config = it_config("auth-tls", "auth-never.test");
    asmtp_credentials creds = creds_of(&ascii);
    it_record conn = {0}, auth = {0}, quit = {0};
    uv_loop_t loop;
    asmtp_client *c;
    char *cmds;

    (void)state;
    /* STARTTLS never: the server (--auth-require-tls) offers no AUTH. */
    config.starttls = ASMTP_STARTTLS_NEVER;
    uv_loop_init(&loop);
    assert_int_equal(asmtp_client_new(&c, &loop, &config, NULL), 0);
    assert_int_equal(asmtp_client_connect(c, it_on_done, &conn), 0);
    assert_int_equal(asmtp_client_auth(c, &creds, 0, it_on_done, &auth), 0);
    assert_int_equal(asmtp_client_quit(c, it_on_done, &quit), 0);
    it_run_until(&loop, &quit);
    it_finish(&loop, c);
    uv_loop_close(&loop);
    assert_int_equal(conn.error, 0);
    assert_int_equal(auth.error, ASMTP_ERR_NOT_SUPPORTED);
    assert_false(auth.reply.present);
    cmds = it_server_commands("auth-tls", "auth-never.test");
    assert_string_equal(cmds, "EHLO auth-never.test\nQUIT");
    free(cmds);
}

/* PLAIN (and the others) over plaintext to loopback: allowed without
 * allow_insecure_auth, and the transcript hides every secret. */
static void check_plaintext_redacted(unsigned mech, const char *ehlo,
                                     int redacted_lines)
{
    static const unsigned char plain_blob[] = "\0alice\0secret";
    asmtp_credentials creds = creds_of(&ascii);
    it_transcript t = {0};
    auth_run run;
    char *b64_blob = it_base64(plain_blob, sizeof plain_blob - 1);
    char *b64_pass = it_base64("secret", 6);
    char *b64_user = it_base64("alice", 5);
    char *json, expected[64];

    run_auth("auth-plain", ehlo, true, &creds, mech, &run, &t);
    if (run.auth.error)
        fail_msg("AUTH %s over loopback plaintext: %s", mechanism_name(mech),
                 run.auth.message);
    assert_int_equal(run.auth.reply.code, 235);
    assert_int_equal(run.sent.error, 0);
    json = it_read_file(
        it_message_file("auth-plain", it_stored_number(&run.sent), "json"),
        NULL);
    it_assert_contains(json, "\"tls\": null");
    it_assert_contains(json, "\"auth_login\": \"alice\"");
    free(json);

    snprintf(expected, sizeof expected, "C: AUTH %s%s\n", mechanism_name(mech),
             mech == ASMTP_AUTH_PLAIN ? " <redacted>" : "");
    it_assert_contains(t.text, expected);
    assert_int_equal(it_count(t.text, "C: <redacted>\n"), redacted_lines);
    assert_false(it_memmem(t.raw, t.raw_len, "secret", 6));
    assert_false(it_memmem(t.raw, t.raw_len, b64_blob, strlen(b64_blob)));
    assert_false(it_memmem(t.raw, t.raw_len, b64_pass, strlen(b64_pass)));
    if (mech != ASMTP_AUTH_CRAM_MD5)
        assert_false(it_memmem(t.raw, t.raw_len, b64_user, strlen(b64_user)));
    /* The rest of the transcript is there. */
    it_assert_contains(t.text, "C: MAIL FROM:<alice@example.org>");
    it_assert_contains(t.text, "S: 235 ");
    free(b64_blob);
    free(b64_pass);
    free(b64_user);
    it_transcript_free(&t);
}

static void test_plaintext_loopback_plain_redacted(void **state)
{
    (void)state;
    check_plaintext_redacted(ASMTP_AUTH_PLAIN, "loop-plain.test", 0);
}

static void test_plaintext_loopback_login_redacted(void **state)
{
    (void)state;
    check_plaintext_redacted(ASMTP_AUTH_LOGIN, "loop-login.test", 2);
}

static void test_plaintext_loopback_cram_redacted(void **state)
{
    (void)state;
    check_plaintext_redacted(ASMTP_AUTH_CRAM_MD5, "loop-cram.test", 1);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_ascii),
        cmocka_unit_test(test_plain_utf8),
        cmocka_unit_test(test_plain_binary),
        cmocka_unit_test(test_login_ascii),
        cmocka_unit_test(test_login_utf8),
        cmocka_unit_test(test_login_binary),
        cmocka_unit_test(test_cram_md5_ascii),
        cmocka_unit_test(test_cram_md5_utf8),
        cmocka_unit_test(test_cram_md5_binary),
        cmocka_unit_test(test_strongest_mechanism_by_default),
        cmocka_unit_test(test_xoauth2),
        cmocka_unit_test(test_wrong_password),
        cmocka_unit_test(test_auth_not_offered_before_tls),
        cmocka_unit_test(test_plaintext_loopback_plain_redacted),
        cmocka_unit_test(test_plaintext_loopback_login_redacted),
        cmocka_unit_test(test_plaintext_loopback_cram_redacted),
    };

    it_init(argc, argv);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
