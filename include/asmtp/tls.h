/*
 * TLS settings shared by the client, the blocking API and the tools.
 */
#ifndef ASMTP_TLS_H
#define ASMTP_TLS_H

#include <stdbool.h>

#include "asmtp/version.h"

#ifdef __cplusplus
extern "C" {
#endif

struct ssl_ctx_st; /* OpenSSL's SSL_CTX */

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
} asmtp_tls_config;

#ifdef __cplusplus
}
#endif

#endif
