/*
 * TLS against real servers (tests/integration/tls.sh starts them): plaintext,
 * STARTTLS by each policy, implicit TLS, every way verification can succeed
 * or must fail, client certificates, and the rule that a failed TLS
 * negotiation never falls back to plaintext. What the server recorded
 * (N.json "tls", its command log, the fault server's transcript) is the
 * evidence, not only the client's result.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "it_support.h"

/* Connect and look at the session while the connection is up. */
typedef struct probe {
    it_record conn, quit;
    bool is_tls;
    bool pipelining;
} probe;

static void on_probe_connected(asmtp_client *c, const asmtp_result *r, void *ud)
{
    probe *p = ud;
    const asmtp_session *s = asmtp_client_session(c);

    it_copy_result(&p->conn, r);
    if (r->error == 0 && s) {
        p->is_tls = asmtp_session_is_tls(s) != 0;
        p->pipelining = asmtp_session_extension(s, "PIPELINING", NULL) != 0;
    }
}

static void probe_connection(const asmtp_client_config *config, probe *p)
{
    uv_loop_t loop;
    asmtp_client *c;

    memset(p, 0, sizeof *p);
    uv_loop_init(&loop);
    assert_int_equal(asmtp_client_new(&c, &loop, config, NULL), 0);
    assert_int_equal(asmtp_client_connect(c, on_probe_connected, p), 0);
    assert_int_equal(asmtp_client_quit(c, it_on_done, &p->quit), 0);
    it_run_until(&loop, &p->quit);
    it_finish(&loop, c);
    uv_loop_close(&loop);
}

static char *stored_json(const char *server, const it_record *sent)
{
    char *json = it_read_file(
        it_message_file(server, it_stored_number(sent), "json"), NULL);

    assert_non_null(json);
    return json;
}

/* ---- Plaintext and STARTTLS policies ------------------------------------ */

static void test_plaintext_send(void **state)
{
    asmtp_client_config config = it_config("plain", "plain-send.test");
    it_record conn = {0}, sent = {0}, quit = {0};
    char *json, *cmds;
    int n;

    (void)state;
    it_connect_send_quit(&config, &conn, &sent, &quit, NULL, NULL);
    assert_int_equal(conn.error, 0);
    assert_int_equal(conn.reply.code, 250);
    assert_int_equal(sent.error, 0);
    assert_int_equal(sent.mail_reply.code, 250);
    assert_int_equal(sent.data_reply.code, 354);
    assert_int_equal(sent.final_reply.code, 250);
    assert_string_equal(sent.final_reply.enhanced, "2.0.0");
    assert_int_equal(quit.error, 0);
    assert_int_equal(quit.reply.code, 221);

    n = it_stored_number(&sent);
    it_assert_file_equals(it_message_file("plain", n, "content"),
                          it_default_body, strlen(it_default_body));
    json = stored_json("plain", &sent);
    it_assert_contains(json, "\"tls\": null");
    it_assert_contains(json, "\"helo\": \"plain-send.test\"");
    free(json);
    cmds = it_server_commands("plain", "plain-send.test");
    it_assert_lacks(cmds, "STARTTLS");
    it_assert_contains(cmds,
                       "EHLO plain-send.test\nMAIL FROM:<alice@example.org>");
    free(cmds);
}

static void test_starttls_auto_upgrades(void **state)
{
    asmtp_client_config config = it_config("starttls", "auto.test");
    it_record conn = {0}, sent = {0};
    probe p;
    char *json, *cmds;

    (void)state;
    config.tls_config.ca_file = it_cert("ca.pem");
    it_connect_send_quit(&config, &conn, &sent, NULL, NULL, NULL);
    assert_int_equal(conn.error, 0);
    assert_int_equal(sent.error, 0);
    json = stored_json("starttls", &sent);
    it_assert_contains(json, "\"mode\": \"starttls\"");
    free(json);
    /* EHLO, STARTTLS, then EHLO again before anything else. */
    cmds = it_server_commands("starttls", "auto.test");
    it_assert_contains(cmds, "EHLO auto.test\nSTARTTLS\nEHLO auto.test\n"
                             "MAIL FROM:<alice@example.org>");
    free(cmds);

    config.local_hostname = "auto-probe.test";
    probe_connection(&config, &p);
    assert_int_equal(p.conn.error, 0);
    assert_true(p.is_tls);
}

static void test_starttls_required_offered(void **state)
{
    asmtp_client_config config = it_config("starttls", "required.test");
    it_record conn = {0}, sent = {0};
    char *json;

    (void)state;
    config.starttls = ASMTP_STARTTLS_REQUIRED;
    config.tls_config.ca_file = it_cert("ca.pem");
    it_connect_send_quit(&config, &conn, &sent, NULL, NULL, NULL);
    assert_int_equal(conn.error, 0);
    assert_int_equal(sent.error, 0);
    json = stored_json("starttls", &sent);
    it_assert_contains(json, "\"mode\": \"starttls\"");
    free(json);
}

static void test_starttls_required_not_offered(void **state)
{
    asmtp_client_config config = it_config("plain", "required-plain.test");
    it_record conn = {0}, sent = {0}, quit = {0};
    char *cmds;

    (void)state;
    config.starttls = ASMTP_STARTTLS_REQUIRED;
    it_connect_send_quit(&config, &conn, &sent, &quit, NULL, NULL);
    assert_int_equal(conn.error, ASMTP_ERR_TLS);
    it_assert_contains(conn.message, "does not offer STARTTLS");
    assert_int_equal(sent.error, ASMTP_ERR_TLS);
    /* aiosmtpd saw EHLO and the polite QUIT, nothing else. */
    cmds = it_server_commands("plain", "required-plain.test");
    assert_string_equal(cmds, "EHLO required-plain.test\nQUIT");
    free(cmds);
}

static void test_starttls_required_not_offered_exact(void **state)
{
    asmtp_client_config config =
        it_config("starttls-not-offered", "tls-required.test");
    it_record conn = {0}, sent = {0};
    char *log;

    (void)state;
    config.starttls = ASMTP_STARTTLS_REQUIRED;
    it_connect_send_quit(&config, &conn, &sent, NULL, NULL, NULL);
    assert_int_equal(conn.error, ASMTP_ERR_TLS);
    assert_int_equal(sent.error, ASMTP_ERR_TLS);
    log = it_conn_log("starttls-not-offered", 1);
    it_assert_contains(log, "C: EHLO tls-required.test\\r\\n\n"
                            "S: 250-mx.test\\r\\n250-PIPELINING\\r\\n"
                            "250 8BITMIME\\r\\n\nC: QUIT\\r\\n\n");
    it_assert_contains(log, "END ok");
    free(log);
}

static void test_starttls_never(void **state)
{
    asmtp_client_config config = it_config("starttls", "never.test");
    it_record conn = {0}, sent = {0};
    char *json, *cmds;

    (void)state;
    config.starttls = ASMTP_STARTTLS_NEVER;
    it_connect_send_quit(&config, &conn, &sent, NULL, NULL, NULL);
    assert_int_equal(conn.error, 0);
    assert_int_equal(sent.error, 0);
    json = stored_json("starttls", &sent);
    it_assert_contains(json, "\"tls\": null");
    free(json);
    cmds = it_server_commands("starttls", "never.test");
    it_assert_lacks(cmds, "STARTTLS");
    free(cmds);
}

static void test_implicit_tls(void **state)
{
    asmtp_client_config config = it_config("tls", "implicit.test");
    it_record conn = {0}, sent = {0};
    char *json;
    int n;

    (void)state;
    config.tls = true;
    config.tls_config.ca_file = it_cert("ca.pem");
    it_connect_send_quit(&config, &conn, &sent, NULL, NULL, NULL);
    assert_int_equal(conn.error, 0);
    assert_int_equal(sent.error, 0);
    n = it_stored_number(&sent);
    it_assert_file_equals(it_message_file("tls", n, "content"), it_default_body,
                          strlen(it_default_body));
    json = stored_json("tls", &sent);
    it_assert_contains(json, "\"mode\": \"tls\"");
    free(json);
}

/* ---- Verification -------------------------------------------------------- */

static void test_verify_ca_path(void **state)
{
    asmtp_client_config config = it_config("starttls", "ca-path.test");
    it_record conn = {0}, sent = {0};
    char *json;

    (void)state;
    config.starttls = ASMTP_STARTTLS_REQUIRED;
    config.tls_config.ca_path = it_cert("hashed");
    it_connect_send_quit(&config, &conn, &sent, NULL, NULL, NULL);
    assert_int_equal(conn.error, 0);
    assert_int_equal(sent.error, 0);
    json = stored_json("starttls", &sent);
    it_assert_contains(json, "\"mode\": \"starttls\"");
    free(json);
}

static void test_verify_dns_name(void **state)
{
    asmtp_client_config config = it_config("starttls", "dns-name.test");
    it_record conn = {0}, sent = {0};

    (void)state;
    config.starttls = ASMTP_STARTTLS_REQUIRED;
    config.tls_config.ca_file = it_cert("ca.pem");
    config.tls_config.server_name = "localhost";
    it_connect_send_quit(&config, &conn, &sent, NULL, NULL, NULL);
    assert_int_equal(conn.error, 0);
    assert_int_equal(sent.error, 0);
}

/* The handshake failed: the server saw EHLO and STARTTLS and nothing
 * after them (no second EHLO, no MAIL). */
static void assert_stopped_at_starttls(const char *server, const char *ehlo)
{
    char *cmds = it_server_commands(server, ehlo);
    char expected[256];

    snprintf(expected, sizeof expected, "EHLO %s\nSTARTTLS", ehlo);
    assert_string_equal(cmds, expected);
    free(cmds);
}

static void test_verify_wrong_server_name(void **state)
{
    asmtp_client_config config = it_config("starttls", "wrong-name.test");
    it_record conn = {0}, sent = {0};

    (void)state;
    config.tls_config.ca_file = it_cert("ca.pem");
    config.tls_config.server_name = "wrong.example";
    it_connect_send_quit(&config, &conn, &sent, NULL, NULL, NULL);
    assert_int_equal(conn.error, ASMTP_ERR_TLS);
    it_assert_contains(conn.message, "does not name \"wrong.example\"");
    it_assert_contains(conn.message, "nothing was sent in plaintext");
    assert_int_equal(sent.error, ASMTP_ERR_TLS);
    assert_stopped_at_starttls("starttls", "wrong-name.test");
}

static void test_verify_wronghost_certificate(void **state)
{
    asmtp_client_config config =
        it_config("starttls-wronghost", "wronghost-ip.test");
    it_record conn = {0}, sent = {0};

    (void)state;
    config.tls_config.ca_file = it_cert("ca.pem");
    /* By address: the certificate names only wrong.example. */
    it_connect_send_quit(&config, &conn, &sent, NULL, NULL, NULL);
    assert_int_equal(conn.error, ASMTP_ERR_TLS);
    it_assert_contains(conn.message, "does not name 127.0.0.1");
    assert_int_equal(sent.error, ASMTP_ERR_TLS);
    assert_stopped_at_starttls("starttls-wronghost", "wronghost-ip.test");

    /* By name. */
    memset(&conn, 0, sizeof conn);
    memset(&sent, 0, sizeof sent);
    config.local_hostname = "wronghost-dns.test";
    config.tls_config.server_name = "localhost";
    it_connect_send_quit(&config, &conn, &sent, NULL, NULL, NULL);
    assert_int_equal(conn.error, ASMTP_ERR_TLS);
    it_assert_contains(conn.message, "does not name \"localhost\"");
    assert_stopped_at_starttls("starttls-wronghost", "wronghost-dns.test");
}

static void test_verify_system_store_refuses_test_ca(void **state)
{
    asmtp_client_config config = it_config("starttls", "system-store.test");
    it_record conn = {0}, sent = {0};

    (void)state;
    /* No ca_file: the system store does not know the test CA. */
    it_connect_send_quit(&config, &conn, &sent, NULL, NULL, NULL);
    assert_int_equal(conn.error, ASMTP_ERR_TLS);
    it_assert_contains(conn.message, "certificate verify failed");
    assert_stopped_at_starttls("starttls", "system-store.test");
}

static void test_verify_self_signed(void **state)
{
    asmtp_client_config config = it_config("tls-selfsigned", "selfsigned.test");
    it_record conn = {0}, sent = {0};
    char *json;

    (void)state;
    config.tls = true;
    config.tls_config.ca_file = it_cert("ca.pem");
    it_connect_send_quit(&config, &conn, &sent, NULL, NULL, NULL);
    assert_int_equal(conn.error, ASMTP_ERR_TLS);
    it_assert_contains(conn.message, "certificate verify failed");
    it_assert_contains(conn.message, "self");
    assert_int_equal(sent.error, ASMTP_ERR_TLS);

    /* no_verify accepts it. */
    memset(&conn, 0, sizeof conn);
    memset(&sent, 0, sizeof sent);
    config.tls_config.ca_file = NULL;
    config.tls_config.no_verify = true;
    it_connect_send_quit(&config, &conn, &sent, NULL, NULL, NULL);
    assert_int_equal(conn.error, 0);
    assert_int_equal(sent.error, 0);
    json = stored_json("tls-selfsigned", &sent);
    it_assert_contains(json, "\"mode\": \"tls\"");
    free(json);
}

static void test_verify_expired(void **state)
{
    asmtp_client_config config = it_config("tls-expired", "expired.test");
    it_record conn = {0}, sent = {0};

    (void)state;
    config.tls = true;
    config.tls_config.ca_file = it_cert("ca.pem");
    it_connect_send_quit(&config, &conn, &sent, NULL, NULL, NULL);
    assert_int_equal(conn.error, ASMTP_ERR_TLS);
    it_assert_contains(conn.message, "certificate has expired");
    assert_int_equal(sent.error, ASMTP_ERR_TLS);
    assert_false(it_exists(it_message_file("tls-expired", 1, "envelope")));
}

static void test_client_certificate(void **state)
{
    asmtp_client_config config =
        it_config("tls-clientcert", "client-cert.test");
    it_record conn = {0}, sent = {0};
    char *json;

    (void)state;
    config.tls = true;
    config.tls_config.ca_file = it_cert("ca.pem");
    config.tls_config.cert_file = it_cert("client.pem");
    config.tls_config.key_file = it_cert("client.key");
    it_connect_send_quit(&config, &conn, &sent, NULL, NULL, NULL);
    assert_int_equal(conn.error, 0);
    assert_int_equal(sent.error, 0);
    json = stored_json("tls-clientcert", &sent);
    it_assert_contains(json, "\"mode\": \"tls\"");
    it_assert_contains(json, "\"commonName\": \"asmtp test client\"");
    free(json);

    /* Without one, the server's handshake fails and nothing is stored.
     * aiosmtpd (Python's asyncio) then closes the socket without sending
     * a TLS alert, and with TLS 1.3 the client has already finished its
     * side of the handshake: all it sees is the connection closing while
     * it waits for the greeting. Either report is right. */
    memset(&conn, 0, sizeof conn);
    memset(&sent, 0, sizeof sent);
    config.tls_config.cert_file = NULL;
    config.tls_config.key_file = NULL;
    it_connect_send_quit(&config, &conn, &sent, NULL, NULL, NULL);
    if (conn.error != ASMTP_ERR_DISCONNECTED)
        assert_int_equal(conn.error, ASMTP_ERR_TLS);
    assert_int_equal(sent.error, conn.error);
    assert_false(it_exists(it_message_file("tls-clientcert", 2, "envelope")));
}

/* ---- No fallback -------------------------------------------------------- */

static void test_tls_failure_never_falls_back(void **state)
{
    asmtp_client_config config =
        it_config("starttls-garbage", "garbage-tls.test");
    it_record conn = {0}, sent = {0}, quit = {0};
    char *log, *after;

    (void)state;
    config.tls_config.no_verify = true; /* the failure is not about trust */
    it_connect_send_quit(&config, &conn, &sent, &quit, NULL, NULL);
    assert_int_equal(conn.error, ASMTP_ERR_TLS);
    assert_int_equal(sent.error, ASMTP_ERR_TLS);
    assert_false(sent.maybe_delivered);
    assert_int_equal(quit.error, ASMTP_ERR_TLS);

    log = it_conn_log("starttls-garbage", 1);
    after = strstr(log, "S: 220 2.0.0 go ahead\\r\\n\n");
    assert_non_null(after);
    /* What came after the 220: the ClientHello (a TLS record) and perhaps an
     * alert, then the close; no SMTP command in plaintext. */
    it_assert_contains(after, "C: \\x16\\x03");
    it_assert_contains(after, "SILENT\n");
    it_assert_lacks(after, "EHLO");
    it_assert_lacks(after, "MAIL");
    it_assert_lacks(after, "QUIT");
    it_assert_lacks(after, "RSET");
    it_assert_contains(after, "EOF\nEND ok");
    free(log);
}

/* ---- Unix sockets ---------------------------------------------------------
 */

static void test_unix_socket_starttls(void **state)
{
    asmtp_client_config config = it_config(NULL, "unix-tls.test");
    it_record conn = {0}, sent = {0};
    char *path = it_read_file(it_path("unix-starttls", "port"), NULL);
    char *json;

    (void)state;
    assert_non_null(path);
    config.unix_path = path;
    config.starttls = ASMTP_STARTTLS_REQUIRED;
    config.tls_config.ca_file = it_cert("ca.pem");
    config.tls_config.server_name = "localhost";
    it_connect_send_quit(&config, &conn, &sent, NULL, NULL, NULL);
    assert_int_equal(conn.error, 0);
    assert_int_equal(sent.error, 0);
    json = stored_json("unix-starttls", &sent);
    it_assert_contains(json, "\"mode\": \"starttls\"");
    free(json);
    free(path);
}

static void test_unix_socket_tls_needs_a_name(void **state)
{
    asmtp_client_config config = it_config(NULL, "unix-noname.test");
    uv_loop_t loop;
    asmtp_client *c = NULL;
    int rv;

    (void)state;
    /* client.h: asmtp_client_new() refuses "both a Unix path and TLS
     * without a server_name to verify with". */
    uv_loop_init(&loop);
    config.unix_path = it_path("unix-starttls", "smtp.sock");
    config.tls = true;
    config.tls_config.ca_file = it_cert("ca.pem");
    rv = asmtp_client_new(&c, &loop, &config, NULL);
    if (c)
        it_finish(&loop, c);
    uv_loop_close(&loop);
    assert_int_equal(rv, ASMTP_ERR_BAD_ARGUMENT);
    assert_null(c);
}

/* ---- Adopted sockets ------------------------------------------------------
 */

static int connect_tcp(const char *server)
{
    struct sockaddr_in addr;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    uv_ip4_addr("127.0.0.1", it_port(server), &addr);
    assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    return fd;
}

/* Adopt fd and send; *adopt_rv is what asmtp_client_adopt() returned. */
static void adopt_send_quit(const asmtp_client_config *config, int fd,
                            int *adopt_rv, it_record *conn, it_record *sent)
{
    asmtp_recipient rcpt = {"bob@example.net", 0, NULL};
    asmtp_envelope env = {0};
    asmtp_content body = {0};
    it_record quit = {0};
    uv_loop_t loop;
    asmtp_client *c;

    env.sender = "alice@example.org";
    env.recipients = &rcpt;
    env.recipient_count = 1;
    body.data = it_default_body;
    body.len = strlen(it_default_body);
    uv_loop_init(&loop);
    assert_int_equal(asmtp_client_new(&c, &loop, config, NULL), 0);
    *adopt_rv = asmtp_client_adopt(c, fd, it_on_done, conn);
    if (*adopt_rv == 0) {
        assert_int_equal(asmtp_client_send(c, &env, &body, it_on_done, sent),
                         0);
        assert_int_equal(asmtp_client_quit(c, it_on_done, &quit), 0);
        it_run_until(&loop, &quit);
    } else {
        close(fd);
    }
    it_finish(&loop, c);
    uv_loop_close(&loop);
}

static void test_adopted_socket_implicit_tls(void **state)
{
    asmtp_client_config config = it_config(NULL, "adopt-tls.test");
    it_record conn = {0}, sent = {0};
    int rv;
    char *json;

    (void)state;
    config.host = NULL;
    config.tls = true;
    config.tls_config.ca_file = it_cert("ca.pem");
    config.tls_config.server_name = "localhost";
    adopt_send_quit(&config, connect_tcp("tls"), &rv, &conn, &sent);
    assert_int_equal(rv, 0);
    assert_int_equal(conn.error, 0);
    assert_int_equal(sent.error, 0);
    json = stored_json("tls", &sent);
    it_assert_contains(json, "\"mode\": \"tls\"");
    it_assert_contains(json, "adopt-tls.test");
    free(json);
}

static void test_adopted_socket_tls_needs_a_name(void **state)
{
    asmtp_client_config config = it_config(NULL, "adopt-noname.test");
    it_record conn = {0}, sent = {0};
    int rv;

    (void)state;
    /* tls.h: server_name is "required for Unix sockets and adopted sockets
     * when verifying". Without it the client cannot know whom it talks to:
     * it must not verify against some default name instead. */
    config.host = NULL;
    config.tls = true;
    config.tls_config.ca_file = it_cert("ca.pem");
    adopt_send_quit(&config, connect_tcp("tls"), &rv, &conn, &sent);
    if (rv == 0) {
        if (conn.error == 0)
            fail_msg("an adopted socket was verified without a server_name "
                     "(the message went out: %s)",
                     sent.error ? sent.message : "stored");
        assert_int_equal(conn.error, ASMTP_ERR_TLS);
        assert_int_equal(sent.error, ASMTP_ERR_TLS);
    } else {
        assert_int_equal(rv, ASMTP_ERR_BAD_ARGUMENT);
    }
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plaintext_send),
        cmocka_unit_test(test_starttls_auto_upgrades),
        cmocka_unit_test(test_starttls_required_offered),
        cmocka_unit_test(test_starttls_required_not_offered),
        cmocka_unit_test(test_starttls_required_not_offered_exact),
        cmocka_unit_test(test_starttls_never),
        cmocka_unit_test(test_implicit_tls),
        cmocka_unit_test(test_verify_ca_path),
        cmocka_unit_test(test_verify_dns_name),
        cmocka_unit_test(test_verify_wrong_server_name),
        cmocka_unit_test(test_verify_wronghost_certificate),
        cmocka_unit_test(test_verify_system_store_refuses_test_ca),
        cmocka_unit_test(test_verify_self_signed),
        cmocka_unit_test(test_verify_expired),
        cmocka_unit_test(test_client_certificate),
        cmocka_unit_test(test_tls_failure_never_falls_back),
        cmocka_unit_test(test_unix_socket_starttls),
        cmocka_unit_test(test_unix_socket_tls_needs_a_name),
        cmocka_unit_test(test_adopted_socket_implicit_tls),
        cmocka_unit_test(test_adopted_socket_tls_needs_a_name),
    };

    it_init(argc, argv);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
