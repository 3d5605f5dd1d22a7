/*
 * TLS session resumption against aiosmtpd (tests/integration/resume.sh
 * starts it): the pool's connections after the first resume an earlier
 * session, over implicit TLS and STARTTLS, TLS 1.3 and 1.2; clients that
 * share a cache do the same; and nothing resumes without a cache, with
 * other settings, or after a handshake that verified nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>

#include "it_support.h"

#define MESSAGES 5

/* ---- Evidence from the wire: handshakes, and certificates received ----- */

typedef struct wire {
    int client_hellos;
    int certificates;
    int tickets; /* NewSessionTicket messages received */
} wire;

/* OpenSSL's message callback: a full handshake carries the server's
 * Certificate, a resumed one does not (in TLS 1.3 as in TLS 1.2). */
static void on_tls_message(int write_p, int version, int content_type,
                           const void *buf, size_t len, SSL *ssl, void *arg)
{
    const unsigned char *msg = buf;
    wire *w = arg;

    (void)version;
    (void)ssl;
    if (content_type != SSL3_RT_HANDSHAKE || len == 0)
        return;
    if (write_p && msg[0] == SSL3_MT_CLIENT_HELLO)
        w->client_hellos++;
    if (!write_p && msg[0] == SSL3_MT_CERTIFICATE)
        w->certificates++;
    if (!write_p && msg[0] == SSL3_MT_NEWSESSION_TICKET)
        w->tickets++;
}

/* An SSL_CTX that verifies against the test CA, up to max_version, and
 * reports handshake messages into w. */
static SSL_CTX *watching_ctx(int max_version, wire *w)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

    assert_non_null(ctx);
    assert_int_equal(
        SSL_CTX_load_verify_locations(ctx, it_cert("ca.pem"), NULL), 1);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    assert_int_equal(SSL_CTX_set_max_proto_version(ctx, max_version), 1);
    SSL_CTX_set_msg_callback(ctx, on_tls_message);
    SSL_CTX_set_msg_callback_arg(ctx, w);
    return ctx;
}

/* ---- The pool ----------------------------------------------------------- */

typedef struct pool_run {
    int done, failed;
    /* Log lines "TLS established: VERSION CIPHER[, session resumed]". */
    int tls_logs, resumed_logs;
    const char *version; /* "TLSv1.3 " */
    int version_logs;    /* of them, naming version */
} pool_run;

static void on_pool_log(void *ud, int level, const char *message)
{
    static const char prefix[] = "TLS established: ";
    pool_run *run = ud;

    (void)level;
    if (strncmp(message, prefix, strlen(prefix)) != 0)
        return;
    message += strlen(prefix);
    run->tls_logs++;
    run->resumed_logs += strstr(message, ", session resumed") != NULL;
    run->version_logs +=
        strncmp(message, run->version, strlen(run->version)) == 0;
}

static void on_pool_result(asmtp_pool *p, const asmtp_result *r, void *ud)
{
    pool_run *run = ud;

    (void)p;
    run->done++;
    run->failed += r->error != 0;
}

/* One connection a message (max_messages 1), one at a time, so that each
 * connection has its predecessor's ticket to offer. */
static asmtp_pool_config pool_config(const char *server, const char *ehlo,
                                     pool_run *run)
{
    asmtp_pool_config config;

    memset(&config, 0, sizeof config);
    config.client = it_config(server, ehlo);
    config.client.tls_config.ca_file = it_cert("ca.pem");
    config.client.log = on_pool_log;
    config.client.user_data = run;
    config.max_connections = 1;
    config.max_messages = 1;
    run->version = "TLSv1.3 "; /* what Python's ssl prefers */
    return config;
}

static void send_through_pool(const asmtp_pool_config *config, pool_run *run,
                              asmtp_pool_stats *stats)
{
    static const char body[] = "Subject: resumed\r\n\r\nHello again.\r\n";
    asmtp_recipient rcpt = {"bob@example.net", 0, NULL};
    asmtp_envelope env;
    asmtp_content content;
    asmtp_pool *p;

    memset(&env, 0, sizeof env);
    env.sender = "alice@example.org";
    env.recipients = &rcpt;
    env.recipient_count = 1;
    memset(&content, 0, sizeof content);
    content.data = body;
    content.len = sizeof body - 1;
    assert_int_equal(asmtp_pool_new(&p, NULL, config, NULL), 0);
    for (int i = 0; i < MESSAGES; i++)
        assert_int_equal(
            asmtp_pool_send(p, &env, &content, on_pool_result, run), 0);
    assert_int_equal(asmtp_pool_wait(p), 0);
    asmtp_pool_get_stats(p, stats);
    asmtp_pool_free(p);
    assert_int_equal(run->done, MESSAGES);
    assert_int_equal(run->failed, 0);
}

/* Every connection but the first resumed, by the pool's count and by the
 * client's log. */
static void expect_all_but_first_resumed(const asmtp_pool_stats *stats,
                                         const pool_run *run)
{
    assert_int_equal(stats->connections, MESSAGES);
    assert_int_equal(stats->tls_resumed, stats->connections - 1);
    assert_int_equal(run->tls_logs, MESSAGES);
    assert_int_equal(run->resumed_logs, MESSAGES - 1);
    assert_int_equal(run->version_logs, MESSAGES);
}

static void test_pool_implicit_tls(void **state)
{
    pool_run run = {0};
    asmtp_pool_config config = pool_config("tls", "pool-tls.test", &run);
    asmtp_pool_stats stats;

    (void)state;
    config.client.tls = true;
    send_through_pool(&config, &run, &stats);
    expect_all_but_first_resumed(&stats, &run);
}

static void test_pool_starttls(void **state)
{
    pool_run run = {0};
    asmtp_pool_config config =
        pool_config("starttls", "pool-starttls.test", &run);
    asmtp_pool_stats stats;
    char *cmds;

    (void)state;
    config.client.starttls = ASMTP_STARTTLS_REQUIRED;
    send_through_pool(&config, &run, &stats);
    expect_all_but_first_resumed(&stats, &run);
    /* (The server's record of one of the connections.) */
    cmds = it_server_commands("starttls", "pool-starttls.test");
    it_assert_contains(cmds, "EHLO pool-starttls.test\nSTARTTLS\n"
                             "EHLO pool-starttls.test\nMAIL FROM:");
    free(cmds);
}

/* The wire agrees: one certificate for all the connections. */
static void pool_over_watched_ctx(int max_version, const char *version,
                                  const char *ehlo)
{
    pool_run run = {0};
    asmtp_pool_config config = pool_config("tls", ehlo, &run);
    asmtp_pool_stats stats;
    wire w = {0};
    SSL_CTX *ctx = watching_ctx(max_version, &w);

    run.version = version;
    config.client.tls = true;
    config.client.tls_config.ssl_ctx = ctx;
    send_through_pool(&config, &run, &stats);
    SSL_CTX_free(ctx);
    expect_all_but_first_resumed(&stats, &run);
    assert_int_equal(w.client_hellos, MESSAGES);
    assert_int_equal(w.certificates, 1);
    /* TLS 1.3 sends new tickets on every connection; TLS 1.2 on the
     * first, and then keeps resuming with that one. */
    assert_true(w.tickets >= (max_version == TLS1_3_VERSION ? MESSAGES : 1));
}

static void test_pool_tls13_on_the_wire(void **state)
{
    (void)state;
    pool_over_watched_ctx(TLS1_3_VERSION, "TLSv1.3 ", "pool-tls13.test");
}

/* TLS 1.2: Python's server sends a session ticket (RFC 5077) here too. */
static void test_pool_tls12(void **state)
{
    (void)state;
    pool_over_watched_ctx(TLS1_2_VERSION, "TLSv1.2 ", "pool-tls12.test");
}

/* Pools given the caller's cache share it: the second pool's first
 * connection resumes the first pool's session. */
static void test_pools_share_the_callers_cache(void **state)
{
    pool_run first = {0}, second = {0};
    asmtp_pool_config config = pool_config("tls", "pools.test", &first);
    asmtp_tls_session_cache *cache;
    asmtp_pool_stats stats;

    (void)state;
    assert_int_equal(asmtp_tls_session_cache_new(&cache, NULL), 0);
    config.client.tls = true;
    config.client.tls_config.session_cache = cache;
    send_through_pool(&config, &first, &stats);
    expect_all_but_first_resumed(&stats, &first);

    config.client.user_data = &second;
    second.version = first.version;
    send_through_pool(&config, &second, &stats);
    assert_int_equal(stats.tls_resumed, MESSAGES);
    assert_int_equal(second.resumed_logs, MESSAGES);
    asmtp_tls_session_cache_free(cache);
}

/* ---- Clients of the caller's own ---------------------------------------- */

typedef struct visit {
    it_record conn, sent, quit;
    int resumed;       /* asmtp_client_tls_resumed() once connected */
    int resumed_after; /* and once the connection has closed */
} visit;

static void on_visit_connected(asmtp_client *c, const asmtp_result *r, void *ud)
{
    visit *v = ud;

    it_copy_result(&v->conn, r);
    v->resumed = asmtp_client_tls_resumed(c);
}

/* Connect, send, QUIT on client; whether the connection resumed. */
static int visit_once(uv_loop_t *loop, asmtp_client *c)
{
    asmtp_recipient rcpt = {"bob@example.net", 0, NULL};
    asmtp_envelope env;
    asmtp_content content;
    visit v;

    memset(&v, 0, sizeof v);
    memset(&env, 0, sizeof env);
    env.sender = "alice@example.org";
    env.recipients = &rcpt;
    env.recipient_count = 1;
    memset(&content, 0, sizeof content);
    content.data = it_default_body;
    content.len = strlen(it_default_body);
    assert_int_equal(asmtp_client_tls_resumed(c), 0);
    assert_int_equal(asmtp_client_connect(c, on_visit_connected, &v), 0);
    assert_int_equal(asmtp_client_send(c, &env, &content, it_on_done, &v.sent),
                     0);
    assert_int_equal(asmtp_client_quit(c, it_on_done, &v.quit), 0);
    it_run_until(loop, &v.quit);
    v.resumed_after = asmtp_client_tls_resumed(c);
    assert_int_equal(v.conn.error, 0);
    assert_int_equal(v.sent.error, 0);
    assert_int_equal(v.quit.error, 0);
    assert_int_equal(v.resumed_after, 0);
    return v.resumed;
}

/* A fresh client with config, connected once and freed. */
static int visit_with(const asmtp_client_config *config)
{
    uv_loop_t loop;
    asmtp_client *c;
    int resumed;

    uv_loop_init(&loop);
    assert_int_equal(asmtp_client_new(&c, &loop, config, NULL), 0);
    resumed = visit_once(&loop, c);
    it_finish(&loop, c);
    assert_int_equal(uv_loop_close(&loop), 0);
    return resumed;
}

static asmtp_client_config tls_client(const char *ehlo)
{
    asmtp_client_config config = it_config("tls", ehlo);

    config.tls = true;
    config.tls_config.ca_file = it_cert("ca.pem");
    return config;
}

static void test_clients_without_a_cache_never_resume(void **state)
{
    asmtp_client_config config = tls_client("alone.test");
    uv_loop_t loop;
    asmtp_client *c;

    (void)state;
    for (int i = 0; i < 3; i++)
        assert_int_equal(visit_with(&config), 0);

    /* Nor does one client that connects again. */
    uv_loop_init(&loop);
    assert_int_equal(asmtp_client_new(&c, &loop, &config, NULL), 0);
    assert_int_equal(visit_once(&loop, c), 0);
    assert_int_equal(visit_once(&loop, c), 0);
    it_finish(&loop, c);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_clients_share_a_cache(void **state)
{
    asmtp_client_config config = tls_client("shared.test");
    asmtp_tls_session_cache *cache;
    asmtp_client *a, *b;
    uv_loop_t loop;

    (void)state;
    assert_int_equal(asmtp_tls_session_cache_new(&cache, NULL), 0);
    config.tls_config.session_cache = cache;
    uv_loop_init(&loop);
    assert_int_equal(asmtp_client_new(&a, &loop, &config, NULL), 0);
    assert_int_equal(asmtp_client_new(&b, &loop, &config, NULL), 0);
    /* The clients hold references of their own. */
    asmtp_tls_session_cache_free(cache);

    assert_int_equal(visit_once(&loop, a), 0);
    assert_int_equal(visit_once(&loop, b), 1);
    assert_int_equal(visit_once(&loop, a), 1);
    assert_int_equal(visit_once(&loop, a), 1);
    asmtp_client_free(a);
    assert_int_equal(visit_once(&loop, b), 1);
    it_finish(&loop, b);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_starttls_clients_share_a_cache(void **state)
{
    asmtp_client_config config = it_config("starttls", "shared-starttls.test");

    (void)state;
    config.starttls = ASMTP_STARTTLS_REQUIRED;
    config.tls_config.ca_file = it_cert("ca.pem");
    assert_int_equal(
        asmtp_tls_session_cache_new(&config.tls_config.session_cache, NULL), 0);
    assert_int_equal(visit_with(&config), 0);
    assert_int_equal(visit_with(&config), 1);
    assert_int_equal(visit_with(&config), 1);
    asmtp_tls_session_cache_free(config.tls_config.session_cache);
}

/* A session is offered only to a connection with the same name and
 * verification settings, even when the cache is shared. */
static void test_other_settings_do_not_resume(void **state)
{
    asmtp_client_config by_file = tls_client("by-file.test");
    asmtp_client_config by_dir = tls_client("by-dir.test");
    asmtp_client_config by_name = tls_client("by-name.test");
    asmtp_tls_session_cache *cache;

    (void)state;
    assert_int_equal(asmtp_tls_session_cache_new(&cache, NULL), 0);
    by_file.tls_config.session_cache = cache;
    by_dir.tls_config.session_cache = cache;
    by_dir.tls_config.ca_file = NULL;
    by_dir.tls_config.ca_path = it_cert("hashed");
    by_name.tls_config.session_cache = cache;
    by_name.tls_config.server_name = "localhost";

    assert_int_equal(visit_with(&by_file), 0);
    assert_int_equal(visit_with(&by_dir), 0);  /* another trust store */
    assert_int_equal(visit_with(&by_name), 0); /* another name checked */
    assert_int_equal(visit_with(&by_name), 1);
    assert_int_equal(visit_with(&by_file), 0); /* the newest was by_name's */
    assert_int_equal(visit_with(&by_file), 1);
    asmtp_tls_session_cache_free(cache);
}

/* Without verification no session is kept: resuming it would carry over
 * a check that never passed. */
static void test_unverified_sessions_are_not_kept(void **state)
{
    asmtp_client_config config = tls_client("unverified.test");
    asmtp_tls_session_cache *cache;

    (void)state;
    assert_int_equal(asmtp_tls_session_cache_new(&cache, NULL), 0);
    config.tls_config.session_cache = cache;
    config.tls_config.ca_file = NULL;
    config.tls_config.no_verify = true;
    assert_int_equal(visit_with(&config), 0);
    assert_int_equal(visit_with(&config), 0);
    asmtp_tls_session_cache_free(cache);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pool_implicit_tls),
        cmocka_unit_test(test_pool_starttls),
        cmocka_unit_test(test_pool_tls13_on_the_wire),
        cmocka_unit_test(test_pool_tls12),
        cmocka_unit_test(test_pools_share_the_callers_cache),
        cmocka_unit_test(test_clients_without_a_cache_never_resume),
        cmocka_unit_test(test_clients_share_a_cache),
        cmocka_unit_test(test_starttls_clients_share_a_cache),
        cmocka_unit_test(test_other_settings_do_not_resume),
        cmocka_unit_test(test_unverified_sessions_are_not_kept),
    };

    it_init(argc, argv);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
