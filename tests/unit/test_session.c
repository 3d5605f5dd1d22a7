/*
 * Session behaviour that a transcript cannot express: callbacks that free
 * the session or submit more work, calls made from inside callbacks,
 * back-pressure on a streamed message, and argument checks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "asmtp.h"
#include "support.h"

static asmtp_session_config base_config(void)
{
    asmtp_session_config config;

    memset(&config, 0, sizeof config);
    config.local_hostname = "client.example";
    return config;
}

static asmtp_session *new_session(const asmtp_session_config *config)
{
    asmtp_session *s = NULL;

    assert_int_equal(asmtp_session_new(&s, config, NULL), 0);
    assert_non_null(s);
    asmtp_session_tick(s, 0);
    return s;
}

/* Take and return everything the session wants to write. */
static size_t drain(asmtp_session *s, char *copy, size_t cap)
{
    size_t total = 0, len;
    const unsigned char *out;

    while ((out = asmtp_session_output(s, &len)) && len) {
        if (copy && total + len < cap) {
            memcpy(copy + total, out, len);
            copy[total + len] = '\0';
        }
        total += len;
        asmtp_session_output_done(s, len, 0);
    }
    return total;
}

static void feed(asmtp_session *s, const char *text)
{
    asmtp_session_feed(s, text, strlen(text), 0);
}

static const char greeting_ehlo[] = "220 mx\r\n";
static const char ehlo_reply[] = "250-mx\r\n250 PIPELINING\r\n";

typedef struct record {
    int calls;
    int error;
    int op;
    asmtp_session *free_me;   /* free this session in the callback */
    asmtp_session *submit_on; /* submit a NOOP in the callback */
    struct record *submitted; /* the NOOP's record */
    int reentry;              /* what a driving call returned */
} record;

static void on_done(asmtp_session *s, const asmtp_result *r, void *user_data)
{
    record *rec = user_data;

    rec->calls++;
    rec->error = r->error;
    rec->op = r->op;
    assert_non_null(r->message);
    rec->reentry = asmtp_session_feed(s, "", 0, 0);
    if (rec->submit_on)
        assert_int_equal(
            asmtp_session_noop(rec->submit_on, on_done, rec->submitted), 0);
    if (rec->free_me)
        asmtp_session_free(rec->free_me);
}

static void test_new_checks_arguments(void **state)
{
    asmtp_session_config config = base_config();
    asmtp_session *s = (asmtp_session *)&config;

    (void)state;
    assert_int_equal(asmtp_session_new(&s, NULL, NULL), ASMTP_ERR_BAD_ARGUMENT);
    config.local_hostname = NULL;
    assert_int_equal(asmtp_session_new(&s, &config, NULL),
                     ASMTP_ERR_BAD_ARGUMENT);
    config.local_hostname = "bad name";
    assert_int_equal(asmtp_session_new(&s, &config, NULL),
                     ASMTP_ERR_BAD_ARGUMENT);
    config.local_hostname = "host\r\nRCPT TO:<x@y>";
    assert_int_equal(asmtp_session_new(&s, &config, NULL),
                     ASMTP_ERR_BAD_ARGUMENT);
    assert_null(s);
    config.local_hostname = "client.example";
    config.starttls = 7;
    assert_int_equal(asmtp_session_new(&s, &config, NULL),
                     ASMTP_ERR_BAD_ARGUMENT);
    asmtp_session_free(NULL);
}

static void test_free_inside_callback_is_deferred(void **state)
{
    asmtp_session_config config = base_config();
    asmtp_session *s = new_session(&config);
    record first = {0}, second = {0};

    (void)state;
    first.free_me = s;
    assert_int_equal(asmtp_session_noop(s, on_done, &first), 0);
    assert_int_equal(asmtp_session_noop(s, on_done, &second), 0);
    feed(s, greeting_ehlo);
    drain(s, NULL, 0);
    feed(s, ehlo_reply);
    drain(s, NULL, 0);
    /* Both NOOPs went in one group; the first reply's callback frees the
     * session, which must then cancel the second exactly once. */
    asmtp_session_feed(s, "250 ok\r\n", 8, 0);
    assert_int_equal(first.calls, 1);
    assert_int_equal(first.error, 0);
    assert_int_equal(first.reentry, ASMTP_ERR_STATE);
    assert_int_equal(second.calls, 1);
    assert_int_equal(second.error, ASMTP_ERR_CANCELLED);
}

static void test_submit_inside_callback(void **state)
{
    asmtp_session_config config = base_config();
    asmtp_session *s = new_session(&config);
    record first = {0}, second = {0};
    char out[256];

    (void)state;
    first.submit_on = s;
    first.submitted = &second;
    assert_int_equal(asmtp_session_noop(s, on_done, &first), 0);
    feed(s, greeting_ehlo);
    drain(s, NULL, 0);
    feed(s, ehlo_reply);
    assert_int_equal(drain(s, out, sizeof out), 6);
    assert_string_equal(out, "NOOP\r\n");
    feed(s, "250 ok\r\n");
    assert_int_equal(first.calls, 1);
    /* The NOOP submitted from the callback is on the wire already. */
    assert_int_equal(drain(s, out, sizeof out), 6);
    assert_string_equal(out, "NOOP\r\n");
    assert_int_equal(second.calls, 0);
    feed(s, "250 ok\r\n");
    assert_int_equal(second.calls, 1);
    assert_int_equal(second.error, 0);
    asmtp_session_free(s);
    assert_int_equal(second.calls, 1);
}

static void test_completion_without_io_needs_a_tick(void **state)
{
    asmtp_session_config config = base_config();
    asmtp_session *s = new_session(&config);
    record start = {0}, again = {0};

    (void)state;
    assert_int_equal(asmtp_session_start(s, on_done, &start), 0);
    feed(s, greeting_ehlo);
    drain(s, NULL, 0);
    feed(s, ehlo_reply);
    assert_int_equal(start.calls, 1);
    assert_int_equal(start.op, ASMTP_OP_START);
    /* A second start completes without any I/O: never inside the
     * submitting call, always at the next driving call. */
    assert_int_equal(asmtp_session_start(s, on_done, &again), 0);
    assert_int_equal(again.calls, 0);
    asmtp_session_tick(s, 1);
    assert_int_equal(again.calls, 1);
    assert_int_equal(again.error, 0);
    asmtp_session_free(s);
}

typedef struct source {
    size_t total;
    size_t given;
    int reads;
} source;

static long read_lines(void *user_data, unsigned char *buf, size_t cap)
{
    source *src = user_data;
    size_t n = src->total - src->given;

    if (n > cap)
        n = cap;
    for (size_t i = 0; i < n; i++)
        buf[i] = (src->given + i) % 64 == 63 ? '\n' : 'x';
    src->given += n;
    src->reads++;
    return (long)n;
}

static void test_streamed_content_follows_the_socket(void **state)
{
    asmtp_session_config config = base_config();
    asmtp_session *s = new_session(&config);
    asmtp_recipient rcpt = {"b@example.net", 0, NULL};
    asmtp_envelope env = {"a@example.org", &rcpt, 1, 0, 0, NULL, 0};
    source src = {10u * 1024 * 1024, 0, 0};
    asmtp_content content = {NULL, 0, NULL, 0, read_lines, &src, 0, false};
    record rec = {0};
    size_t len, written = 0;

    (void)state;
    assert_int_equal(asmtp_session_send(s, &env, &content, on_done, &rec), 0);
    feed(s, greeting_ehlo);
    drain(s, NULL, 0);
    feed(s, ehlo_reply);
    drain(s, NULL, 0);
    feed(s, "250 ok\r\n250 ok\r\n354 go\r\n");
    /* Nothing drained yet: the session has read only what fits under its
     * output bound, not the 10 MiB message. */
    assert_non_null(asmtp_session_output(s, &len));
    assert_true(len <= 128u * 1024);
    assert_true(src.given <= 128u * 1024);
    assert_int_equal(asmtp_session_waiting_for(s), ASMTP_WAIT_DATA_BLOCK);
    while (asmtp_session_output(s, &len) && len) {
        size_t n = len > 1000 ? 1000 : len;

        asmtp_session_output_done(s, n, 0);
        written += n;
        assert_true(src.given <= written + 128u * 1024);
    }
    assert_int_equal(src.given, src.total);
    assert_int_equal(asmtp_session_waiting_for(s), ASMTP_WAIT_DATA_END);
    feed(s, "250 queued\r\n");
    assert_int_equal(rec.calls, 1);
    assert_int_equal(rec.error, 0);
    asmtp_session_free(s);
}

static void test_driving_calls_check_arguments(void **state)
{
    asmtp_session_config config = base_config();
    asmtp_session *s = new_session(&config);
    size_t len = 99;

    (void)state;
    assert_null(asmtp_session_output(s, &len));
    assert_int_equal(len, 0);
    assert_int_equal(asmtp_session_output_done(s, 1, 0),
                     ASMTP_ERR_BAD_ARGUMENT);
    assert_int_equal(asmtp_session_tls_done(s, 0, 0), ASMTP_ERR_STATE);
    assert_int_equal(asmtp_session_feed(NULL, "", 0, 0),
                     ASMTP_ERR_BAD_ARGUMENT);
    assert_int_equal(asmtp_session_noop(NULL, NULL, NULL),
                     ASMTP_ERR_BAD_ARGUMENT);
    assert_int_equal(asmtp_session_raw(s, NULL, NULL, NULL),
                     ASMTP_ERR_BAD_ARGUMENT);
    assert_int_equal(asmtp_session_auth(s, NULL, 0, NULL, NULL),
                     ASMTP_ERR_BAD_ARGUMENT);
    assert_int_equal(asmtp_session_send(s, NULL, NULL, NULL, NULL),
                     ASMTP_ERR_BAD_ARGUMENT);
    assert_int_equal(asmtp_session_extension(s, "PIPELINING", NULL), 0);
    assert_int_equal(asmtp_session_size_limit(s), 0);
    assert_int_equal(asmtp_session_auth_mechanisms(s), 0);
    assert_int_equal(asmtp_session_deadline(s), 60000);
    asmtp_session_free(s);
}

static int tls_calls;

static void on_start_tls(void *user_data)
{
    (void)user_data;
    tls_calls++;
}

static void test_start_tls_callback_runs_once(void **state)
{
    asmtp_session_config config = base_config();
    asmtp_session *s;
    record rec = {0};
    char out[256];

    (void)state;
    config.starttls = ASMTP_STARTTLS_REQUIRED;
    config.start_tls = on_start_tls;
    s = new_session(&config);
    tls_calls = 0;
    assert_int_equal(asmtp_session_start(s, on_done, &rec), 0);
    feed(s, greeting_ehlo);
    drain(s, NULL, 0);
    feed(s, "250-mx\r\n250 STARTTLS\r\n");
    drain(s, out, sizeof out);
    assert_string_equal(out, "STARTTLS\r\n");
    feed(s, "220 go ahead\r\n");
    assert_int_equal(tls_calls, 1);
    assert_true(asmtp_session_want_tls(s));
    assert_int_equal(asmtp_session_waiting_for(s), ASMTP_WAIT_TLS);
    asmtp_session_tick(s, 5);
    assert_int_equal(tls_calls, 1);
    assert_int_equal(drain(s, NULL, 0), 0);
    assert_int_equal(asmtp_session_tls_done(s, 0, 6), 0);
    drain(s, out, sizeof out);
    assert_string_equal(out, "EHLO client.example\r\n");
    assert_true(asmtp_session_is_tls(s));
    feed(s, "250 mx\r\n");
    assert_int_equal(rec.calls, 1);
    assert_int_equal(rec.error, 0);
    asmtp_session_free(s);
}

static void test_every_allocation_may_fail(void **state)
{
    (void)state;
    for (size_t fail_at = 1; fail_at < 400; fail_at++) {
        asmtp_session_config config = base_config();
        asmtp_session *s = NULL;
        failmem fm;
        record recs[3];
        asmtp_recipient rcpt = {"b@example.net", 0, NULL};
        asmtp_envelope env = {"a@example.org", &rcpt, 1, 0, 0, NULL, 0};
        asmtp_content content = {"hi\r\n", 4, NULL, 0, NULL, NULL, 0, false};
        int submitted = 0;

        memset(recs, 0, sizeof recs);
        failmem_init(&fm, fail_at);
        if (asmtp_session_new(&s, &config, &fm.mem) != 0) {
            assert_int_equal(fm.live, 0);
            continue;
        }
        submitted +=
            asmtp_session_send(s, &env, &content, on_done, &recs[0]) == 0;
        submitted += asmtp_session_noop(s, on_done, &recs[1]) == 0;
        submitted += asmtp_session_quit(s, on_done, &recs[2]) == 0;
        feed(s, greeting_ehlo);
        drain(s, NULL, 0);
        feed(s, ehlo_reply);
        drain(s, NULL, 0);
        feed(s, "250 ok\r\n250 ok\r\n354 go\r\n");
        drain(s, NULL, 0);
        feed(s, "250 ok\r\n250 ok\r\n221 bye\r\n");
        asmtp_session_free(s);
        assert_int_equal(recs[0].calls + recs[1].calls + recs[2].calls,
                         submitted);
        assert_int_equal(fm.live, 0);
        if (fm.failed == 0)
            return;
    }
    fail_msg("the run never got through without a failure");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_checks_arguments),
        cmocka_unit_test(test_free_inside_callback_is_deferred),
        cmocka_unit_test(test_submit_inside_callback),
        cmocka_unit_test(test_completion_without_io_needs_a_tick),
        cmocka_unit_test(test_streamed_content_follows_the_socket),
        cmocka_unit_test(test_driving_calls_check_arguments),
        cmocka_unit_test(test_start_tls_callback_runs_once),
        cmocka_unit_test(test_every_allocation_may_fail),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
