/*
 * The pool against real servers: many messages over a few connections
 * (aiosmtpd), the blocking variant, and a retry after a dropped
 * connection (the fault server). argv[1] is the scratch directory of
 * pool.sh; server NAME's port is in DIR/NAME/port.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <uv.h>

#include "asmtp.h"

static const char *work;

static uint16_t port_of(const char *name)
{
    char path[512];
    FILE *f;
    unsigned port = 0;

    snprintf(path, sizeof path, "%s/%s/port", work, name);
    f = fopen(path, "r");
    assert_non_null(f);
    assert_int_equal(fscanf(f, "%u", &port), 1);
    fclose(f);
    return (uint16_t)port;
}

static int stored(const char *name)
{
    char path[512];
    struct stat st;
    int n = 0;

    for (;;) {
        snprintf(path, sizeof path, "%s/%s/%d.content", work, name, n + 1);
        if (stat(path, &st) != 0)
            return n;
        n++;
    }
}

typedef struct tally {
    int done, failed;
    int calls[64];
} tally;

static void on_result(asmtp_pool *p, const asmtp_result *r, void *ud)
{
    tally *t = ud;
    static int index;

    (void)p;
    (void)index;
    t->done++;
    if (r->error)
        t->failed++;
}

static asmtp_pool_config config_for(const char *server, const char *name)
{
    asmtp_pool_config config;

    memset(&config, 0, sizeof config);
    config.client.host = "127.0.0.1";
    config.client.port = port_of(server);
    config.client.local_hostname = name;
    config.client.timeout_ms = 5000;
    config.client.connect_timeout_ms = 5000;
    return config;
}

static void send_n(asmtp_pool *p, int n, tally *t)
{
    static const char body[] = "Subject: pooled\r\n\r\nHello.\r\n";
    asmtp_recipient rcpt = {"bob@example.net", 0, NULL};
    asmtp_envelope env;
    asmtp_content content;

    memset(&env, 0, sizeof env);
    env.sender = "alice@example.org";
    env.recipients = &rcpt;
    env.recipient_count = 1;
    memset(&content, 0, sizeof content);
    content.data = body;
    content.len = sizeof body - 1;
    for (int i = 0; i < n; i++)
        assert_int_equal(asmtp_pool_send(p, &env, &content, on_result, t), 0);
}

static void test_many_messages_few_connections(void **state)
{
    asmtp_pool_config config = config_for("sink", "pool.test");
    asmtp_pool_stats stats;
    uv_loop_t loop;
    asmtp_pool *p;
    tally t = {0};

    (void)state;
    config.max_connections = 3;
    config.max_messages = 10;
    uv_loop_init(&loop);
    assert_int_equal(asmtp_pool_new(&p, &loop, &config, NULL), 0);
    send_n(p, 40, &t);
    while (t.done < 40)
        uv_run(&loop, UV_RUN_ONCE);
    asmtp_pool_get_stats(p, &stats);
    assert_int_equal(t.failed, 0);
    assert_int_equal(stats.submitted, 40);
    assert_int_equal(stats.delivered, 40);
    assert_int_equal(stats.failed, 0);
    assert_int_equal(stats.queued, 0);
    assert_int_equal(stats.in_flight, 0);
    /* At most 10 messages a connection: at least 4 were opened. */
    assert_true(stats.connections >= 4);
    asmtp_pool_close(p);
    while (asmtp_pool_get_stats(p, &stats), stats.open > 0)
        uv_run(&loop, UV_RUN_ONCE);
    asmtp_pool_free(p);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    assert_int_equal(stored("sink"), 40);
}

/* A backlog spreads over every connection allowed before any of them
 * pipelines a second message. */
static void test_backlog_spreads_over_connections(void **state)
{
    asmtp_pool_config config = config_for("sink", "pool.test");
    asmtp_pool_stats stats;
    uv_loop_t loop;
    asmtp_pool *p;
    tally t = {0};

    (void)state;
    config.max_connections = 4;
    uv_loop_init(&loop);
    assert_int_equal(asmtp_pool_new(&p, &loop, &config, NULL), 0);
    send_n(p, 4, &t);
    asmtp_pool_get_stats(p, &stats);
    assert_int_equal(stats.connections, 4);
    assert_int_equal(stats.in_flight, 4);
    send_n(p, 4, &t); /* now pipelined: one more on each */
    while (t.done < 8)
        uv_run(&loop, UV_RUN_ONCE);
    asmtp_pool_get_stats(p, &stats);
    assert_int_equal(t.failed, 0);
    assert_int_equal(stats.connections, 4);
    asmtp_pool_close(p);
    while (asmtp_pool_get_stats(p, &stats), stats.open > 0)
        uv_run(&loop, UV_RUN_ONCE);
    asmtp_pool_free(p);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_blocking_variant(void **state)
{
    asmtp_pool_config config = config_for("sink2", "pool.test");
    asmtp_pool_stats stats;
    asmtp_pool *p;
    tally t = {0};

    (void)state;
    config.max_connections = 2;
    assert_int_equal(asmtp_pool_new(&p, NULL, &config, NULL), 0);
    send_n(p, 12, &t);
    assert_int_equal(asmtp_pool_wait(p), 0);
    assert_int_equal(t.done, 12);
    assert_int_equal(t.failed, 0);
    asmtp_pool_get_stats(p, &stats);
    assert_int_equal(stats.delivered, 12);
    asmtp_pool_free(p);
    assert_int_equal(stored("sink2"), 12);
}

static void test_retry_after_a_drop(void **state)
{
    asmtp_pool_config config = config_for("drop", "pool.test");
    asmtp_pool_stats stats;
    asmtp_pool *p;
    tally t = {0};

    (void)state;
    config.max_connections = 1;
    config.max_messages = 1;
    config.max_retries = 2;
    config.retry_base_ms = 10;
    assert_int_equal(asmtp_pool_new(&p, NULL, &config, NULL), 0);
    send_n(p, 1, &t);
    assert_int_equal(asmtp_pool_wait(p), 0);
    asmtp_pool_get_stats(p, &stats);
    assert_int_equal(t.done, 1);
    assert_int_equal(t.failed, 0);
    assert_int_equal(stats.retries, 1);
    assert_int_equal(stats.connections, 2);
    assert_int_equal(stats.delivered + stats.failed, stats.submitted);
    asmtp_pool_free(p);
}

static void test_no_retry_without_permission(void **state)
{
    asmtp_pool_config config = config_for("drop-once", "pool.test");
    asmtp_pool_stats stats;
    asmtp_pool *p;
    tally t = {0};

    (void)state;
    config.max_connections = 1;
    assert_int_equal(asmtp_pool_new(&p, NULL, &config, NULL), 0);
    send_n(p, 1, &t);
    assert_int_equal(asmtp_pool_wait(p), 0);
    asmtp_pool_get_stats(p, &stats);
    assert_int_equal(t.done, 1);
    assert_int_equal(t.failed, 1);
    assert_int_equal(stats.retries, 0);
    asmtp_pool_free(p);
}

static void test_free_with_messages_queued(void **state)
{
    asmtp_pool_config config = config_for("sink", "pool.test");
    uv_loop_t loop;
    asmtp_pool *p;
    tally t = {0};

    (void)state;
    uv_loop_init(&loop);
    assert_int_equal(asmtp_pool_new(&p, &loop, &config, NULL), 0);
    send_n(p, 20, &t);
    asmtp_pool_free(p);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    assert_int_equal(t.done, 20); /* every one, exactly once */
}

typedef struct merged {
    int calls, error;
    size_t count, refused, accepted;
    char last[64];
} merged;

static void on_merged(asmtp_pool *p, const asmtp_result *r, void *ud)
{
    merged *m = ud;

    (void)p;
    m->calls++;
    m->error = r->error;
    m->count = r->recipient_count;
    m->refused = r->refused_count;
    for (size_t i = 0; i < r->recipient_count; i++)
        m->accepted += r->recipients[i].accepted;
    if (r->recipient_count)
        snprintf(m->last, sizeof m->last, "%s",
                 r->recipients[r->recipient_count - 1].address);
}

static void test_too_many_recipients_follow_up(void **state)
{
    static const char body[] = "Subject: many\r\n\r\nHello.\r\n";
    asmtp_pool_config config = config_for("max3", "pool.test");
    asmtp_recipient rcpts[7];
    char names[7][32];
    asmtp_envelope env;
    asmtp_content content;
    asmtp_pool *p;
    merged m = {0};

    (void)state;
    memset(rcpts, 0, sizeof rcpts);
    for (int i = 0; i < 7; i++) {
        snprintf(names[i], sizeof names[i], "r%d@example.net", i);
        rcpts[i].address = names[i];
    }
    memset(&env, 0, sizeof env);
    env.sender = "alice@example.org";
    env.recipients = rcpts;
    env.recipient_count = 7;
    memset(&content, 0, sizeof content);
    content.data = body;
    content.len = sizeof body - 1;
    assert_int_equal(asmtp_pool_new(&p, NULL, &config, NULL), 0);
    assert_int_equal(asmtp_pool_send(p, &env, &content, on_merged, &m), 0);
    assert_int_equal(asmtp_pool_wait(p), 0);
    asmtp_pool_free(p);
    /* The server takes three recipients a transaction: 3 + 3 + 1. */
    assert_int_equal(m.calls, 1);
    assert_int_equal(m.error, 0);
    assert_int_equal(m.count, 7);
    assert_int_equal(m.accepted, 7);
    assert_int_equal(m.refused, 0);
    assert_string_equal(m.last, "r6@example.net");
    assert_int_equal(stored("max3"), 3);
}

static void test_rate_limit_and_idle_close(void **state)
{
    asmtp_pool_config config = config_for("sink", "pool.test");
    asmtp_pool_stats stats;
    uv_loop_t loop;
    asmtp_pool *p;
    tally t = {0};
    uint64_t start;

    (void)state;
    config.max_connections = 2;
    config.rate_limit = 20; /* messages per second */
    config.idle_timeout_ms = 100;
    uv_loop_init(&loop);
    assert_int_equal(asmtp_pool_new(&p, &loop, &config, NULL), 0);
    uv_update_time(&loop);
    start = uv_now(&loop);
    send_n(p, 11, &t);
    while (t.done < 11)
        uv_run(&loop, UV_RUN_ONCE);
    /* One token at the start, then one every 50 ms: ten waits at least. */
    assert_true(uv_now(&loop) - start >= 450);
    assert_int_equal(t.failed, 0);
    /* Left alone, the idle connections close by themselves. */
    while (asmtp_pool_get_stats(p, &stats), stats.open > 0)
        uv_run(&loop, UV_RUN_ONCE);
    assert_int_equal(stats.delivered, 11);
    asmtp_pool_free(p);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_many_messages_few_connections),
        cmocka_unit_test(test_backlog_spreads_over_connections),
        cmocka_unit_test(test_blocking_variant),
        cmocka_unit_test(test_retry_after_a_drop),
        cmocka_unit_test(test_no_retry_without_permission),
        cmocka_unit_test(test_free_with_messages_queued),
        cmocka_unit_test(test_too_many_recipients_follow_up),
        cmocka_unit_test(test_rate_limit_and_idle_close),
    };

    if (argc != 2) {
        fprintf(stderr, "usage: %s WORKDIR\n", argv[0]);
        return 2;
    }
    work = argv[1];
    return cmocka_run_group_tests(tests, NULL, NULL);
}
