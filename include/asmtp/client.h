/*
 * The client: one SMTP connection driven by libuv.
 *
 * It resolves the host off the loop thread, connects (TCP, a Unix socket,
 * or a socket you already connected), runs TLS (implicit or STARTTLS)
 * through OpenSSL, and moves bytes between the socket and an
 * asmtp_session. Operations are the session's, with callbacks that receive
 * the client; they complete in submission order, each exactly once.
 *
 * Threads: a client belongs to its loop's thread. Callbacks run on it.
 * Re-entrancy: a callback may submit operations, close the client or free
 * it; the free happens when the callback returns.
 *
 * Signals: ignore SIGPIPE in the program (signal(SIGPIPE, SIG_IGN)). A
 * server that closes while the client writes raises it, and libuv leaves
 * it to the program; ignored, the write fails and the operation with it.
 */
#ifndef ASMTP_CLIENT_H
#define ASMTP_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "asmtp/session.h"
#include "asmtp/tls.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct asmtp_client asmtp_client;

/* libuv's loop (uv_loop_t); the header does not need uv.h itself. */
struct uv_loop_s;

typedef void (*asmtp_client_cb)(asmtp_client *client,
                                const asmtp_result *result, void *user_data);

/*
 * How to connect. Zero-initialise and set what you need; the strings are
 * copied by asmtp_client_new().
 */
typedef struct asmtp_client_config {
    /* The server: a host name or address literal (default "localhost")
     * and a port (0: 465 with implicit TLS, 587 when STARTTLS is
     * required, else 25). Every address the name has is tried in turn. */
    const char *host;
    uint16_t port;
    /* Or a Unix socket path (host and port are then unused). */
    const char *unix_path;
    /* Bind the local end to this numeric address, and port when not 0. */
    const char *source_address;
    uint16_t source_port;
    /* The EHLO name. Default: the machine's host name, or when that is not
     * usable an address literal of the local end ("[192.0.2.1]"); never a
     * DNS query. */
    const char *local_hostname;

    /* Implicit TLS (RFC 8314): the handshake comes before the greeting. */
    bool tls;
    /* enum asmtp_starttls; default ASMTP_STARTTLS_AUTO. */
    int starttls;
    asmtp_tls_config tls_config;
    /* Allow PLAIN, LOGIN and XOAUTH2 over an unencrypted connection to a
     * host that is not loopback (otherwise that AUTH fails with
     * ASMTP_ERR_TLS before anything is sent). */
    bool allow_insecure_auth;

    /* Milliseconds; 0 means 60000. The connect timeout covers the name
     * lookup, TCP, the implicit TLS handshake and the greeting; the
     * command timeout is per command and restarts when bytes move. */
    uint64_t connect_timeout_ms;
    uint64_t timeout_ms;

    bool disable_pipelining;
    bool disable_chunking;

    /* As in asmtp_session_config; may be NULL. */
    void (*log)(void *user_data, int level, const char *message);
    void (*transcript)(void *user_data, int direction,
                       const unsigned char *line, size_t len);
    void *user_data;
} asmtp_client_config;

/*
 * Create a client on loop (which must outlive it). mem may be NULL.
 * Returns 0, ASMTP_ERR_BAD_ARGUMENT (a string with control characters, an
 * invalid policy, a Unix path with implicit or required TLS but no
 * server_name to verify with, a source address that is not numeric) or
 * ASMTP_ERR_NOMEM. For an adopted socket the certificate is checked
 * against server_name, else host only when host was set.
 */
ASMTP_EXTERN int asmtp_client_new(asmtp_client **client, struct uv_loop_s *loop,
                                  const asmtp_client_config *config,
                                  const asmtp_mem *mem);

/*
 * Free the client: pending operations complete with ASMTP_ERR_CANCELLED
 * (their callbacks must not use the client), the connection is closed,
 * and the memory is released once libuv has closed the handles. Inside a
 * callback the free is deferred until the callback returns. NULL is
 * allowed.
 */
ASMTP_EXTERN void asmtp_client_free(asmtp_client *client);

/*
 * Connect, wait for the greeting, send EHLO and do STARTTLS as the policy
 * says. cb receives the EHLO reply, or the error: ASMTP_ERR_CONNECT (with
 * the reason in the message: refused, unreachable, no such host),
 * ASMTP_ERR_CONNECT_TIMEOUT, ASMTP_ERR_GREETING, ASMTP_ERR_TLS,
 * ASMTP_ERR_HELO. Returns ASMTP_ERR_STATE when the client is connected or
 * connecting already; a client that has closed (by QUIT, by the server, by
 * asmtp_client_close()) may connect again. Operations may be submitted
 * right after this call: they wait for the connection.
 */
ASMTP_EXTERN int asmtp_client_connect(asmtp_client *client, asmtp_client_cb cb,
                                      void *user_data);

/*
 * As asmtp_client_connect(), over a socket you have already connected (TCP
 * or Unix stream). When this returns 0 the client owns fd and closes it;
 * on any error return fd is still yours.
 */
ASMTP_EXTERN int asmtp_client_adopt(asmtp_client *client, int fd,
                                    asmtp_client_cb cb, void *user_data);

/*
 * Close the connection now, without QUIT: pending operations complete
 * with ASMTP_ERR_CANCELLED. Does nothing on a closed client.
 */
ASMTP_EXTERN void asmtp_client_close(asmtp_client *client);

/* Reads from the server that carried bytes, over every connection the
 * client has made: with replies arriving in groups, how often the client
 * had to wait for the server. */
ASMTP_EXTERN uint64_t asmtp_client_reads(const asmtp_client *client);

/* Nonzero while connecting or connected. */
ASMTP_EXTERN int asmtp_client_is_connected(const asmtp_client *client);

/*
 * The session of the current connection, for the query functions
 * (asmtp_session_extension(), _size_limit(), _auth_mechanisms(), _is_tls()).
 * Do not drive it or submit to it directly. NULL when not connected; valid
 * until the connection closes.
 */
ASMTP_EXTERN const asmtp_session *
asmtp_client_session(const asmtp_client *client);

/*
 * Nonzero when the current connection runs TLS (implicit or STARTTLS) and
 * its handshake resumed the session of an earlier connection, which needs
 * a session cache shared with that connection (asmtp_tls_config's
 * session_cache; the pool shares one between its connections). 0 before
 * the handshake, after a full one, and when not connected. Resumption
 * skips the certificate check: the session is one whose certificate was
 * verified with the same settings.
 */
ASMTP_EXTERN int asmtp_client_tls_resumed(const asmtp_client *client);

/*
 * Operations, as their asmtp_session_* counterparts (same arguments, same
 * checks, same results). They return ASMTP_ERR_STATE when the client is
 * neither connecting nor connected.
 */
ASMTP_EXTERN int asmtp_client_ehlo(asmtp_client *client, asmtp_client_cb cb,
                                   void *user_data);
ASMTP_EXTERN int asmtp_client_auth(asmtp_client *client,
                                   const asmtp_credentials *credentials,
                                   unsigned allowed, asmtp_client_cb cb,
                                   void *user_data);
ASMTP_EXTERN int asmtp_client_send(asmtp_client *client,
                                   const asmtp_envelope *envelope,
                                   const asmtp_content *content,
                                   asmtp_client_cb cb, void *user_data);

/*
 * Send an RFC 5322 message, taking from its header fields what envelope
 * is missing: the sender when envelope is NULL or envelope->sender is
 * NULL, the recipients when envelope is NULL or has none (Sender or From;
 * To, Cc and Bcc; or the Resent- fields when there is exactly one Resent-
 * block). Bcc and Resent-Bcc fields are removed from what is sent, and
 * nothing else is changed. A streamed message's header section is read
 * (up to 1 MiB) before this returns. Problems with the message (no sender
 * or recipients to be found, two Resent- blocks, a malformed address
 * field) complete the operation with ASMTP_ERR_MESSAGE and a message that
 * says which. With a complete envelope, content that has no header
 * section at all (its first line is not a field) is sent as it is.
 * In-memory content must be given as data and len, not parts.
 */
ASMTP_EXTERN int asmtp_client_send_message(asmtp_client *client,
                                           const asmtp_envelope *envelope,
                                           const asmtp_content *content,
                                           asmtp_client_cb cb, void *user_data);

ASMTP_EXTERN int asmtp_client_rset(asmtp_client *client, asmtp_client_cb cb,
                                   void *user_data);
ASMTP_EXTERN int asmtp_client_noop(asmtp_client *client, asmtp_client_cb cb,
                                   void *user_data);
ASMTP_EXTERN int asmtp_client_vrfy(asmtp_client *client, const char *arg,
                                   asmtp_client_cb cb, void *user_data);
ASMTP_EXTERN int asmtp_client_expn(asmtp_client *client, const char *arg,
                                   asmtp_client_cb cb, void *user_data);
ASMTP_EXTERN int asmtp_client_help(asmtp_client *client, const char *arg,
                                   asmtp_client_cb cb, void *user_data);
ASMTP_EXTERN int asmtp_client_raw(asmtp_client *client, const char *line,
                                  asmtp_client_cb cb, void *user_data);
/* QUIT; the connection closes after the reply (or the server's close). */
ASMTP_EXTERN int asmtp_client_quit(asmtp_client *client, asmtp_client_cb cb,
                                   void *user_data);

#ifdef __cplusplus
}
#endif

#endif
