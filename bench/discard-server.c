/*
 * discard-server: an SMTP server that accepts every message and throws it
 * away, built so that a benchmark measures the client and not the server.
 * One thread, one epoll set, one shared 256 KiB read buffer, replies to a
 * whole read gathered into one write, and the end of DATA found with
 * memmem. An idle connection costs a small struct and its socket. With
 * --tls-cert and --tls-key it speaks implicit TLS through OpenSSL, on
 * the same non-blocking loop.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define PROGRAM "discard-server"

/* Sizes: the shared read buffer, the shared reply batch, the longest
 * command line kept (RFC 5321 allows 512 octets plus what extensions add),
 * and the most recipients taken in one transaction. */
#define READ_BUFFER_SIZE ((size_t)256 * 1024)
#define REPLY_BATCH_SIZE ((size_t)64 * 1024)
#define COMMAND_LINE_MAX 4096
#define RECIPIENTS_MAX   1000
#define EPOLL_EVENTS_MAX 512
#define HOSTNAME_DEFAULT "discard.invalid"

/* Descriptors kept beside the connections: stdio, epoll, the listen
 * socket, signalfd, timerfd, the spare, and some slack. */
#define FD_RESERVE 16

enum input_state {
    INPUT_COMMAND, /* reading command lines */
    INPUT_DATA,    /* reading DATA content up to CRLF.CRLF */
    INPUT_BDAT     /* reading exactly bdat_left octets of a chunk */
};

enum conn_flags {
    CONN_GREETED = 1u << 0,   /* EHLO or HELO accepted */
    CONN_HAS_MAIL = 1u << 1,  /* MAIL accepted, transaction open */
    CONN_QUIT = 1u << 2,      /* QUIT seen: read nothing more */
    CONN_EOF = 1u << 3,       /* the client closed its side */
    CONN_DEAD = 1u << 4,      /* an I/O error: close without flushing */
    CONN_LINE_LONG = 1u << 5, /* the current line is over the limit */
    CONN_BDAT_LAST = 1u << 6, /* the chunk being read is the last */
    CONN_BDAT_BAD = 1u << 7,  /* the chunk being read is to be refused */
    CONN_BDAT_SEEN = 1u << 8, /* this transaction uses BDAT */
    CONN_HANDSHAKE = 1u << 9, /* the TLS handshake is not done yet */
    CONN_HS_WRITE = 1u << 10  /* the handshake waits to write */
};

/* One client. Kept small: the line buffer and the output backlog exist
 * only while they hold something. */
struct conn {
    int fd;
    uint32_t serial; /* tells a reused fd from the old connection */
    uint32_t events; /* the interest currently set in epoll */
    uint16_t flags;
    uint8_t state;    /* enum input_state */
    uint8_t tail_len; /* bytes kept in tail */
    char tail[4];     /* the last bytes of DATA content so far */
    uint16_t line_len;
    uint16_t recipients;
    uint32_t delayed;   /* replies waiting in the delay queue */
    uint64_t bdat_left; /* octets of the current chunk still to read */
    SSL *ssl;           /* with --tls-cert, else NULL */
    char *line;         /* a command line split across reads */
    char *out;          /* replies the socket did not take yet */
    size_t out_len;
    size_t out_off;
    size_t out_cap;
};

/* A batch of replies held back by --delay-ms. The delay is the same for
 * every reply, so deadlines only grow in the order batches are made and a
 * FIFO list with one timerfd is an exact timer queue, in order per
 * connection as a side effect. */
struct delayed_batch {
    struct delayed_batch *next;
    uint64_t due_ns;
    int fd;
    uint32_t serial;
    size_t len;
    char data[];
};

struct options {
    const char *host;
    unsigned port;
    const char *port_file;
    bool pipelining;
    bool chunking;
    bool eightbitmime;
    bool size;
    uint64_t size_limit; /* 0: advertise SIZE without a limit */
    unsigned delay_ms;
    unsigned max_conns;
    unsigned lifetime_s;
    bool stats;
    bool reuseport;
    const char *tls_cert;
    const char *tls_key;
};

struct stats {
    uint64_t messages;
    uint64_t recipients;
    uint64_t message_bytes;
    uint64_t bytes_in;
    uint64_t bytes_out;
    uint64_t connections;
    uint64_t max_concurrent;
    uint64_t refused_connections;
    uint64_t error_replies;
};

static struct options opt = {
    .host = "127.0.0.1",
    .max_conns = 30000,
    .lifetime_s = 600,
};
static struct stats stats;

static int epoll_fd = -1;
static int listen_fd = -1;
static int delay_timer_fd = -1;
static int signal_fd = -1;
static int spare_fd = -1; /* given up to accept and refuse at EMFILE */
static SSL_CTX *tls_ctx;  /* with --tls-cert */

static struct conn **conns; /* indexed by fd */
static size_t conns_size;
static uint64_t conns_open;
static uint32_t next_serial = 1;

static char read_buffer[READ_BUFFER_SIZE];
static char reply_batch[REPLY_BATCH_SIZE];
static size_t reply_batch_len;

static struct delayed_batch *delay_head;
static struct delayed_batch *delay_tail;

static char ehlo_reply[512];
static size_t ehlo_reply_len;
static char greeting[128];
static size_t greeting_len;

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *xmalloc(size_t size)
{
    void *p = malloc(size);

    if (p == NULL) {
        fprintf(stderr, PROGRAM ": out of memory (%zu bytes)\n", size);
        exit(1);
    }
    return p;
}

/* ---- transport: the socket, or TLS over it --------------------------- */

/* Sends what the connection takes now and returns how much that was: 0
 * when it would block, -1 when the connection is dead (CONN_DEAD set). */
static ssize_t transport_send(struct conn *c, const char *data, size_t len)
{
    ssize_t n;

    if (c->ssl != NULL) {
        int rc, why;

        ERR_clear_error();
        rc = SSL_write(c->ssl, data, len > INT_MAX ? INT_MAX : (int)len);
        if (rc > 0) {
            return rc;
        }
        why = SSL_get_error(c->ssl, rc);
        if (why == SSL_ERROR_WANT_WRITE || why == SSL_ERROR_WANT_READ) {
            return 0;
        }
        c->flags |= CONN_DEAD;
        return -1;
    }
    n = send(c->fd, data, len, MSG_NOSIGNAL);
    if (n >= 0) {
        return n;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
        return 0;
    }
    c->flags |= CONN_DEAD;
    return -1;
}

/* TLS hands over one record at a time: read records until the buffer is
 * full or the socket has no more. Ends as transport_recv() does. */
static ssize_t tls_recv(struct conn *c, char *buf, size_t len)
{
    size_t got = 0;

    while (got < len) {
        size_t want = len - got;
        int rc, why;

        ERR_clear_error();
        rc = SSL_read(c->ssl, buf + got, want > INT_MAX ? INT_MAX : (int)want);
        if (rc > 0) {
            got += (size_t)rc;
            continue;
        }
        if (got > 0) {
            break; /* the next event sees the end or the error again */
        }
        why = SSL_get_error(c->ssl, rc);
        if (why == SSL_ERROR_WANT_READ || why == SSL_ERROR_WANT_WRITE) {
            return 0;
        }
        c->flags |= why == SSL_ERROR_ZERO_RETURN ? CONN_EOF : CONN_DEAD;
        return -1;
    }
    return (ssize_t)got;
}

/* Reads what has arrived: the count, 0 when there is nothing yet, -1 at
 * the end of the stream (CONN_EOF set) or on an error (CONN_DEAD set). */
static ssize_t transport_recv(struct conn *c, char *buf, size_t len)
{
    ssize_t n;

    if (c->ssl != NULL) {
        return tls_recv(c, buf, len);
    }
    n = recv(c->fd, buf, len, 0);
    if (n > 0) {
        return n;
    }
    if (n == 0) {
        c->flags |= CONN_EOF;
        return -1;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
        return 0;
    }
    c->flags |= CONN_DEAD;
    return -1;
}

/* Plaintext OpenSSL has taken off the socket but not handed over yet (the
 * read buffer was full). epoll cannot see it, so the caller reads again. */
static bool tls_buffered(const struct conn *c)
{
    return c->ssl != NULL && c->out_len == c->out_off &&
           !(c->flags & (CONN_DEAD | CONN_QUIT | CONN_EOF | CONN_HANDSHAKE)) &&
           SSL_pending(c->ssl) > 0;
}

/* ---- output ---------------------------------------------------------- */

static void backlog_append(struct conn *c, const char *data, size_t len)
{
    if (c->out_off > 0 && c->out_off == c->out_len) {
        c->out_off = 0;
        c->out_len = 0;
    }
    if (c->out_len + len > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : 4096;
        char *p;

        while (cap < c->out_len + len) {
            cap *= 2;
        }
        p = realloc(c->out, cap);
        if (p == NULL) {
            fprintf(stderr, PROGRAM ": out of memory for replies\n");
            exit(1);
        }
        c->out = p;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, data, len);
    c->out_len += len;
}

/* Writes now what the socket takes and keeps the rest for EPOLLOUT. */
static void deliver(struct conn *c, const char *data, size_t len)
{
    if (c->flags & CONN_DEAD) {
        return;
    }
    if (c->out_len == c->out_off) {
        ssize_t n = transport_send(c, data, len);

        if (n < 0) {
            return;
        }
        stats.bytes_out += (uint64_t)n;
        data += n;
        len -= (size_t)n;
    }
    if (len > 0) {
        backlog_append(c, data, len);
    }
}

static void delay_timer_arm(uint64_t due_ns)
{
    struct itimerspec its = {0};

    its.it_value.tv_sec = (time_t)(due_ns / 1000000000u);
    its.it_value.tv_nsec = (long)(due_ns % 1000000000u);
    if (timerfd_settime(delay_timer_fd, TFD_TIMER_ABSTIME, &its, NULL) < 0) {
        perror(PROGRAM ": timerfd_settime");
        exit(1);
    }
}

static void delay_enqueue(struct conn *c, const char *data, size_t len)
{
    struct delayed_batch *b = xmalloc(sizeof(*b) + len);

    b->next = NULL;
    b->due_ns = now_ns() + (uint64_t)opt.delay_ms * 1000000u;
    b->fd = c->fd;
    b->serial = c->serial;
    b->len = len;
    memcpy(b->data, data, len);
    c->delayed++;

    if (delay_tail == NULL) {
        delay_head = b;
        delay_timer_arm(b->due_ns);
    } else {
        delay_tail->next = b;
    }
    delay_tail = b;
}

/* Sends (or queues for later) the replies gathered so far for c. */
static void flush_replies(struct conn *c)
{
    if (reply_batch_len == 0) {
        return;
    }
    if (opt.delay_ms > 0) {
        delay_enqueue(c, reply_batch, reply_batch_len);
    } else {
        deliver(c, reply_batch, reply_batch_len);
    }
    reply_batch_len = 0;
}

static void reply(struct conn *c, const char *text, size_t len)
{
    if (reply_batch_len + len > sizeof(reply_batch)) {
        flush_replies(c);
    }
    memcpy(reply_batch + reply_batch_len, text, len);
    reply_batch_len += len;
    if (text[0] == '4' || text[0] == '5') {
        stats.error_replies++;
    }
}

#define REPLY(c, literal) reply((c), literal, sizeof(literal) - 1)

/* ---- SMTP ------------------------------------------------------------ */

static void transaction_reset(struct conn *c)
{
    c->flags &= (uint16_t) ~(CONN_HAS_MAIL | CONN_BDAT_SEEN);
    c->recipients = 0;
}

/* True when the line starts with the verb, followed by a space or its end. */
static bool verb_is(const char *line, size_t len, const char *verb)
{
    size_t n = strlen(verb);

    if (len < n || strncasecmp(line, verb, n) != 0) {
        return false;
    }
    return len == n || line[n] == ' ';
}

/* Parses "<path>" after "FROM:" or "TO:", allowing one space before it (a
 * common client habit), and returns the index just past '>' or 0. */
static size_t parse_path(const char *line, size_t len, size_t at)
{
    if (at < len && line[at] == ' ') {
        at++;
    }
    if (at >= len || line[at] != '<') {
        return 0;
    }
    for (size_t i = at + 1; i < len; i++) {
        if (line[i] == '>') {
            return i + 1;
        }
    }
    return 0;
}

static bool parse_u64(const char *s, size_t len, uint64_t *value)
{
    uint64_t v = 0;

    if (len == 0 || len > 20) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
        if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10) {
            return false;
        }
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *value = v;
    return true;
}

/* Checks the MAIL parameters against what was advertised. */
static void mail_parameters(struct conn *c, const char *p, size_t len)
{
    size_t i = 0;

    while (i < len) {
        size_t start, end;

        while (i < len && p[i] == ' ') {
            i++;
        }
        start = i;
        while (i < len && p[i] != ' ') {
            i++;
        }
        end = i;
        if (start == end) {
            break;
        }
        if (opt.size && end - start > 5 &&
            strncasecmp(p + start, "SIZE=", 5) == 0) {
            uint64_t declared;

            if (!parse_u64(p + start + 5, end - start - 5, &declared)) {
                REPLY(c, "501 Syntax error in SIZE parameter\r\n");
                return;
            }
            if (opt.size_limit > 0 && declared > opt.size_limit) {
                REPLY(c, "552 Message size exceeds fixed limit\r\n");
                return;
            }
        } else if (end - start > 5 && strncasecmp(p + start, "BODY=", 5) == 0) {
            const char *v = p + start + 5;
            size_t vlen = end - start - 5;

            if (!(vlen == 4 && strncasecmp(v, "7BIT", 4) == 0) &&
                !(opt.eightbitmime && vlen == 8 &&
                  strncasecmp(v, "8BITMIME", 8) == 0)) {
                REPLY(c, "555 BODY parameter not supported\r\n");
                return;
            }
        } else {
            REPLY(c, "555 MAIL parameter not recognized\r\n");
            return;
        }
    }
    c->flags |= CONN_HAS_MAIL;
    c->recipients = 0;
    REPLY(c, "250 Ok\r\n");
}

static void command_mail(struct conn *c, const char *line, size_t len)
{
    size_t end;

    if (!(c->flags & CONN_GREETED)) {
        REPLY(c, "503 Send EHLO or HELO first\r\n");
        return;
    }
    if (c->flags & CONN_HAS_MAIL) {
        REPLY(c, "503 Nested MAIL command\r\n");
        return;
    }
    if (len < 10 || strncasecmp(line + 5, "FROM:", 5) != 0 ||
        (end = parse_path(line, len, 10)) == 0) {
        REPLY(c, "501 Syntax: MAIL FROM:<address>\r\n");
        return;
    }
    mail_parameters(c, line + end, len - end);
}

static void command_rcpt(struct conn *c, const char *line, size_t len)
{
    if (!(c->flags & CONN_HAS_MAIL)) {
        REPLY(c, "503 Need MAIL before RCPT\r\n");
        return;
    }
    if (len < 8 || strncasecmp(line + 5, "TO:", 3) != 0 ||
        parse_path(line, len, 8) == 0) {
        REPLY(c, "501 Syntax: RCPT TO:<address>\r\n");
        return;
    }
    if (c->recipients >= RECIPIENTS_MAX) {
        REPLY(c, "452 Too many recipients\r\n");
        return;
    }
    c->recipients++;
    stats.recipients++;
    REPLY(c, "250 Ok\r\n");
}

static void command_data(struct conn *c, size_t len)
{
    if (len != 4) {
        REPLY(c, "501 Syntax: DATA\r\n");
        return;
    }
    if (!(c->flags & CONN_HAS_MAIL) || c->recipients == 0 ||
        (c->flags & CONN_BDAT_SEEN)) {
        REPLY(c, "503 Need MAIL and RCPT before DATA\r\n");
        return;
    }
    /* The CRLF that ended the DATA line counts as the one before a dot,
     * so a message that is only ".\r\n" ends at once. */
    c->state = INPUT_DATA;
    memcpy(c->tail, "\r\n", 2);
    c->tail_len = 2;
    REPLY(c, "354 End data with <CR><LF>.<CR><LF>\r\n");
}

static void bdat_chunk_done(struct conn *c)
{
    c->state = INPUT_COMMAND;
    if (c->flags & CONN_BDAT_BAD) {
        c->flags &= (uint16_t) ~(CONN_BDAT_BAD | CONN_BDAT_LAST);
        REPLY(c, "503 Need MAIL and RCPT before BDAT\r\n");
        return;
    }
    if (c->flags & CONN_BDAT_LAST) {
        c->flags &= (uint16_t)~CONN_BDAT_LAST;
        stats.messages++;
        transaction_reset(c);
        REPLY(c, "250 Ok: message discarded\r\n");
        return;
    }
    REPLY(c, "250 Ok: chunk received\r\n");
}

/* "BDAT size [LAST]". A refused chunk is still read in full (RFC 3030),
 * so the octets are never taken for commands. */
static void command_bdat(struct conn *c, const char *line, size_t len)
{
    size_t i = 5, start = 5;
    uint64_t size;
    bool last = false;

    if (len <= start) {
        REPLY(c, "501 Syntax: BDAT size [LAST]\r\n");
        return;
    }
    while (i < len && line[i] != ' ') {
        i++;
    }
    if (!parse_u64(line + start, i - start, &size)) {
        REPLY(c, "501 Syntax: BDAT size [LAST]\r\n");
        return;
    }
    if (i < len) {
        if (len - i == 5 && strncasecmp(line + i, " LAST", 5) == 0) {
            last = true;
        } else {
            REPLY(c, "501 Syntax: BDAT size [LAST]\r\n");
            return;
        }
    }

    c->flags &= (uint16_t) ~(CONN_BDAT_LAST | CONN_BDAT_BAD);
    if (last) {
        c->flags |= CONN_BDAT_LAST;
    }
    if (!(c->flags & CONN_HAS_MAIL) || c->recipients == 0) {
        c->flags |= CONN_BDAT_BAD;
    } else {
        c->flags |= CONN_BDAT_SEEN;
    }
    c->bdat_left = size;
    c->state = INPUT_BDAT;
    if (size == 0) {
        bdat_chunk_done(c);
    }
}

static void command_ehlo(struct conn *c, size_t len, bool extended)
{
    if (len < 6) {
        REPLY(c, "501 Syntax: EHLO hostname\r\n");
        return;
    }
    transaction_reset(c);
    c->flags |= CONN_GREETED;
    if (extended) {
        reply(c, ehlo_reply, ehlo_reply_len);
    } else {
        REPLY(c, "250 " HOSTNAME_DEFAULT "\r\n");
    }
}

static void command(struct conn *c, const char *line, size_t len)
{
    if (verb_is(line, len, "MAIL")) {
        command_mail(c, line, len);
    } else if (verb_is(line, len, "RCPT")) {
        command_rcpt(c, line, len);
    } else if (verb_is(line, len, "DATA")) {
        command_data(c, len);
    } else if (opt.chunking && verb_is(line, len, "BDAT")) {
        command_bdat(c, line, len);
    } else if (verb_is(line, len, "EHLO")) {
        command_ehlo(c, len, true);
    } else if (verb_is(line, len, "HELO")) {
        command_ehlo(c, len, false);
    } else if (verb_is(line, len, "RSET")) {
        transaction_reset(c);
        REPLY(c, "250 Ok\r\n");
    } else if (verb_is(line, len, "NOOP")) {
        REPLY(c, "250 Ok\r\n");
    } else if (verb_is(line, len, "QUIT")) {
        c->flags |= CONN_QUIT;
        REPLY(c, "221 Bye\r\n");
    } else if (verb_is(line, len, "VRFY") || verb_is(line, len, "EXPN") ||
               verb_is(line, len, "HELP")) {
        REPLY(c, "502 Command not implemented\r\n");
    } else {
        REPLY(c, "500 Command not recognized\r\n");
    }
}

/* ---- input ----------------------------------------------------------- */

static void line_done(struct conn *c, const char *line, size_t len)
{
    if ((c->flags & CONN_LINE_LONG) || len > COMMAND_LINE_MAX) {
        c->flags &= (uint16_t)~CONN_LINE_LONG;
        REPLY(c, "500 Line too long\r\n");
        return;
    }
    if (len > 0 && line[len - 1] == '\r') {
        len--;
    }
    command(c, line, len);
}

/* Keeps a partial command line for the next read. */
static void line_keep(struct conn *c, const char *p, size_t n)
{
    if ((c->flags & CONN_LINE_LONG) || c->line_len + n > COMMAND_LINE_MAX) {
        c->flags |= CONN_LINE_LONG;
        c->line_len = 0;
        free(c->line);
        c->line = NULL;
        return;
    }
    if (c->line == NULL) {
        c->line = xmalloc(COMMAND_LINE_MAX);
    }
    memcpy(c->line + c->line_len, p, n);
    c->line_len = (uint16_t)(c->line_len + n);
}

static size_t feed_command(struct conn *c, const char *p, size_t n)
{
    const char *lf = memchr(p, '\n', n);
    size_t used;

    if (lf == NULL) {
        line_keep(c, p, n);
        return n;
    }
    used = (size_t)(lf - p) + 1;
    if (c->line_len == 0) {
        line_done(c, p, used - 1);
        return used;
    }
    line_keep(c, p, used - 1);
    line_done(c, c->line, c->line_len);
    c->line_len = 0;
    free(c->line);
    c->line = NULL;
    return used;
}

static void tail_update(struct conn *c, const char *p, size_t n)
{
    char joined[8];
    size_t total;

    if (n >= 4) {
        memcpy(c->tail, p + n - 4, 4);
        c->tail_len = 4;
        return;
    }
    memcpy(joined, c->tail, c->tail_len);
    memcpy(joined + c->tail_len, p, n);
    total = c->tail_len + n;
    if (total > 4) {
        memcpy(c->tail, joined + total - 4, 4);
        c->tail_len = 4;
    } else {
        memcpy(c->tail, joined, total);
        c->tail_len = (uint8_t)total;
    }
}

/* Looks for CRLF.CRLF first where it may straddle the previous read (the
 * kept tail plus the first bytes here), then in this read alone. */
static size_t feed_data(struct conn *c, const char *p, size_t n)
{
    static const char end_of_data[5] = {'\r', '\n', '.', '\r', '\n'};
    char window[8];
    size_t head = n < 4 ? n : 4;
    const char *hit;
    size_t used;

    memcpy(window, c->tail, c->tail_len);
    memcpy(window + c->tail_len, p, head);
    hit = memmem(window, c->tail_len + head, end_of_data, 5);
    if (hit != NULL) {
        used = (size_t)(hit - window) + 5 - c->tail_len;
    } else {
        hit = memmem(p, n, end_of_data, 5);
        if (hit == NULL) {
            tail_update(c, p, n);
            stats.message_bytes += n;
            return n;
        }
        used = (size_t)(hit - p) + 5;
    }

    /* The content ends with the CRLF before the dot; ".\r\n" is not in it. */
    stats.message_bytes += used;
    stats.message_bytes -= 3;
    stats.messages++;
    c->state = INPUT_COMMAND;
    transaction_reset(c);
    REPLY(c, "250 Ok: message discarded\r\n");
    return used;
}

static size_t feed_bdat(struct conn *c, const char *p, size_t n)
{
    size_t take = c->bdat_left < n ? (size_t)c->bdat_left : n;

    (void)p;
    c->bdat_left -= take;
    if (!(c->flags & CONN_BDAT_BAD)) {
        stats.message_bytes += take;
    }
    if (c->bdat_left == 0) {
        bdat_chunk_done(c);
    }
    return take;
}

static void conn_feed(struct conn *c, const char *p, size_t n)
{
    while (n > 0 && !(c->flags & CONN_QUIT)) {
        size_t used = 0;

        switch ((enum input_state)c->state) {
        case INPUT_COMMAND:
            used = feed_command(c, p, n);
            break;
        case INPUT_DATA:
            used = feed_data(c, p, n);
            break;
        case INPUT_BDAT:
            used = feed_bdat(c, p, n);
            break;
        }
        p += used;
        n -= used;
    }
}

/* ---- connections ----------------------------------------------------- */

static void conn_close(struct conn *c)
{
    if (c->ssl != NULL) {
        if (!(c->flags & CONN_DEAD)) {
            ERR_clear_error();
            SSL_shutdown(c->ssl); /* one close_notify, no waiting */
        }
        SSL_free(c->ssl);
    }
    epoll_ctl(epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    conns[c->fd] = NULL;
    conns_open--;
    free(c->line);
    free(c->out);
    free(c);
}

/* Decides what the connection waits for next, or closes it. Called after
 * every event that touched it, never in the middle of handling one. */
static void conn_settle(struct conn *c)
{
    bool pending = c->out_len > c->out_off;
    uint32_t want = 0;
    struct epoll_event ev;

    if (c->flags & CONN_DEAD) {
        conn_close(c);
        return;
    }
    if ((c->flags & (CONN_QUIT | CONN_EOF)) && !pending && c->delayed == 0) {
        conn_close(c);
        return;
    }
    if (!pending && c->out != NULL) {
        free(c->out);
        c->out = NULL;
        c->out_cap = c->out_len = c->out_off = 0;
    }

    /* While replies back up, stop reading: the client must read them. */
    if (c->flags & CONN_HANDSHAKE) {
        want = (c->flags & CONN_HS_WRITE) ? EPOLLOUT : EPOLLIN;
    } else if (pending) {
        want = EPOLLOUT;
    } else if (!(c->flags & (CONN_QUIT | CONN_EOF))) {
        want = EPOLLIN;
    }
    if (want == c->events) {
        return;
    }
    ev.events = want;
    ev.data.fd = c->fd;
    if (epoll_ctl(epoll_fd, EPOLL_CTL_MOD, c->fd, &ev) < 0) {
        conn_close(c);
        return;
    }
    c->events = want;
}

static void conn_readable(struct conn *c)
{
    ssize_t n = transport_recv(c, read_buffer, sizeof(read_buffer));

    if (n <= 0) {
        return;
    }
    stats.bytes_in += (uint64_t)n;
    conn_feed(c, read_buffer, (size_t)n);
    flush_replies(c);
}

static void conn_writable(struct conn *c)
{
    ssize_t n = transport_send(c, c->out + c->out_off, c->out_len - c->out_off);

    if (n > 0) {
        stats.bytes_out += (uint64_t)n;
        c->out_off += (size_t)n;
    }
}

static void greet(struct conn *c)
{
    reply(c, greeting, greeting_len);
    flush_replies(c);
}

/* Moves the TLS handshake on; once it is done the greeting goes out. */
static void tls_handshake(struct conn *c)
{
    int rc;

    ERR_clear_error();
    rc = SSL_do_handshake(c->ssl);
    c->flags &= (uint16_t)~CONN_HS_WRITE;
    if (rc == 1) {
        c->flags &= (uint16_t)~CONN_HANDSHAKE;
        greet(c);
        return;
    }
    switch (SSL_get_error(c->ssl, rc)) {
    case SSL_ERROR_WANT_READ:
        break;
    case SSL_ERROR_WANT_WRITE:
        c->flags |= CONN_HS_WRITE;
        break;
    default:
        c->flags |= CONN_DEAD;
        break;
    }
}

static void conn_event(struct conn *c, uint32_t events)
{
    if (events & EPOLLERR) {
        c->flags |= CONN_DEAD;
    } else if (c->flags & CONN_HANDSHAKE) {
        tls_handshake(c);
    } else {
        if (events & EPOLLOUT) {
            conn_writable(c);
        }
        if ((events & EPOLLIN) && (c->events & EPOLLIN)) {
            conn_readable(c);
        }
        while (tls_buffered(c)) {
            conn_readable(c);
        }
        if ((events & EPOLLHUP) && !(events & EPOLLIN)) {
            c->flags |= CONN_DEAD;
        }
    }
    conn_settle(c);
}

/* The server's end of implicit TLS; the handshake runs from the loop. */
static bool tls_attach(struct conn *c)
{
    c->ssl = SSL_new(tls_ctx);
    if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1) {
        SSL_free(c->ssl);
        c->ssl = NULL;
        return false;
    }
    SSL_set_accept_state(c->ssl);
    c->flags |= CONN_HANDSHAKE;
    return true;
}

static void refuse(int fd)
{
    static const char busy[] = "421 Too many connections\r\n";

    stats.refused_connections++;
    (void)!send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    close(fd);
}

static void conn_open(int fd)
{
    struct conn *c;
    struct epoll_event ev;
    int one = 1;

    if ((size_t)fd >= conns_size || conns_open >= opt.max_conns) {
        refuse(fd);
        return;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

    c = xmalloc(sizeof(*c));
    memset(c, 0, sizeof(*c));
    c->fd = fd;
    c->serial = next_serial++;
    c->events = EPOLLIN;
    if (tls_ctx != NULL && !tls_attach(c)) {
        free(c);
        close(fd);
        return;
    }
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        SSL_free(c->ssl);
        free(c);
        close(fd);
        return;
    }
    conns[fd] = c;
    conns_open++;
    stats.connections++;
    if (conns_open > stats.max_concurrent) {
        stats.max_concurrent = conns_open;
    }

    if (!(c->flags & CONN_HANDSHAKE)) {
        greet(c);
    }
    conn_settle(c);
}

static void accept_all(void)
{
    for (;;) {
        int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd >= 0) {
            conn_open(fd);
            continue;
        }
        if (errno == EINTR || errno == ECONNABORTED) {
            continue;
        }
        if ((errno == EMFILE || errno == ENFILE) && spare_fd >= 0) {
            /* Out of descriptors: take one back to refuse the client, so
             * the listen socket does not stay readable for ever. */
            close(spare_fd);
            fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
            if (fd >= 0) {
                refuse(fd);
            }
            spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
            continue;
        }
        return;
    }
}

/* Hands every batch whose time has come to its connection. */
static void delay_timer_expired(void)
{
    uint64_t expirations;
    uint64_t now = now_ns();

    (void)!read(delay_timer_fd, &expirations, sizeof(expirations));
    while (delay_head != NULL && delay_head->due_ns <= now) {
        struct delayed_batch *b = delay_head;
        struct conn *c = conns[b->fd];

        delay_head = b->next;
        if (delay_head == NULL) {
            delay_tail = NULL;
        }
        if (c != NULL && c->serial == b->serial) {
            c->delayed--;
            deliver(c, b->data, b->len);
            conn_settle(c);
        }
        free(b);
    }
    if (delay_head != NULL) {
        delay_timer_arm(delay_head->due_ns);
    }
}

/* ---- setup ----------------------------------------------------------- */

static void build_replies(void)
{
    const char *ext[5];
    char size_line[40];
    size_t count = 0;
    int n;

    n = snprintf(greeting, sizeof(greeting), "220 %s ESMTP " PROGRAM "\r\n",
                 HOSTNAME_DEFAULT);
    greeting_len = (size_t)n;

    if (opt.pipelining) {
        ext[count++] = "PIPELINING";
    }
    if (opt.chunking) {
        ext[count++] = "CHUNKING";
    }
    if (opt.eightbitmime) {
        ext[count++] = "8BITMIME";
    }
    if (opt.size) {
        snprintf(size_line, sizeof(size_line), "SIZE %" PRIu64, opt.size_limit);
        ext[count++] = size_line;
    }

    n = snprintf(ehlo_reply, sizeof(ehlo_reply), "250%c%s\r\n",
                 count > 0 ? '-' : ' ', HOSTNAME_DEFAULT);
    ehlo_reply_len = (size_t)n;
    for (size_t i = 0; i < count; i++) {
        n = snprintf(ehlo_reply + ehlo_reply_len,
                     sizeof(ehlo_reply) - ehlo_reply_len, "250%c%s\r\n",
                     i + 1 < count ? '-' : ' ', ext[i]);
        ehlo_reply_len += (size_t)n;
    }
}

/* Makes room for max_conns descriptors, lowering max_conns if it can't. */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    rlim_t want = (rlim_t)opt.max_conns + FD_RESERVE;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
        perror(PROGRAM ": getrlimit");
        exit(1);
    }
    if (rl.rlim_cur < want) {
        struct rlimit wanted = rl;

        wanted.rlim_cur = want;
        if (wanted.rlim_max < want) {
            wanted.rlim_max = want;
        }
        if (setrlimit(RLIMIT_NOFILE, &wanted) < 0) {
            wanted.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
            wanted.rlim_max = rl.rlim_max;
            setrlimit(RLIMIT_NOFILE, &wanted);
        }
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur < want) {
        unsigned fit =
            rl.rlim_cur > FD_RESERVE ? (unsigned)(rl.rlim_cur - FD_RESERVE) : 1;

        fprintf(stderr,
                PROGRAM ": the descriptor limit is %llu, so at most %u "
                        "connections; raise the hard limit (ulimit -Hn) or "
                        "share the port with --reuseport\n",
                (unsigned long long)rl.rlim_cur, fit);
        opt.max_conns = fit;
    }
    conns_size = (size_t)rl.rlim_cur;
    conns = calloc(conns_size, sizeof(*conns));
    if (conns == NULL) {
        fprintf(stderr, PROGRAM ": out of memory\n");
        exit(1);
    }
}

/* One context for every connection. Buffers are released while idle, and
 * no session tickets are sent: no client here resumes. */
static void tls_setup(void)
{
    const char *key = opt.tls_key != NULL ? opt.tls_key : opt.tls_cert;

    tls_ctx = SSL_CTX_new(TLS_server_method());
    if (tls_ctx == NULL ||
        SSL_CTX_use_certificate_chain_file(tls_ctx, opt.tls_cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(tls_ctx, key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(tls_ctx) != 1) {
        fprintf(stderr, PROGRAM ": cannot use %s and %s for TLS:\n",
                opt.tls_cert, key);
        ERR_print_errors_fp(stderr);
        exit(1);
    }
    SSL_CTX_set_options(tls_ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_mode(tls_ctx, SSL_MODE_RELEASE_BUFFERS |
                                  SSL_MODE_ENABLE_PARTIAL_WRITE |
                                  SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_num_tickets(tls_ctx, 0);
}

static void write_port_file(unsigned port)
{
    char tmp[PATH_MAX];
    FILE *f;

    if (snprintf(tmp, sizeof(tmp), "%s.tmp", opt.port_file) >=
        (int)sizeof(tmp)) {
        fprintf(stderr, PROGRAM ": --port-file path too long\n");
        exit(1);
    }
    f = fopen(tmp, "w");
    if (f == NULL || fprintf(f, "%u\n", port) < 0 || fclose(f) != 0 ||
        rename(tmp, opt.port_file) != 0) {
        fprintf(stderr, PROGRAM ": cannot write %s: %s\n", opt.port_file,
                strerror(errno));
        exit(1);
    }
}

static void listen_open(void)
{
    struct addrinfo hints = {0}, *ai;
    char service[16];
    struct sockaddr_storage bound;
    socklen_t bound_len = sizeof(bound);
    unsigned port;
    int one = 1, rc;

    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
    snprintf(service, sizeof(service), "%u", opt.port);
    rc = getaddrinfo(opt.host, service, &hints, &ai);
    if (rc != 0) {
        fprintf(stderr, PROGRAM ": --host %s is not a numeric address: %s\n",
                opt.host, gai_strerror(rc));
        exit(2);
    }
    listen_fd =
        socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (listen_fd < 0) {
        perror(PROGRAM ": socket");
        exit(1);
    }
    setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (opt.reuseport &&
        setsockopt(listen_fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one))) {
        perror(PROGRAM ": SO_REUSEPORT");
        exit(1);
    }
    if (bind(listen_fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        fprintf(stderr, PROGRAM ": cannot listen on %s port %u: %s\n", opt.host,
                opt.port, strerror(errno));
        exit(1);
    }
    freeaddrinfo(ai);
    if (listen(listen_fd, 65535) < 0) {
        perror(PROGRAM ": listen");
        exit(1);
    }
    getsockname(listen_fd, (struct sockaddr *)&bound, &bound_len);
    if (bound.ss_family == AF_INET6) {
        port = ntohs(((struct sockaddr_in6 *)&bound)->sin6_port);
    } else {
        port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
    }

    if (opt.port_file != NULL) {
        write_port_file(port);
    }
    printf("port %u\n", port);
    fflush(stdout);
}

static void epoll_add(int fd)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};

    if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        perror(PROGRAM ": epoll_ctl");
        exit(1);
    }
}

static void setup(void)
{
    sigset_t mask;

    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    signal(SIGPIPE, SIG_IGN);

    raise_fd_limit();
    if (opt.tls_cert != NULL) {
        tls_setup();
    }
    build_replies();
    epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    signal_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    delay_timer_fd =
        timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (epoll_fd < 0 || signal_fd < 0 || delay_timer_fd < 0) {
        perror(PROGRAM ": setup");
        exit(1);
    }
    listen_open();
    epoll_add(listen_fd);
    epoll_add(signal_fd);
    epoll_add(delay_timer_fd);
}

static void print_stats(void)
{
    printf("messages %" PRIu64 "\n"
           "recipients %" PRIu64 "\n"
           "message_bytes %" PRIu64 "\n"
           "bytes_in %" PRIu64 "\n"
           "bytes_out %" PRIu64 "\n"
           "connections %" PRIu64 "\n"
           "max_concurrent %" PRIu64 "\n"
           "refused_connections %" PRIu64 "\n"
           "error_replies %" PRIu64 "\n",
           stats.messages, stats.recipients, stats.message_bytes,
           stats.bytes_in, stats.bytes_out, stats.connections,
           stats.max_concurrent, stats.refused_connections,
           stats.error_replies);
    fflush(stdout);
}

/* Runs until SIGINT, SIGTERM or the end of --lifetime. */
static void run(void)
{
    struct epoll_event events[EPOLL_EVENTS_MAX];
    uint64_t deadline = now_ns() + (uint64_t)opt.lifetime_s * 1000000000u;

    for (;;) {
        uint64_t now = now_ns();
        int timeout_ms, n;

        if (now >= deadline) {
            return;
        }
        timeout_ms = (int)((deadline - now) / 1000000u) + 1;
        n = epoll_wait(epoll_fd, events, EPOLL_EVENTS_MAX, timeout_ms);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            perror(PROGRAM ": epoll_wait");
            exit(1);
        }
        for (int i = 0; i < n; i++) {
            int fd = events[i].data.fd;

            if (fd == listen_fd) {
                accept_all();
            } else if (fd == delay_timer_fd) {
                delay_timer_expired();
            } else if (fd == signal_fd) {
                return;
            } else if (conns[fd] != NULL) {
                conn_event(conns[fd], events[i].events);
            }
        }
    }
}

/* ---- command line ---------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f, "usage: " PROGRAM " [options]\n"
               "  -p, --port PORT        port to listen on; 0 picks a free one "
               "(default 0)\n"
               "      --host ADDRESS     numeric address (default 127.0.0.1)\n"
               "      --port-file FILE   write the port number to FILE\n"
               "      --pipelining       advertise PIPELINING\n"
               "      --chunking         advertise CHUNKING and accept BDAT\n"
               "      --8bitmime         advertise 8BITMIME\n"
               "      --size[=BYTES]     advertise SIZE, refusing larger "
               "declared sizes\n"
               "      --delay-ms N       hold every reply back N milliseconds\n"
               "      --max-conns N      connections at once (default 30000)\n"
               "      --lifetime SECONDS exit after this long (default 600)\n"
               "      --stats            print counters on exit\n"
               "      --reuseport        let several servers share one port "
               "(SO_REUSEPORT)\n"
               "      --tls-cert FILE    implicit TLS with this PEM chain\n"
               "      --tls-key FILE     its private key (default: in "
               "--tls-cert)\n");
}

static unsigned parse_unsigned(const char *name, const char *s,
                               unsigned long max)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v > max || s[0] == '-') {
        fprintf(stderr, PROGRAM ": %s wants a number up to %lu, not '%s'\n",
                name, max, s);
        exit(2);
    }
    return (unsigned)v;
}

static void parse_options(int argc, char **argv)
{
    enum {
        OPT_HOST = 256,
        OPT_PORT_FILE,
        OPT_PIPELINING,
        OPT_CHUNKING,
        OPT_8BITMIME,
        OPT_SIZE,
        OPT_DELAY,
        OPT_MAX_CONNS,
        OPT_LIFETIME,
        OPT_STATS,
        OPT_REUSEPORT,
        OPT_TLS_CERT,
        OPT_TLS_KEY
    };
    static const struct option longopts[] = {
        {"port", required_argument, NULL, 'p'},
        {"host", required_argument, NULL, OPT_HOST},
        {"port-file", required_argument, NULL, OPT_PORT_FILE},
        {"pipelining", no_argument, NULL, OPT_PIPELINING},
        {"chunking", no_argument, NULL, OPT_CHUNKING},
        {"8bitmime", no_argument, NULL, OPT_8BITMIME},
        {"size", optional_argument, NULL, OPT_SIZE},
        {"delay-ms", required_argument, NULL, OPT_DELAY},
        {"max-conns", required_argument, NULL, OPT_MAX_CONNS},
        {"lifetime", required_argument, NULL, OPT_LIFETIME},
        {"stats", no_argument, NULL, OPT_STATS},
        {"reuseport", no_argument, NULL, OPT_REUSEPORT},
        {"tls-cert", required_argument, NULL, OPT_TLS_CERT},
        {"tls-key", required_argument, NULL, OPT_TLS_KEY},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch;

    while ((ch = getopt_long(argc, argv, "p:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'p':
            opt.port = parse_unsigned("--port", optarg, 65535);
            break;
        case OPT_HOST:
            opt.host = optarg;
            break;
        case OPT_PORT_FILE:
            opt.port_file = optarg;
            break;
        case OPT_PIPELINING:
            opt.pipelining = true;
            break;
        case OPT_CHUNKING:
            opt.chunking = true;
            break;
        case OPT_8BITMIME:
            opt.eightbitmime = true;
            break;
        case OPT_SIZE:
            opt.size = true;
            if (optarg != NULL) {
                opt.size_limit = parse_unsigned("--size", optarg, UINT_MAX);
            }
            break;
        case OPT_DELAY:
            opt.delay_ms = parse_unsigned("--delay-ms", optarg, 600000);
            break;
        case OPT_MAX_CONNS:
            opt.max_conns = parse_unsigned("--max-conns", optarg, 1000000);
            if (opt.max_conns == 0) {
                opt.max_conns = 1;
            }
            break;
        case OPT_LIFETIME:
            opt.lifetime_s = parse_unsigned("--lifetime", optarg, 86400);
            break;
        case OPT_STATS:
            opt.stats = true;
            break;
        case OPT_REUSEPORT:
            opt.reuseport = true;
            break;
        case OPT_TLS_CERT:
            opt.tls_cert = optarg;
            break;
        case OPT_TLS_KEY:
            opt.tls_key = optarg;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            exit(2);
        }
    }
    if (optind != argc) {
        fprintf(stderr, PROGRAM ": unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        exit(2);
    }
    if (opt.tls_key != NULL && opt.tls_cert == NULL) {
        fprintf(stderr, PROGRAM ": --tls-key needs --tls-cert\n");
        exit(2);
    }
}

int main(int argc, char **argv)
{
    parse_options(argc, argv);
    setup();
    run();
    if (opt.stats) {
        print_stats();
    }
    return 0;
}
