/*
 * Sans-I/O TLS over OpenSSL memory BIOs: ciphertext in, plaintext out, and
 * the reverse. It knows nothing about SMTP or sockets; the client moves
 * the bytes.
 */
#ifndef ASMTP_TLS_INTERNAL_H
#define ASMTP_TLS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "asmtp/tls.h"
#include "buf.h"

/* Returned by asmtp__tls_handshake() while it needs more bytes. */
#define ASMTP__TLS_WANT 1

typedef struct asmtp__tls asmtp__tls;

/*
 * A client-side TLS connection for host (the SNI and verification name
 * unless config->server_name is set; may be NULL when no_verify is set or
 * server_name is given). Returns 0, ASMTP_ERR_TLS (the configuration
 * could not be loaded: a missing CA file, a key that does not match) with
 * a reason written into why (why_size octets, NUL-terminated; why may be
 * NULL), or ASMTP_ERR_NOMEM. key_file defaults to cert_file; an encrypted
 * key is refused (no passphrase prompt, ever).
 *
 * With config->session_cache the connection holds a reference to it,
 * offers the session it has for the same settings, and puts each newer
 * session there as the server sends it (during the handshake for TLS 1.2,
 * in asmtp__tls_read() for TLS 1.3 tickets).
 */
ASMTP__HIDDEN int asmtp__tls_new(asmtp__tls **tls,
                                 const asmtp_tls_config *config,
                                 const char *host, const asmtp_mem *mem,
                                 char *why, size_t why_size);
ASMTP__HIDDEN void asmtp__tls_free(asmtp__tls *tls);

/*
 * Advance the handshake: 0 when it is complete, ASMTP__TLS_WANT when it
 * needs ciphertext from the server (feed it, and send what
 * asmtp__tls_output() holds), or ASMTP_ERR_TLS with the reason (for
 * example the certificate verification error) in why.
 */
ASMTP__HIDDEN int asmtp__tls_handshake(asmtp__tls *tls, char *why,
                                       size_t why_size);

/* Ciphertext that arrived from the server. 0 or ASMTP_ERR_NOMEM. */
ASMTP__HIDDEN int asmtp__tls_feed(asmtp__tls *tls, const void *data,
                                  size_t len);

/*
 * Decrypt into out (appending). Returns 0 when no more plaintext is
 * available yet, 1 when the server closed the TLS session cleanly
 * (close_notify), ASMTP_ERR_TLS with a reason in why, or ASMTP_ERR_NOMEM
 * when out cannot grow (the plaintext then waits for the next call).
 */
ASMTP__HIDDEN int asmtp__tls_read(asmtp__tls *tls, asmtp__buf *out, char *why,
                                  size_t why_size);

/* Encrypt len plaintext bytes; all of them are taken. 0, ASMTP_ERR_TLS
 * or ASMTP_ERR_NOMEM. */
ASMTP__HIDDEN int asmtp__tls_write(asmtp__tls *tls, const void *data,
                                   size_t len, char *why, size_t why_size);

/* Ciphertext waiting to be sent: pointer and length, valid until the next
 * asmtp__tls_output(), asmtp__tls_output_done() or free;
 * asmtp__tls_output_done() drops n of them. */
ASMTP__HIDDEN const unsigned char *asmtp__tls_output(asmtp__tls *tls,
                                                     size_t *len);
ASMTP__HIDDEN void asmtp__tls_output_done(asmtp__tls *tls, size_t n);

/* Queue a close_notify (its bytes then appear in the output). */
ASMTP__HIDDEN void asmtp__tls_shutdown(asmtp__tls *tls);

/* Whether the completed handshake resumed an earlier session. */
ASMTP__HIDDEN bool asmtp__tls_resumed(const asmtp__tls *tls);

/* One more reference to cache (each client and connection holds one);
 * asmtp_tls_session_cache_free() drops one. Returns cache. */
ASMTP__HIDDEN asmtp_tls_session_cache *
asmtp__tls_session_cache_ref(asmtp_tls_session_cache *cache);

/* The negotiated protocol and cipher, for logs ("TLSv1.3
 * TLS_AES_256_GCM_SHA384"); "" before the handshake. */
ASMTP__HIDDEN const char *asmtp__tls_version(const asmtp__tls *tls);
ASMTP__HIDDEN const char *asmtp__tls_cipher(const asmtp__tls *tls);

#endif
