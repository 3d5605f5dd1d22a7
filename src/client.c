/*
 * The client (see include/asmtp/client.h): one connection on libuv. It
 * resolves and connects, runs TLS through tls.c, and moves bytes between
 * the socket and the session, writing only as the socket drains. The
 * session decides everything about SMTP; this file decides where bytes go
 * and when the timer fires.
 *
 * Every call into the session is bracketed by depth++/depth-- (user
 * callbacks run inside it); service() then writes, arms the timer and
 * closes when the session is done, always at depth 0.
 */
#include "client_internal.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "command.h"
#include "message.h"
#include "session_hooks.h"

#define READ_SIZE       (64u * 1024u)
#define TLS_QUEUE_MAX   (64u * 1024u) /* ciphertext waiting for the socket */
#define TLS_SLICE       (16u * 1024u) /* plaintext encrypted per step */
#define IDLE_BUFFER_MAX 4096u /* larger buffers are given back when idle */

/* One read buffer per thread: libuv hands it back in the read callback
 * before anything else can read, so idle connections hold none. */
static _Thread_local char read_buffer[READ_SIZE];

static void on_timer(uv_timer_t *timer);

/* The loop's time, brought up to date first: it is cached from the last
 * poll, and work submitted after an idle spell would otherwise start its
 * timeout in the past. */
static uint64_t now_ms(const asmtp_client *c)
{
    uv_update_time(c->loop);
    return uv_now(c->loop);
}

static void client_log(asmtp_client *c, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void client_log(asmtp_client *c, int level, const char *fmt, ...)
{
    char line[256];
    va_list ap;

    if (!c->config.log)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    c->config.log(c->config.user_data, level, line);
}

/* Where we are connecting, for messages: "host:port" or the path. */
static void describe_peer(const asmtp_client *c, char *buf, size_t size)
{
    if (c->unix_path)
        snprintf(buf, size, "%s", c->unix_path);
    else
        snprintf(buf, size, "%s:%u", c->host, (unsigned)c->port);
}

/* ---- Failing the connection ------------------------------------------- */

/* End the connection with error: every pending operation gets it. */
static void fail(asmtp_client *c, int error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(asmtp_client *c, int error, const char *fmt, ...)
{
    char message[300];
    va_list ap;

    if (!c->session)
        return;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    c->depth++;
    asmtp_session_abort(c->session, error, message, now_ms(c));
    c->depth--;
}

/*
 * The same, from inside a call the caller made (connect, adopt): the
 * failure is delivered from the loop, so that callbacks never run inside
 * the call that submitted their operation, and operations submitted right
 * after it still queue (and fail with the others).
 */
static void fail_later(asmtp_client *c, int error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail_later(asmtp_client *c, int error, const char *fmt, ...)
{
    va_list ap;

    if (c->deferred_error)
        return;
    c->deferred_error = error;
    va_start(ap, fmt);
    vsnprintf(c->deferred_message, sizeof c->deferred_message, fmt, ap);
    va_end(ap);
    uv_timer_start(&c->timer, on_timer, 0, 0);
}

/* ---- Lifetime ------------------------------------------------------------ */

static void release(asmtp_client *c)
{
    const asmtp_mem *mem = c->mem;

    asmtp__tls_free(c->tls);
    asmtp__buf_free(&c->wbuf);
    asmtp__buf_free(&c->plain);
    if (c->addresses)
        uv_freeaddrinfo(c->addresses);
    asmtp__free(mem, c->host);
    asmtp__free(mem, c->unix_path);
    asmtp__free(mem, c->source_address);
    asmtp__free(mem, c->local_hostname);
    asmtp__free(mem, c->ca_file);
    asmtp__free(mem, c->ca_path);
    asmtp__free(mem, c->cert_file);
    asmtp__free(mem, c->key_file);
    asmtp__free(mem, c->server_name);
    asmtp_tls_session_cache_free(c->config.tls_config.session_cache);
    asmtp__free(mem, c);
}

static int start_connect(asmtp_client *c);
static void fail(asmtp_client *c, int error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void arm_timer(asmtp_client *c);

/* The socket is closed: forget the connection, and start the next one if
 * connect() was called meanwhile. */
static void connection_gone(asmtp_client *c)
{
    asmtp_session *old = c->old_session;

    c->old_session = NULL;
    c->state = CLIENT_IDLE;
    asmtp__tls_free(c->tls);
    c->tls = NULL;
    c->tls_handshaking = c->start_tls = c->tls_closing = false;
    c->writing = false;
    asmtp__buf_clear(&c->wbuf);
    asmtp__buf_clear(&c->plain);
    if (c->addresses) {
        uv_freeaddrinfo(c->addresses);
        c->addresses = c->next_address = NULL;
    }
    c->depth++;
    asmtp_session_free(old);
    c->depth--;
    if (c->reconnect && !c->freeing) {
        int rv;

        c->reconnect = false;
        rv = start_connect(c);
        if (rv < 0)
            fail(c, ASMTP_ERR_CONNECT, "could not start connecting: %s",
                 uv_strerror(rv));
        arm_timer(c); /* the connect timeout runs from here */
    }
}

static void maybe_release(asmtp_client *c)
{
    if (c->state == CLIENT_CLOSING && !c->sock_open && !c->sock_closing &&
        c->requests == 0)
        connection_gone(c);
    if (c->free_pending && c->handles == 0 && c->requests == 0 && c->depth == 0)
        release(c);
}

static void on_handle_closed(uv_handle_t *handle)
{
    asmtp_client *c = handle->data;

    c->handles--;
    maybe_release(c);
}

static void on_socket_closed(uv_handle_t *handle)
{
    asmtp_client *c = handle->data;

    c->sock_closing = false;
    on_handle_closed(handle);
}

static void close_socket(asmtp_client *c)
{
    if (!c->sock_open)
        return;
    c->sock_open = false;
    c->sock_closing = true;
    c->sock.handle.data = c;
    uv_close(&c->sock.handle, on_socket_closed);
}

/* Close the connection; its session is freed once libuv lets go. */
static void close_connection(asmtp_client *c)
{
    if (c->state == CLIENT_IDLE && c->session) {
        /* Never got as far as a socket. */
        asmtp_session *s = c->session;

        c->session = NULL;
        c->generation++;
        uv_timer_stop(&c->timer);
        c->depth++;
        asmtp_session_free(s);
        c->depth--;
        return;
    }
    if (c->state == CLIENT_IDLE || c->state == CLIENT_CLOSING)
        return;
    if (c->state == CLIENT_RESOLVING)
        uv_cancel((uv_req_t *)&c->resolve_req);
    c->state = CLIENT_CLOSING;
    c->generation++;
    c->deferred_error = 0;
    c->old_session = c->session;
    c->session = NULL;
    uv_timer_stop(&c->timer);
    close_socket(c);
    maybe_release(c);
}

static void do_free(asmtp_client *c)
{
    asmtp_session *s;

    c->freeing = true;
    c->free_pending = true;
    c->reconnect = false;
    close_connection(c);
    /* Cancel what is pending now, on both the current connection and one
     * still closing: the callers' callbacks must run before free
     * returns, not when libuv lets go of the socket later. */
    s = c->session;
    c->session = NULL;
    c->depth++;
    asmtp_session_free(s);
    s = c->old_session;
    c->old_session = NULL;
    asmtp_session_free(s);
    c->depth--;
    if (!uv_is_closing((uv_handle_t *)&c->timer)) {
        c->timer.data = c;
        uv_close((uv_handle_t *)&c->timer, on_handle_closed);
    }
    maybe_release(c);
}

/* ---- Writing ------------------------------------------------------------- */

static void service(asmtp_client *c);

static void on_written(uv_write_t *req, int status)
{
    asmtp_client *c = req->data;

    c->requests--;
    c->writing = false;
    /* A copy that may hold a SASL line leaves nothing of it behind. */
    if (c->write_secret)
        asmtp__wipe(c->wbuf.data + c->wbuf.off, c->write_len);
    asmtp__buf_clear(&c->wbuf);
    if (c->state == CLIENT_CLOSING || c->freeing) {
        maybe_release(c);
        return;
    }
    if (status < 0) {
        fail(c, ASMTP_ERR_DISCONNECTED, "writing to the server failed: %s",
             uv_strerror(status));
    } else if (c->write_from_session) {
        c->depth++;
        asmtp_session_output_done(c->session, c->write_len, now_ms(c));
        c->depth--;
    }
    service(c);
}

/* Bytes the socket took at once. */
static void took(asmtp_client *c, bool from_session, size_t n)
{
    if (!from_session) {
        asmtp__tls_output_done(c->tls, n);
        return;
    }
    c->depth++;
    asmtp_session_output_done(c->session, n, now_ms(c));
    c->depth--;
}

/* Hand the rest to libuv; the socket will tell us when it drained. */
static int queue_write(asmtp_client *c, const unsigned char *p, size_t len,
                       bool from_session)
{
    uv_buf_t buf;
    int rv;

    asmtp__buf_clear(&c->wbuf);
    if (asmtp__buf_append(&c->wbuf, p, len))
        return ASMTP_ERR_NOMEM;
    if (!from_session)
        asmtp__tls_output_done(c->tls, len);
    buf = uv_buf_init((char *)c->wbuf.data + c->wbuf.off, (unsigned)len);
    c->write_req.data = c;
    rv = uv_write(&c->write_req, &c->sock.stream, &buf, 1, on_written);
    if (rv < 0)
        return rv;
    c->requests++;
    c->writing = true;
    c->write_len = len;
    c->write_from_session = from_session;
    c->write_secret = from_session && asmtp__session_output_secret(c->session);
    return 0;
}

/* Encrypt session output while the ciphertext queue is short. */
static void encrypt_output(asmtp_client *c)
{
    char why[200];
    size_t queued, len;
    const unsigned char *p;

    unsigned generation = c->generation;

    asmtp__tls_output(c->tls, &queued);
    while (queued < TLS_QUEUE_MAX && c->session &&
           (p = asmtp_session_output(c->session, &len)) && len) {
        if (len > TLS_SLICE)
            len = TLS_SLICE;
        if (asmtp__tls_write(c->tls, p, len, why, sizeof why)) {
            fail(c, ASMTP_ERR_TLS, "TLS failed while sending: %s", why);
            return;
        }
        took(c, true, len);
        if (c->generation != generation)
            return; /* a callback closed the connection */
        asmtp__tls_output(c->tls, &queued);
    }
}

/* The next bytes for the socket: ciphertext, or the session's output. */
static const unsigned char *next_bytes(asmtp_client *c, size_t *len,
                                       bool *from_session)
{
    *len = 0;
    *from_session = false;
    if (c->tls) {
        if (!c->tls_handshaking && !c->tls_closing)
            encrypt_output(c);
        return c->tls ? asmtp__tls_output(c->tls, len) : NULL;
    }
    if (c->state != CLIENT_OPEN || !c->session)
        return NULL;
    *from_session = true;
    return asmtp_session_output(c->session, len);
}

static void flush(asmtp_client *c)
{
    while (!c->writing && c->sock_open &&
           (c->state == CLIENT_OPEN || c->state == CLIENT_HANDSHAKE)) {
        bool from_session;
        size_t len;
        const unsigned char *p = next_bytes(c, &len, &from_session);
        uv_buf_t buf;
        int n;

        if (!p || !len) {
            /* Nothing more to send: idle connections stay small. */
            if (c->wbuf.cap > IDLE_BUFFER_MAX)
                asmtp__buf_free(&c->wbuf);
            return;
        }
        buf = uv_buf_init((char *)p, (unsigned)len);
        n = uv_try_write(&c->sock.stream, &buf, 1);
        if (n == UV_EAGAIN || n == UV_ENOSYS)
            n = 0;
        if (n < 0) {
            fail(c, ASMTP_ERR_DISCONNECTED, "writing to the server failed: %s",
                 uv_strerror(n));
            return;
        }
        if ((size_t)n == len) {
            took(c, from_session, len);
            continue;
        }
        if (n > 0 && !from_session) {
            asmtp__tls_output_done(c->tls, (size_t)n);
            continue;
        }
        /* Copy the rest before telling the session: its output may move
         * once it knows n bytes went. */
        if (queue_write(c, p + n, len - (size_t)n, from_session) < 0) {
            fail(c, ASMTP_ERR_NOMEM, "out of memory writing");
            return;
        }
        if (n > 0)
            took(c, true, (size_t)n);
        return;
    }
}

/* ---- The timer ----------------------------------------------------------- */

static void on_timer(uv_timer_t *timer)
{
    asmtp_client *c = timer->data;
    char peer[300];

    if (!c->session)
        return;
    if (c->deferred_error) {
        int error = c->deferred_error;

        c->deferred_error = 0;
        fail(c, error, "%s", c->deferred_message);
        service(c);
        return;
    }
    describe_peer(c, peer, sizeof peer);
    if (c->state == CLIENT_RESOLVING || c->state == CLIENT_CONNECTING ||
        c->state == CLIENT_HANDSHAKE) {
        if (now_ms(c) >= asmtp_session_deadline(c->session)) {
            fail(c, ASMTP_ERR_CONNECT_TIMEOUT, "timed out after %llu ms %s %s",
                 (unsigned long long)c->config.connect_timeout_ms,
                 c->state == CLIENT_RESOLVING    ? "looking up"
                 : c->state == CLIENT_CONNECTING ? "connecting to"
                                                 : "in the TLS handshake with",
                 peer);
            service(c);
            return;
        }
    }
    c->depth++;
    asmtp_session_tick(c->session, now_ms(c));
    c->depth--;
    service(c);
}

static void arm_timer(asmtp_client *c)
{
    uint64_t deadline, now = now_ms(c);

    if (!c->session) {
        uv_timer_stop(&c->timer);
        return;
    }
    if (c->deferred_error)
        return; /* its zero timer is running */
    deadline = asmtp_session_deadline(c->session);
    if (deadline == UINT64_MAX)
        uv_timer_stop(&c->timer);
    else
        uv_timer_start(&c->timer, on_timer, deadline > now ? deadline - now : 0,
                       0);
}

/* ---- Servicing -------------------------------------------------------------
 */

static void begin_tls(asmtp_client *c);

/* Everything that follows a call into the session, at depth 0. */
static void service(asmtp_client *c)
{
    if (c->depth > 0)
        return;
    if (c->free_pending) {
        if (!c->freeing)
            do_free(c);
        return;
    }
    if (!c->session)
        return;
    if (c->start_tls && !c->tls) {
        begin_tls(c);
        if (!c->session)
            return;
    }
    flush(c);
    if (c->session && asmtp_session_want_close(c->session)) {
        /* A TLS session ends with close_notify, when it can be sent. */
        if (!c->writing && c->tls && !c->tls_closing &&
            c->state == CLIENT_OPEN && c->sock_open) {
            c->tls_closing = true;
            asmtp__tls_shutdown(c->tls);
            flush(c);
        }
        /* A failed session does not wait for a write the server may
         * never take. */
        if (!c->writing || asmtp_session_error(c->session)) {
            close_connection(c);
            return;
        }
    }
    arm_timer(c);
}

/* ---- TLS -------------------------------------------------------------------
 */

static void feed_session(asmtp_client *c, const void *data, size_t len)
{
    c->depth++;
    asmtp_session_feed(c->session, data, len, now_ms(c));
    c->depth--;
}

/* Pass on what TLS decrypted. */
static void drain_plaintext(asmtp_client *c)
{
    char why[200] = "";
    unsigned generation = c->generation;
    int rv = asmtp__tls_read(c->tls, &c->plain, why, sizeof why);

    if (asmtp__buf_size(&c->plain))
        feed_session(c, asmtp__buf_head(&c->plain), asmtp__buf_size(&c->plain));
    asmtp__buf_clear(&c->plain);
    if (c->plain.cap > IDLE_BUFFER_MAX)
        asmtp__buf_free(&c->plain); /* idle connections stay small */
    if (!c->session || c->generation != generation)
        return;
    if (rv == ASMTP_ERR_NOMEM) {
        fail(c, ASMTP_ERR_NOMEM, "out of memory receiving");
        return;
    }
    if (rv == 1) {
        c->depth++;
        asmtp_session_eof(c->session, now_ms(c));
        c->depth--;
    } else if (rv < 0) {
        fail(c, ASMTP_ERR_TLS, "TLS failed while receiving: %s", why);
    }
}

static void handshake(asmtp_client *c)
{
    char why[200], peer[300];
    unsigned generation = c->generation;
    int rv = asmtp__tls_handshake(c->tls, why, sizeof why);

    if (rv == ASMTP__TLS_WANT)
        return;
    if (rv < 0) {
        describe_peer(c, peer, sizeof peer);
        fail(c, ASMTP_ERR_TLS,
             "the TLS handshake with %s failed: %s; nothing was sent in "
             "plaintext",
             peer, why);
        return;
    }
    c->tls_handshaking = false;
    c->depth++;
    client_log(c, ASMTP_LOG_INFO, "TLS established: %s %s%s",
               asmtp__tls_version(c->tls), asmtp__tls_cipher(c->tls),
               asmtp__tls_resumed(c->tls) ? ", session resumed" : "");
    c->depth--;
    if (c->generation != generation)
        return;
    if (c->state == CLIENT_HANDSHAKE) {
        c->state = CLIENT_OPEN;
    } else {
        c->depth++;
        asmtp_session_tls_done(c->session, 0, now_ms(c));
        c->depth--;
    }
    if (c->session && c->generation == generation)
        drain_plaintext(c);
}

static void begin_tls(asmtp_client *c)
{
    char why[200];
    /* A Unix or adopted socket has no host to verify unless the caller
     * named one; tls.c then wants server_name. */
    const char *name =
        c->unix_path || (c->adopted && !c->host_given) ? NULL : c->host;
    int rv;

    c->start_tls = false;
    rv = asmtp__tls_new(&c->tls, &c->config.tls_config, name, c->mem, why,
                        sizeof why);
    if (rv) {
        fail_later(c, rv, "cannot set up TLS: %s", why);
        return;
    }
    c->tls_handshaking = true;
    handshake(c);
}

/* The session stopped after the 220 to STARTTLS. It calls this from inside
 * a session call, so the handshake starts in service(). */
static void on_session_start_tls(void *user_data)
{
    asmtp_client *c = user_data;

    c->start_tls = true;
}

static void on_session_log(void *user_data, int level, const char *message)
{
    asmtp_client *c = user_data;

    c->config.log(c->config.user_data, level, message);
}

static void on_session_transcript(void *user_data, int direction,
                                  const unsigned char *line, size_t len)
{
    asmtp_client *c = user_data;

    c->config.transcript(c->config.user_data, direction, line, len);
}

/* ---- Reading ---------------------------------------------------------------
 */

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    (void)handle;
    (void)suggested;
    *buf = uv_buf_init(read_buffer, sizeof read_buffer);
}

static void on_eof(asmtp_client *c, ssize_t status)
{
    if (status != UV_EOF) {
        fail(c, ASMTP_ERR_DISCONNECTED, "the connection failed: %s",
             uv_strerror((int)status));
        return;
    }
    if (c->state == CLIENT_HANDSHAKE || c->tls_handshaking) {
        fail(c, ASMTP_ERR_TLS,
             "the server closed the connection during the TLS handshake");
        return;
    }
    c->depth++;
    asmtp_session_eof(c->session, now_ms(c));
    c->depth--;
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    asmtp_client *c = stream->data;

    if (nread == 0 || !c->session || c->state == CLIENT_CLOSING)
        return;
    if (nread > 0)
        c->reads++;
    if (nread < 0) {
        on_eof(c, nread);
    } else if (!c->tls) {
        feed_session(c, buf->base, (size_t)nread);
    } else if (asmtp__tls_feed(c->tls, buf->base, (size_t)nread)) {
        fail(c, ASMTP_ERR_NOMEM, "out of memory receiving");
    } else if (c->tls_handshaking) {
        handshake(c);
    } else {
        drain_plaintext(c);
    }
    service(c);
}

/* ---- Connecting ------------------------------------------------------------
 */

static bool is_loopback(const struct sockaddr *sa)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0,    0,
                                             0, 0, 0, 0, 0xff, 0xff};

    if (sa->sa_family == AF_UNIX)
        return true;
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >>
                24) == 127;
    if (sa->sa_family == AF_INET6) {
        const unsigned char *a =
            ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
        static const unsigned char one[16] = {0, 0, 0, 0, 0, 0, 0, 0,
                                              0, 0, 0, 0, 0, 0, 0, 1};

        return memcmp(a, one, 16) == 0 ||
               (memcmp(a, mapped, 12) == 0 && a[12] == 127);
    }
    return false;
}

/* "[192.0.2.1]" or "[IPv6:2001:db8::1]" for the local end. */
static void address_literal(const struct sockaddr *sa, char *buf, size_t size)
{
    char text[INET6_ADDRSTRLEN] = "127.0.0.1";

    if (sa->sa_family == AF_INET6) {
        uv_ip6_name((const struct sockaddr_in6 *)sa, text, sizeof text);
        snprintf(buf, size, "[IPv6:%s]", text);
        return;
    }
    if (sa->sa_family == AF_INET)
        uv_ip4_name((const struct sockaddr_in *)sa, text, sizeof text);
    snprintf(buf, size, "[%s]", text);
}

/* What we learn once connected: is the peer loopback, and what is our
 * address (the EHLO name of last resort). */
static void learn_endpoints(asmtp_client *c)
{
    struct sockaddr_storage peer, local;
    socklen_t len = sizeof peer;
    bool loopback = c->unix_path != NULL;
    uv_os_fd_t fd;
    char literal[64];

    if (uv_fileno(&c->sock.handle, &fd) != 0)
        return;
    if (getpeername(fd, (struct sockaddr *)&peer, &len) == 0)
        loopback = loopback || is_loopback((struct sockaddr *)&peer);
    asmtp_session_set_auth_requires_tls(
        c->session, !c->config.allow_insecure_auth && !loopback);
    len = sizeof local;
    if (c->literal_hostname &&
        getsockname(fd, (struct sockaddr *)&local, &len) == 0 &&
        local.ss_family != AF_UNIX) {
        address_literal((struct sockaddr *)&local, literal, sizeof literal);
        asmtp_session_set_local_hostname(c->session, literal);
    }
}

static void connected(asmtp_client *c)
{
    c->sock.stream.data = c;
    learn_endpoints(c);
    uv_read_start(&c->sock.stream, on_alloc, on_read);
    if (c->config.tls) {
        c->state = CLIENT_HANDSHAKE;
        begin_tls(c);
    } else {
        c->state = CLIENT_OPEN;
    }
}

static void try_next_address(asmtp_client *c);

static void on_failed_socket_closed(uv_handle_t *handle)
{
    asmtp_client *c = handle->data;

    c->handles--;
    c->sock_closing = false;
    if (c->state == CLIENT_CONNECTING && !c->freeing)
        try_next_address(c);
    else
        maybe_release(c);
}

static void on_connected(uv_connect_t *req, int status)
{
    asmtp_client *c = req->data;

    c->requests--;
    if (c->state != CLIENT_CONNECTING || c->freeing) {
        maybe_release(c);
        return;
    }
    if (status < 0) {
        c->connect_error = status;
        c->sock_open = false;
        c->sock_closing = true;
        c->sock.handle.data = c;
        uv_close(&c->sock.handle, on_failed_socket_closed);
        return;
    }
    if (c->addresses) {
        uv_freeaddrinfo(c->addresses);
        c->addresses = c->next_address = NULL;
    }
    connected(c);
    service(c);
}

static int bind_source(asmtp_client *c, int family)
{
    struct sockaddr_storage sa;
    int rv;

    if (!c->source_address)
        return 0;
    if (family == AF_INET6)
        rv = uv_ip6_addr(c->source_address, c->config.source_port,
                         (struct sockaddr_in6 *)&sa);
    else
        rv = uv_ip4_addr(c->source_address, c->config.source_port,
                         (struct sockaddr_in *)&sa);
    return rv ? rv : uv_tcp_bind(&c->sock.tcp, (struct sockaddr *)&sa, 0);
}

/* A source address of the wrong family cannot reach this address. */
static bool source_fits(const asmtp_client *c, int family)
{
    struct sockaddr_in6 probe;

    if (!c->source_address)
        return true;
    return (uv_ip6_addr(c->source_address, 0, &probe) == 0) ==
           (family == AF_INET6);
}

static void connect_failed(asmtp_client *c)
{
    char peer[300];

    describe_peer(c, peer, sizeof peer);
    fail(c, ASMTP_ERR_CONNECT, "could not connect to %s: %s", peer,
         c->connect_error ? uv_strerror(c->connect_error)
                          : "no address of a usable family");
    service(c);
}

static void try_next_address(asmtp_client *c)
{
    struct addrinfo *ai;
    int rv;

    while ((ai = c->next_address)) {
        c->next_address = ai->ai_next;
        if (!source_fits(c, ai->ai_family))
            continue;
        if ((rv = uv_tcp_init(c->loop, &c->sock.tcp)) < 0) {
            c->connect_error = rv;
            break;
        }
        c->handles++;
        c->sock_open = true;
        c->sock.handle.data = c;
        uv_tcp_nodelay(&c->sock.tcp, 1);
        c->connect_req.data = c;
        rv = bind_source(c, ai->ai_family);
        rv = rv ? rv
                : uv_tcp_connect(&c->connect_req, &c->sock.tcp, ai->ai_addr,
                                 on_connected);
        if (rv == 0) {
            c->requests++;
            return;
        }
        c->connect_error = rv;
        c->sock_open = false;
        c->sock_closing = true;
        uv_close(&c->sock.handle, on_failed_socket_closed);
        return;
    }
    connect_failed(c);
}

static void on_resolved(uv_getaddrinfo_t *req, int status,
                        struct addrinfo *result)
{
    asmtp_client *c = req->data;

    c->requests--;
    if (c->state != CLIENT_RESOLVING || c->freeing) {
        if (result)
            uv_freeaddrinfo(result);
        maybe_release(c);
        return;
    }
    if (status < 0) {
        fail(c, ASMTP_ERR_CONNECT, "could not resolve %s: %s", c->host,
             uv_strerror(status));
        service(c);
        return;
    }
    c->addresses = c->next_address = result;
    c->connect_error = 0;
    c->state = CLIENT_CONNECTING;
    try_next_address(c);
}

static void on_pipe_connected(uv_connect_t *req, int status)
{
    asmtp_client *c = req->data;

    c->requests--;
    if (c->state != CLIENT_CONNECTING || c->freeing) {
        maybe_release(c);
        return;
    }
    if (status < 0) {
        c->connect_error = status;
        connect_failed(c);
        return;
    }
    connected(c);
    service(c);
}

static int connect_unix(asmtp_client *c)
{
    int rv = uv_pipe_init(c->loop, &c->sock.pipe, 0);

    if (rv < 0)
        return rv;
    c->handles++;
    c->sock_open = true;
    c->sock.handle.data = c;
    c->state = CLIENT_CONNECTING;
    c->connect_req.data = c;
    uv_pipe_connect(&c->connect_req, &c->sock.pipe, c->unix_path,
                    on_pipe_connected);
    c->requests++;
    return 0;
}

static int start_connect(asmtp_client *c)
{
    struct addrinfo hints;
    char port[8];
    int rv;

    if (c->unix_path)
        return connect_unix(c);
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_ADDRCONFIG;
    snprintf(port, sizeof port, "%u", (unsigned)c->port);
    c->resolve_req.data = c;
    c->state = CLIENT_RESOLVING;
    rv = uv_getaddrinfo(c->loop, &c->resolve_req, on_resolved, c->host, port,
                        &hints);
    if (rv == 0)
        c->requests++;
    return rv;
}

/* ---- Operations ------------------------------------------------------------
 */

/* What the session's callback needs to reach the caller's. */
typedef struct client_op {
    asmtp_client *client;
    asmtp_client_cb cb;
    void *user_data;
    asmtp__message *message; /* send_message: the parsed headers */
    asmtp_content stream;    /* send_message, streamed: the caller's */
    asmtp__buf prefix;       /* headers and body read ahead of it */
    bool prefix_sent;
} client_op;

static void free_op(asmtp_client *c, client_op *op)
{
    if (op->message) {
        asmtp__message_free(op->message);
        asmtp__free(c->mem, op->message);
    }
    asmtp__buf_free(&op->prefix);
    asmtp__free(c->mem, op);
}

static void on_session_done(asmtp_session *s, const asmtp_result *result,
                            void *user_data)
{
    client_op *op = user_data;
    asmtp_client *c = op->client;

    (void)s;
    if (op->cb)
        op->cb(c, result, op->user_data);
    free_op(c, op);
}

static client_op *new_op(asmtp_client *c, asmtp_client_cb cb, void *ud)
{
    client_op *op = asmtp__calloc(c->mem, 1, sizeof *op);

    if (!op)
        return NULL;
    op->client = c;
    op->cb = cb;
    op->user_data = ud;
    asmtp__buf_init(&op->prefix, c->mem);
    return op;
}

/* Submit through fn; the op is the session callback's user data. */
#define SUBMIT(c, cb, ud, call)                                                \
    do {                                                                       \
        client_op *op_;                                                        \
        int rv_;                                                               \
        if (!(c) || !(c)->session || (c)->freeing)                             \
            return ASMTP_ERR_STATE;                                            \
        op_ = new_op((c), (cb), (ud));                                         \
        if (!op_)                                                              \
            return ASMTP_ERR_NOMEM;                                            \
        (c)->depth++;                                                          \
        rv_ = (call);                                                          \
        (c)->depth--;                                                          \
        if (rv_)                                                               \
            free_op((c), op_);                                                 \
        service(c);                                                            \
        return rv_;                                                            \
    } while (0)

static char *copy_config_string(const asmtp_mem *mem, const char *s, int *rv)
{
    char *copy;

    if (!s || *rv)
        return NULL;
    if (asmtp__has_control(s, strlen(s))) {
        *rv = ASMTP_ERR_BAD_ARGUMENT;
        return NULL;
    }
    copy = asmtp__strndup(mem, s, strlen(s));
    if (!copy)
        *rv = ASMTP_ERR_NOMEM;
    return copy;
}

static uint16_t default_port(const asmtp_client_config *config)
{
    if (config->port)
        return config->port;
    if (config->tls)
        return 465;
    return config->starttls == ASMTP_STARTTLS_REQUIRED ? 587 : 25;
}

static int copy_config(asmtp_client *c, const asmtp_client_config *config)
{
    asmtp_tls_config *tls = &c->config.tls_config;
    int rv = 0;

    c->config = *config;
    /* Held from here, so that release() may drop it whatever fails. */
    asmtp__tls_session_cache_ref(tls->session_cache);
    c->host_given = config->host != NULL;
    c->host = copy_config_string(
        c->mem, config->host ? config->host : "localhost", &rv);
    c->unix_path = copy_config_string(c->mem, config->unix_path, &rv);
    c->source_address = copy_config_string(c->mem, config->source_address, &rv);
    c->local_hostname = copy_config_string(c->mem, config->local_hostname, &rv);
    c->ca_file = copy_config_string(c->mem, tls->ca_file, &rv);
    c->ca_path = copy_config_string(c->mem, tls->ca_path, &rv);
    c->cert_file = copy_config_string(c->mem, tls->cert_file, &rv);
    c->key_file = copy_config_string(c->mem, tls->key_file, &rv);
    c->server_name = copy_config_string(c->mem, tls->server_name, &rv);
    c->config.host = c->host;
    c->config.unix_path = c->unix_path;
    c->config.source_address = c->source_address;
    c->config.local_hostname = c->local_hostname;
    tls->ca_file = c->ca_file;
    tls->ca_path = c->ca_path;
    tls->cert_file = c->cert_file;
    tls->key_file = c->key_file;
    tls->server_name = c->server_name;
    if (!c->config.connect_timeout_ms)
        c->config.connect_timeout_ms = 60000;
    if (!c->config.timeout_ms)
        c->config.timeout_ms = 60000;
    c->port = default_port(config);
    return rv;
}

static int check_config(const asmtp_client_config *config)
{
    struct sockaddr_in6 v6;
    struct sockaddr_in v4;

    if (config->starttls < ASMTP_STARTTLS_AUTO ||
        config->starttls > ASMTP_STARTTLS_NEVER)
        return ASMTP_ERR_BAD_ARGUMENT;
    if (config->source_address &&
        uv_ip4_addr(config->source_address, 0, &v4) != 0 &&
        uv_ip6_addr(config->source_address, 0, &v6) != 0)
        return ASMTP_ERR_BAD_ARGUMENT;
    if (config->unix_path && strlen(config->unix_path) >=
                                 sizeof(((struct sockaddr_un *)0)->sun_path))
        return ASMTP_ERR_BAD_ARGUMENT;
    if (config->unix_path &&
        (config->tls || config->starttls == ASMTP_STARTTLS_REQUIRED) &&
        !config->tls_config.server_name && !config->tls_config.no_verify &&
        !config->tls_config.ssl_ctx)
        return ASMTP_ERR_BAD_ARGUMENT; /* nothing to verify against */
    return 0;
}

int asmtp_client_new(asmtp_client **out, struct uv_loop_s *loop,
                     const asmtp_client_config *config, const asmtp_mem *mem)
{
    asmtp_client *c;
    int rv;

    if (!out || !loop || !config)
        return ASMTP_ERR_BAD_ARGUMENT;
    *out = NULL;
    rv = check_config(config);
    if (rv)
        return rv;
    c = asmtp__calloc(mem, 1, sizeof *c);
    if (!c)
        return ASMTP_ERR_NOMEM;
    c->loop = loop;
    c->mem = mem;
    asmtp__buf_init(&c->wbuf, mem);
    asmtp__buf_init(&c->plain, mem);
    rv = copy_config(c, config);
    if (rv) {
        release(c);
        return rv;
    }
    uv_timer_init(loop, &c->timer);
    c->timer.data = c;
    c->handles = 1;
    *out = c;
    return 0;
}

void asmtp_client_free(asmtp_client *c)
{
    if (!c || c->freeing)
        return;
    c->free_pending = true;
    if (c->depth == 0)
        do_free(c);
}

/* The EHLO name: the caller's, else the host name, else (once connected)
 * the local address. */
static const char *ehlo_name(asmtp_client *c, char *buf, size_t size)
{
    size_t len = size;
    asmtp__buf probe;
    int rv;

    c->literal_hostname = false;
    if (c->local_hostname)
        return c->local_hostname;
    if (uv_os_gethostname(buf, &len) == 0) {
        asmtp__buf_init(&probe, c->mem);
        rv = asmtp__command_ehlo(&probe, buf);
        asmtp__buf_free(&probe);
        if (rv == 0 && strchr(buf, '.') && strcmp(buf, "localhost") != 0)
            return buf;
    }
    c->literal_hostname = true;
    return "localhost";
}

static int new_session(asmtp_client *c)
{
    asmtp_session_config sc;
    char name[256];

    memset(&sc, 0, sizeof sc);
    sc.local_hostname = ehlo_name(c, name, sizeof name);
    sc.starttls = c->config.starttls;
    sc.tls = c->config.tls;
    sc.disable_pipelining = c->config.disable_pipelining;
    sc.disable_chunking = c->config.disable_chunking;
    sc.auth_requires_tls = !c->config.allow_insecure_auth;
    for (int i = 0; i < ASMTP_WAIT__COUNT; i++)
        sc.timeout_ms[i] = c->config.timeout_ms;
    sc.timeout_ms[ASMTP_WAIT_GREETING] = c->config.connect_timeout_ms;
    sc.log = c->config.log ? on_session_log : NULL;
    sc.transcript = c->config.transcript ? on_session_transcript : NULL;
    sc.start_tls = on_session_start_tls;
    sc.user_data = c;
    return asmtp_session_new(&c->session, &sc, c->mem);
}

/* Before a new connection: a finished one is closed first. */
static int prepare_connect(asmtp_client *c, asmtp_client_cb cb, void *ud)
{
    client_op *op;
    int rv;

    if (!c || c->freeing)
        return ASMTP_ERR_STATE;
    if (c->session && !asmtp_session_want_close(c->session))
        return ASMTP_ERR_STATE;
    close_connection(c);
    rv = new_session(c);
    if (rv)
        return rv;
    op = new_op(c, cb, ud);
    rv = op ? asmtp_session_start(c->session, on_session_done, op)
            : ASMTP_ERR_NOMEM;
    if (rv) {
        if (op)
            free_op(c, op);
        asmtp_session_free(c->session);
        c->session = NULL;
        return rv;
    }
    asmtp_session_tick(c->session, now_ms(c));
    return 0;
}

int asmtp_client_connect(asmtp_client *c, asmtp_client_cb cb, void *ud)
{
    int rv = prepare_connect(c, cb, ud);

    if (rv)
        return rv;
    c->adopted = false;
    if (c->state == CLIENT_CLOSING) {
        c->reconnect = true; /* once the old socket has closed */
        return 0;
    }
    rv = start_connect(c);
    if (rv < 0)
        fail_later(c, ASMTP_ERR_CONNECT, "could not start connecting: %s",
                   uv_strerror(rv));
    service(c);
    return 0;
}

int asmtp_client_adopt(asmtp_client *c, int fd, asmtp_client_cb cb, void *ud)
{
    struct sockaddr_storage sa;
    socklen_t len = sizeof sa;
    int rv;

    if (c && c->state != CLIENT_IDLE)
        return ASMTP_ERR_STATE;
    if (getsockname(fd, (struct sockaddr *)&sa, &len) != 0)
        return ASMTP_ERR_BAD_ARGUMENT;
    rv = prepare_connect(c, cb, ud);
    if (rv == 0)
        c->adopted = true;
    if (rv)
        return rv;
    if (sa.ss_family == AF_UNIX) {
        uv_pipe_init(c->loop, &c->sock.pipe, 0);
        rv = uv_pipe_open(&c->sock.pipe, fd);
    } else {
        uv_tcp_init(c->loop, &c->sock.tcp);
        rv = uv_tcp_open(&c->sock.tcp, fd);
    }
    c->handles++;
    c->sock_open = true;
    c->sock.handle.data = c;
    c->state = CLIENT_CONNECTING;
    if (rv < 0) {
        close(fd); /* libuv did not take it; the fd is ours to close */
        fail_later(c, ASMTP_ERR_CONNECT, "cannot use the socket: %s",
                   uv_strerror(rv));
    } else
        connected(c);
    service(c);
    return 0;
}

void asmtp_client_close(asmtp_client *c)
{
    if (!c || !c->session)
        return;
    fail(c, ASMTP_ERR_CANCELLED, "cancelled: the connection was closed");
    c->reconnect = false;
    if (c->state == CLIENT_CLOSING && c->session) {
        /* A connection queued behind the one still closing. */
        asmtp_session *s = c->session;

        c->session = NULL;
        c->depth++;
        asmtp_session_free(s);
        c->depth--;
    }
    close_connection(c);
    service(c);
}

uint64_t asmtp_client_reads(const asmtp_client *c)
{
    return c ? c->reads : 0;
}

int asmtp_client_is_connected(const asmtp_client *c)
{
    return c && c->session && !asmtp_session_want_close(c->session);
}

int asmtp_client_tls_resumed(const asmtp_client *c)
{
    return c && c->session && c->tls && asmtp__tls_resumed(c->tls);
}

const asmtp_session *asmtp_client_session(const asmtp_client *c)
{
    return c ? c->session : NULL;
}

int asmtp_client_ehlo(asmtp_client *c, asmtp_client_cb cb, void *ud)
{
    SUBMIT(c, cb, ud, asmtp_session_ehlo(c->session, on_session_done, op_));
}

int asmtp_client_auth(asmtp_client *c, const asmtp_credentials *creds,
                      unsigned allowed, asmtp_client_cb cb, void *ud)
{
    SUBMIT(
        c, cb, ud,
        asmtp_session_auth(c->session, creds, allowed, on_session_done, op_));
}

int asmtp_client_send(asmtp_client *c, const asmtp_envelope *env,
                      const asmtp_content *content, asmtp_client_cb cb,
                      void *ud)
{
    SUBMIT(c, cb, ud,
           asmtp_session_send(c->session, env, content, on_session_done, op_));
}

int asmtp_client_rset(asmtp_client *c, asmtp_client_cb cb, void *ud)
{
    SUBMIT(c, cb, ud, asmtp_session_rset(c->session, on_session_done, op_));
}

int asmtp_client_noop(asmtp_client *c, asmtp_client_cb cb, void *ud)
{
    SUBMIT(c, cb, ud, asmtp_session_noop(c->session, on_session_done, op_));
}

int asmtp_client_vrfy(asmtp_client *c, const char *arg, asmtp_client_cb cb,
                      void *ud)
{
    SUBMIT(c, cb, ud,
           asmtp_session_vrfy(c->session, arg, on_session_done, op_));
}

int asmtp_client_expn(asmtp_client *c, const char *arg, asmtp_client_cb cb,
                      void *ud)
{
    SUBMIT(c, cb, ud,
           asmtp_session_expn(c->session, arg, on_session_done, op_));
}

int asmtp_client_help(asmtp_client *c, const char *arg, asmtp_client_cb cb,
                      void *ud)
{
    SUBMIT(c, cb, ud,
           asmtp_session_help(c->session, arg, on_session_done, op_));
}

int asmtp_client_raw(asmtp_client *c, const char *line, asmtp_client_cb cb,
                     void *ud)
{
    SUBMIT(c, cb, ud,
           asmtp_session_raw(c->session, line, on_session_done, op_));
}

int asmtp_client_quit(asmtp_client *c, asmtp_client_cb cb, void *ud)
{
    SUBMIT(c, cb, ud, asmtp_session_quit(c->session, on_session_done, op_));
}

/* ---- Messages with envelopes from their headers ---------------------------
 */

/* A streamed message: the header section read ahead (Bcc removed) and any
 * body bytes read with it come first, then the caller's source. */
static long read_with_prefix(void *user_data, unsigned char *buf, size_t cap)
{
    client_op *op = user_data;
    size_t n = asmtp__buf_size(&op->prefix);

    if (n == 0)
        return op->stream.read(op->stream.read_user_data, buf, cap);
    if (n > cap)
        n = cap;
    memcpy(buf, asmtp__buf_head(&op->prefix), n);
    asmtp__buf_consume(&op->prefix, n);
    return (long)n;
}

/* Read a streamed message's header section (and whatever body came with
 * it) into raw. Returns 0, ASMTP_ERR_SOURCE or ASMTP_ERR_NOMEM. */
static int read_headers(const asmtp_content *content, asmtp__buf *raw,
                        bool *ended)
{
    unsigned char chunk[16384];
    size_t scanned = 0;

    *ended = false;
    while (asmtp__buf_size(raw) < ASMTP__HEADER_MAX) {
        const unsigned char *p = asmtp__buf_head(raw);
        size_t size = asmtp__buf_size(raw);
        long n;

        for (; scanned + 1 < size; scanned++) {
            if (p[scanned] != '\n')
                continue;
            if (p[scanned + 1] == '\n' ||
                (p[scanned + 1] == '\r' && scanned + 2 < size &&
                 p[scanned + 2] == '\n'))
                return 0;
            if (p[scanned + 1] == '\r' && scanned + 2 == size)
                break; /* "\n\r" at the end: the "\n" may come next */
        }
        n = content->read(content->read_user_data, chunk, sizeof chunk);
        if (n < 0 || (size_t)n > sizeof chunk)
            return ASMTP_ERR_SOURCE;
        if (n == 0) {
            *ended = true;
            return 0;
        }
        if (asmtp__buf_append(raw, chunk, (size_t)n))
            return ASMTP_ERR_NOMEM;
    }
    return 0;
}

typedef struct prepared {
    asmtp_envelope envelope;
    asmtp_recipient *recipients;
    asmtp_bytes parts[2];
    asmtp_content content;
} prepared;

static int derive_envelope(asmtp_client *c, const asmtp_envelope *given,
                           const asmtp__message *msg, prepared *p,
                           const char **why)
{
    const asmtp__address_list *list = &msg->recipients;

    memset(&p->envelope, 0, sizeof p->envelope);
    if (given)
        p->envelope = *given;
    if (!p->envelope.sender)
        p->envelope.sender = msg->sender;
    if (!p->envelope.sender) {
        *why = "no sender: the message has no Sender or From field; give "
               "the sender with the envelope (asmtp-send -f)";
        return ASMTP_ERR_MESSAGE;
    }
    if (p->envelope.recipient_count)
        return 0;
    if (list->count == 0) {
        *why = "no recipients: the message has no To, Cc or Bcc field with "
               "an address; give the recipients with the envelope";
        return ASMTP_ERR_MESSAGE;
    }
    p->recipients = asmtp__calloc(c->mem, list->count, sizeof *p->recipients);
    if (!p->recipients)
        return ASMTP_ERR_NOMEM;
    for (size_t i = 0; i < list->count; i++) {
        p->recipients[i].address = list->addresses[i];
        p->recipients[i].notify = given ? given->notify : 0;
    }
    p->envelope.recipients = p->recipients;
    p->envelope.recipient_count = list->count;
    return 0;
}

/* The content as sent: the header section without Bcc, then the body. */
static int prepare_content(client_op *op, const asmtp_content *content,
                           const unsigned char *data, size_t len, prepared *p)
{
    const asmtp__message *msg = op->message;

    p->content = *content;
    if (content->read) {
        /* The read-ahead goes out first, Bcc removed. */
        size_t body = len - msg->header_len;
        int rv = asmtp__buf_append(&op->prefix, asmtp__buf_head(&msg->header),
                                   asmtp__buf_size(&msg->header));

        rv = rv ? rv
                : asmtp__buf_append(&op->prefix, data + msg->header_len, body);
        op->stream = *content;
        p->content.read = read_with_prefix;
        p->content.read_user_data = op;
        return rv;
    }
    p->parts[0] = (asmtp_bytes){asmtp__buf_head(&msg->header),
                                asmtp__buf_size(&msg->header)};
    p->parts[1] = (asmtp_bytes){data + msg->header_len, len - msg->header_len};
    p->content.data = NULL;
    p->content.len = 0;
    p->content.parts = p->parts;
    p->content.part_count = 2;
    return 0;
}

/* Whether the first line is a header field ("Name: ..."); a message that
 * starts otherwise has no header section at all. */
static bool starts_with_field(const unsigned char *data, size_t len)
{
    size_t i = 0;

    while (i < len && data[i] > ' ' && data[i] < 0x7f && data[i] != ':')
        i++;
    return i > 0 && i < len && data[i] == ':';
}

static bool envelope_complete(const asmtp_envelope *env)
{
    return env && env->sender && env->recipient_count;
}

static int submit_message(asmtp_client *c, client_op *op,
                          const asmtp_envelope *given,
                          const asmtp_content *content,
                          const unsigned char *data, size_t len)
{
    char why_buf[200] = "";
    const char *why = why_buf;
    prepared p;
    int rv;

    memset(&p, 0, sizeof p);
    op->message = asmtp__calloc(c->mem, 1, sizeof *op->message);
    if (!op->message)
        return ASMTP_ERR_NOMEM;
    asmtp__message_init(op->message, c->mem);
    rv = asmtp__message_parse(op->message, data, len, why_buf, sizeof why_buf);
    if (rv == ASMTP_ERR_MESSAGE && envelope_complete(given) &&
        !starts_with_field(data, len)) {
        /* No header section to read or strip: send it as it is (a
         * streamed one with what was read ahead first). */
        p.content = *content;
        if (content->read) {
            op->stream = *content;
            p.content.read = read_with_prefix;
            p.content.read_user_data = op;
            if (asmtp__buf_append(&op->prefix, data, len))
                return ASMTP_ERR_NOMEM;
        }
        c->depth++;
        rv = asmtp_session_send(c->session, given, &p.content, on_session_done,
                                op);
        c->depth--;
        return rv;
    }
    rv = rv ? rv : derive_envelope(c, given, op->message, &p, &why);
    rv = rv ? rv : prepare_content(op, content, data, len, &p);
    c->depth++;
    if (rv == ASMTP_ERR_MESSAGE)
        rv = asmtp__session_submit_failed(c->session, ASMTP_OP_SEND, rv, why,
                                          on_session_done, op);
    else if (rv == 0)
        rv = asmtp_session_send(c->session, &p.envelope, &p.content,
                                on_session_done, op);
    c->depth--;
    asmtp__free(c->mem, p.recipients);
    return rv;
}

int asmtp_client_send_message(asmtp_client *c, const asmtp_envelope *env,
                              const asmtp_content *content, asmtp_client_cb cb,
                              void *ud)
{
    asmtp__buf raw;
    bool ended = false;
    client_op *op;
    int rv = 0;

    if (!c || !c->session || c->freeing)
        return ASMTP_ERR_STATE;
    if (!content || content->part_count ||
        (!content->read && content->len && !content->data))
        return ASMTP_ERR_BAD_ARGUMENT;
    op = new_op(c, cb, ud);
    if (!op)
        return ASMTP_ERR_NOMEM;
    asmtp__buf_init(&raw, c->mem);
    if (content->read)
        rv = read_headers(content, &raw, &ended);
    if (rv == 0 && content->read)
        rv = submit_message(c, op, env, content, asmtp__buf_head(&raw),
                            asmtp__buf_size(&raw));
    else if (rv == 0)
        rv = submit_message(c, op, env, content, content->data, content->len);
    asmtp__buf_free(&raw);
    if (rv)
        free_op(c, op);
    service(c);
    return rv;
}
