/*
 * TLS settings shared by the client, the blocking API and the tools.
 */
#ifndef ASMTP_TLS_H
#define ASMTP_TLS_H

#include <stdbool.h>

#include "asmtp/types.h"
#include "asmtp/version.h"

#ifdef __cplusplus
extern "C" {
#endif

struct ssl_ctx_st; /* OpenSSL's SSL_CTX */

/*
 * TLS sessions that clients connecting to the same server share, so that a
 * connection after the first resumes the session of an earlier one (an
 * abbreviated handshake: no certificate sent or checked again, one round
 * trip less on TLS 1.2). The pool makes one for its connections; give one
 * to clients of your own through asmtp_tls_config.session_cache.
 *
 * It holds one session, the newest a connection received. A TLS 1.2
 * session is offered until it expires or a newer one replaces it; a TLS
 * 1.3 ticket is offered once (RFC 8446, C.4) and replaced by the tickets
 * that connection receives after its handshake, with its first reads.
 * Limit: a connection that opens before the one ahead of it has received
 * those tickets makes a full handshake. A session is kept only when the
 * server's certificate was verified (so never with no_verify), dropped
 * when its connection ended with a fatal TLS alert, and offered only to
 * a connection with the same name to verify and the same settings (CA
 * file and directory, client certificate and key, SSL_CTX hook).
 *
 * Threads: a cache belongs to one thread, like the clients that use it.
 */
typedef struct asmtp_tls_session_cache asmtp_tls_session_cache;

/* A new, empty cache. mem may be NULL. Returns 0, ASMTP_ERR_BAD_ARGUMENT
 * (cache is NULL) or ASMTP_ERR_NOMEM. */
ASMTP_EXTERN int asmtp_tls_session_cache_new(asmtp_tls_session_cache **cache,
                                             const asmtp_mem *mem);

/*
 * Drop the caller's reference: the cache and its session go once the last
 * client using it has been freed as well. NULL is allowed.
 */
ASMTP_EXTERN void asmtp_tls_session_cache_free(asmtp_tls_session_cache *cache);

/*
 * How to verify the server and who the client is. Zero-initialised, it
 * verifies the server's certificate against the system's CA store, checks
 * that it names the host connected to, and sends that name as SNI.
 * Strings are copied when the client is created.
 */
typedef struct asmtp_tls_config {
    /* PEM file and/or hashed directory of CA certificates to trust instead
     * of the system store. */
    const char *ca_file;
    const char *ca_path;
    /* A client certificate (PEM chain) and its private key (PEM). */
    const char *cert_file;
    const char *key_file;
    /* The name to verify and send as SNI; default: the host connected to.
     * Required for Unix sockets and adopted sockets when verifying. */
    const char *server_name;
    /* Do not verify the server at all. Anyone on the path can then read
     * and change the mail; use only against a test server. */
    bool no_verify;
    /*
     * Expert hook: use this SSL_CTX (its verification settings, ciphers,
     * session cache) instead of building one; the fields above are then
     * ignored except server_name. The library takes a reference and
     * releases it when the client is freed.
     */
    struct ssl_ctx_st *ssl_ctx;
    /*
     * Offer a session from this cache and keep the newest one the server
     * sends there (see asmtp_tls_session_cache). The client takes a
     * reference and releases it when freed. NULL: every connection makes
     * a full handshake, except in the pool, which shares a cache of its
     * own between its connections when this is NULL.
     */
    asmtp_tls_session_cache *session_cache;
} asmtp_tls_config;

#ifdef __cplusplus
}
#endif

#endif
