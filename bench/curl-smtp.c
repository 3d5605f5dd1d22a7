/*
 * curl-smtp: libcurl's SMTP client as a benchmark peer. The multi interface
 * drives one easy handle per connection slot; each handle is added back
 * after its transfer, so libcurl's connection cache reuses the connection
 * for the next message. Prints one line of results in the format the
 * other bench clients share.
 */
#define _POSIX_C_SOURCE 200809L
#include <curl/curl.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define PROGRAM "curl-smtp"

struct slot {
    CURL *easy;
    size_t offset; /* how much of the message this transfer has read */
};

struct settings {
    const char *host;
    unsigned port;
    unsigned long messages;
    unsigned connections;
    size_t size;
    unsigned timeout_s;
};

static const char *message;
static size_t message_len;

static double seconds_since(const struct timespec *start)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) +
           (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* A message of exactly size octets (or the headers alone when size is
 * smaller): CRLF lines of 76 letters, none starting with a dot. */
static char *make_message(size_t size, size_t *len)
{
    static const char headers[] = "From: <sender@bench.example>\r\n"
                                  "To: <rcpt@bench.example>\r\n"
                                  "Subject: benchmark message\r\n"
                                  "Message-ID: <bench@bench.example>\r\n"
                                  "\r\n";
    size_t head = sizeof(headers) - 1;
    size_t total = size > head + 2 ? size : head + 2;
    char *m = malloc(total);
    size_t at = head, column = 0;

    if (m == NULL) {
        return NULL;
    }
    memcpy(m, headers, head);
    for (; at < total - 2; at++) {
        if (column == 76 && at + 4 <= total) {
            m[at++] = '\r';
            m[at] = '\n';
            column = 0;
            continue;
        }
        m[at] = (char)('a' + column % 26);
        column++;
    }
    m[at++] = '\r';
    m[at++] = '\n';
    *len = at;
    return m;
}

static size_t read_message(char *buffer, size_t size, size_t count,
                           void *userdata)
{
    struct slot *s = userdata;
    size_t room = size * count;
    size_t left = message_len - s->offset;
    size_t n = left < room ? left : room;

    memcpy(buffer, message + s->offset, n);
    s->offset += n;
    return n;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: " PROGRAM " -p PORT [-H HOST] [-n MESSAGES] "
               "[-c CONNECTIONS] [-s SIZE] [-t SECONDS]\n"
               "  -H  server address (default 127.0.0.1)\n"
               "  -p  server port\n"
               "  -n  messages to send (default 5000)\n"
               "  -c  connections used at once (default 1)\n"
               "  -s  message size in octets, headers included "
               "(default 2048)\n"
               "  -t  give up after this many seconds (default 60)\n");
}

static unsigned long number(const char *flag, const char *s, unsigned long max)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v == 0 || v > max ||
        s[0] == '-') {
        fprintf(stderr,
                PROGRAM ": -%s wants a number from 1 to %lu, not "
                        "'%s'\n",
                flag, max, s);
        exit(2);
    }
    return v;
}

static void parse_arguments(int argc, char **argv, struct settings *set)
{
    int ch;

    while ((ch = getopt(argc, argv, "H:p:n:c:s:t:h")) != -1) {
        switch (ch) {
        case 'H':
            set->host = optarg;
            break;
        case 'p':
            set->port = (unsigned)number("p", optarg, 65535);
            break;
        case 'n':
            set->messages = number("n", optarg, 100000000);
            break;
        case 'c':
            set->connections = (unsigned)number("c", optarg, 100000);
            break;
        case 's':
            set->size = (size_t)number("s", optarg, (size_t)1 << 30);
            break;
        case 't':
            set->timeout_s = (unsigned)number("t", optarg, 3600);
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            exit(2);
        }
    }
    if (set->port == 0 || optind != argc) {
        usage(stderr);
        exit(2);
    }
}

static CURL *slot_handle(struct slot *s, const char *url,
                         struct curl_slist *recipients)
{
    CURL *e = curl_easy_init();

    if (e == NULL) {
        return NULL;
    }
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_MAIL_FROM, "<sender@bench.example>");
    curl_easy_setopt(e, CURLOPT_MAIL_RCPT, recipients);
    curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)message_len);
    curl_easy_setopt(e, CURLOPT_READFUNCTION, read_message);
    curl_easy_setopt(e, CURLOPT_READDATA, s);
    curl_easy_setopt(e, CURLOPT_PRIVATE, s);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    s->easy = e;
    s->offset = 0;
    return e;
}

int main(int argc, char **argv)
{
    struct settings set = {"127.0.0.1", 0, 5000, 1, 2048, 60};
    struct curl_slist *recipients = NULL;
    struct slot *slots;
    struct timespec start;
    struct rusage ru;
    char url[300];
    CURLM *multi;
    unsigned long started = 0, sent = 0, failed = 0;
    int running = 0;
    bool timed_out = false;
    double elapsed, user_s, sys_s;

    parse_arguments(argc, argv, &set);
    message = make_message(set.size, &message_len);
    if (message == NULL || curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
        fprintf(stderr, PROGRAM ": cannot set up (out of memory?)\n");
        return 1;
    }
    if (set.connections > set.messages) {
        set.connections = (unsigned)set.messages;
    }
    snprintf(url, sizeof(url), "smtp://%s:%u/client.bench.example", set.host,
             set.port);
    recipients = curl_slist_append(NULL, "<rcpt@bench.example>");
    slots = calloc(set.connections, sizeof(*slots));
    multi = curl_multi_init();
    if (recipients == NULL || slots == NULL || multi == NULL) {
        fprintf(stderr, PROGRAM ": cannot set up (out of memory?)\n");
        return 1;
    }
    curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
                      (long)set.connections);
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long)set.connections);

    clock_gettime(CLOCK_MONOTONIC, &start);
    for (unsigned i = 0; i < set.connections; i++) {
        if (slot_handle(&slots[i], url, recipients) == NULL) {
            fprintf(stderr, PROGRAM ": curl_easy_init failed\n");
            return 1;
        }
        curl_multi_add_handle(multi, slots[i].easy);
        started++;
    }

    for (;;) {
        CURLMsg *msg;
        int left;
        CURLMcode mc = curl_multi_perform(multi, &running);

        while (mc == CURLM_OK &&
               (msg = curl_multi_info_read(multi, &left)) != NULL) {
            struct slot *s;

            if (msg->msg != CURLMSG_DONE) {
                continue;
            }
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &s);
            if (msg->data.result == CURLE_OK) {
                sent++;
            } else if (failed++ == 0) {
                fprintf(stderr, PROGRAM ": a message failed: %s\n",
                        curl_easy_strerror(msg->data.result));
            }

            /* Added back, the handle takes a cached connection. */
            curl_multi_remove_handle(multi, s->easy);
            if (started < set.messages) {
                s->offset = 0;
                curl_multi_add_handle(multi, s->easy);
                started++;
                running++;
            }
        }
        if (mc == CURLM_OK && running == 0) {
            break;
        }
        if (mc == CURLM_OK) {
            mc = curl_multi_poll(multi, NULL, 0, 1000, NULL);
        }
        if (mc != CURLM_OK) {
            fprintf(stderr, PROGRAM ": %s\n", curl_multi_strerror(mc));
            break;
        }
        if (seconds_since(&start) > set.timeout_s) {
            timed_out = true;
            break;
        }
    }
    elapsed = seconds_since(&start);

    getrusage(RUSAGE_SELF, &ru);
    user_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
    sys_s = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    printf("client=curl version=%s messages=%lu failed=%lu connections=%u "
           "size=%zu seconds=%.3f msgs_per_s=%.1f cpu_s=%.3f user_s=%.3f "
           "sys_s=%.3f\n",
           curl_version_info(CURLVERSION_NOW)->version, sent, failed,
           set.connections, message_len, elapsed,
           elapsed > 0 ? (double)sent / elapsed : 0.0, user_s + sys_s, user_s,
           sys_s);
    if (timed_out) {
        fprintf(stderr,
                PROGRAM ": stopped after %u seconds with %lu of %lu "
                        "messages sent\n",
                set.timeout_s, sent, set.messages);
    }

    for (unsigned i = 0; i < set.connections; i++) {
        curl_multi_remove_handle(multi, slots[i].easy);
        curl_easy_cleanup(slots[i].easy);
    }
    curl_multi_cleanup(multi);
    curl_slist_free_all(recipients);
    curl_global_cleanup();
    free(slots);
    free((char *)message);
    return timed_out || failed > 0 || sent != set.messages ? 1 : 0;
}
