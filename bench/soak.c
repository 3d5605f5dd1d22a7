/*
 * asmtp-soak: send through the pool for a while, with faults injected,
 * and watch that nothing grows. The pool talks to a server through a
 * proxy in this process that drops every Nth connection part way through
 * what the client sends, and answers every Mth with a 421 part way
 * through what the server sends. Every second it prints a sample: resident
 * memory, open descriptors, messages outstanding and the pool's counters.
 * At the end it stops sending, waits for every message, closes
 * everything, and checks: memory in the last second of sending within 5%
 * of where it was after the warm-up (a tenth of the run), no socket left
 * open once the loop is closed, nothing outstanding, and every
 * message counted once (delivered + failed = submitted). Exit status 0
 * when all of that holds.
 *
 *   asmtp-soak -p SERVER_PORT [--seconds S] [--drop-every N]
 *              [--421-every M] [--outstanding K] [--connections C]
 *
 * Loopback only; bounded by --seconds (and a hard stop at twice that).
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "asmtp.h"

#define HOST "127.0.0.1"

typedef struct soak {
    uv_loop_t *loop;
    unsigned long server_port;
    double seconds;
    unsigned long drop_every, shutdown_every, outstanding_max, connections;
    asmtp_pool *pool;
    uv_tcp_t listener;
    uv_timer_t timer;
    int proxy_port;
    unsigned long accepted, dropped, shut_down, links_open;
    unsigned long submitted, delivered, failed, maybe_delivered;
    unsigned long long retries; /* the pool's, kept once it is gone */
    bool sending, draining, closing;
    double started;
    long rss_warm, rss_last, sockets_before;
    unsigned samples;
    char body[2048];
} soak;

/* ---- measuring ---------------------------------------------------------- */

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long rss_kib(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");

    if (!f)
        return -1;
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
        resident = -1;
    fclose(f);
    return resident * 4;
}

/* Open descriptors, and how many of them are sockets. */
static long open_fds(long *sockets)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    long n = 0;

    *sockets = 0;
    if (!d)
        return -1;
    while ((e = readdir(d))) {
        char path[300], target[64];
        ssize_t len;

        if (e->d_name[0] == '.')
            continue;
        n++;
        snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
        len = readlink(path, target, sizeof target - 1);
        if (len > 0 && (target[len] = '\0', !strncmp(target, "socket:", 7)))
            (*sockets)++;
    }
    closedir(d);
    return n - 1; /* the directory's own descriptor */
}

/* ---- the proxy ---------------------------------------------------------- */

enum fault { FAULT_NONE, FAULT_DROP, FAULT_SHUTDOWN };

typedef struct proxy_link {
    soak *s;
    uv_tcp_t down, up; /* to the pool's connection, to the server */
    uv_connect_t connect;
    int fault;
    size_t budget;    /* octets to pass before the fault */
    size_t passed[2]; /* so far, from the client and from the server */
    int handles_open;
    bool closing;
} proxy_link;

typedef struct write_req {
    uv_write_t req;
    char data[];
} write_req;

static void link_closed(uv_handle_t *h)
{
    proxy_link *l = h->data;

    if (--l->handles_open == 0) {
        l->s->links_open--;
        free(l);
    }
}

static void link_close(proxy_link *l)
{
    if (l->closing)
        return;
    l->closing = true;
    uv_close((uv_handle_t *)&l->down, link_closed);
    uv_close((uv_handle_t *)&l->up, link_closed);
}

static void written(uv_write_t *req, int status)
{
    (void)status;
    free(req);
}

static void forward(uv_tcp_t *to, const char *p, size_t n)
{
    write_req *w;
    uv_buf_t buf;

    if (n == 0 || !(w = malloc(sizeof *w + n)))
        return;
    memcpy(w->data, p, n);
    buf = uv_buf_init(w->data, (unsigned)n);
    if (uv_write(&w->req, (uv_stream_t *)to, &buf, 1, written))
        free(w);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    buf->base = malloc(suggested);
    buf->len = buf->base ? suggested : 0;
}

/* Pass n octets on, unless the fault comes within them: then pass what
 * comes before it and break the connection. */
static void pass(proxy_link *l, uv_tcp_t *to, const char *p, size_t n,
                 int fault)
{
    size_t *passed = &l->passed[fault == FAULT_SHUTDOWN];

    if (l->fault != fault || *passed + n < l->budget) {
        *passed += n;
        forward(to, p, n);
        return;
    }
    forward(to, p, l->budget - *passed);
    if (fault == FAULT_SHUTDOWN) {
        static const char reply[] = "421 4.3.2 soak: closing\r\n";

        forward(&l->down, reply, sizeof reply - 1);
        l->s->shut_down++;
    } else {
        l->s->dropped++;
    }
    link_close(l);
}

static void from_client(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    proxy_link *l = st->data;

    if (n > 0 && !l->closing)
        pass(l, &l->up, buf->base, (size_t)n, FAULT_DROP);
    else if (n < 0)
        link_close(l);
    free(buf->base);
}

static void from_server(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    proxy_link *l = st->data;

    if (n > 0 && !l->closing)
        pass(l, &l->down, buf->base, (size_t)n, FAULT_SHUTDOWN);
    else if (n < 0)
        link_close(l);
    free(buf->base);
}

static void upstream_connected(uv_connect_t *req, int status)
{
    proxy_link *l = req->data;

    if (status < 0 || l->closing) {
        link_close(l);
        return;
    }
    uv_read_start((uv_stream_t *)&l->down, on_alloc, from_client);
    uv_read_start((uv_stream_t *)&l->up, on_alloc, from_server);
}

static void on_accept(uv_stream_t *server, int status)
{
    soak *s = server->data;
    proxy_link *l;
    struct sockaddr_in addr;

    if (status < 0 || !(l = calloc(1, sizeof *l)))
        return;
    l->s = s;
    uv_tcp_init(s->loop, &l->down);
    uv_tcp_init(s->loop, &l->up);
    l->down.data = l->up.data = l->connect.data = l;
    l->handles_open = 2;
    s->links_open++;
    if (uv_accept(server, (uv_stream_t *)&l->down)) {
        link_close(l);
        return;
    }
    s->accepted++;
    /* Part way: past the greeting and EHLO, somewhere in the first
     * messages. */
    l->budget = 100 + (size_t)(rand() % 6000);
    if (s->drop_every && s->accepted % s->drop_every == 0)
        l->fault = FAULT_DROP;
    else if (s->shutdown_every && s->accepted % s->shutdown_every == 0)
        l->fault = FAULT_SHUTDOWN;
    uv_ip4_addr(HOST, (int)s->server_port, &addr);
    if (uv_tcp_connect(&l->connect, &l->up, (const struct sockaddr *)&addr,
                       upstream_connected))
        link_close(l);
}

static int proxy_start(soak *s)
{
    struct sockaddr_in addr;
    struct sockaddr_storage bound;
    int len = sizeof bound;

    uv_tcp_init(s->loop, &s->listener);
    s->listener.data = s;
    uv_ip4_addr(HOST, 0, &addr);
    if (uv_tcp_bind(&s->listener, (const struct sockaddr *)&addr, 0) ||
        uv_listen((uv_stream_t *)&s->listener, 1024, on_accept) ||
        uv_tcp_getsockname(&s->listener, (struct sockaddr *)&bound, &len))
        return -1;
    s->proxy_port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
    return 0;
}

/* ---- sending ------------------------------------------------------------ */

static void submit(soak *s);

static void on_result(asmtp_pool *p, const asmtp_result *r, void *user_data)
{
    soak *s = user_data;

    (void)p;
    if (r->error == 0)
        s->delivered++;
    else
        s->failed++;
    if (r->maybe_delivered)
        s->maybe_delivered++;
    if (s->sending)
        submit(s);
}

static void submit(soak *s)
{
    static const asmtp_recipient rcpt = {"rcpt@soak.example", 0, NULL};
    asmtp_envelope env;
    asmtp_content content;

    memset(&env, 0, sizeof env);
    env.sender = "sender@soak.example";
    env.recipients = &rcpt;
    env.recipient_count = 1;
    memset(&content, 0, sizeof content);
    content.data = s->body;
    content.len = sizeof s->body;
    while (s->submitted - s->delivered - s->failed < s->outstanding_max) {
        if (asmtp_pool_send(s->pool, &env, &content, on_result, s))
            return;
        s->submitted++;
    }
}

static void make_body(soak *s)
{
    static const char headers[] = "From: <sender@soak.example>\r\n"
                                  "To: <rcpt@soak.example>\r\n"
                                  "Subject: soak\r\n\r\n";
    size_t n = sizeof headers - 1;

    memcpy(s->body, headers, n);
    for (size_t i = n; i < sizeof s->body; i++)
        s->body[i] = (i - n) % 78 == 76   ? '\r'
                     : (i - n) % 78 == 77 ? '\n'
                                          : (char)('a' + i % 26);
    memcpy(s->body + sizeof s->body - 2, "\r\n", 2);
}

/* ---- the clock ---------------------------------------------------------- */

static void sample(soak *s, double t)
{
    asmtp_pool_stats st;

    memset(&st, 0, sizeof st);
    if (s->pool) {
        asmtp_pool_get_stats(s->pool, &st);
        s->retries = st.retries;
    }
    long sockets, fds = open_fds(&sockets);

    printf("sample t=%.0f rss_kib=%ld fds=%ld sockets=%ld outstanding=%lu "
           "queued=%zu in_flight=%zu open=%zu submitted=%lu delivered=%lu "
           "failed=%lu maybe_delivered=%lu retries=%llu connections=%lu "
           "dropped=%lu shut_down=%lu\n",
           t, rss_kib(), fds, sockets, s->submitted - s->delivered - s->failed,
           st.queued, st.in_flight, st.open, s->submitted, s->delivered,
           s->failed, s->maybe_delivered, s->retries, s->accepted, s->dropped,
           s->shut_down);
    fflush(stdout);
}

static void closed_quietly(uv_handle_t *h)
{
    (void)h;
}

static void tick(uv_timer_t *timer)
{
    soak *s = timer->data;
    double t = now_s() - s->started;
    asmtp_pool_stats st;

    if (s->sending) {
        sample(s, t);
        s->samples++;
        if (t >= s->seconds * 0.1 && !s->rss_warm)
            s->rss_warm = rss_kib();
        s->rss_last = rss_kib();
        if (t >= s->seconds) {
            s->sending = false;
            s->draining = true;
        }
        return;
    }
    if (s->draining && s->submitted == s->delivered + s->failed) {
        s->draining = false;
        s->closing = true;
        asmtp_pool_close(s->pool);
    }
    if (s->closing) {
        asmtp_pool_get_stats(s->pool, &st);
        if (st.open == 0 || t > 2 * s->seconds + 30) {
            s->retries = st.retries;
            asmtp_pool_free(s->pool);
            s->pool = NULL;
            s->closing = false;
            uv_close((uv_handle_t *)&s->listener, closed_quietly);
            uv_close((uv_handle_t *)&s->timer, closed_quietly);
        }
    } else if (t > 2 * s->seconds + 30) {
        fprintf(stderr, "asmtp-soak: messages still outstanding at the "
                        "hard stop\n");
        exit(1);
    }
}

/* ---- main --------------------------------------------------------------- */

static bool parse_ulong(const char *arg, unsigned long *out)
{
    char *end;

    *out = strtoul(arg, &end, 10);
    return *arg && !*end;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: asmtp-soak -p SERVER_PORT [--seconds S] "
               "[--drop-every N] [--421-every M]\n"
               "                  [--outstanding K] [--connections C]\n");
}

static int parse(soak *s, int argc, char **argv)
{
    static const struct option longs[] = {
        {"port", required_argument, NULL, 'p'},
        {"seconds", required_argument, NULL, 's'},
        {"drop-every", required_argument, NULL, 'd'},
        {"421-every", required_argument, NULL, 'q'},
        {"outstanding", required_argument, NULL, 'o'},
        {"connections", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    bool ok = true;

    s->seconds = 600;
    s->drop_every = 7;
    s->shutdown_every = 11;
    s->outstanding_max = 200;
    s->connections = 8;
    while ((opt = getopt_long(argc, argv, "p:h", longs, NULL)) != -1) {
        switch (opt) {
        case 'p':
            ok = ok && parse_ulong(optarg, &s->server_port) &&
                 s->server_port > 0 && s->server_port < 65536;
            break;
        case 's':
            s->seconds = strtod(optarg, NULL);
            ok = ok && s->seconds > 0 && s->seconds <= 86400;
            break;
        case 'd':
            ok = ok && parse_ulong(optarg, &s->drop_every);
            break;
        case 'q':
            ok = ok && parse_ulong(optarg, &s->shutdown_every);
            break;
        case 'o':
            ok = ok && parse_ulong(optarg, &s->outstanding_max) &&
                 s->outstanding_max > 0;
            break;
        case 'c':
            ok = ok && parse_ulong(optarg, &s->connections) &&
                 s->connections > 0;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            ok = false;
        }
    }
    if (!ok || !s->server_port || optind != argc) {
        usage(stderr);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static soak s;
    asmtp_pool_config config;
    long fds_after, sockets_after, rss_end;
    bool grew, leaked, lost;

    if (parse(&s, argc, argv))
        return 2;
    srand(12345);
    make_body(&s);
    open_fds(&s.sockets_before);
    s.loop = uv_default_loop();
    if (proxy_start(&s)) {
        fprintf(stderr, "asmtp-soak: cannot listen on %s\n", HOST);
        return 1;
    }
    memset(&config, 0, sizeof config);
    config.client.host = HOST;
    config.client.port = (uint16_t)s.proxy_port;
    config.client.local_hostname = "soak.example";
    config.client.timeout_ms = 5000;
    config.client.connect_timeout_ms = 5000;
    config.max_connections = s.connections;
    config.max_messages = 1000;
    config.max_retries = 5;
    config.retry_base_ms = 20;
    config.retry_max_ms = 500;
    if (asmtp_pool_new(&s.pool, s.loop, &config, NULL)) {
        fprintf(stderr, "asmtp-soak: cannot create the pool\n");
        return 1;
    }
    uv_timer_init(s.loop, &s.timer);
    s.timer.data = &s;
    uv_timer_start(&s.timer, tick, 1000, 1000);
    s.started = now_s();
    s.sending = true;
    submit(&s);
    uv_run(s.loop, UV_RUN_DEFAULT);
    sample(&s, now_s() - s.started);
    uv_loop_close(s.loop);
    fds_after = open_fds(&sockets_after);
    rss_end = rss_kib();
    grew = s.rss_warm <= 0 || s.rss_last > s.rss_warm + s.rss_warm / 20;
    leaked = sockets_after != s.sockets_before || s.links_open != 0;
    lost = s.submitted != s.delivered + s.failed;
    printf("result seconds=%.0f samples=%u submitted=%lu delivered=%lu "
           "failed=%lu maybe_delivered=%lu retries=%llu connections=%lu "
           "dropped=%lu shut_down=%lu rss_warm_kib=%ld rss_last_kib=%ld "
           "rss_end_kib=%ld sockets_before=%ld sockets_after=%ld "
           "fds_after=%ld\n",
           s.seconds, s.samples, s.submitted, s.delivered, s.failed,
           s.maybe_delivered, s.retries, s.accepted, s.dropped, s.shut_down,
           s.rss_warm, s.rss_last, rss_end, s.sockets_before, sockets_after,
           fds_after);
    if (grew)
        printf("FAIL memory grew: %ld KiB after the warm-up, %ld KiB at "
               "the end of sending\n",
               s.rss_warm, s.rss_last);
    if (leaked)
        printf("FAIL sockets: %ld before, %ld after\n", s.sockets_before,
               sockets_after);
    if (lost)
        printf("FAIL counts: %lu submitted, %lu completed\n", s.submitted,
               s.delivered + s.failed);
    return grew || leaked || lost ? 1 : 0;
}
