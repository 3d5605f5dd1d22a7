/*
 * asmtp-bench: send generated messages through the pool and report
 * messages per second, client CPU per 1000 messages, peak memory and
 * waits for the server per message. Bounded: it sends -n messages and
 * gives up after --max-seconds.
 *
 *   asmtp-bench -H HOST -p PORT -n MESSAGES -c CONNECTIONS -s SIZE
 *               -r RECIPIENTS [--no-pipelining] [--no-chunking] [--tls]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <uv.h>

#include "asmtp.h"

typedef struct bench {
    unsigned long messages, connections, size, recipients;
    double max_seconds;
    asmtp_pool_config config;
    char *body;
    size_t body_len;
    asmtp_recipient *rcpts;
    char **addresses;
    unsigned long done, failed;
    int first_error;
    char first_message[256];
} bench;

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static long peak_rss_kib(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static void usage(FILE *out)
{
    fprintf(
        out,
        "Usage: asmtp-bench -H HOST -p PORT [-n MESSAGES] [-c CONNECTIONS]\n"
        "                   [-s SIZE] [-r RECIPIENTS] [--no-pipelining]\n"
        "                   [--no-chunking] [--tls] [--max-seconds S]\n"
        "Sends MESSAGES (default 1000) generated messages of SIZE octets\n"
        "(default 2048) to RECIPIENTS recipients (default 1) over up to\n"
        "CONNECTIONS connections (default 1) and prints messages/s,\n"
        "client CPU seconds per 1000 messages, peak RSS and waits for\n"
        "the server per message. With --tls, implicit TLS without\n"
        "verification (benchmark servers only).\n");
}

static bool parse_ulong(const char *s, unsigned long *out)
{
    char *end;

    *out = strtoul(s, &end, 10);
    return *s && !*end;
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
    b->max_seconds = 600;
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
            b->max_seconds = strtod(optarg, NULL);
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return 64;
        }
        if (!ok) {
            fprintf(stderr, "asmtp-bench: bad value for -%c: %s\n", opt,
                    optarg);
            return 64;
        }
    }
    if (optind != argc || !b->messages || !b->connections || !b->recipients ||
        b->recipients > 1000 || b->size < 64) {
        usage(stderr);
        return 64;
    }
    b->config.client.port = (uint16_t)port;
    b->config.client.local_hostname = "bench.asmtp.test";
    b->config.client.starttls = ASMTP_STARTTLS_NEVER;
    b->config.max_connections = b->connections;
    b->config.max_messages = SIZE_MAX;
    b->config.max_inflight = 16;
    return 0;
}

/* One message body of about size octets: headers and 76-column lines. */
static int make_message(bench *b)
{
    size_t len = 0;

    b->body = malloc(b->size + 128);
    if (!b->body)
        return 70;
    len += (size_t)snprintf(b->body, b->size + 128,
                            "From: bench@asmtp.test\r\nTo: sink@asmtp.test"
                            "\r\nSubject: asmtp-bench\r\n\r\n");
    while (len + 78 <= b->size) {
        memset(b->body + len, 'x', 76);
        memcpy(b->body + len + 76, "\r\n", 2);
        len += 78;
    }
    b->body_len = len;
    b->rcpts = calloc(b->recipients, sizeof *b->rcpts);
    b->addresses = calloc(b->recipients, sizeof *b->addresses);
    if (!b->rcpts || !b->addresses)
        return 70;
    for (unsigned long i = 0; i < b->recipients; i++) {
        b->addresses[i] = malloc(48);
        if (!b->addresses[i])
            return 70;
        snprintf(b->addresses[i], 48, "rcpt%lu@asmtp.test", i);
        b->rcpts[i].address = b->addresses[i];
    }
    return 0;
}

static void on_sent(asmtp_pool *pool, const asmtp_result *r, void *ud)
{
    bench *b = ud;

    (void)pool;
    b->done++;
    if (r->error && !b->failed++) {
        b->first_error = r->error;
        snprintf(b->first_message, sizeof b->first_message, "%s", r->message);
    }
}

static void progress(const bench *b, double start)
{
    fprintf(stderr, "\rasmtp-bench: %lu/%lu sent, %.0f msg/s   ", b->done,
            b->messages, (double)b->done / (now_s() - start + 1e-9));
}

static int run(bench *b)
{
    asmtp_envelope env;
    asmtp_content content;
    asmtp_pool_stats stats;
    asmtp_pool *pool;
    uv_loop_t loop;
    double start, cpu0, elapsed, cpu, last = 0;
    int rv;

    uv_loop_init(&loop);
    rv = asmtp_pool_new(&pool, &loop, &b->config, NULL);
    if (rv) {
        fprintf(stderr, "asmtp-bench: %s\n", asmtp_strerror(rv));
        return 64;
    }
    memset(&env, 0, sizeof env);
    env.sender = "bench@asmtp.test";
    env.recipients = b->rcpts;
    env.recipient_count = b->recipients;
    memset(&content, 0, sizeof content);
    content.data = b->body;
    content.len = b->body_len;
    start = now_s();
    cpu0 = cpu_s();
    for (unsigned long i = 0; i < b->messages; i++)
        if (asmtp_pool_send(pool, &env, &content, on_sent, b) != 0)
            return 70;
    while (b->done < b->messages && now_s() - start < b->max_seconds) {
        uv_run(&loop, UV_RUN_ONCE);
        if (now_s() - last > 0.5) {
            progress(b, start);
            last = now_s();
        }
    }
    elapsed = now_s() - start;
    cpu = cpu_s() - cpu0;
    asmtp_pool_get_stats(pool, &stats);
    progress(b, start);
    fprintf(stderr, "\n");
    printf("messages      %lu sent, %lu failed, %lu connections\n", b->done,
           b->failed, (unsigned long)stats.connections);
    printf("messages/s    %.0f\n", (double)b->done / elapsed);
    printf("cpu s/1000    %.3f\n",
           cpu * 1000.0 / (double)(b->done ? b->done : 1));
    printf("peak rss KiB  %ld\n", peak_rss_kib());
    printf("waits/message %.2f\n",
           (double)stats.reads / (double)(b->done ? b->done : 1));
    if (b->failed)
        fprintf(stderr, "asmtp-bench: first failure: %s\n", b->first_message);
    asmtp_pool_free(pool);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    return b->failed || b->done < b->messages ? 75 : 0;
}

int main(int argc, char **argv)
{
    bench b;
    int rv;

    memset(&b, 0, sizeof b);
    rv = parse(&b, argc, argv);
    rv = rv ? rv : make_message(&b);
    rv = rv ? rv : run(&b);
    for (unsigned long i = 0; b.addresses && i < b.recipients; i++)
        free(b.addresses[i]);
    free(b.addresses);
    free(b.rcpts);
    free(b.body);
    return rv;
}
