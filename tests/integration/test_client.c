/*
 * The libuv client against a real aiosmtpd on loopback (its port is the
 * first argument; tests/integration/client.sh starts it), plus listening
 * sockets of the test's own for what a server cannot do on cue: refuse,
 * or accept and stay silent.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sys/socket.h>
#include <uv.h>

#include "asmtp.h"

static uint16_t server_port;
static const char *server_unix_path;

typedef struct record {
    int calls;
    int error;
    int op;
    char message[256];
    /* What to do inside the callback. */
    bool free_client;
    bool connect_again;
    struct record *again; /* the record for that second connect */
} record;

static void on_done(asmtp_client *c, const asmtp_result *r, void *ud)
{
    record *rec = ud;

    rec->calls++;
    rec->error = r->error;
    rec->op = r->op;
    snprintf(rec->message, sizeof rec->message, "%s", r->message);
    if (rec->connect_again)
        assert_int_equal(asmtp_client_connect(c, on_done, rec->again), 0);
    if (rec->free_client)
        asmtp_client_free(c);
}

static asmtp_client_config config_for(uint16_t port)
{
    asmtp_client_config config;

    memset(&config, 0, sizeof config);
    config.host = "127.0.0.1";
    config.port = port;
    config.local_hostname = "client.test";
    config.connect_timeout_ms = 5000;
    config.timeout_ms = 5000;
    return config;
}

static asmtp_client *new_client(uv_loop_t *loop, asmtp_client_config config)
{
    asmtp_client *c = NULL;

    assert_int_equal(asmtp_client_new(&c, loop, &config, NULL), 0);
    return c;
}

static asmtp_envelope one_recipient(asmtp_recipient *rcpt)
{
    asmtp_envelope env;

    memset(rcpt, 0, sizeof *rcpt);
    rcpt->address = "bob@example.net";
    memset(&env, 0, sizeof env);
    env.sender = "alice@example.org";
    env.recipients = rcpt;
    env.recipient_count = 1;
    return env;
}

static asmtp_content text(const char *body)
{
    asmtp_content content;

    memset(&content, 0, sizeof content);
    content.data = body;
    content.len = strlen(body);
    return content;
}

static void finish(uv_loop_t *loop, asmtp_client *c)
{
    asmtp_client_free(c);
    assert_int_equal(uv_run(loop, UV_RUN_DEFAULT), 0);
}

static void test_connect_twice_is_an_error(void **state)
{
    uv_loop_t loop;
    asmtp_client *c;
    record conn = {0}, quit = {0};

    (void)state;
    uv_loop_init(&loop);
    c = new_client(&loop, config_for(server_port));
    assert_int_equal(asmtp_client_connect(c, on_done, &conn), 0);
    assert_int_equal(asmtp_client_connect(c, on_done, &conn), ASMTP_ERR_STATE);
    assert_int_equal(asmtp_client_quit(c, on_done, &quit), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(conn.calls, 1);
    assert_int_equal(conn.error, 0);
    assert_int_equal(quit.error, 0);
    assert_false(asmtp_client_is_connected(c));
    assert_null(asmtp_client_session(c));
    finish(&loop, c);
    uv_loop_close(&loop);
}

static void test_reconnect_from_the_quit_callback(void **state)
{
    uv_loop_t loop;
    asmtp_client *c;
    asmtp_recipient rcpt;
    asmtp_envelope env = one_recipient(&rcpt);
    asmtp_content body = text("Subject: again\r\n\r\nx\r\n");
    record first = {0}, quit = {0}, second = {0}, sent = {0}, quit2 = {0};

    (void)state;
    uv_loop_init(&loop);
    c = new_client(&loop, config_for(server_port));
    quit.connect_again = true;
    quit.again = &second;
    assert_int_equal(asmtp_client_connect(c, on_done, &first), 0);
    assert_int_equal(asmtp_client_quit(c, on_done, &quit), 0);
    /* Queued for the second connection, made inside the QUIT callback. */
    uv_run(&loop, UV_RUN_NOWAIT);
    while (quit.calls == 0)
        uv_run(&loop, UV_RUN_ONCE);
    assert_int_equal(asmtp_client_send(c, &env, &body, on_done, &sent), 0);
    assert_int_equal(asmtp_client_quit(c, on_done, &quit2), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(first.error, 0);
    assert_int_equal(quit.error, 0);
    assert_int_equal(second.calls, 1);
    assert_int_equal(second.error, 0);
    assert_int_equal(sent.error, 0);
    assert_int_equal(quit2.error, 0);
    finish(&loop, c);
    uv_loop_close(&loop);
}

static void test_free_inside_a_callback(void **state)
{
    uv_loop_t loop;
    asmtp_client *c;
    asmtp_recipient rcpt;
    asmtp_envelope env = one_recipient(&rcpt);
    asmtp_content body = text("Subject: never\r\n\r\nx\r\n");
    record conn = {0}, sent = {0};

    (void)state;
    uv_loop_init(&loop);
    c = new_client(&loop, config_for(server_port));
    conn.free_client = true;
    assert_int_equal(asmtp_client_connect(c, on_done, &conn), 0);
    assert_int_equal(asmtp_client_send(c, &env, &body, on_done, &sent), 0);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(conn.calls, 1);
    assert_int_equal(conn.error, 0);
    assert_int_equal(sent.calls, 1);
    assert_int_equal(sent.error, ASMTP_ERR_CANCELLED);
    uv_loop_close(&loop);
}

static void test_operations_complete_in_order(void **state)
{
    uv_loop_t loop;
    asmtp_client *c;
    asmtp_recipient rcpt;
    asmtp_envelope env = one_recipient(&rcpt);
    asmtp_content body = text("Subject: order\r\n\r\nx\r\n");
    record recs[6];
    int order[6], n = 0;

    (void)state;
    memset(recs, 0, sizeof recs);
    uv_loop_init(&loop);
    c = new_client(&loop, config_for(server_port));
    assert_int_equal(asmtp_client_connect(c, on_done, &recs[0]), 0);
    assert_int_equal(asmtp_client_noop(c, on_done, &recs[1]), 0);
    assert_int_equal(asmtp_client_send(c, &env, &body, on_done, &recs[2]), 0);
    assert_int_equal(asmtp_client_vrfy(c, "bob", on_done, &recs[3]), 0);
    assert_int_equal(asmtp_client_send(c, &env, &body, on_done, &recs[4]), 0);
    assert_int_equal(asmtp_client_quit(c, on_done, &recs[5]), 0);
    while (n < 6) {
        uv_run(&loop, UV_RUN_ONCE);
        for (int i = 0; i < 6; i++)
            if (recs[i].calls && (n == 0 || order[n - 1] != i)) {
                bool seen = false;

                for (int j = 0; j < n; j++)
                    seen = seen || order[j] == i;
                if (!seen)
                    order[n++] = i;
            }
    }
    for (int i = 0; i < 6; i++) {
        assert_int_equal(order[i], i);
        assert_int_equal(recs[i].calls, 1);
    }
    assert_int_equal(recs[2].error, 0);
    assert_int_equal(recs[4].error, 0);
    finish(&loop, c);
    uv_loop_close(&loop);
}

static void test_connection_refused(void **state)
{
    uv_loop_t loop;
    uv_tcp_t probe;
    struct sockaddr_in addr;
    int len = sizeof addr;
    asmtp_client *c;
    record conn = {0}, noop = {0};
    uint16_t port;

    (void)state;
    /* A port that was free a moment ago: nothing listens there. */
    uv_loop_init(&loop);
    uv_tcp_init(&loop, &probe);
    uv_ip4_addr("127.0.0.1", 0, &addr);
    uv_tcp_bind(&probe, (struct sockaddr *)&addr, 0);
    uv_tcp_getsockname(&probe, (struct sockaddr *)&addr, &len);
    port = ntohs(addr.sin_port);
    uv_close((uv_handle_t *)&probe, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);

    c = new_client(&loop, config_for(port));
    assert_int_equal(asmtp_client_connect(c, on_done, &conn), 0);
    assert_int_equal(asmtp_client_noop(c, on_done, &noop), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(conn.error, ASMTP_ERR_CONNECT);
    assert_non_null(strstr(conn.message, "refused"));
    assert_int_equal(noop.error, ASMTP_ERR_CONNECT);
    assert_false(asmtp_client_is_connected(c));
    finish(&loop, c);
    uv_loop_close(&loop);
}

static void test_unknown_host(void **state)
{
    uv_loop_t loop;
    asmtp_client_config config = config_for(25);
    asmtp_client *c;
    record conn = {0};

    (void)state;
    uv_loop_init(&loop);
    config.host = "no-such-host.invalid";
    c = new_client(&loop, config);
    assert_int_equal(asmtp_client_connect(c, on_done, &conn), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(conn.error, ASMTP_ERR_CONNECT);
    assert_non_null(strstr(conn.message, "could not resolve"));
    finish(&loop, c);
    uv_loop_close(&loop);
}

static void on_silent_connection(uv_stream_t *server, int status)
{
    uv_tcp_t *peer = malloc(sizeof *peer);

    assert_int_equal(status, 0);
    uv_tcp_init(server->loop, peer);
    assert_int_equal(uv_accept(server, (uv_stream_t *)peer), 0);
    server->data = peer; /* kept open, never written to */
}

static void test_silent_server_times_out(void **state)
{
    uv_loop_t loop;
    uv_tcp_t server;
    struct sockaddr_in addr;
    int len = sizeof addr;
    asmtp_client_config config;
    asmtp_client *c;
    record conn = {0};

    (void)state;
    uv_loop_init(&loop);
    uv_tcp_init(&loop, &server);
    server.data = NULL;
    uv_ip4_addr("127.0.0.1", 0, &addr);
    uv_tcp_bind(&server, (struct sockaddr *)&addr, 0);
    uv_listen((uv_stream_t *)&server, 4, on_silent_connection);
    uv_tcp_getsockname(&server, (struct sockaddr *)&addr, &len);
    config = config_for(ntohs(addr.sin_port));
    config.connect_timeout_ms = 200;
    c = new_client(&loop, config);
    assert_int_equal(asmtp_client_connect(c, on_done, &conn), 0);
    while (conn.calls == 0)
        uv_run(&loop, UV_RUN_ONCE);
    assert_int_equal(conn.error, ASMTP_ERR_CONNECT_TIMEOUT);
    assert_true(asmtp_error_is(conn.error, ASMTP_CLASS_TIMEOUT));
    assert_non_null(strstr(conn.message, "greeting"));
    asmtp_client_free(c);
    uv_close((uv_handle_t *)server.data, (uv_close_cb)free);
    uv_close((uv_handle_t *)&server, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
}

static void test_source_address(void **state)
{
    uv_loop_t loop;
    asmtp_client_config config = config_for(server_port);
    asmtp_client *c;
    asmtp_recipient rcpt;
    asmtp_envelope env = one_recipient(&rcpt);
    asmtp_content body = text("Subject: bound\r\n\r\nx\r\n");
    record conn = {0}, sent = {0}, quit = {0};

    (void)state;
    uv_loop_init(&loop);
    config.source_address = "127.0.0.1";
    c = new_client(&loop, config);
    assert_int_equal(asmtp_client_connect(c, on_done, &conn), 0);
    assert_int_equal(asmtp_client_send(c, &env, &body, on_done, &sent), 0);
    assert_int_equal(asmtp_client_quit(c, on_done, &quit), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(conn.error, 0);
    assert_int_equal(sent.error, 0);
    finish(&loop, c);

    config = config_for(server_port);
    config.source_address = "::1"; /* no IPv4 address fits it */
    c = new_client(&loop, config);
    memset(&conn, 0, sizeof conn);
    assert_int_equal(asmtp_client_connect(c, on_done, &conn), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(conn.error, ASMTP_ERR_CONNECT);
    finish(&loop, c);

    config = config_for(server_port);
    config.source_address = "not-an-address";
    assert_int_equal(asmtp_client_new(&c, &loop, &config, NULL),
                     ASMTP_ERR_BAD_ARGUMENT);
    uv_loop_close(&loop);
}

static void test_adopted_socket(void **state)
{
    uv_loop_t loop;
    asmtp_client *c;
    asmtp_recipient rcpt;
    asmtp_envelope env = one_recipient(&rcpt);
    asmtp_content body = text("Subject: adopted\r\n\r\nx\r\n");
    record conn = {0}, sent = {0}, quit = {0};
    struct sockaddr_in addr;
    int fd;

    (void)state;
    fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    uv_ip4_addr("127.0.0.1", server_port, &addr);
    assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    uv_loop_init(&loop);
    c = new_client(&loop, config_for(0));
    assert_int_equal(asmtp_client_adopt(c, fd, on_done, &conn), 0);
    assert_int_equal(asmtp_client_send(c, &env, &body, on_done, &sent), 0);
    assert_int_equal(asmtp_client_quit(c, on_done, &quit), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(conn.error, 0);
    assert_int_equal(sent.error, 0);
    assert_int_equal(quit.error, 0);
    finish(&loop, c);
    uv_loop_close(&loop);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connect_twice_is_an_error),
        cmocka_unit_test(test_reconnect_from_the_quit_callback),
        cmocka_unit_test(test_free_inside_a_callback),
        cmocka_unit_test(test_operations_complete_in_order),
        cmocka_unit_test(test_connection_refused),
        cmocka_unit_test(test_unknown_host),
        cmocka_unit_test(test_silent_server_times_out),
        cmocka_unit_test(test_source_address),
        cmocka_unit_test(test_adopted_socket),
    };

    if (argc < 2) {
        fprintf(stderr, "usage: %s PORT [UNIX-PATH]\n", argv[0]);
        return 2;
    }
    server_port = (uint16_t)strtoul(argv[1], NULL, 10);
    server_unix_path = argc > 2 ? argv[2] : NULL;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
