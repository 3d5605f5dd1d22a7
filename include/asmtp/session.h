/*
 * The session: the whole SMTP client protocol as a state machine with no
 * I/O, in the manner of nghttp2's session.
 *
 * The program that owns the socket feeds the session every byte the server
 * sends (asmtp_session_feed()), writes whatever the session has to send
 * (asmtp_session_output() and asmtp_session_output_done()), and tells it
 * the time (asmtp_session_tick()). Operations submitted with the
 * asmtp_session_* calls below are queued, sent as the protocol allows
 * (pipelined when the server offers PIPELINING), and complete in the order
 * they were submitted, each exactly once, through its callback.
 *
 * Threads: a session is used from one thread at a time. Callbacks run on
 * the thread that made the call that completed them, from inside that call.
 *
 * Re-entrancy: a callback may submit new operations and may call
 * asmtp_session_free(); the free is deferred until the outermost asmtp
 * call returns. A callback must not call asmtp_session_feed(),
 * asmtp_session_output_done(), asmtp_session_tick(), asmtp_session_eof()
 * or asmtp_session_tls_done() (they return ASMTP_ERR_STATE).
 */
#ifndef ASMTP_SESSION_H
#define ASMTP_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "asmtp/error.h"
#include "asmtp/types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct asmtp_session asmtp_session;

/* When to upgrade a plaintext connection with STARTTLS (RFC 3207). */
enum asmtp_starttls {
    /* Upgrade when the server offers STARTTLS; otherwise stay plaintext.
     * Limit: a server that offers STARTTLS and then refuses it fails the
     * session (ASMTP_ERR_TLS) rather than carrying on in plaintext. */
    ASMTP_STARTTLS_AUTO = 0,
    /* Fail every operation with ASMTP_ERR_TLS unless the connection can
     * be upgraded. */
    ASMTP_STARTTLS_REQUIRED,
    /* Never send STARTTLS. */
    ASMTP_STARTTLS_NEVER,
};

/* What the session waits for; each has its own timeout (RFC 5321
 * 4.5.3.2). */
enum asmtp_wait {
    ASMTP_WAIT_NONE = 0,   /* nothing outstanding: no timeout runs */
    ASMTP_WAIT_GREETING,   /* the server's 220 */
    ASMTP_WAIT_COMMAND,    /* the reply to a command */
    ASMTP_WAIT_TLS,        /* the TLS handshake after STARTTLS */
    ASMTP_WAIT_DATA_INIT,  /* the 354 after DATA */
    ASMTP_WAIT_DATA_BLOCK, /* the socket taking message content */
    ASMTP_WAIT_DATA_END,   /* the reply after the final dot or BDAT LAST */
    ASMTP_WAIT__COUNT
};

/* Log levels for asmtp_session_config.log. */
enum asmtp_log_level {
    ASMTP_LOG_DEBUG = 0,
    ASMTP_LOG_INFO,
    ASMTP_LOG_WARNING,
    ASMTP_LOG_ERROR,
};

/* Directions for asmtp_session_config.transcript. */
enum asmtp_direction {
    ASMTP_SENT = 0, /* a line the client sent */
    ASMTP_RECEIVED, /* a line the server sent */
};

/*
 * How a session behaves. Zero-initialise it and set what you need; every
 * zero field means the default named next to it. The session copies the
 * strings it keeps.
 */
typedef struct asmtp_session_config {
    /* The name sent with EHLO and HELO: a domain or an address literal
     * such as "[192.0.2.1]". Required; the session does no lookups. */
    const char *local_hostname;
    /* enum asmtp_starttls; default AUTO. */
    int starttls;
    /* The connection is already encrypted (implicit TLS, RFC 8314): never
     * send STARTTLS. */
    bool tls;
    /* Do not pipeline even when the server offers PIPELINING. */
    bool disable_pipelining;
    /* Do not use BDAT even when the server offers CHUNKING. */
    bool disable_chunking;
    /* Never send a password or token in the clear: without TLS only
     * CRAM-MD5 may be used, and an AUTH that needs PLAIN, LOGIN or
     * XOAUTH2 fails with ASMTP_ERR_TLS before anything is sent. */
    bool auth_requires_tls;
    /* Unanswered command bytes allowed in flight; default 16384. Message
     * content is not counted. */
    size_t max_inflight;
    /* Milliseconds per wait class, indexed by enum asmtp_wait; 0 means
     * 60000. The timer restarts whenever bytes move in either direction. */
    uint64_t timeout_ms[ASMTP_WAIT__COUNT];
    /* Log messages, NUL-terminated, valid during the call. May be NULL. */
    void (*log)(void *user_data, int level, const char *message);
    /* Each line sent or received, without CRLF, valid during the call;
     * AUTH payloads are replaced by "<redacted>", message content is
     * summarised. May be NULL. */
    void (*transcript)(void *user_data, int direction,
                       const unsigned char *line, size_t len);
    /* Called when the session has stopped for the TLS handshake after a
     * 220 to STARTTLS (see asmtp_session_want_tls()). May be NULL. */
    void (*start_tls)(void *user_data);
    void *user_data;
} asmtp_session_config;

/* Which operation a result belongs to. */
enum asmtp_op {
    ASMTP_OP_START = 1,
    ASMTP_OP_EHLO,
    ASMTP_OP_AUTH,
    ASMTP_OP_SEND,
    ASMTP_OP_RSET,
    ASMTP_OP_NOOP,
    ASMTP_OP_VRFY,
    ASMTP_OP_EXPN,
    ASMTP_OP_HELP,
    ASMTP_OP_RAW,
    ASMTP_OP_QUIT,
};

/* One recipient of a transaction. */
typedef struct asmtp_recipient {
    /* The forward-path, "local@domain" without angle brackets. */
    const char *address;
    /* enum asmtp_dsn_notify bits; sent only when the server offers DSN. */
    unsigned notify;
    /* ORCPT (RFC 3461), the original recipient address; NULL for none.
     * Sent only when the server offers DSN. */
    const char *orcpt;
} asmtp_recipient;

/* The envelope of one transaction. */
typedef struct asmtp_envelope {
    /* The reverse-path; "" sends the null reverse-path "<>" (bounces). */
    const char *sender;
    const asmtp_recipient *recipients;
    size_t recipient_count;
    /* enum asmtp_body; AUTO sends 8BITMIME for 8-bit content when the
     * server offers it, and no BODY parameter otherwise. */
    int body;
    /* enum asmtp_dsn_ret and ENVID (RFC 3461); sent when DSN is offered. */
    int ret;
    const char *envid;
    /* NOTIFY bits for recipients taken from a message's headers
     * (asmtp_client_send_message()); recipients given here set their own. */
    unsigned notify;
} asmtp_envelope;

/*
 * Reads message content for a streamed send. Copy up to cap bytes into buf
 * and return how many, 0 at the end of the message, or a negative value on
 * failure (the send then fails with ASMTP_ERR_SOURCE and the connection is
 * closed: a DATA transfer cannot be taken back).
 */
typedef long (*asmtp_read_cb)(void *user_data, unsigned char *buf, size_t cap);

/* The message content of a send: in memory, or read as the socket
 * drains. */
typedef struct asmtp_content {
    /* In memory: data and len. Must stay valid, and unchanged, until the
     * send completes. */
    const void *data;
    size_t len;
    /* In memory, in pieces sent one after the other (for example a header
     * section and a body that are not adjacent); when part_count is not 0,
     * data and len are ignored. The array is copied, the bytes are not. */
    const asmtp_bytes *parts;
    size_t part_count;
    /* Streamed, when read is not NULL: the session calls read as output
     * space frees up. size is the RFC 1870 size to declare (0: none),
     * and eight_bit says whether the content may hold 8-bit octets. */
    asmtp_read_cb read;
    void *read_user_data;
    uint64_t size;
    bool eight_bit;
} asmtp_content;

/* The reply a recipient got. */
typedef struct asmtp_recipient_result {
    const char *address;
    bool accepted;
    const asmtp_reply *reply; /* NULL when the session failed first */
} asmtp_recipient_result;

/*
 * The outcome of one operation, handed to its callback and valid until the
 * callback returns (copy what you keep).
 *
 * error is 0 or a negative asmtp error code; message is a sentence a
 * person can act on (never NULL). reply is the reply that decided the
 * outcome (the failing reply, or the final one on success), or NULL when
 * none did (a timeout, a dropped connection, a local error).
 *
 * For ASMTP_OP_SEND: mail_reply, one entry per recipient in the order
 * given, data_reply (the 354 to DATA, NULL with BDAT) and final_reply (the
 * reply to the final dot or to BDAT LAST). A send where some recipients
 * were refused succeeds, with refused_count saying how many were not
 * accepted. Content sent with ASMTP_BODY_BINARYMIME goes as it is;
 * everything else is normalised to CRLF line ends and dot-stuffed.
 * maybe_delivered is set when the whole message was sent but no final
 * reply came: the server may have accepted it, so do not resend blindly.
 */
typedef struct asmtp_result {
    int op; /* enum asmtp_op */
    int error;
    const char *message;
    const asmtp_reply *reply;
    /* ASMTP_OP_SEND only. sender is the reverse-path used ("" for the
     * null one), taken from the envelope or the message's headers. */
    const char *sender;
    const asmtp_reply *mail_reply;
    const asmtp_recipient_result *recipients;
    size_t recipient_count;
    size_t refused_count;
    const asmtp_reply *data_reply;
    const asmtp_reply *final_reply;
    bool maybe_delivered;
    /* ASMTP_OP_SEND: 8-bit content was sent to a server that does not
     * offer 8BITMIME, or a line over 998 octets was streamed. */
    bool warned;
} asmtp_result;

typedef void (*asmtp_done_cb)(asmtp_session *session,
                              const asmtp_result *result, void *user_data);

/*
 * Create a session waiting for the server's greeting. mem may be NULL.
 * Returns 0 and sets *session, ASMTP_ERR_BAD_ARGUMENT (no local_hostname,
 * or one with spaces or control characters) or ASMTP_ERR_NOMEM.
 */
ASMTP_EXTERN int asmtp_session_new(asmtp_session **session,
                                   const asmtp_session_config *config,
                                   const asmtp_mem *mem);

/*
 * Free the session. Every operation not yet complete completes now with
 * ASMTP_ERR_CANCELLED. Inside a callback the free happens when the
 * outermost asmtp call returns. NULL is allowed.
 */
ASMTP_EXTERN void asmtp_session_free(asmtp_session *session);

/* ---- Driving it -------------------------------------------------------- */

/*
 * Feed bytes the server sent (plaintext: decrypt TLS first). now is the
 * time in milliseconds on any monotonic clock. Completes operations
 * through their callbacks. Returns 0, or the error that ended the session
 * (asmtp_session_error()); after an error the session wants to close
 * (asmtp_session_want_close()).
 */
ASMTP_EXTERN int asmtp_session_feed(asmtp_session *session, const void *data,
                                    size_t len, uint64_t now);

/*
 * The bytes to send next, or NULL with *len 0 when there are none. The
 * pointer is valid until the next call on the session. Message content is
 * produced here as space allows, so that the source is read only as the
 * socket drains.
 */
ASMTP_EXTERN const unsigned char *asmtp_session_output(asmtp_session *session,
                                                       size_t *len);

/* n bytes of the last asmtp_session_output() were written. */
ASMTP_EXTERN int asmtp_session_output_done(asmtp_session *session, size_t n,
                                           uint64_t now);

/* The server closed the connection (read returned end of file). After a
 * QUIT this is a clean close; otherwise pending operations fail with
 * ASMTP_ERR_DISCONNECTED. */
ASMTP_EXTERN int asmtp_session_eof(asmtp_session *session, uint64_t now);

/*
 * Tell the session the time. If the current wait has outlasted its
 * timeout, every pending operation fails with ASMTP_ERR_TIMEOUT (or
 * ASMTP_ERR_CONNECT_TIMEOUT while waiting for the greeting) and the
 * session wants to close. Call it when the deadline passes, and once after
 * creating the session to start the greeting timer.
 */
ASMTP_EXTERN int asmtp_session_tick(asmtp_session *session, uint64_t now);

/* The time at which asmtp_session_tick() should next be called, or
 * UINT64_MAX when no timer needs to run. 0 means at once: an operation
 * that needed no I/O (refused before anything was sent, or a start on a
 * ready connection) waits for a driving call to deliver it. */
ASMTP_EXTERN uint64_t asmtp_session_deadline(const asmtp_session *session);

/* What the session is waiting for (enum asmtp_wait). */
ASMTP_EXTERN int asmtp_session_waiting_for(const asmtp_session *session);

/* Nonzero when the session has stopped after a 220 to STARTTLS: run the
 * TLS handshake, then call asmtp_session_tls_done(). Plaintext that came
 * behind the 220 has been discarded. */
ASMTP_EXTERN int asmtp_session_want_tls(const asmtp_session *session);

/*
 * The handshake after STARTTLS finished: status 0 when it succeeded (the
 * session forgets the extensions and sends EHLO again), or a negative code
 * when it failed (every pending operation fails with ASMTP_ERR_TLS; the
 * session never falls back to plaintext).
 */
ASMTP_EXTERN int asmtp_session_tls_done(asmtp_session *session, int status,
                                        uint64_t now);

/*
 * The I/O layer lost the connection, or could not make it: every pending
 * operation fails with error (a negative code, such as ASMTP_ERR_CONNECT
 * or ASMTP_ERR_TLS) and message (a sentence; NULL for the code's text),
 * and the session wants to close. Does nothing on a session that has
 * already failed.
 */
ASMTP_EXTERN int asmtp_session_abort(asmtp_session *session, int error,
                                     const char *message, uint64_t now);

/*
 * Change the EHLO name or the auth_requires_tls setting before EHLO has
 * been sent (an I/O layer learns them only once connected). Returns
 * ASMTP_ERR_STATE once EHLO or HELO has gone out, ASMTP_ERR_BAD_ARGUMENT
 * for a name EHLO cannot carry, ASMTP_ERR_NOMEM.
 */
ASMTP_EXTERN int asmtp_session_set_local_hostname(asmtp_session *session,
                                                  const char *name);
ASMTP_EXTERN int asmtp_session_set_auth_requires_tls(asmtp_session *session,
                                                     bool required);

/* Nonzero when the connection should be closed once the output has been
 * written: after QUIT, a 421, a timeout or a protocol error. */
ASMTP_EXTERN int asmtp_session_want_close(const asmtp_session *session);

/* The error that ended the session, or 0. Sticky: once set, no more bytes
 * are produced and new operations are refused with it. */
ASMTP_EXTERN int asmtp_session_error(const asmtp_session *session);

/* ---- What the server offers -------------------------------------------- */

/* Nonzero when the last EHLO reply announced keyword (case-insensitive,
 * whole token). If params is not NULL it receives the keyword's parameters
 * ("" when none), valid until the next EHLO or STARTTLS. */
ASMTP_EXTERN int asmtp_session_extension(const asmtp_session *session,
                                         const char *keyword,
                                         const char **params);

/* The SIZE limit the server announced; 0 when none or unlimited. */
ASMTP_EXTERN uint64_t asmtp_session_size_limit(const asmtp_session *session);

/* enum asmtp_auth_mechanism bits the server announced. */
ASMTP_EXTERN unsigned
asmtp_session_auth_mechanisms(const asmtp_session *session);

/* Nonzero when the connection is encrypted (implicit TLS or STARTTLS). */
ASMTP_EXTERN int asmtp_session_is_tls(const asmtp_session *session);

/* ---- Operations ---------------------------------------------------------
 *
 * Each returns 0 when the operation was queued (its callback will run
 * exactly once), or an error and never calls the callback:
 * ASMTP_ERR_BAD_ARGUMENT or ASMTP_ERR_COMMAND_TOO_LONG for arguments that
 * cannot be sent, ASMTP_ERR_NOMEM, or the session's sticky error. Every
 * argument is checked and copied before the call returns. Every operation
 * but QUIT first waits for the greeting and sends EHLO (with HELO as the
 * fallback) and STARTTLS as the policy says, when that has not been done.
 * cb may be NULL when the outcome does not matter.
 */

/* Greeting, EHLO and STARTTLS as configured; completes with the EHLO (or
 * HELO) reply. */
ASMTP_EXTERN int asmtp_session_start(asmtp_session *session, asmtp_done_cb cb,
                                     void *user_data);

/* Send EHLO again and replace the extensions with its answer. */
ASMTP_EXTERN int asmtp_session_ehlo(asmtp_session *session, asmtp_done_cb cb,
                                    void *user_data);

/*
 * Authenticate. allowed is a set of enum asmtp_auth_mechanism bits (0 for
 * any); the strongest mechanism both sides allow is used. Fails with
 * ASMTP_ERR_NOT_SUPPORTED when there is none, ASMTP_ERR_AUTH when the
 * server refuses. The credentials are copied and wiped after use. The
 * session sends them on whatever connection it has: refusing plaintext
 * is the caller's decision (asmtp_session_is_tls()). Limit: PLAIN and
 * XOAUTH2 always send the initial response with the AUTH command, so a
 * token that would make the line longer than 12288 octets is refused.
 */
ASMTP_EXTERN int asmtp_session_auth(asmtp_session *session,
                                    const asmtp_credentials *credentials,
                                    unsigned allowed, asmtp_done_cb cb,
                                    void *user_data);

/*
 * Send one message: MAIL, RCPT for each recipient, then DATA or BDAT.
 * The envelope is copied; in-memory content must stay valid until the
 * callback runs. SMTPUTF8 is requested when an address is not ASCII
 * (ASMTP_ERR_NOT_SUPPORTED before MAIL when the server lacks it), SIZE is
 * declared when offered (ASMTP_ERR_NOT_SUPPORTED before MAIL when the
 * message is over the server's limit), and an in-memory message with a
 * line over 998 octets fails with ASMTP_ERR_LINE_TOO_LONG unless body is
 * ASMTP_BODY_BINARYMIME. A failed transaction is followed by RSET.
 *
 * With PIPELINING the envelope goes in one write, and the next message's
 * envelope follows the final dot. Limits: with CHUNKING the next MAIL
 * waits for the reply to BDAT LAST (BDAT transactions are not pipelined
 * across messages); a streamed message is not measured in advance, so a
 * line over 998 octets in it is only reported (result.warned and a log
 * warning), and its SIZE is the content.size the caller declares.
 */
ASMTP_EXTERN int asmtp_session_send(asmtp_session *session,
                                    const asmtp_envelope *envelope,
                                    const asmtp_content *content,
                                    asmtp_done_cb cb, void *user_data);

/* RSET, NOOP, VRFY, EXPN, HELP. A reply other than 2xx fails with
 * ASMTP_ERR_COMMAND_REFUSED (VRFY's 252 is a success). arg may be NULL for
 * NOOP and HELP. */
ASMTP_EXTERN int asmtp_session_rset(asmtp_session *session, asmtp_done_cb cb,
                                    void *user_data);
ASMTP_EXTERN int asmtp_session_noop(asmtp_session *session, asmtp_done_cb cb,
                                    void *user_data);
ASMTP_EXTERN int asmtp_session_vrfy(asmtp_session *session, const char *arg,
                                    asmtp_done_cb cb, void *user_data);
ASMTP_EXTERN int asmtp_session_expn(asmtp_session *session, const char *arg,
                                    asmtp_done_cb cb, void *user_data);
ASMTP_EXTERN int asmtp_session_help(asmtp_session *session, const char *arg,
                                    asmtp_done_cb cb, void *user_data);

/*
 * Send a command line of the caller's (without CRLF) and report the reply
 * whatever its code. It is never pipelined. Refused with
 * ASMTP_ERR_BAD_ARGUMENT when it holds a control character. Commands that
 * change the session's state behind its back (STARTTLS, DATA, BDAT, AUTH)
 * leave the session's view of the connection wrong; use the operations
 * above for them.
 */
ASMTP_EXTERN int asmtp_session_raw(asmtp_session *session, const char *line,
                                   asmtp_done_cb cb, void *user_data);

/* QUIT: completes when the server answers or closes the connection; the
 * session then wants to close. */
ASMTP_EXTERN int asmtp_session_quit(asmtp_session *session, asmtp_done_cb cb,
                                    void *user_data);

#ifdef __cplusplus
}
#endif

#endif
