/*
 * Messages against aiosmtpd (tests/integration/messages.sh starts the
 * servers): the MAIL and RCPT parameters the client chooses (SMTPUTF8,
 * BODY=8BITMIME, SIZE, DSN) as the server recorded them in N.envelope,
 * byte for byte; Unix and adopted sockets; envelopes taken from headers
 * with Bcc removed; streamed content, 20 MiB of it in bounded memory; BDAT;
 * refused recipients.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "it_support.h"

#if defined(__SANITIZE_ADDRESS__)
#define IT_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define IT_SANITIZED 1
#endif
#endif
#ifndef IT_SANITIZED
#define IT_SANITIZED 0
#endif

enum how { SEND, SEND_MESSAGE };

/* Connect, send (or send_message), QUIT, on a fresh loop. */
static void deliver(const asmtp_client_config *config, enum how how,
                    const asmtp_envelope *env, const asmtp_content *content,
                    it_record *sent)
{
    it_record conn = {0}, quit = {0};
    uv_loop_t loop;
    asmtp_client *c;

    uv_loop_init(&loop);
    assert_int_equal(asmtp_client_new(&c, &loop, config, NULL), 0);
    assert_int_equal(asmtp_client_connect(c, it_on_done, &conn), 0);
    if (how == SEND)
        assert_int_equal(asmtp_client_send(c, env, content, it_on_done, sent),
                         0);
    else
        assert_int_equal(
            asmtp_client_send_message(c, env, content, it_on_done, sent), 0);
    assert_int_equal(asmtp_client_quit(c, it_on_done, &quit), 0);
    it_run_until(&loop, &quit);
    it_finish(&loop, c);
    uv_loop_close(&loop);
    assert_int_equal(conn.error, 0);
    assert_int_equal(quit.error, 0);
}

static asmtp_content memory(const char *data, size_t len)
{
    asmtp_content content;

    memset(&content, 0, sizeof content);
    content.data = data;
    content.len = len;
    return content;
}

static asmtp_envelope envelope_of(const char *sender, asmtp_recipient *rcpts,
                                  size_t count)
{
    asmtp_envelope env;

    memset(&env, 0, sizeof env);
    env.sender = sender;
    env.recipients = rcpts;
    env.recipient_count = count;
    return env;
}

/* N.envelope is exactly text. */
static void expect_envelope(const char *server, const it_record *sent,
                            const char *text)
{
    it_assert_file_equals(
        it_message_file(server, it_stored_number(sent), "envelope"), text,
        strlen(text));
}

static void expect_content(const char *server, const it_record *sent,
                           const void *data, size_t len)
{
    it_assert_file_equals(
        it_message_file(server, it_stored_number(sent), "content"), data, len);
}

/* ---- SMTPUTF8 and 8BITMIME ---------------------------------------------- */

static const char utf8_body[] = "From: J\xc3\xbcrgen <j\xc3\xbcrgen@b\xc3\xbc"
                                "cher.example>\r\n"
                                "To: b\xc3\xb6"
                                "b@example.net\r\n"
                                "Subject: Gr\xc3\xbc\xc3\x9f"
                                "e\r\n"
                                "\r\n"
                                "Sch\xc3\xb6ne Gr\xc3\xbc\xc3\x9f"
                                "e.\r\n";

static void test_smtputf8_address(void **state)
{
    asmtp_client_config config = it_config("utf8", "utf8.test");
    asmtp_recipient rcpt = {"b\xc3\xb6"
                            "b@example.net",
                            0, NULL};
    asmtp_envelope env = envelope_of("j\xc3\xbcrgen@b\xc3\xbc"
                                     "cher.example",
                                     &rcpt, 1);
    asmtp_content body = memory(utf8_body, strlen(utf8_body));
    it_record sent = {0};
    char expected[512], *json;

    (void)state;
    deliver(&config, SEND, &env, &body, &sent);
    assert_int_equal(sent.error, 0);
    snprintf(expected, sizeof expected,
             "j\xc3\xbcrgen@b\xc3\xbc"
             "cher.example\n"
             "b\xc3\xb6"
             "b@example.net\n"
             "mail_options: SIZE=%zu BODY=8BITMIME SMTPUTF8\n"
             "rcpt_options: \n",
             strlen(utf8_body));
    expect_envelope("utf8", &sent, expected);
    expect_content("utf8", &sent, utf8_body, strlen(utf8_body));
    json = it_read_file(
        it_message_file("utf8", it_stored_number(&sent), "json"), NULL);
    it_assert_contains(json, "\"smtputf8\": true");
    free(json);
}

static void test_smtputf8_not_for_a_display_name(void **state)
{
    /* A non-ASCII display name is a header matter: no SMTPUTF8, and the
     * server without SMTPUTF8 takes the message. */
    static const char msg[] = "From: J\xc3\xbcrgen <juergen@example.org>\r\n"
                              "To: Bob <bob@example.net>\r\n"
                              "Subject: plain addresses\r\n"
                              "\r\n"
                              "x\r\n";
    asmtp_client_config config = it_config("plain", "display-name.test");
    asmtp_content body = memory(msg, strlen(msg));
    it_record sent = {0};
    char expected[256];

    (void)state;
    deliver(&config, SEND_MESSAGE, NULL, &body, &sent);
    assert_int_equal(sent.error, 0);
    snprintf(expected, sizeof expected,
             "juergen@example.org\nbob@example.net\n"
             "mail_options: SIZE=%zu BODY=8BITMIME\nrcpt_options: \n",
             strlen(msg));
    expect_envelope("plain", &sent, expected);
    expect_content("plain", &sent, msg, strlen(msg));
}

static void test_smtputf8_not_supported(void **state)
{
    asmtp_client_config config = it_config("plain", "no-utf8.test");
    asmtp_recipient rcpt = {"b\xc3\xb6"
                            "b@example.net",
                            0, NULL};
    asmtp_envelope env = envelope_of("alice@example.org", &rcpt, 1);
    asmtp_content body = memory(utf8_body, strlen(utf8_body));
    it_record sent = {0};
    char *cmds;

    (void)state;
    deliver(&config, SEND, &env, &body, &sent);
    assert_int_equal(sent.error, ASMTP_ERR_NOT_SUPPORTED);
    it_assert_contains(sent.message, "SMTPUTF8");
    assert_false(sent.mail_reply.present);
    assert_false(sent.maybe_delivered);
    /* Refused before MAIL: the server saw EHLO and QUIT only. */
    cmds = it_server_commands("plain", "no-utf8.test");
    assert_string_equal(cmds, "EHLO no-utf8.test\nQUIT");
    free(cmds);
}

static void test_8bitmime(void **state)
{
    static const char eight[] = "Subject: 8bit\r\n\r\nGr\xc3\xbc\xc3\x9f"
                                "e\r\n";
    static const char seven[] = "Subject: 7bit\r\n\r\nGruesse\r\n";
    asmtp_client_config config = it_config("plain", "8bitmime.test");
    asmtp_recipient rcpt = {"bob@example.net", 0, NULL};
    asmtp_envelope env = envelope_of("alice@example.org", &rcpt, 1);
    asmtp_content body = memory(eight, strlen(eight));
    it_record sent = {0};
    char expected[256];

    (void)state;
    deliver(&config, SEND, &env, &body, &sent);
    assert_int_equal(sent.error, 0);
    assert_false(sent.warned);
    snprintf(expected, sizeof expected,
             "alice@example.org\nbob@example.net\n"
             "mail_options: SIZE=%zu BODY=8BITMIME\nrcpt_options: \n",
             strlen(eight));
    expect_envelope("plain", &sent, expected);
    expect_content("plain", &sent, eight, strlen(eight));

    /* 7-bit content: no BODY parameter at all. */
    memset(&sent, 0, sizeof sent);
    body = memory(seven, strlen(seven));
    deliver(&config, SEND, &env, &body, &sent);
    assert_int_equal(sent.error, 0);
    snprintf(expected, sizeof expected,
             "alice@example.org\nbob@example.net\n"
             "mail_options: SIZE=%zu\nrcpt_options: \n",
             strlen(seven));
    expect_envelope("plain", &sent, expected);
}

static void test_8bit_to_a_7bit_server(void **state)
{
    static const char eight[] = "Subject: 8bit\r\n\r\nGr\xc3\xbc\xc3\x9f"
                                "e\r\n";
    asmtp_client_config config = it_config("sevenbit", "sevenbit.test");
    asmtp_recipient rcpt = {"bob@example.net", 0, NULL};
    asmtp_envelope env = envelope_of("alice@example.org", &rcpt, 1);
    asmtp_content body = memory(eight, strlen(eight));
    it_record sent = {0};
    char *cmds;

    (void)state;
    /* Sent anyway, with a warning; never with a BODY= the server lacks.
     * (What aiosmtpd then says about 8-bit data is its own business.) */
    deliver(&config, SEND, &env, &body, &sent);
    assert_true(sent.warned);
    cmds = it_server_commands("sevenbit", "sevenbit.test");
    it_assert_contains(cmds, "MAIL FROM:<alice@example.org>");
    it_assert_lacks(cmds, "BODY=");
    free(cmds);
}

/* ---- SIZE ------------------------------------------------------------------
 */

static void test_size_declared_after_normalisation(void **state)
{
    /* Bare LF and bare CR become CRLF, a leading dot is stuffed on the
     * wire: SIZE counts the normalised message without the stuffing. */
    static const char raw[] = "Subject: size\n\n.dot\rline\nend";
    static const char sent_bytes[] = "Subject: size\r\n\r\n.dot\r\nline\r\n"
                                     "end\r\n";
    asmtp_client_config config = it_config("size", "size-ok.test");
    asmtp_recipient rcpt = {"bob@example.net", 0, NULL};
    asmtp_envelope env = envelope_of("alice@example.org", &rcpt, 1);
    asmtp_content body = memory(raw, strlen(raw));
    it_record sent = {0};
    char expected[256];

    (void)state;
    deliver(&config, SEND, &env, &body, &sent);
    assert_int_equal(sent.error, 0);
    snprintf(expected, sizeof expected,
             "alice@example.org\nbob@example.net\n"
             "mail_options: SIZE=%zu\nrcpt_options: \n",
             strlen(sent_bytes));
    expect_envelope("size", &sent, expected);
    expect_content("size", &sent, sent_bytes, strlen(sent_bytes));
}

static long big_read(void *ud, unsigned char *buf, size_t cap)
{
    size_t *left = ud;
    size_t n = cap < *left ? cap : *left;

    memset(buf, 'x', n);
    for (size_t i = 78; i < n; i += 80) {
        buf[i - 1] = '\r';
        buf[i] = '\n';
    }
    *left -= n;
    return (long)n;
}

static void test_size_over_the_limit(void **state)
{
    asmtp_client_config config = it_config("size", "size-over.test");
    asmtp_recipient rcpt = {"bob@example.net", 0, NULL};
    asmtp_envelope env = envelope_of("alice@example.org", &rcpt, 1);
    char *big = malloc(20000);
    asmtp_content body;
    it_record sent = {0};
    size_t left = 20000;
    char *cmds;

    (void)state;
    assert_non_null(big);
    memcpy(big, "Subject: big\r\n\r\n", 16);
    for (size_t i = 16; i < 20000; i++)
        big[i] = (i % 80 == 78) ? '\r' : (i % 80 == 79) ? '\n' : 'y';
    big[19998] = '\r';
    big[19999] = '\n';
    body = memory(big, 20000);
    deliver(&config, SEND, &env, &body, &sent);
    assert_int_equal(sent.error, ASMTP_ERR_NOT_SUPPORTED);
    it_assert_contains(sent.message, "accepts at most 10000");
    assert_false(sent.mail_reply.present);

    /* Streamed, with its size declared: refused the same way. */
    memset(&sent, 0, sizeof sent);
    config.local_hostname = "size-over-stream.test";
    memset(&body, 0, sizeof body);
    body.read = big_read;
    body.read_user_data = &left;
    body.size = 20000;
    deliver(&config, SEND, &env, &body, &sent);
    assert_int_equal(sent.error, ASMTP_ERR_NOT_SUPPORTED);
    assert_int_equal(left, 20000); /* not a byte was read */

    /* Neither reached MAIL. */
    cmds = it_server_commands("size", "size-over.test");
    assert_string_equal(cmds, "EHLO size-over.test\nQUIT");
    free(cmds);
    cmds = it_server_commands("size", "size-over-stream.test");
    assert_string_equal(cmds, "EHLO size-over-stream.test\nQUIT");
    free(cmds);
    free(big);
}

/* ---- DSN -------------------------------------------------------------------
 */

static void test_dsn_parameters(void **state)
{
    asmtp_client_config config = it_config("dsn", "dsn.test");
    asmtp_recipient rcpts[2] = {
        {"bob@example.net", ASMTP_NOTIFY_SUCCESS | ASMTP_NOTIFY_FAILURE,
         "bob@example.net"},
        {"carol@example.net", ASMTP_NOTIFY_NEVER, NULL},
    };
    asmtp_envelope env = envelope_of("alice@example.org", rcpts, 2);
    asmtp_content body = memory(it_default_body, strlen(it_default_body));
    it_record sent = {0};
    char expected[512];

    (void)state;
    env.ret = ASMTP_RET_HDRS;
    env.envid = "env+1=2";
    deliver(&config, SEND, &env, &body, &sent);
    assert_int_equal(sent.error, 0);
    snprintf(expected, sizeof expected,
             "alice@example.org\nbob@example.net\ncarol@example.net\n"
             "mail_options: SIZE=%zu RET=HDRS ENVID=env+2B1+3D2\n"
             "rcpt_options: NOTIFY=SUCCESS,FAILURE "
             "ORCPT=rfc822;bob@example.net NOTIFY=NEVER\n",
             strlen(it_default_body));
    expect_envelope("dsn", &sent, expected);

    /* The same envelope to a server without DSN: no DSN parameters. */
    memset(&sent, 0, sizeof sent);
    config = it_config("plain", "no-dsn.test");
    deliver(&config, SEND, &env, &body, &sent);
    assert_int_equal(sent.error, 0);
    snprintf(expected, sizeof expected,
             "alice@example.org\nbob@example.net\ncarol@example.net\n"
             "mail_options: SIZE=%zu\nrcpt_options: \n",
             strlen(it_default_body));
    expect_envelope("plain", &sent, expected);
}

/* ---- Sockets ----------------------------------------------------------------
 */

static char *unix_path(void)
{
    char *path = it_read_file(it_path("unix", "port"), NULL);

    assert_non_null(path);
    return path;
}

static void test_unix_socket(void **state)
{
    asmtp_client_config config = it_config(NULL, "unix.test");
    it_record conn = {0}, sent = {0};
    char *path = unix_path();
    char *json;

    (void)state;
    config.unix_path = path;
    it_connect_send_quit(&config, &conn, &sent, NULL, NULL, NULL);
    assert_int_equal(conn.error, 0);
    assert_int_equal(sent.error, 0);
    expect_content("unix", &sent, it_default_body, strlen(it_default_body));
    json = it_read_file(
        it_message_file("unix", it_stored_number(&sent), "json"), NULL);
    it_assert_contains(json, "\"helo\": \"unix.test\"");
    free(json);
    free(path);
}

static void adopt_and_send(int fd, const char *server, const char *ehlo)
{
    asmtp_client_config config = it_config(NULL, ehlo);
    asmtp_recipient rcpt = {"bob@example.net", 0, NULL};
    asmtp_envelope env = envelope_of("alice@example.org", &rcpt, 1);
    asmtp_content body = memory(it_default_body, strlen(it_default_body));
    it_record conn = {0}, sent = {0}, quit = {0};
    uv_loop_t loop;
    asmtp_client *c;
    char *json;

    uv_loop_init(&loop);
    assert_int_equal(asmtp_client_new(&c, &loop, &config, NULL), 0);
    assert_int_equal(asmtp_client_adopt(c, fd, it_on_done, &conn), 0);
    assert_int_equal(asmtp_client_send(c, &env, &body, it_on_done, &sent), 0);
    assert_int_equal(asmtp_client_quit(c, it_on_done, &quit), 0);
    it_run_until(&loop, &quit);
    it_finish(&loop, c);
    uv_loop_close(&loop);
    /* The client owned the descriptor and closed it. */
    assert_int_equal(fcntl(fd, F_GETFD), -1);
    assert_int_equal(errno, EBADF);
    assert_int_equal(conn.error, 0);
    assert_int_equal(sent.error, 0);
    assert_int_equal(quit.error, 0);
    expect_content(server, &sent, it_default_body, strlen(it_default_body));
    json = it_read_file(
        it_message_file(server, it_stored_number(&sent), "json"), NULL);
    it_assert_contains(json, ehlo);
    free(json);
}

static void test_adopt_tcp_socket(void **state)
{
    struct sockaddr_in addr;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    (void)state;
    assert_true(fd >= 0);
    uv_ip4_addr("127.0.0.1", it_port("plain"), &addr);
    assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    adopt_and_send(fd, "plain", "adopt-tcp.test");
}

static void test_adopt_unix_socket(void **state)
{
    struct sockaddr_un addr;
    char *path = unix_path();
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);

    (void)state;
    assert_true(fd >= 0);
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path);
    assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    free(path);
    adopt_and_send(fd, "unix", "adopt-unix.test");
}

/* ---- Envelopes from headers -----------------------------------------------
 */

static void test_send_message_envelope_from_headers(void **state)
{
    static const char msg[] =
        "From: Alice <alice@example.org>\r\n"
        "To: Bob <bob@example.net>, \"Carol, C.\" <carol@example.net>\r\n"
        "Cc: dave@example.net (Dave),\r\n"
        "  undisclosed:;\r\n"
        "Bcc: eve@example.net,\r\n"
        "\tFrank <frank@example.net>\r\n"
        "Subject: from headers\r\n"
        "X-Bcc: stays\r\n"
        "\r\n"
        "Bcc: this is the body, not a header\r\n";
    static const char expected_content[] =
        "From: Alice <alice@example.org>\r\n"
        "To: Bob <bob@example.net>, \"Carol, C.\" <carol@example.net>\r\n"
        "Cc: dave@example.net (Dave),\r\n"
        "  undisclosed:;\r\n"
        "Subject: from headers\r\n"
        "X-Bcc: stays\r\n"
        "\r\n"
        "Bcc: this is the body, not a header\r\n";
    asmtp_client_config config = it_config("plain", "headers.test");
    asmtp_content body = memory(msg, strlen(msg));
    it_record sent = {0};
    char expected[512];

    (void)state;
    deliver(&config, SEND_MESSAGE, NULL, &body, &sent);
    assert_int_equal(sent.error, 0);
    assert_int_equal(sent.recipient_count, 5);
    snprintf(expected, sizeof expected,
             "alice@example.org\nbob@example.net\ncarol@example.net\n"
             "dave@example.net\neve@example.net\nfrank@example.net\n"
             "mail_options: SIZE=%zu\nrcpt_options: \n",
             strlen(expected_content));
    expect_envelope("plain", &sent, expected);
    expect_content("plain", &sent, expected_content, strlen(expected_content));
}

static void test_send_message_sender_field(void **state)
{
    static const char msg[] = "From: a@example.org, b@example.org\r\n"
                              "Sender: Secretary <sec@example.org>\r\n"
                              "To: bob@example.net\r\n"
                              "\r\n"
                              "x\r\n";
    asmtp_client_config config = it_config("plain", "sender.test");
    asmtp_content body = memory(msg, strlen(msg));
    it_record sent = {0};
    char expected[256];

    (void)state;
    deliver(&config, SEND_MESSAGE, NULL, &body, &sent);
    assert_int_equal(sent.error, 0);
    snprintf(expected, sizeof expected,
             "sec@example.org\nbob@example.net\n"
             "mail_options: SIZE=%zu\nrcpt_options: \n",
             strlen(msg));
    expect_envelope("plain", &sent, expected);
    expect_content("plain", &sent, msg, strlen(msg));
}

static void test_send_message_resent(void **state)
{
    static const char msg[] = "Resent-From: Rita <rita@example.org>\r\n"
                              "Resent-To: new@example.net\r\n"
                              "Resent-Bcc: hidden@example.net\r\n"
                              "Resent-Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n"
                              "From: alice@example.org\r\n"
                              "To: old@example.net\r\n"
                              "Bcc: oldbcc@example.net\r\n"
                              "Subject: resent\r\n"
                              "\r\n"
                              "x\r\n";
    static const char expected_content[] =
        "Resent-From: Rita <rita@example.org>\r\n"
        "Resent-To: new@example.net\r\n"
        "Resent-Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n"
        "From: alice@example.org\r\n"
        "To: old@example.net\r\n"
        "Subject: resent\r\n"
        "\r\n"
        "x\r\n";
    asmtp_client_config config = it_config("plain", "resent.test");
    asmtp_content body = memory(msg, strlen(msg));
    it_record sent = {0};
    char expected[256];

    (void)state;
    deliver(&config, SEND_MESSAGE, NULL, &body, &sent);
    assert_int_equal(sent.error, 0);
    snprintf(expected, sizeof expected,
             "rita@example.org\nnew@example.net\nhidden@example.net\n"
             "mail_options: SIZE=%zu\nrcpt_options: \n",
             strlen(expected_content));
    expect_envelope("plain", &sent, expected);
    expect_content("plain", &sent, expected_content, strlen(expected_content));
}

static void test_send_message_two_resent_blocks(void **state)
{
    static const char msg[] = "Resent-From: one@example.org\r\n"
                              "Resent-To: a@example.net\r\n"
                              "Resent-Date: Tue, 2 Jan 2024 00:00:00 +0000\r\n"
                              "Received: by relay\r\n"
                              "Resent-From: two@example.org\r\n"
                              "Resent-To: b@example.net\r\n"
                              "Resent-Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n"
                              "From: alice@example.org\r\n"
                              "To: bob@example.net\r\n"
                              "\r\n"
                              "x\r\n";
    asmtp_client_config config = it_config("plain", "two-resent.test");
    asmtp_content body = memory(msg, strlen(msg));
    it_record sent = {0};
    char *cmds;

    (void)state;
    deliver(&config, SEND_MESSAGE, NULL, &body, &sent);
    assert_int_equal(sent.error, ASMTP_ERR_MESSAGE);
    it_assert_contains(sent.message, "Resent");
    cmds = it_server_commands("plain", "two-resent.test");
    assert_string_equal(cmds, "EHLO two-resent.test\nQUIT");
    free(cmds);
}

static void test_send_message_given_envelope_wins(void **state)
{
    static const char msg[] = "From: alice@example.org\r\n"
                              "To: bob@example.net\r\n"
                              "Bcc: eve@example.net\r\n"
                              "\r\n"
                              "x\r\n";
    static const char expected_content[] = "From: alice@example.org\r\n"
                                           "To: bob@example.net\r\n"
                                           "\r\n"
                                           "x\r\n";
    asmtp_client_config config = it_config("plain", "given.test");
    asmtp_recipient rcpt = {"zed@example.net", 0, NULL};
    asmtp_envelope env = envelope_of("", &rcpt, 1);
    asmtp_content body = memory(msg, strlen(msg));
    it_record sent = {0};
    char expected[256];

    (void)state;
    /* The null reverse-path (aiosmtpd records it as "<>") and the caller's
     * recipient; Bcc still goes. */
    deliver(&config, SEND_MESSAGE, &env, &body, &sent);
    assert_int_equal(sent.error, 0);
    snprintf(expected, sizeof expected,
             "<>\nzed@example.net\nmail_options: SIZE=%zu\nrcpt_options: \n",
             strlen(expected_content));
    expect_envelope("plain", &sent, expected);
    expect_content("plain", &sent, expected_content, strlen(expected_content));
}

static void test_dot_stuffing_and_line_ends(void **state)
{
    static const char raw[] = "Subject: dots\r\n\r\n.\r\n..two\r\n.three\r\n"
                              "bare\nlf\rcr\r\n.";
    static const char expected_content[] = "Subject: dots\r\n\r\n.\r\n..two\r\n"
                                           ".three\r\nbare\r\nlf\r\ncr\r\n"
                                           ".\r\n";
    asmtp_client_config config = it_config("plain", "dots.test");
    asmtp_recipient rcpt = {"bob@example.net", 0, NULL};
    asmtp_envelope env = envelope_of("alice@example.org", &rcpt, 1);
    asmtp_content body = memory(raw, strlen(raw));
    it_record sent = {0};

    (void)state;
    deliver(&config, SEND, &env, &body, &sent);
    assert_int_equal(sent.error, 0);
    /* aiosmtpd removes the stuffing: what it stored is the message. */
    expect_content("plain", &sent, expected_content, strlen(expected_content));
}

/* ---- Streamed content -----------------------------------------------------
 */

/* A deterministic message: a header section, then lines of 64 octets,
 * every thousandth starting with a dot. */
typedef struct generator {
    const char *header;
    size_t header_len, header_pos;
    uint32_t lines, line;
    char current[64];
    size_t current_pos; /* 64: none */
    uint32_t seed;
} generator;

static void generator_init(generator *g, const char *header, uint32_t lines)
{
    memset(g, 0, sizeof *g);
    g->header = header;
    g->header_len = strlen(header);
    g->lines = lines;
    g->current_pos = 64;
    g->seed = 12345;
}

static void make_line(generator *g)
{
    static const char abc[] = "abcdefghijklmnopqrstuvwxyz0123456789 -";
    char number[16];

    g->current[0] = g->line % 1000 == 0 ? '.' : 'L';
    snprintf(number, sizeof number, "%08u ", (unsigned)g->line);
    memcpy(g->current + 1, number, 9);
    for (int i = 10; i < 62; i++) {
        g->seed = g->seed * 1103515245u + 12345u;
        g->current[i] = abc[(g->seed >> 16) % (sizeof abc - 1)];
    }
    g->current[62] = '\r';
    g->current[63] = '\n';
    g->current_pos = 0;
    g->line++;
}

/* Fill buf as far as the message goes. */
static size_t generate(generator *g, unsigned char *buf, size_t cap)
{
    size_t n = 0;

    while (n < cap) {
        if (g->header_pos < g->header_len) {
            size_t k = g->header_len - g->header_pos;

            k = k < cap - n ? k : cap - n;
            memcpy(buf + n, g->header + g->header_pos, k);
            g->header_pos += k;
            n += k;
            continue;
        }
        if (g->current_pos == 64) {
            if (g->line == g->lines)
                break;
            make_line(g);
        }
        {
            size_t k = 64 - g->current_pos;

            k = k < cap - n ? k : cap - n;
            memcpy(buf + n, g->current + g->current_pos, k);
            g->current_pos += k;
            n += k;
        }
    }
    return n;
}

typedef struct stream_source {
    generator gen;
    size_t calls;
    size_t largest;
} stream_source;

static long stream_read(void *ud, unsigned char *buf, size_t cap)
{
    stream_source *s = ud;

    s->calls++;
    if (cap > s->largest)
        s->largest = cap;
    return (long)generate(&s->gen, buf, cap);
}

/* The stored content equals what a generator with header and lines
 * produces, compared in pieces (the file is never in memory whole). */
static void expect_generated(const char *path, const char *header,
                             uint32_t lines)
{
    static unsigned char file_buf[65536], gen_buf[65536];
    generator g;
    FILE *f = fopen(path, "rb");
    uint64_t offset = 0;
    size_t n;

    assert_non_null(f);
    generator_init(&g, header, lines);
    while ((n = fread(file_buf, 1, sizeof file_buf, f)) > 0) {
        size_t m = generate(&g, gen_buf, n);

        if (m != n || memcmp(file_buf, gen_buf, n) != 0) {
            size_t i = 0;

            while (i < n && i < m && file_buf[i] == gen_buf[i])
                i++;
            fclose(f);
            fail_msg("%s differs from the message at octet %llu", path,
                     (unsigned long long)(offset + i));
        }
        offset += n;
    }
    fclose(f);
    assert_int_equal(generate(&g, gen_buf, 1), 0); /* nothing missing */
}

#define BIG_LINES 327680u /* 20 MiB of 64-octet lines */

static void test_streamed_20_mib_in_bounded_memory(void **state)
{
    static const char header[] = "From: Alice <alice@example.org>\r\n"
                                 "To: bob@example.net\r\n"
                                 "Bcc: hidden@example.net\r\n"
                                 "Subject: twenty mebibytes\r\n"
                                 "\r\n";
    static const char header_sent[] = "From: Alice <alice@example.org>\r\n"
                                      "To: bob@example.net\r\n"
                                      "Subject: twenty mebibytes\r\n"
                                      "\r\n";
    asmtp_client_config config = it_config("plain", "stream-big.test");
    asmtp_content body;
    stream_source src;
    it_record sent = {0};
    long before, after;
    bool reset;
    char *envelope, *size_param;
    unsigned long long declared;
    uint64_t total = (uint64_t)BIG_LINES * 64 + strlen(header);

    (void)state;
    generator_init(&src.gen, header, BIG_LINES);
    src.calls = src.largest = 0;
    memset(&body, 0, sizeof body);
    body.read = stream_read;
    body.read_user_data = &src;
    body.size = total;

    reset = it_reset_hwm();
    before = it_vm_hwm_kib();
    config.timeout_ms = 60000;
    deliver(&config, SEND_MESSAGE, NULL, &body, &sent);
    after = it_vm_hwm_kib();
    assert_int_equal(sent.error, 0);
    assert_int_equal(sent.recipient_count, 2);

    expect_generated(
        it_message_file("plain", it_stored_number(&sent), "content"),
        header_sent, BIG_LINES);
    envelope = it_read_file(
        it_message_file("plain", it_stored_number(&sent), "envelope"), NULL);
    it_assert_contains(envelope, "alice@example.org\nbob@example.net\n"
                                 "hidden@example.net\nmail_options: SIZE=");
    /* SIZE: never less than what was sent. */
    size_param = strstr(envelope, "SIZE=");
    declared = strtoull(size_param + 5, NULL, 10);
    assert_true(declared >= total - (strlen(header) - strlen(header_sent)));
    free(envelope);

    /* Memory: the source was read in pieces, and the peak grew by far less
     * than the message. */
    assert_true(src.calls > 100);
    print_message("streamed %llu octets in %zu reads (largest %zu); VmHWM "
                  "%ld KiB -> %ld KiB (reset %s)\n",
                  (unsigned long long)total, src.calls, src.largest, before,
                  after, reset ? "yes" : "no");
    assert_true(before > 0 && after > 0);
    assert_true(after - before < 16 * 1024);
    /* Under a wrapper (valgrind) the process holds the wrapper's memory
     * too: only the growth says something then. */
    if (!IT_SANITIZED && !getenv("ASMTP_TEST_WRAPPER"))
        assert_true(after < 50 * 1024);
}

static void test_streamed_send_declares_size(void **state)
{
    static const char header[] = "Subject: streamed\r\n\r\n";
    asmtp_client_config config = it_config("plain", "stream-size.test");
    asmtp_recipient rcpt = {"bob@example.net", 0, NULL};
    asmtp_envelope env = envelope_of("alice@example.org", &rcpt, 1);
    asmtp_content body;
    stream_source src;
    it_record sent = {0};
    char expected[256];
    uint32_t lines = 16384; /* 1 MiB */
    size_t total = lines * 64u + strlen(header);

    (void)state;
    generator_init(&src.gen, header, lines);
    src.calls = src.largest = 0;
    memset(&body, 0, sizeof body);
    body.read = stream_read;
    body.read_user_data = &src;
    body.size = total;
    deliver(&config, SEND, &env, &body, &sent);
    assert_int_equal(sent.error, 0);
    snprintf(expected, sizeof expected,
             "alice@example.org\nbob@example.net\n"
             "mail_options: SIZE=%zu\nrcpt_options: \n",
             total);
    expect_envelope("plain", &sent, expected);
    expect_generated(
        it_message_file("plain", it_stored_number(&sent), "content"), header,
        lines);
}

static void test_bdat_streamed(void **state)
{
    static const char header[] = "Subject: chunks\r\n\r\n";
    asmtp_client_config config = it_config("chunking", "bdat.test");
    asmtp_recipient rcpt = {"bob@example.net", 0, NULL};
    asmtp_envelope env = envelope_of("alice@example.org", &rcpt, 1);
    asmtp_content body;
    stream_source src;
    it_record sent = {0};
    char *json;
    uint32_t lines = 16384;

    (void)state;
    generator_init(&src.gen, header, lines);
    src.calls = src.largest = 0;
    memset(&body, 0, sizeof body);
    body.read = stream_read;
    body.read_user_data = &src;
    deliver(&config, SEND, &env, &body, &sent);
    assert_int_equal(sent.error, 0);
    assert_false(sent.data_reply.present); /* no DATA with BDAT */
    json = it_read_file(
        it_message_file("chunking", it_stored_number(&sent), "json"), NULL);
    it_assert_contains(json, "\"transfer\": \"BDAT\"");
    free(json);
    /* BDAT is never dot-stuffed: the leading dots arrive as they are. */
    expect_generated(
        it_message_file("chunking", it_stored_number(&sent), "content"), header,
        lines);
}

/* ---- Refused recipients (aiosmtpd, pipelined) -----------------------------
 */

static void test_some_recipients_refused(void **state)
{
    asmtp_client_config config = it_config("refuse", "partial.test");
    asmtp_recipient rcpts[3] = {
        {"bob@example.net", 0, NULL},
        {"nobody@example.net", 0, NULL},
        {"carol@example.net", 0, NULL},
    };
    asmtp_envelope env = envelope_of("alice@example.org", rcpts, 3);
    asmtp_content body = memory(it_default_body, strlen(it_default_body));
    it_record sent = {0};
    char expected[256];

    (void)state;
    deliver(&config, SEND, &env, &body, &sent);
    assert_int_equal(sent.error, 0);
    assert_int_equal(sent.recipient_count, 3);
    assert_int_equal(sent.refused_count, 1);
    assert_true(sent.accepted[0]);
    assert_false(sent.accepted[1]);
    assert_true(sent.accepted[2]);
    assert_string_equal(sent.address[1], "nobody@example.net");
    assert_int_equal(sent.rcpt_reply[1].code, 550);
    assert_string_equal(sent.rcpt_reply[1].enhanced, "5.1.1");
    assert_string_equal(sent.rcpt_reply[1].text, "No such user");
    snprintf(expected, sizeof expected,
             "alice@example.org\nbob@example.net\ncarol@example.net\n"
             "mail_options: SIZE=%zu\nrcpt_options: \n",
             strlen(it_default_body));
    expect_envelope("refuse", &sent, expected);
}

static void test_all_recipients_refused(void **state)
{
    asmtp_client_config config = it_config("refuse", "total.test");
    asmtp_recipient rcpts[2] = {
        {"nobody@example.net", 0, NULL},
        {"full@example.net", 0, NULL},
    };
    asmtp_envelope env = envelope_of("alice@example.org", rcpts, 2);
    asmtp_content body = memory(it_default_body, strlen(it_default_body));
    it_record sent = {0};
    char *cmds, *rcpt2, *rset;

    (void)state;
    deliver(&config, SEND, &env, &body, &sent);
    assert_int_equal(sent.error, ASMTP_ERR_RECIPIENTS_REFUSED);
    assert_int_equal(sent.refused_count, 2);
    assert_int_equal(sent.rcpt_reply[0].code, 550);
    assert_int_equal(sent.rcpt_reply[1].code, 452);
    assert_string_equal(sent.rcpt_reply[1].enhanced, "4.2.2");
    assert_false(sent.final_reply.present);
    assert_false(sent.maybe_delivered);
    /* The transaction was reset, and nothing was stored. */
    cmds = it_server_commands("refuse", "total.test");
    rcpt2 = strstr(cmds, "RCPT TO:<full@example.net>");
    assert_non_null(rcpt2);
    rset = strstr(rcpt2, "\nRSET\n");
    assert_non_null(rset);
    it_assert_contains(rset, "\nQUIT");
    free(cmds);
    cmds = it_read_file(it_path("refuse", "server.log"), NULL);
    it_assert_lacks(cmds, "to ['nobody@example.net'");
    free(cmds);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        /* First, while this process's peak memory is still its own. */
        cmocka_unit_test(test_streamed_20_mib_in_bounded_memory),
        cmocka_unit_test(test_smtputf8_address),
        cmocka_unit_test(test_smtputf8_not_for_a_display_name),
        cmocka_unit_test(test_smtputf8_not_supported),
        cmocka_unit_test(test_8bitmime),
        cmocka_unit_test(test_8bit_to_a_7bit_server),
        cmocka_unit_test(test_size_declared_after_normalisation),
        cmocka_unit_test(test_size_over_the_limit),
        cmocka_unit_test(test_dsn_parameters),
        cmocka_unit_test(test_unix_socket),
        cmocka_unit_test(test_adopt_tcp_socket),
        cmocka_unit_test(test_adopt_unix_socket),
        cmocka_unit_test(test_send_message_envelope_from_headers),
        cmocka_unit_test(test_send_message_sender_field),
        cmocka_unit_test(test_send_message_resent),
        cmocka_unit_test(test_send_message_two_resent_blocks),
        cmocka_unit_test(test_send_message_given_envelope_wins),
        cmocka_unit_test(test_dot_stuffing_and_line_ends),
        cmocka_unit_test(test_streamed_send_declares_size),
        cmocka_unit_test(test_bdat_streamed),
        cmocka_unit_test(test_some_recipients_refused),
        cmocka_unit_test(test_all_recipients_refused),
    };

    it_init(argc, argv);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
