/*
 * session-cat: the "cat" baseline of the benchmark. Writes a prepared SMTP
 * session (EHLO, then MAIL, RCPT, DATA and the dot-stuffed content of each
 * message, then QUIT) down C connections at once, as cat would: the whole
 * file in writes of 128 KiB, without waiting for a single reply, and the
 * replies read and dropped. What it measures is what moving the bytes
 * costs, with no SMTP client logic at all. The server must advertise
 * PIPELINING for this to be a legal session.
 *
 *   session-cat -p PORT -f FILE -m MESSAGES_IN_FILE [-c CONNS] [-t SECONDS]
 *
 * Prints one line in the format of the other clients in bench/.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PROGRAM     "session-cat"
#define WRITE_CHUNK ((size_t)128 * 1024) /* coreutils cat's buffer */
#define EVENTS_MAX  64

struct settings {
    const char *host;
    unsigned port;
    const char *file;
    unsigned long messages; /* in the file, so per connection */
    unsigned conns;
    unsigned timeout_s;
};

/* One connection: how much of the session it has written, and what it
 * has seen of the replies. */
struct stream {
    int fd;
    size_t sent;
    bool closed;  /* the server closed after QUIT (or earlier) */
    bool refused; /* a 4xx or 5xx reply came back */
    bool bye;     /* the 221 reply to QUIT came back */
    char code[3]; /* the start of the reply line being read */
    size_t code_len;
};

static char *session;
static size_t session_len;

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, PROGRAM ": %s: %s\n", what, strerror(errno));
    exit(1);
}

static void load_session(const char *path)
{
    struct stat st;
    size_t got = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0 || fstat(fd, &st) < 0) {
        die(path);
    }
    session_len = (size_t)st.st_size;
    session = malloc(session_len ? session_len : 1);
    if (session == NULL) {
        die("malloc");
    }
    while (got < session_len) {
        ssize_t n = read(fd, session + got, session_len - got);

        if (n <= 0) {
            die(path);
        }
        got += (size_t)n;
    }
    close(fd);
}

static int connect_to(const struct settings *set)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    sa.sin_port = htons((uint16_t)set->port);
    if (fd < 0 || inet_pton(AF_INET, set->host, &sa.sin_addr) != 1 ||
        connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        die("connect");
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

static void write_some(struct stream *s)
{
    size_t left = session_len - s->sent;
    ssize_t n = send(s->fd, session + s->sent,
                     left < WRITE_CHUNK ? left : WRITE_CHUNK, MSG_NOSIGNAL);

    if (n > 0) {
        s->sent += (size_t)n;
    } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
        s->closed = true;
    }
}

/* Reads the replies, noting refusals and the 221; false at the end. */
static bool read_some(struct stream *s)
{
    char buf[16384];
    ssize_t n = recv(s->fd, buf, sizeof(buf), 0);

    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        return false;
    }
    for (ssize_t i = 0; i < n; i++) {
        if (buf[i] == '\n') {
            s->code_len = 0;
        } else if (s->code_len < 3) {
            s->code[s->code_len++] = buf[i];
            if (s->code_len == 3) {
                s->refused |= s->code[0] == '4' || s->code[0] == '5';
                s->bye |= memcmp(s->code, "221", 3) == 0;
            }
        }
    }
    return true;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: " PROGRAM " -p PORT -f FILE -m MESSAGES [-H HOST] "
               "[-c CONNS] [-t SECONDS]\n"
               "Writes the SMTP session in FILE (MESSAGES messages) down "
               "CONNS connections\nat once and reads the replies until "
               "the server closes.\n");
}

static unsigned long number(const char *name, const char *s, unsigned long max)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v > max) {
        fprintf(stderr, PROGRAM ": -%s wants a number up to %lu\n", name, max);
        exit(2);
    }
    return v;
}

static void parse(struct settings *set, int argc, char **argv)
{
    int ch;

    while ((ch = getopt(argc, argv, "H:p:f:m:c:t:h")) != -1) {
        switch (ch) {
        case 'H':
            set->host = optarg;
            break;
        case 'p':
            set->port = (unsigned)number("p", optarg, 65535);
            break;
        case 'f':
            set->file = optarg;
            break;
        case 'm':
            set->messages = number("m", optarg, 100000000);
            break;
        case 'c':
            set->conns = (unsigned)number("c", optarg, 10000);
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
    if (optind != argc || set->port == 0 || set->file == NULL ||
        set->conns == 0) {
        usage(stderr);
        exit(2);
    }
}

/* Runs every stream to its end or to the deadline; returns how many
 * ended well: the whole session written, no refusal, the 221 seen. */
static unsigned run(struct stream *streams, unsigned count, double deadline)
{
    struct epoll_event events[EVENTS_MAX];
    unsigned open = count, good = 0;
    int ep = epoll_create1(EPOLL_CLOEXEC);

    if (ep < 0) {
        die("epoll_create1");
    }
    for (unsigned i = 0; i < count; i++) {
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.u32 = i};

        if (epoll_ctl(ep, EPOLL_CTL_ADD, streams[i].fd, &ev) < 0) {
            die("epoll_ctl");
        }
    }
    while (open > 0 && now_s() < deadline) {
        int n = epoll_wait(ep, events, EVENTS_MAX, 100);

        for (int k = 0; k < n; k++) {
            struct stream *s = &streams[events[k].data.u32];

            if (events[k].events & EPOLLOUT) {
                write_some(s);
                if (s->sent == session_len) {
                    struct epoll_event ev = {.events = EPOLLIN,
                                             .data.u32 = events[k].data.u32};

                    epoll_ctl(ep, EPOLL_CTL_MOD, s->fd, &ev);
                }
            }
            if ((events[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) &&
                !read_some(s)) {
                s->closed = true;
            }
            if (s->closed) {
                epoll_ctl(ep, EPOLL_CTL_DEL, s->fd, NULL);
                close(s->fd);
                good += s->sent == session_len && !s->refused && s->bye;
                open--;
            }
        }
    }
    close(ep);
    return good;
}

int main(int argc, char **argv)
{
    struct settings set = {.host = "127.0.0.1", .conns = 1, .timeout_s = 60};
    struct stream *streams;
    struct rusage ru;
    double start, elapsed, user, sys;
    unsigned long sent;
    unsigned good;

    parse(&set, argc, argv);
    load_session(set.file);
    streams = calloc(set.conns, sizeof(*streams));
    if (streams == NULL) {
        die("calloc");
    }

    start = now_s();
    for (unsigned i = 0; i < set.conns; i++) {
        streams[i].fd = connect_to(&set);
    }
    good = run(streams, set.conns, start + set.timeout_s);
    elapsed = now_s() - start;

    getrusage(RUSAGE_SELF, &ru);
    user = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
    sys = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    sent = good * set.messages;
    printf("client=cat version=- messages=%lu failed=%lu connections=%u "
           "size=%zu seconds=%.3f msgs_per_s=%.1f cpu_s=%.3f user_s=%.3f "
           "sys_s=%.3f\n",
           sent, set.conns * set.messages - sent, set.conns,
           set.messages ? session_len / set.messages : session_len, elapsed,
           (double)sent / elapsed, user + sys, user, sys);
    free(streams);
    free(session);
    return good == set.conns ? 0 : 1;
}
