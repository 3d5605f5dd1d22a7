/*
 * Fuzz target: a session fed random server bytes. The first bytes choose
 * the configuration and how the rest is split into reads; a fixed set of
 * operations is queued before the first read. Whatever the server says,
 * every operation must complete exactly once and nothing may leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "asmtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define OPS 9

static int calls[OPS];

static void done(asmtp_session *s, const asmtp_result *r, void *user_data)
{
    int *count = user_data;

    (void)s;
    (void)r->message;
    if (r->reply)
        (void)asmtp_reply_render(r->reply, NULL, 0);
    (*count)++;
    if (*count > 1)
        abort();
}

static long read_body(void *user_data, unsigned char *buf, size_t cap)
{
    size_t *left = user_data;
    size_t n = *left < cap ? *left : cap;

    memset(buf, n % 3 ? '.' : '\n', n);
    *left -= n;
    return (long)n;
}

static void submit_all(asmtp_session *s, size_t *stream_left)
{
    static const asmtp_recipient rcpts[] = {
        {"b@example.net", ASMTP_NOTIFY_FAILURE, "b@example.net"},
        {"c@example.net", 0, NULL},
    };
    asmtp_envelope env = {"a@example.org", rcpts, 2, 0,
                          ASMTP_RET_HDRS,  "id1", 0};
    asmtp_content mem = {
        ".dot\nbare\rline\r\n", 16, NULL, 0, NULL, NULL, 0, false};
    asmtp_content stream = {NULL, 0, NULL, 0, read_body, stream_left, 0, false};
    asmtp_credentials creds = {{(const unsigned char *)"user", 4},
                               {(const unsigned char *)"pass", 4},
                               {NULL, 0},
                               {NULL, 0}};
    int i = 0;

    asmtp_session_start(s, done, &calls[i++]);
    asmtp_session_auth(s, &creds, 0, done, &calls[i++]);
    asmtp_session_send(s, &env, &mem, done, &calls[i++]);
    asmtp_session_send(s, &env, &stream, done, &calls[i++]);
    asmtp_session_vrfy(s, "someone", done, &calls[i++]);
    asmtp_session_rset(s, done, &calls[i++]);
    asmtp_session_raw(s, "XCMD", done, &calls[i++]);
    asmtp_session_ehlo(s, done, &calls[i++]);
    asmtp_session_quit(s, done, &calls[i++]);
}

static void drain(asmtp_session *s, uint64_t now)
{
    size_t len;

    while (asmtp_session_output(s, &len) && len)
        asmtp_session_output_done(s, len, now);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    asmtp_session_config config;
    asmtp_session *s;
    size_t stream_left = 70000;
    uint64_t now = 0;
    uint8_t flags;

    if (size < 2)
        return 0;
    flags = data[0];
    memset(&config, 0, sizeof config);
    config.local_hostname = "client.example";
    config.starttls = flags % 3;
    config.tls = flags & 4;
    config.disable_pipelining = flags & 8;
    config.disable_chunking = flags & 16;
    config.max_inflight = flags & 32 ? 40 : 0;
    memset(calls, 0, sizeof calls);
    if (asmtp_session_new(&s, &config, NULL))
        return 0;
    submit_all(s, &stream_left);
    asmtp_session_tick(s, now);
    data += 2;
    size -= 2;
    while (size > 0) {
        size_t piece = 1 + data[0] % 64;

        if (piece > size)
            piece = size;
        drain(s, now);
        asmtp_session_feed(s, data, piece, ++now);
        if (asmtp_session_want_tls(s))
            asmtp_session_tls_done(s, data[0] & 1 ? 0 : ASMTP_ERR_TLS, now);
        data += piece;
        size -= piece;
    }
    drain(s, now);
    if (flags & 64)
        asmtp_session_tick(s, now + 1000000);
    else if (flags & 128)
        asmtp_session_eof(s, now);
    asmtp_session_free(s);
    for (int i = 0; i < OPS; i++)
        if (calls[i] > 1)
            abort();
    return 0;
}
