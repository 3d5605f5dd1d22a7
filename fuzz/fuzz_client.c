/*
 * Fuzz target: the whole client (libuv, the session, and TLS when the
 * first byte asks for it) against a "server" that is the fuzz input,
 * written into the other end of a socket pair in pieces the input
 * chooses, with the client's own output read and thrown away. The input
 * ends with the server closing its end. Whatever came before, every
 * operation must complete exactly once, the client must free cleanly and
 * the loop must close with nothing left on it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <uv.h>

#include "asmtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define OPS 7

static int calls[OPS];

static void done(asmtp_client *c, const asmtp_result *r, void *user_data)
{
    int *count = user_data;

    (void)c;
    (void)r->message;
    if (r->reply)
        (void)asmtp_reply_render(r->reply, NULL, 0);
    for (size_t i = 0; i < r->recipient_count; i++)
        (void)r->recipients[i].accepted;
    if (++*count > 1)
        abort();
}

static long read_body(void *user_data, unsigned char *buf, size_t cap)
{
    size_t *left = user_data;
    size_t n = *left < cap ? *left : cap;

    memset(buf, n % 5 ? 'x' : '\n', n);
    *left -= n;
    return (long)n;
}

static bool all_done(void)
{
    for (int i = 0; i < OPS; i++)
        if (calls[i] == 0)
            return false;
    return true;
}

static void submit_all(asmtp_client *c, size_t *stream_left)
{
    static const asmtp_recipient rcpts[] = {
        {"b@example.net", ASMTP_NOTIFY_FAILURE, "b@example.net"},
        {"c@example.net", 0, NULL},
    };
    static const char message[] = "From: a@example.org\r\n"
                                  "To: b@example.net\r\n"
                                  "Bcc: c@example.net\r\n\r\n"
                                  ".dot\nbare\rline\r\n";
    asmtp_envelope env = {"a@example.org", rcpts, 2, 0,
                          ASMTP_RET_HDRS,  "id1", 0};
    asmtp_content mem = {".x\r\n", 4, NULL, 0, NULL, NULL, 0, false};
    asmtp_content msg = {message, sizeof message - 1, NULL, 0, NULL, NULL, 0,
                         false};
    asmtp_content stream = {NULL, 0, NULL, 0, read_body, stream_left, 0, false};
    asmtp_credentials creds = {{(const unsigned char *)"user", 4},
                               {(const unsigned char *)"pass", 4},
                               {NULL, 0},
                               {NULL, 0}};
    int i = 0;

    asmtp_client_auth(c, &creds, 0, done, &calls[i++]);
    asmtp_client_send(c, &env, &mem, done, &calls[i++]);
    asmtp_client_send_message(c, NULL, &msg, done, &calls[i++]);
    asmtp_client_send(c, &env, &stream, done, &calls[i++]);
    asmtp_client_noop(c, done, &calls[i++]);
    asmtp_client_quit(c, done, &calls[i++]);
}

/* Throw away what the client wrote, so that it never blocks on us. */
static void drain(int fd)
{
    char sink[65536];

    while (read(fd, sink, sizeof sink) > 0)
        ;
}

/* Write what the socket takes now; the rest waits for the next turn.
 * -1 once the client has closed its end. */
static long feed(int fd, const uint8_t *p, size_t n)
{
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);

    if (w < 0)
        return errno == EAGAIN || errno == EINTR ? 0 : -1;
    return (long)w;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    asmtp_client_config config;
    asmtp_client *c;
    uv_loop_t loop;
    size_t stream_left = 70000;
    int fds[2];
    uint8_t flags;

    if (size < 1 || size > 65536)
        return 0;
    flags = data[0];
    data++;
    size--;
    memset(&config, 0, sizeof config);
    config.host = "mx.example";
    config.local_hostname = "client.example";
    config.tls = flags & 1;
    config.starttls = flags & 2 ? ASMTP_STARTTLS_AUTO : ASMTP_STARTTLS_NEVER;
    config.tls_config.no_verify = true;
    config.allow_insecure_auth = true;
    config.disable_pipelining = flags & 4;
    config.disable_chunking = flags & 8;
    memset(calls, 0, sizeof calls);

    if (uv_loop_init(&loop))
        abort();
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds))
        abort();
    fcntl(fds[1], F_SETFL, O_NONBLOCK);
    if (asmtp_client_new(&c, &loop, &config, NULL))
        abort();
    if (asmtp_client_adopt(c, fds[0], done, &calls[OPS - 1]) != 0)
        abort();
    submit_all(c, &stream_left);

    while (size > 0) {
        size_t piece = 1 + data[0] % 128;
        long n;

        if (piece > size)
            piece = size;
        n = feed(fds[1], data, piece);
        if (n < 0)
            break; /* the client hung up */
        data += n;
        size -= (size_t)n;
        uv_run(&loop, UV_RUN_NOWAIT);
        drain(fds[1]);
    }
    close(fds[1]); /* the server hangs up */
    for (int turn = 0; turn < 1000 && !all_done(); turn++)
        uv_run(&loop, UV_RUN_NOWAIT);
    if (!all_done())
        abort(); /* an operation outlived the end of its connection */
    asmtp_client_free(c);
    uv_run(&loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&loop))
        abort();
    for (int i = 0; i < OPS; i++)
        if (calls[i] != 1)
            abort();
    return 0;
}
