/*
 * asmtp-bench: send generated messages and report messages per second,
 * client CPU per 1000 messages, peak memory and waits for the server per
 * message. By default the messages go through the pool. With
 * --idle-seconds every connection is an asmtp_client of its own, opened
 * first and held idle to measure what an idle connection costs, and then
 * all of them send. Bounded: it sends -n messages and gives up after
 * --max-seconds.
 *
 *   asmtp-bench -H HOST -p PORT -n MESSAGES -c CONNECTIONS -s SIZE
 *               -r RECIPIENTS [--no-pipelining] [--no-chunking] [--tls]
 *               [--idle-seconds S [--source-addresses K]]
 *               [--shared-tls-context] [--inflight N] [--kv]
 */
#include <getopt.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <uv.h>

#include "asmtp.h"

/* Descriptors kept beside the connections: stdio, libuv's own (epoll,
 * its signal pipe, its async eventfd), files the resolver opens, slack. */
#define FD_RESERVE 16

/* Connections being opened at once in the idle mode: more only overflow
 * the server's accept queue and cost retransmitted SYNs. */
#define CONNECT_WINDOW 256

typedef struct bench {
    unsigned long messages, connections, size, recipients;
    unsigned long source_addresses;
    unsigned long inflight;
    double max_seconds;
    double idle_seconds; /* < 0: send through the pool */
    bool kv;
    bool shared_tls_context;
    asmtp_pool_config config;
    char *body;
    size_t body_len;
    asmtp_recipient *rcpts;
    char **addresses;
    asmtp_envelope envelope;
    asmtp_content content;
    double deadline;
    unsigned long done, failed;
    char first_message[256];
} bench;

/* What a run measured, for both forms of the report. */
typedef struct outcome {
    unsigned long connections;
    double seconds, user_s, sys_s;
    uint64_t reads;
    /* The idle mode only. */
    bool idle;
    unsigned long idle_connections;
    double connect_seconds, connect_cpu_s;
    long rss_before_kib, rss_idle_kib;
} outcome;

/* The idle mode's connections, opened CONNECT_WINDOW at a time. */
typedef struct idle_run {
    bench *b;
    uv_loop_t *loop;
    asmtp_client **clients;
    unsigned long started, connected, connect_failed, quit_done;
    char first_message[256];
} idle_run;

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double seconds_of(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static void cpu_s(double *user, double *sys)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    *user = seconds_of(ru.ru_utime);
    *sys = seconds_of(ru.ru_stime);
}

static long peak_rss_kib(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* The resident set now (VmRSS), not the peak: what idle connections
 * hold. -1 without /proc. */
static long rss_kib(void)
{
    char line[128];
    long kib = -1;
    FILE *f = fopen("/proc/self/status", "r");

    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kib = strtol(line + 6, NULL, 10);
            break;
        }
    fclose(f);
    return kib;
}

static void usage(FILE *out)
{
    fprintf(
        out,
        "Usage: asmtp-bench -H HOST -p PORT [-n MESSAGES] [-c CONNECTIONS]\n"
        "                   [-s SIZE] [-r RECIPIENTS] [--no-pipelining]\n"
        "                   [--no-chunking] [--tls] [--max-seconds S]\n"
        "                   [--idle-seconds S [--source-addresses K]]\n"
        "                   [--shared-tls-context] [--inflight N] [--kv]\n"
        "Sends MESSAGES (default 1000) generated messages of SIZE octets\n"
        "(default 2048) to RECIPIENTS recipients (default 1) over up to\n"
        "CONNECTIONS connections (default 1) and prints messages/s,\n"
        "client CPU seconds per 1000 messages, peak RSS and waits for\n"
        "the server per message. With --tls, implicit TLS without\n"
        "verification (benchmark servers only); every connection makes\n"
        "its own TLS context unless --shared-tls-context gives them one.\n"
        "With --idle-seconds, opens all CONNECTIONS first (greeting and\n"
        "EHLO), holds them idle S seconds, prints the resident memory\n"
        "they added, then sends the messages over all of them. With\n"
        "--source-addresses K, connection i binds to 127.0.0.(1 + i %% K),\n"
        "for when the local port range is short. --inflight sets how many\n"
        "messages the pool queues on one connection (default 16). --kv\n"
        "prints one line of key=value pairs instead, as the peers in\n"
        "bench/ do.\n");
}

static bool parse_ulong(const char *s, unsigned long *out)
{
    char *end;

    *out = strtoul(s, &end, 10);
    return *s && *s != '-' && !*end;
}

static bool parse_seconds(const char *s, double *out)
{
    char *end;

    *out = strtod(s, &end);
    return *s && !*end && *out >= 0 && *out <= 86400;
}

/* "--name" of a long option, or "-c" of a short one, for messages. */
static const char *option_name(const struct option *longs, int opt)
{
    static char name[40];

    for (; longs->name; longs++)
        if (longs->val == opt) {
            snprintf(name, sizeof name, "--%s", longs->name);
            return name;
        }
    snprintf(name, sizeof name, "-%c", opt);
    return name;
}

static int parse(bench *b, int argc, char **argv)
{
    static const struct option longs[] = {
        {"host", required_argument, NULL, 'H'},
        {"port", required_argument, NULL, 'p'},
        {"no-pipelining", no_argument, NULL, 'P'},
        {"no-chunking", no_argument, NULL, 'C'},
        {"tls", no_argument, NULL, 'T'},
        {"max-seconds", required_argument, NULL, 'm'},
        {"idle-seconds", required_argument, NULL, 'i'},
        {"source-addresses", required_argument, NULL, 'a'},
        {"shared-tls-context", no_argument, NULL, 'S'},
        {"inflight", required_argument, NULL, 'I'},
        {"kv", no_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    unsigned long port = 25;
    int opt;
    bool ok = true;

    b->messages = 1000;
    b->connections = 1;
    b->size = 2048;
    b->recipients = 1;
    b->source_addresses = 1;
    b->inflight = 16;
    b->max_seconds = 600;
    b->idle_seconds = -1;
    b->config.client.host = "127.0.0.1";
    while ((opt = getopt_long(argc, argv, "H:p:n:c:s:r:h", longs, NULL)) !=
           -1) {
        switch (opt) {
        case 'H':
            b->config.client.host = optarg;
            break;
        case 'p':
            ok = parse_ulong(optarg, &port) && port < 65536;
            break;
        case 'n':
            ok = parse_ulong(optarg, &b->messages);
            break;
        case 'c':
            ok = parse_ulong(optarg, &b->connections);
            break;
        case 's':
            ok = parse_ulong(optarg, &b->size);
            break;
        case 'r':
            ok = parse_ulong(optarg, &b->recipients);
            break;
        case 'P':
            b->config.client.disable_pipelining = true;
            break;
        case 'C':
            b->config.client.disable_chunking = true;
            break;
        case 'T':
            b->config.client.tls = true;
            b->config.client.tls_config.no_verify = true;
            break;
        case 'm':
            ok = parse_seconds(optarg, &b->max_seconds);
            break;
        case 'i':
            ok = parse_seconds(optarg, &b->idle_seconds);
            break;
        case 'a':
            ok = parse_ulong(optarg, &b->source_addresses) &&
                 b->source_addresses >= 1 && b->source_addresses <= 254;
            break;
        case 'S':
            b->shared_tls_context = true;
            break;
        case 'I':
            ok = parse_ulong(optarg, &b->inflight) && b->inflight >= 1;
            break;
        case 'k':
            b->kv = true;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return 64;
        }
        if (!ok) {
            fprintf(stderr, "asmtp-bench: bad value for %s: %s\n",
                    option_name(longs, opt), optarg);
            return 64;
        }
    }
    if (optind != argc || !b->messages || !b->connections || !b->recipients ||
        b->recipients > 1000 || b->size < 128 || b->size > (1ul << 30)) {
        usage(stderr);
        return 64;
    }
    b->config.client.port = (uint16_t)port;
    b->config.client.local_hostname = "bench.asmtp.test";
    b->config.client.starttls = ASMTP_STARTTLS_NEVER;
    b->config.max_connections = b->connections;
    b->config.max_messages = SIZE_MAX;
    b->config.max_inflight = b->inflight;
    return 0;
}

/*
 * Room for every connection's socket. A process may raise its soft limit
 * up to the hard one; raising the hard one takes CAP_SYS_RESOURCE, which
 * root in a container often lacks.
 */
static int raise_fd_limit(unsigned long connections)
{
    rlim_t want = (rlim_t)connections + FD_RESERVE, fit;
    struct rlimit rl, up;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
        return 0;
    up.rlim_cur = want;
    up.rlim_max = rl.rlim_max > want ? rl.rlim_max : want;
    if (setrlimit(RLIMIT_NOFILE, &up) == 0)
        return 0;
    up.rlim_cur = up.rlim_max = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &up);
    if (rl.rlim_max >= want)
        return 0;
    fit = rl.rlim_max > FD_RESERVE ? rl.rlim_max - FD_RESERVE : 0;
    fprintf(stderr,
            "asmtp-bench: %lu connections need %llu file descriptors, but "
            "the hard limit is %llu and this process may not raise it (that "
            "takes CAP_SYS_RESOURCE); use at most %llu connections, or "
            "several processes\n",
            connections, (unsigned long long)want,
            (unsigned long long)rl.rlim_max, (unsigned long long)fit);
    return 69;
}

/*
 * The message every client in bench/ sends, of size octets: four header
 * fields, then lines of 76 letters and CRLF, the last line cut short and
 * ended with CRLF.
 */
static int make_message(bench *b)
{
    static const char headers[] = "From: <sender@bench.example>\r\n"
                                  "To: <rcpt@bench.example>\r\n"
                                  "Subject: benchmark message\r\n"
                                  "Message-ID: <bench@bench.example>\r\n"
                                  "\r\n";
    size_t head = sizeof headers - 1, end;

    b->body_len = b->size > head + 2 ? b->size : head + 2;
    b->body = malloc(b->body_len);
    if (!b->body)
        return 70;
    memcpy(b->body, headers, head);
    end = b->body_len - 2;
    for (size_t i = head; i < end; i++) {
        size_t column = (i - head) % 78;

        b->body[i] = column < 76    ? (char)('a' + column % 26)
                     : column == 76 ? '\r'
                                    : '\n';
    }
    if (end > head && b->body[end - 1] == '\r')
        b->body[end - 1] = 'a'; /* no bare CR where the cut falls */
    memcpy(b->body + end, "\r\n", 2);
    return 0;
}

static int make_envelope(bench *b)
{
    b->rcpts = calloc(b->recipients, sizeof *b->rcpts);
    b->addresses = calloc(b->recipients, sizeof *b->addresses);
    if (!b->rcpts || !b->addresses)
        return 70;
    for (unsigned long i = 0; i < b->recipients; i++) {
        b->addresses[i] = malloc(48);
        if (!b->addresses[i])
            return 70;
        snprintf(b->addresses[i], 48, "rcpt%lu@bench.example", i);
        b->rcpts[i].address = b->addresses[i];
    }
    b->envelope.sender = "sender@bench.example";
    b->envelope.recipients = b->rcpts;
    b->envelope.recipient_count = b->recipients;
    b->content.data = b->body;
    b->content.len = b->body_len;
    return 0;
}

static void count_result(bench *b, const asmtp_result *r)
{
    b->done++;
    if (r->error && !b->failed++)
        snprintf(b->first_message, sizeof b->first_message, "%s",
                 r->message ? r->message : asmtp_strerror(r->error));
}

static void on_pool_sent(asmtp_pool *pool, const asmtp_result *r, void *ud)
{
    (void)pool;
    count_result(ud, r);
}

static void on_client_sent(asmtp_client *client, const asmtp_result *r,
                           void *ud)
{
    (void)client;
    count_result(ud, r);
}

static bool timed_out(const bench *b)
{
    return now_s() >= b->deadline;
}

/* Wakes the loop regularly, so that the deadline and progress are seen
 * even when nothing happens on the sockets. */
static void on_tick(uv_timer_t *timer)
{
    (void)timer;
}

static void progress(const char *what, unsigned long n, unsigned long of)
{
    static double last;

    if (now_s() - last < 0.5)
        return;
    last = now_s();
    fprintf(stderr, "\rasmtp-bench: %lu/%lu %s   ", n, of, what);
}

/* Runs the loop until every message submitted has completed or time is
 * up. */
static void wait_for_messages(bench *b, uv_loop_t *loop,
                              unsigned long submitted)
{
    while (b->done < submitted && !timed_out(b)) {
        uv_run(loop, UV_RUN_ONCE);
        progress("sent", b->done, submitted);
    }
}

static int run_pool(bench *b, uv_loop_t *loop, outcome *out)
{
    asmtp_pool_stats stats;
    asmtp_pool *pool;
    double start, user0, sys0;
    int rv;

    rv = asmtp_pool_new(&pool, loop, &b->config, NULL);
    if (rv) {
        fprintf(stderr, "asmtp-bench: %s\n", asmtp_strerror(rv));
        return 64;
    }
    start = now_s();
    cpu_s(&user0, &sys0);
    for (unsigned long i = 0; i < b->messages; i++) {
        rv = asmtp_pool_send(pool, &b->envelope, &b->content, on_pool_sent, b);
        if (rv) {
            fprintf(stderr, "asmtp-bench: the pool refused a message: %s\n",
                    asmtp_strerror(rv));
            asmtp_pool_free(pool);
            return 70;
        }
    }
    wait_for_messages(b, loop, b->messages);
    out->seconds = now_s() - start;
    cpu_s(&out->user_s, &out->sys_s);
    out->user_s -= user0;
    out->sys_s -= sys0;
    asmtp_pool_get_stats(pool, &stats);
    out->connections = (unsigned long)stats.connections;
    out->reads = stats.reads;
    asmtp_pool_free(pool);
    return 0;
}

static void on_connected(asmtp_client *client, const asmtp_result *r, void *ud)
{
    idle_run *run = ud;

    (void)client;
    if (!r->error) {
        run->connected++;
        return;
    }
    if (!run->connect_failed++)
        snprintf(run->first_message, sizeof run->first_message, "%s",
                 r->message ? r->message : asmtp_strerror(r->error));
}

/* Starts the next connection; its source address cycles through
 * 127.0.0.1 ... 127.0.0.K with --source-addresses K. */
static void connect_next(idle_run *run)
{
    const bench *b = run->b;
    asmtp_client_config config = b->config.client;
    unsigned long i = run->started++;
    char source[32];
    int rv;

    if (b->source_addresses > 1) {
        snprintf(source, sizeof source, "127.0.0.%lu",
                 1 + i % b->source_addresses);
        config.source_address = source;
    }
    rv = asmtp_client_new(&run->clients[i], run->loop, &config, NULL);
    if (!rv)
        rv = asmtp_client_connect(run->clients[i], on_connected, run);
    if (rv && !run->connect_failed++)
        snprintf(run->first_message, sizeof run->first_message, "%s",
                 asmtp_strerror(rv));
}

/* Opens every connection, CONNECT_WINDOW at a time; true if all did. */
static bool open_all(idle_run *run)
{
    const bench *b = run->b;

    while (run->connected + run->connect_failed < b->connections &&
           !timed_out(b)) {
        while (run->started < b->connections &&
               run->started - run->connected - run->connect_failed <
                   CONNECT_WINDOW)
            connect_next(run);
        uv_run(run->loop, UV_RUN_ONCE);
        progress("connected", run->connected, b->connections);
    }
    if (run->connected == b->connections)
        return true;
    fprintf(stderr,
            "\nasmtp-bench: %lu of %lu connections opened, %lu failed%s%s\n",
            run->connected, b->connections, run->connect_failed,
            run->connect_failed ? "; the first: " : " (out of time)",
            run->connect_failed ? run->first_message : "");
    return false;
}

static uint64_t reads_of(const idle_run *run)
{
    uint64_t reads = 0;

    for (unsigned long i = 0; i < run->started; i++)
        if (run->clients[i])
            reads += asmtp_client_reads(run->clients[i]);
    return reads;
}

/* Each connection takes its share of the messages, all submitted at once:
 * the session pipelines them. */
static unsigned long submit_all(idle_run *run)
{
    bench *b = run->b;
    unsigned long n = b->connections, submitted = 0;

    for (unsigned long i = 0; i < n; i++) {
        unsigned long share = b->messages / n + (i < b->messages % n);

        for (unsigned long k = 0; k < share; k++)
            if (asmtp_client_send(run->clients[i], &b->envelope, &b->content,
                                  on_client_sent, b) == 0)
                submitted++;
    }
    return submitted;
}

/* OpenSSL's first context loads its providers and algorithms, once per
 * process: done before the first sample, so that it is not charged to the
 * connections. */
static void warm_up_tls(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL *ssl = ctx ? SSL_new(ctx) : NULL;

    SSL_free(ssl);
    SSL_CTX_free(ctx);
}

static void on_quit(asmtp_client *client, const asmtp_result *r, void *ud)
{
    idle_run *run = ud;

    (void)client;
    (void)r;
    run->quit_done++;
}

/* QUIT on every connection, so that the server closes first and keeps
 * the TIME_WAIT: the next run then finds the local ports free. A few
 * seconds at most. */
static void quit_all(idle_run *run)
{
    unsigned long asked = 0;
    double give_up = now_s() + 10;

    for (unsigned long i = 0; i < run->started; i++)
        if (run->clients[i] && asmtp_client_is_connected(run->clients[i]) &&
            asmtp_client_quit(run->clients[i], on_quit, run) == 0)
            asked++;
    while (run->quit_done < asked && now_s() < give_up)
        uv_run(run->loop, UV_RUN_ONCE);
}

static int run_idle(bench *b, uv_loop_t *loop, outcome *out)
{
    idle_run run;
    double start, idle_end, user0, sys0;
    unsigned long submitted;
    uint64_t reads0;
    int rv = 0;

    memset(&run, 0, sizeof run);
    run.b = b;
    run.loop = loop;
    run.clients = calloc(b->connections, sizeof *run.clients);
    if (!run.clients)
        return 70;
    out->idle = true;
    if (b->config.client.tls)
        warm_up_tls();
    out->rss_before_kib = rss_kib();

    start = now_s();
    cpu_s(&user0, &sys0);
    if (!open_all(&run)) {
        rv = 75;
        goto done;
    }
    out->connect_seconds = now_s() - start;
    cpu_s(&out->user_s, &out->sys_s);
    out->connect_cpu_s = out->user_s - user0 + out->sys_s - sys0;
    out->idle_connections = run.connected;

    idle_end = now_s() + b->idle_seconds;
    while (now_s() < idle_end && !timed_out(b))
        uv_run(loop, UV_RUN_ONCE);
    out->rss_idle_kib = rss_kib();

    reads0 = reads_of(&run);
    start = now_s();
    cpu_s(&user0, &sys0);
    submitted = submit_all(&run);
    wait_for_messages(b, loop, submitted);
    out->seconds = now_s() - start;
    cpu_s(&out->user_s, &out->sys_s);
    out->user_s -= user0;
    out->sys_s -= sys0;
    out->reads = reads_of(&run) - reads0;
    out->connections = run.connected;

done:
    quit_all(&run);
    for (unsigned long i = 0; i < run.started; i++)
        asmtp_client_free(run.clients[i]);
    free(run.clients);
    return rv;
}

static void report_text(const bench *b, const outcome *o)
{
    unsigned long per = b->done ? b->done : 1;
    double cpu = o->user_s + o->sys_s;

    if (o->idle) {
        printf("idle          %lu connections open after %.2f s (%.2f s "
               "CPU), held %.1f s\n",
               o->idle_connections, o->connect_seconds, o->connect_cpu_s,
               b->idle_seconds);
        printf("idle rss KiB  %ld before, %ld with them open: %.1f KiB "
               "each\n",
               o->rss_before_kib, o->rss_idle_kib,
               (double)(o->rss_idle_kib - o->rss_before_kib) /
                   (double)o->idle_connections);
    }
    printf("messages      %lu sent, %lu failed, %lu connections\n", b->done,
           b->failed, o->connections);
    printf("messages/s    %.0f\n", (double)b->done / o->seconds);
    printf("cpu s/1000    %.3f\n", cpu * 1000.0 / (double)per);
    printf("peak rss KiB  %ld\n", peak_rss_kib());
    printf("waits/message %.2f\n", (double)o->reads / (double)per);
}

/* One line in the format of the peers in bench/ (messages counts those
 * accepted), then what only asmtp-bench measures. */
static void report_kv(const bench *b, const outcome *o)
{
    unsigned long accepted = b->done - b->failed;
    unsigned long per = b->done ? b->done : 1;

    printf("client=asmtp version=%s messages=%lu failed=%lu connections=%lu "
           "size=%zu seconds=%.3f msgs_per_s=%.1f cpu_s=%.3f user_s=%.3f "
           "sys_s=%.3f peak_rss_kib=%ld waits_per_msg=%.2f",
           ASMTP_VERSION_STRING, accepted, b->messages - accepted,
           o->connections, b->body_len, o->seconds,
           (double)accepted / o->seconds, o->user_s + o->sys_s, o->user_s,
           o->sys_s, peak_rss_kib(), (double)o->reads / (double)per);
    if (o->idle)
        printf(" idle_connections=%lu connect_s=%.3f connect_cpu_s=%.3f "
               "rss_before_kib=%ld rss_idle_kib=%ld idle_kib_per_conn=%.2f",
               o->idle_connections, o->connect_seconds, o->connect_cpu_s,
               o->rss_before_kib, o->rss_idle_kib,
               (double)(o->rss_idle_kib - o->rss_before_kib) /
                   (double)o->idle_connections);
    printf("\n");
}

/* One SSL_CTX for every connection, as an application holding many
 * connections would make; the library's own choices, unverified. */
static int share_tls_context(bench *b)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

    if (!ctx || SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
        fprintf(stderr, "asmtp-bench: cannot make a TLS context\n");
        SSL_CTX_free(ctx);
        return 70;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    b->config.client.tls_config.ssl_ctx = ctx;
    return 0;
}

static int run(bench *b)
{
    uv_loop_t loop;
    uv_timer_t tick;
    outcome out;
    int rv;

    memset(&out, 0, sizeof out);
    uv_loop_init(&loop);
    uv_timer_init(&loop, &tick);
    uv_timer_start(&tick, on_tick, 100, 100);
    b->deadline = now_s() + b->max_seconds;
    if (b->idle_seconds >= 0)
        rv = run_idle(b, &loop, &out);
    else
        rv = run_pool(b, &loop, &out);
    fprintf(stderr, "\r%60s\r", "");
    if (!rv) {
        if (b->kv)
            report_kv(b, &out);
        else
            report_text(b, &out);
        if (b->failed)
            fprintf(stderr, "asmtp-bench: first failure: %s\n",
                    b->first_message);
        if (b->done < b->messages)
            fprintf(stderr, "asmtp-bench: %lu messages not done in %.0f s\n",
                    b->messages - b->done, b->max_seconds);
        rv = b->failed || b->done < b->messages ? 75 : 0;
    }
    uv_close((uv_handle_t *)&tick, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    return rv;
}

int main(int argc, char **argv)
{
    bench b;
    int rv;

    memset(&b, 0, sizeof b);
    rv = parse(&b, argc, argv);
    rv = rv ? rv : raise_fd_limit(b.connections);
    rv = rv ? rv : make_message(&b);
    rv = rv ? rv : make_envelope(&b);
    if (!rv && b.shared_tls_context)
        rv = share_tls_context(&b);
    rv = rv ? rv : run(&b);
    SSL_CTX_free(b.config.client.tls_config.ssl_ctx);
    for (unsigned long i = 0; b.addresses && i < b.recipients; i++)
        free(b.addresses[i]);
    free(b.addresses);
    free(b.rcpts);
    free(b.body);
    return rv;
}
