/*
 * The pool under faults that span connections, against the fault
 * server's sink (tests/servers/fault-server.py --sink, started by
 * pool_faults.sh): one that drops every third connection at its first
 * MAIL (and one that drops every connection), one that answers 421 to
 * the MAIL after four messages, one that never greets every third
 * connection, one that stores the first message of every third
 * connection and never answers its final dot.
 *
 * With retries on, every message must complete exactly once, delivered
 * or failed, and the report must say which: the sink holds exactly one
 * copy of each delivered message (Message-ID <mN@pool.test>), none of a
 * failed one unless its result says maybe_delivered (then zero or one),
 * and the pool's counters add up. Each scenario prints its report.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it_support.h"

#define MESSAGES 30

typedef struct message {
    char body[160];
    int calls;
    int error;
    bool maybe;
    char text[200]; /* the result's message */
    int stored;     /* copies the sink holds */
} message;

typedef struct scenario {
    const char *server;
    const char *what;
    uint64_t connect_timeout_ms, timeout_ms;
    bool all_delivered; /* the fault is temporary: retries must win */
    bool some_maybe;    /* the fault leaves messages maybe delivered */
    unsigned max_retries;
    bool all_failed; /* the fault outlasts the retries */
} scenario;

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;

    if (!d)
        return -1;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the directory's own */
}

static void on_result(asmtp_pool *pool, const asmtp_result *r, void *ud)
{
    message *m = ud;

    (void)pool;
    m->calls++;
    m->error = r->error;
    m->maybe = r->maybe_delivered;
    snprintf(m->text, sizeof m->text, "%s", r->message);
}

static int completed(const message *msgs)
{
    int n = 0;

    for (int i = 0; i < MESSAGES; i++)
        n += msgs[i].calls > 0;
    return n;
}

/* DIR/received: one "ID conn=N" line per message the sink stored. */
static void count_stored(const char *server, message *msgs)
{
    char *text = it_read_file(it_path(server, "received"), NULL);
    char *line, *save = NULL;

    if (!text)
        return; /* nothing stored at all */
    for (line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        int n = -1;

        if (sscanf(line, "m%d@pool.test", &n) != 1 || n < 0 || n >= MESSAGES)
            fail_msg("%s stored a message the test did not send: %s", server,
                     line);
        msgs[n].stored++;
    }
    free(text);
}

static void run_scenario(const scenario *sc)
{
    static message msgs[MESSAGES];
    asmtp_recipient rcpt = {"bob@example.net", 0, NULL};
    asmtp_envelope env;
    asmtp_pool_config config;
    asmtp_pool_stats stats;
    it_counting_mem mem;
    int delivered = 0, failed = 0, maybe = 0, maybe_stored = 0, fds;
    uv_loop_t loop, warm_up;
    asmtp_pool *pool;
    int done;

    it_counting_mem_init(&mem);
    memset(msgs, 0, sizeof msgs);
    memset(&env, 0, sizeof env);
    env.sender = "alice@example.org";
    env.recipients = &rcpt;
    env.recipient_count = 1;
    memset(&config, 0, sizeof config);
    config.client.host = "127.0.0.1";
    config.client.port = it_port(sc->server);
    config.client.local_hostname = "pool.test";
    config.client.connect_timeout_ms = sc->connect_timeout_ms;
    config.client.timeout_ms = sc->timeout_ms;
    config.max_connections = 3;
    config.max_messages = 5; /* more connections, so more of them fail */
    config.max_retries = sc->max_retries;
    config.retry_base_ms = 10;
    config.retry_max_ms = 100;

    /* libuv keeps a pipe of its own from the first loop on. */
    uv_loop_init(&warm_up);
    uv_loop_close(&warm_up);
    fds = count_fds();
    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(asmtp_pool_new(&pool, &loop, &config, &mem.mem), 0);
    for (int i = 0; i < MESSAGES; i++) {
        asmtp_content content;

        snprintf(msgs[i].body, sizeof msgs[i].body,
                 "Message-ID: <m%d@pool.test>\r\nSubject: pool fault %d\r\n"
                 "\r\nHello.\r\n",
                 i, i);
        memset(&content, 0, sizeof content);
        content.data = msgs[i].body;
        content.len = strlen(msgs[i].body);
        assert_int_equal(
            asmtp_pool_send(pool, &env, &content, on_result, &msgs[i]), 0);
    }
    while ((done = completed(msgs)) < MESSAGES)
        if (uv_run(&loop, UV_RUN_ONCE) == 0 &&
            (done = completed(msgs)) < MESSAGES) {
            asmtp_pool_get_stats(pool, &stats);
            fail_msg("%s: the loop ran out of work with %d of %d messages "
                     "not completed (pool: %zu queued, %zu in flight, %zu "
                     "connections open; %llu delivered, %llu failed)",
                     sc->server, MESSAGES - done, MESSAGES, stats.queued,
                     stats.in_flight, stats.open,
                     (unsigned long long)stats.delivered,
                     (unsigned long long)stats.failed);
        }
    asmtp_pool_get_stats(pool, &stats);
    asmtp_pool_close(pool);
    asmtp_pool_free(pool);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    assert_int_equal(count_fds(), fds);
    assert_int_equal(mem.live, 0);

    count_stored(sc->server, msgs);
    for (int i = 0; i < MESSAGES; i++) {
        message *m = &msgs[i];

        if (m->calls != 1)
            fail_msg("%s: message %d completed %d times", sc->server, i,
                     m->calls);
        if (m->stored > 1)
            fail_msg("%s: message %d was stored %d times", sc->server, i,
                     m->stored);
        if (m->error == 0) {
            delivered++;
            if (m->stored != 1)
                fail_msg("%s: message %d reported delivered, not stored",
                         sc->server, i);
        } else if (m->maybe) {
            failed++;
            maybe++;
            maybe_stored += m->stored;
        } else {
            failed++;
            if (m->stored != 0)
                fail_msg("%s: message %d reported failed (%s: %s) but "
                         "stored",
                         sc->server, i, asmtp_error_name(m->error), m->text);
        }
    }
    print_message("%s (%s): %d submitted: %d delivered, %d failed (%d of "
                  "them maybe delivered, %d of those stored); %llu retries "
                  "over %llu connections\n",
                  sc->server, sc->what, MESSAGES, delivered, failed, maybe,
                  maybe_stored, (unsigned long long)stats.retries,
                  (unsigned long long)stats.connections);
    for (int i = 0; i < MESSAGES; i++)
        if (msgs[i].error)
            print_message(
                "  message %d: %s%s: %s\n", i, asmtp_error_name(msgs[i].error),
                msgs[i].maybe ? " (maybe delivered)" : "", msgs[i].text);

    /* The counters add up, and agree with the callbacks. */
    assert_int_equal(stats.submitted, MESSAGES);
    assert_int_equal(stats.delivered + stats.failed, stats.submitted);
    assert_int_equal(stats.delivered, delivered);
    assert_int_equal(stats.failed, failed);
    assert_int_equal(stats.queued, 0);
    assert_int_equal(stats.in_flight, 0);
    /* The fault happened and was retried. */
    assert_true(stats.retries > 0);
    assert_true(stats.connections > 3);
    if (sc->all_delivered)
        assert_int_equal(delivered, MESSAGES);
    if (sc->all_failed) {
        /* Each one tried once and then max_retries times more. */
        assert_int_equal(failed, MESSAGES);
        assert_int_equal(stats.retries, MESSAGES * sc->max_retries);
    }
    if (sc->some_maybe) {
        /* Every failure is a message whose final dot went unanswered:
         * never retried, and the sink (which stores before it stalls)
         * holds it. */
        assert_true(maybe > 0);
        assert_int_equal(failed, maybe);
        assert_int_equal(maybe_stored, maybe);
    } else {
        assert_int_equal(maybe, 0);
    }
}

static void test_drop_every_third_connection(void **state)
{
    const scenario sc = {"drop", "every 3rd connection dropped at MAIL",
                         10000,  10000,
                         true,   false,
                         10,     false};

    (void)state;
    run_scenario(&sc);
}

/* A server that drops every connection: the retries run out, and every
 * message is reported failed, none of them stored. */
static void test_drop_every_connection(void **state)
{
    const scenario sc = {"drop-all", "every connection dropped at MAIL",
                         10000,      10000,
                         false,      false,
                         2,          true};

    (void)state;
    run_scenario(&sc);
}

static void test_421_after_four_messages(void **state)
{
    const scenario sc = {"shutdown", "421 to the MAIL after 4 messages",
                         10000,      10000,
                         true,       false,
                         10,         false};

    (void)state;
    run_scenario(&sc);
}

static void test_stall_before_greeting(void **state)
{
    const scenario sc = {"stall-greeting",
                         "every 3rd connection never greets; 500 ms "
                         "connect timeout",
                         500,
                         10000,
                         true,
                         false,
                         10,
                         false};

    (void)state;
    run_scenario(&sc);
}

static void test_stall_after_final_dot(void **state)
{
    const scenario sc = {"stall-dot",
                         "every 3rd connection stores its first message "
                         "and never answers the dot; 500 ms timeout",
                         10000,
                         500,
                         false,
                         true,
                         10,
                         false};

    (void)state;
    run_scenario(&sc);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_drop_every_third_connection),
        cmocka_unit_test(test_drop_every_connection),
        cmocka_unit_test(test_421_after_four_messages),
        cmocka_unit_test(test_stall_before_greeting),
        cmocka_unit_test(test_stall_after_final_dot),
    };

    it_init(argc, argv);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
