/*
 * The blocking API against aiosmtpd (tests/integration/sync.sh starts it):
 * every call, what asmtp_sync_result() holds after each (recipients, the
 * replies of a send), a call refused on the spot, adopting a socket, and
 * what the server recorded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "it_support.h"

static asmtp_sync *new_sync(const char *ehlo)
{
    asmtp_client_config config = it_config("sync", ehlo);
    asmtp_sync *s = NULL;

    assert_int_equal(asmtp_sync_new(&s, &config, NULL), 0);
    assert_non_null(s);
    return s;
}

static void expect_reply(const asmtp_reply *reply, int code,
                         const char *enhanced)
{
    assert_non_null(reply);
    assert_int_equal(reply->code, code);
    assert_string_equal(reply->enhanced, enhanced);
}

/* The reply's text, rendered, equals text. */
static void expect_text(const asmtp_reply *reply, const char *text)
{
    char buf[512];

    assert_non_null(reply);
    asmtp_render_text(reply->text, reply->text_len, buf, sizeof buf);
    assert_string_equal(buf, text);
}

static int stored_number(const asmtp_result *r)
{
    char text[128];
    const char *p;

    assert_non_null(r->final_reply);
    asmtp_render_text(r->final_reply->text, r->final_reply->text_len, text,
                      sizeof text);
    p = strstr(text, "stored as ");
    assert_non_null(p);
    return (int)strtol(p + 10, NULL, 10);
}

static void test_result_before_any_call(void **state)
{
    asmtp_sync *s = new_sync("sync-fresh.test");
    const asmtp_result *r = asmtp_sync_result(s);

    (void)state;
    assert_non_null(r);
    assert_int_equal(r->error, 0);
    assert_non_null(r->message);
    assert_null(r->reply);
    assert_int_equal(r->recipient_count, 0);
    assert_null(asmtp_client_session(asmtp_sync_client(s)));
    asmtp_sync_free(s);
}

static void test_every_call(void **state)
{
    static const char message[] = "From: Alice <alice@example.org>\r\n"
                                  "To: bob@example.net\r\n"
                                  "Bcc: carol@example.net\r\n"
                                  "Subject: blocking\r\n"
                                  "\r\n"
                                  "sent with asmtp_sync_send_message\r\n";
    static const char message_sent[] = "From: Alice <alice@example.org>\r\n"
                                       "To: bob@example.net\r\n"
                                       "Subject: blocking\r\n"
                                       "\r\n"
                                       "sent with asmtp_sync_send_message\r\n";
    asmtp_sync *s = new_sync("sync.test");
    asmtp_credentials creds;
    asmtp_recipient rcpts[2] = {{"bob@example.net", 0, NULL},
                                {"nobody@example.net", 0, NULL}};
    asmtp_envelope env = {0};
    asmtp_content body = {0};
    const asmtp_result *r;
    const asmtp_session *session;
    char expected[256], *cmds;
    int n;

    (void)state;
    assert_int_equal(asmtp_sync_connect(s), 0);
    r = asmtp_sync_result(s);
    assert_int_equal(r->op, ASMTP_OP_START);
    expect_reply(r->reply, 250, "");
    session = asmtp_client_session(asmtp_sync_client(s));
    assert_non_null(session);
    assert_true(asmtp_session_extension(session, "PIPELINING", NULL));
    assert_true(asmtp_session_auth_mechanisms(session) & ASMTP_AUTH_PLAIN);

    assert_int_equal(asmtp_sync_ehlo(s), 0);
    assert_int_equal(asmtp_sync_result(s)->op, ASMTP_OP_EHLO);
    expect_reply(asmtp_sync_result(s)->reply, 250, "");

    memset(&creds, 0, sizeof creds);
    creds.username.data = (const unsigned char *)"alice";
    creds.username.len = 5;
    creds.password.data = (const unsigned char *)"secret";
    creds.password.len = 6;
    assert_int_equal(asmtp_sync_auth(s, &creds, ASMTP_AUTH_PLAIN), 0);
    r = asmtp_sync_result(s);
    assert_int_equal(r->op, ASMTP_OP_AUTH);
    assert_int_equal(r->reply->code, 235);

    /* A send with one recipient refused: a success, with the details. */
    env.sender = "alice@example.org";
    env.recipients = rcpts;
    env.recipient_count = 2;
    body.data = it_default_body;
    body.len = strlen(it_default_body);
    assert_int_equal(asmtp_sync_send(s, &env, &body), 0);
    r = asmtp_sync_result(s);
    assert_int_equal(r->op, ASMTP_OP_SEND);
    assert_int_equal(r->error, 0);
    expect_reply(r->mail_reply, 250, "");
    expect_reply(r->data_reply, 354, "");
    expect_reply(r->final_reply, 250, "2.0.0");
    assert_int_equal(r->recipient_count, 2);
    assert_int_equal(r->refused_count, 1);
    assert_string_equal(r->recipients[0].address, "bob@example.net");
    assert_true(r->recipients[0].accepted);
    expect_reply(r->recipients[0].reply, 250, "");
    assert_string_equal(r->recipients[1].address, "nobody@example.net");
    assert_false(r->recipients[1].accepted);
    expect_reply(r->recipients[1].reply, 550, "5.1.1");
    expect_text(r->recipients[1].reply, "No such user");
    assert_false(r->maybe_delivered);
    n = stored_number(r);
    snprintf(expected, sizeof expected,
             "alice@example.org\nbob@example.net\n"
             "mail_options: SIZE=%zu\nrcpt_options: \n",
             strlen(it_default_body));
    it_assert_file_equals(it_message_file("sync", n, "envelope"), expected,
                          strlen(expected));
    it_assert_file_equals(it_message_file("sync", n, "content"),
                          it_default_body, strlen(it_default_body));

    /* send_message: the envelope from the headers, Bcc removed. */
    body.data = message;
    body.len = strlen(message);
    assert_int_equal(asmtp_sync_send_message(s, NULL, &body), 0);
    r = asmtp_sync_result(s);
    assert_int_equal(r->recipient_count, 2);
    assert_string_equal(r->recipients[1].address, "carol@example.net");
    n = stored_number(r);
    it_assert_file_equals(it_message_file("sync", n, "content"), message_sent,
                          strlen(message_sent));

    assert_int_equal(asmtp_sync_vrfy(s, "bob"), 0);
    assert_int_equal(asmtp_sync_result(s)->op, ASMTP_OP_VRFY);
    expect_reply(asmtp_sync_result(s)->reply, 252, "");
    /* The send's details went with the next call's result. */
    assert_int_equal(asmtp_sync_result(s)->recipient_count, 0);
    assert_null(asmtp_sync_result(s)->final_reply);

    assert_int_equal(asmtp_sync_noop(s), 0);
    expect_reply(asmtp_sync_result(s)->reply, 250, "");
    assert_int_equal(asmtp_sync_rset(s), 0);
    expect_reply(asmtp_sync_result(s)->reply, 250, "");
    assert_int_equal(asmtp_sync_expn(s, "staff"), ASMTP_ERR_COMMAND_REFUSED);
    expect_reply(asmtp_sync_result(s)->reply, 502, "");
    it_assert_contains(asmtp_sync_result(s)->message, "502");
    assert_int_equal(asmtp_sync_help(s, NULL), 0);
    expect_text(asmtp_sync_result(s)->reply,
                "Supported commands: EHLO HELO HELP NOOP QUIT RSET VRFY");
    assert_int_equal(asmtp_sync_raw(s, "NOOP raw"), 0);
    assert_int_equal(asmtp_sync_result(s)->op, ASMTP_OP_RAW);
    expect_reply(asmtp_sync_result(s)->reply, 250, "");

    assert_int_equal(asmtp_sync_quit(s), 0);
    assert_int_equal(asmtp_sync_result(s)->op, ASMTP_OP_QUIT);
    expect_reply(asmtp_sync_result(s)->reply, 221, "");
    assert_null(asmtp_client_session(asmtp_sync_client(s)));
    assert_int_equal(asmtp_sync_noop(s), ASMTP_ERR_STATE);
    assert_int_equal(asmtp_sync_result(s)->error, ASMTP_ERR_STATE);

    /* What aiosmtpd saw, in order. */
    cmds = it_server_commands("sync", "sync.test");
    it_assert_contains(cmds, "EHLO sync.test\nEHLO sync.test\nAUTH PLAIN");
    it_assert_contains(cmds, "VRFY bob\nNOOP\nRSET\nEXPN staff\nHELP\n"
                             "NOOP raw\nQUIT");
    free(cmds);

    /* The same object connects again, and close() ends it without QUIT. */
    assert_int_equal(asmtp_sync_connect(s), 0);
    assert_non_null(asmtp_client_session(asmtp_sync_client(s)));
    asmtp_sync_close(s);
    assert_false(asmtp_client_is_connected(asmtp_sync_client(s)));
    assert_null(asmtp_client_session(asmtp_sync_client(s)));
    asmtp_sync_free(s);
}

static void test_refused_on_the_spot(void **state)
{
    asmtp_sync *s = new_sync("sync-spot.test");
    asmtp_recipient rcpt = {"bob@example.net", 0, NULL};
    asmtp_envelope env = {0};
    asmtp_content body = {0};
    const asmtp_result *r;
    char *cmds;

    (void)state;
    assert_int_equal(asmtp_sync_connect(s), 0);

    assert_int_equal(asmtp_sync_vrfy(s, "bob\r\nRSET"), ASMTP_ERR_BAD_ARGUMENT);
    r = asmtp_sync_result(s);
    assert_int_equal(r->error, ASMTP_ERR_BAD_ARGUMENT);
    assert_string_equal(r->message, asmtp_strerror(ASMTP_ERR_BAD_ARGUMENT));
    assert_null(r->reply);
    assert_int_equal(r->recipient_count, 0);

    assert_int_equal(asmtp_sync_raw(s, "NOOP\x01"), ASMTP_ERR_BAD_ARGUMENT);
    assert_int_equal(asmtp_sync_result(s)->error, ASMTP_ERR_BAD_ARGUMENT);

    env.sender = "alice@example.org\r\nRCPT TO:<x@example.net>";
    env.recipients = &rcpt;
    env.recipient_count = 1;
    body.data = it_default_body;
    body.len = strlen(it_default_body);
    assert_int_equal(asmtp_sync_send(s, &env, &body), ASMTP_ERR_BAD_ARGUMENT);
    assert_int_equal(asmtp_sync_result(s)->error, ASMTP_ERR_BAD_ARGUMENT);

    /* Nothing of those reached the server, and the connection still works. */
    assert_int_equal(asmtp_sync_noop(s), 0);
    assert_int_equal(asmtp_sync_result(s)->error, 0);
    assert_int_equal(asmtp_sync_quit(s), 0);
    cmds = it_server_commands("sync", "sync-spot.test");
    assert_string_equal(cmds, "EHLO sync-spot.test\nNOOP\nQUIT");
    free(cmds);
    asmtp_sync_free(s);
}

static void test_all_recipients_refused(void **state)
{
    asmtp_sync *s = new_sync("sync-refused.test");
    asmtp_recipient rcpt = {"nobody@example.net", 0, NULL};
    asmtp_envelope env = {0};
    asmtp_content body = {0};
    const asmtp_result *r;

    (void)state;
    env.sender = "alice@example.org";
    env.recipients = &rcpt;
    env.recipient_count = 1;
    body.data = it_default_body;
    body.len = strlen(it_default_body);
    /* Operations need a client that is connecting or connected. */
    assert_int_equal(asmtp_sync_send(s, &env, &body), ASMTP_ERR_STATE);
    assert_int_equal(asmtp_sync_connect(s), 0);
    assert_int_equal(asmtp_sync_send(s, &env, &body),
                     ASMTP_ERR_RECIPIENTS_REFUSED);
    r = asmtp_sync_result(s);
    assert_int_equal(r->error, ASMTP_ERR_RECIPIENTS_REFUSED);
    expect_reply(r->reply, 550, "5.1.1");
    assert_int_equal(r->recipient_count, 1);
    assert_int_equal(r->refused_count, 1);
    assert_false(r->recipients[0].accepted);
    expect_reply(r->recipients[0].reply, 550, "5.1.1");
    assert_null(r->final_reply);
    it_assert_contains(r->message, "No such user");
    assert_int_equal(asmtp_sync_quit(s), 0);
    asmtp_sync_free(s);
}

static void test_adopt(void **state)
{
    asmtp_sync *s = new_sync("sync-adopt.test");
    struct sockaddr_in addr;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    char *json;

    (void)state;
    assert_true(fd >= 0);
    uv_ip4_addr("127.0.0.1", it_port("sync"), &addr);
    assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    assert_int_equal(asmtp_sync_adopt(s, fd), 0);
    {
        asmtp_recipient rcpt = {"bob@example.net", 0, NULL};
        asmtp_envelope env = {0};
        asmtp_content body = {0};

        env.sender = "adopter@example.org";
        env.recipients = &rcpt;
        env.recipient_count = 1;
        body.data = it_default_body;
        body.len = strlen(it_default_body);
        assert_int_equal(asmtp_sync_send(s, &env, &body), 0);
    }
    json = it_read_file(
        it_message_file("sync", stored_number(asmtp_sync_result(s)), "json"),
        NULL);
    it_assert_contains(json, "\"helo\": \"sync-adopt.test\"");
    it_assert_contains(json, "\"mail_from\": \"adopter@example.org\"");
    free(json);
    assert_int_equal(asmtp_sync_quit(s), 0);
    asmtp_sync_free(s);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_result_before_any_call),
        cmocka_unit_test(test_every_call),
        cmocka_unit_test(test_refused_on_the_spot),
        cmocka_unit_test(test_all_recipients_refused),
        cmocka_unit_test(test_adopt),
    };

    it_init(argc, argv);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
