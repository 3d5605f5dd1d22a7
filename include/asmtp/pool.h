/*
 * The pool: up to N connections to one server and one queue of messages.
 *
 * Connections open as the queue needs them, each carries up to M messages
 * (pipelined on it when the server allows), closes when idle for a while
 * or when it has lived long enough, and is replaced when the server drops
 * it. Every message submitted completes exactly once, through its
 * callback, with the result of its (last) attempt. Over TLS, connections
 * after the first resume the session of an earlier one: they share the
 * cache named in client.tls_config.session_cache, or, when that is NULL,
 * one the pool makes (see asmtp_tls_session_cache in asmtp/tls.h).
 *
 * Threads: a pool belongs to its loop's thread. Callbacks run on it and
 * may submit more messages; freeing the pool inside a callback is
 * deferred until the callback returns.
 */
#ifndef ASMTP_POOL_H
#define ASMTP_POOL_H

#include "asmtp/client.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct asmtp_pool asmtp_pool;

typedef void (*asmtp_pool_cb)(asmtp_pool *pool, const asmtp_result *result,
                              void *user_data);

typedef struct asmtp_pool_config {
    /* How every connection connects (host, TLS, timeouts, ...). */
    asmtp_client_config client;
    /* Authenticate each connection with these (NULL: no AUTH); copied. */
    const asmtp_credentials *credentials;
    unsigned auth_allowed;
    /* Connections at most (default 4), messages per connection before it
     * is replaced (default 100; SIZE_MAX for no limit), and messages
     * queued on one connection at a time (default 8: the pipeline). */
    size_t max_connections;
    size_t max_messages;
    size_t max_inflight;
    /* Close a connection idle this long (default 30000 ms) or older than
     * this (default 0: no limit). */
    uint64_t idle_timeout_ms;
    uint64_t max_lifetime_ms;
    /* Retry temporary failures (4xx replies, 421, dropped or refused
     * connections, timeouts before the end of data) this many times
     * (default 0), waiting retry_base_ms (default 1000) doubled each time,
     * up to retry_max_ms (default 60000), with random jitter of up to half
     * the wait. A message that may have been delivered (a timeout or drop
     * after its final dot) is never retried. */
    unsigned max_retries;
    uint64_t retry_base_ms;
    uint64_t retry_max_ms;
    /* Messages per second across the pool; 0 for no limit. */
    double rate_limit;
} asmtp_pool_config;

/* Counters, for monitoring and for checking that they add up. */
typedef struct asmtp_pool_stats {
    uint64_t submitted;
    uint64_t delivered;   /* completed with error 0 */
    uint64_t failed;      /* completed with an error */
    uint64_t retries;     /* attempts beyond the first */
    uint64_t connections; /* connections opened so far */
    uint64_t tls_resumed; /* of them, resumed an earlier TLS session */
    size_t queued;        /* waiting for a connection or a retry */
    size_t in_flight;     /* submitted to a connection, not completed */
    size_t open;          /* connections open now */
    uint64_t reads;       /* reads from servers (asmtp_client_reads()) */
} asmtp_pool_stats;

/*
 * Create a pool on loop, or on a private loop when loop is NULL (then use
 * asmtp_pool_wait() to run it: the blocking variant). mem may be NULL.
 * Returns 0, ASMTP_ERR_BAD_ARGUMENT (as asmtp_client_new(), or a negative
 * rate) or ASMTP_ERR_NOMEM.
 */
ASMTP_EXTERN int asmtp_pool_new(asmtp_pool **pool, struct uv_loop_s *loop,
                                const asmtp_pool_config *config,
                                const asmtp_mem *mem);

/*
 * Queue one message. The envelope is copied; in-memory content must stay
 * valid, and unchanged, until the callback runs. Streamed content (a read
 * callback) is sent once and never retried. When a server delivers to
 * some recipients and answers 452 (too many recipients) to the others,
 * the message goes again at once to those others, as often as that makes
 * progress; the result then lists every recipient, with the reply of the
 * transaction that decided it, and reports the last transaction's
 * outcome. Returns 0 (cb will run exactly
 * once), ASMTP_ERR_BAD_ARGUMENT, ASMTP_ERR_NOMEM, or ASMTP_ERR_STATE once
 * the pool is closing.
 */
ASMTP_EXTERN int asmtp_pool_send(asmtp_pool *pool,
                                 const asmtp_envelope *envelope,
                                 const asmtp_content *content, asmtp_pool_cb cb,
                                 void *user_data);

/*
 * Run a private-loop pool until every message submitted so far has
 * completed. Returns 0, or ASMTP_ERR_STATE for a pool on the caller's
 * loop (run that loop instead).
 */
ASMTP_EXTERN int asmtp_pool_wait(asmtp_pool *pool);

/* Stop taking messages, finish what is queued and in flight, then QUIT
 * every connection. */
ASMTP_EXTERN void asmtp_pool_close(asmtp_pool *pool);

/*
 * Free the pool: messages not yet completed complete with
 * ASMTP_ERR_CANCELLED, connections close, and the memory goes once libuv
 * has let go of them (for a private loop, before this returns). Inside a
 * callback of a pool on the caller's loop the free happens once the loop
 * gets back to it; a private-loop pool must be freed outside
 * asmtp_pool_wait(). NULL is allowed.
 */
ASMTP_EXTERN void asmtp_pool_free(asmtp_pool *pool);

ASMTP_EXTERN void asmtp_pool_get_stats(const asmtp_pool *pool,
                                       asmtp_pool_stats *stats);

#ifdef __cplusplus
}
#endif

#endif
