/*
 * The sans-I/O TLS client (see tls.h): an OpenSSL SSL object between two
 * memory BIOs. The caller feeds the server's ciphertext into one and takes
 * the ciphertext for the server from the other; nothing here touches a
 * socket or knows about SMTP. The session cache for resumption lives here
 * too, so that no OpenSSL type crosses into the rest of the library.
 */
#include "tls.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "asmtp/error.h"

/* Room made in the caller's buffer before each SSL_read_ex(). */
#define READ_CHUNK 4096

struct asmtp__tls {
    const asmtp_mem *mem;
    SSL_CTX *ctx;
    SSL *ssl;
    BIO *rbio; /* ciphertext from the server; owned by ssl */
    BIO *wbio; /* ciphertext for the server; owned by ssl */
    /* Ciphertext taken from wbio by asmtp__tls_output() and not yet
     * reported sent, so that the pointer handed out stays put. */
    asmtp__buf out;
    /* With a session cache: the settings a session must have been made
     * with to be offered here, and the session ssl had when last looked
     * at (held, so that a newer one never turns up at its address). */
    asmtp_tls_session_cache *cache;
    asmtp__buf key;
    SSL_SESSION *seen;
};

struct asmtp_tls_session_cache {
    const asmtp_mem *mem;
    unsigned refs;
    SSL_SESSION *session; /* the newest one kept, or NULL */
    asmtp__buf key;       /* the settings it was made with */
};

__attribute__((format(printf, 3, 4))) static void
set_why(char *why, size_t why_size, const char *fmt, ...)
{
    va_list ap;

    if (!why || why_size == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(why, why_size, fmt, ap);
    va_end(ap);
}

/*
 * The reason of an OpenSSL error code. System errors have no entry of
 * their own, so take the last field of "error:code:library:function:reason".
 */
static const char *error_reason(unsigned long error, char *scratch, size_t size)
{
    const char *reason;

    if (!error)
        return "unknown error";
    reason = ERR_reason_error_string(error);
    if (reason)
        return reason;
    ERR_error_string_n(error, scratch, size);
    reason = scratch;
    for (int field = 0; field < 4 && strchr(reason, ':'); field++)
        reason = strchr(reason, ':') + 1;
    return *reason ? reason : scratch;
}

/*
 * Turn what OpenSSL left in the error queue into a result: out of memory,
 * or ASMTP_ERR_TLS with "what: reason" (or "what "path": reason") in why.
 * The queue is empty afterwards, so nothing leaks into the next call.
 */
static int fail(char *why, size_t why_size, const char *what, const char *path)
{
    unsigned long error = ERR_peek_error();
    char scratch[256];
    const char *reason = error_reason(error, scratch, sizeof scratch);

    ERR_clear_error();
    if (ERR_GET_REASON(error) == ERR_R_MALLOC_FAILURE)
        return ASMTP_ERR_NOMEM;
    if (path)
        set_why(why, why_size, "%s \"%s\": %s", what, path, reason);
    else
        set_why(why, why_size, "%s: %s", what, reason);
    return ASMTP_ERR_TLS;
}

/* Never ask a terminal for a key's passphrase: the library never prompts,
 * so an encrypted key fails to load with a clear error instead. */
static int no_passphrase(char *buf, int size, int rwflag, void *user_data)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)user_data;
    return 0;
}

static int load_trust(SSL_CTX *ctx, const asmtp_tls_config *config, char *why,
                      size_t why_size)
{
    if (!config->ca_file && !config->ca_path) {
        if (SSL_CTX_set_default_verify_paths(ctx) != 1)
            return fail(why, why_size, "cannot load the system CA store", NULL);
        return 0;
    }
    if (config->ca_file &&
        SSL_CTX_load_verify_locations(ctx, config->ca_file, NULL) != 1)
        return fail(why, why_size, "cannot load CA file", config->ca_file);
    if (config->ca_path &&
        SSL_CTX_load_verify_locations(ctx, NULL, config->ca_path) != 1)
        return fail(why, why_size, "cannot use CA directory", config->ca_path);
    return 0;
}

/* The key defaults to the certificate file, which may hold both. */
static int load_client_cert(SSL_CTX *ctx, const asmtp_tls_config *config,
                            char *why, size_t why_size)
{
    const char *key_file =
        config->key_file ? config->key_file : config->cert_file;
    const char *key_problem =
        config->key_file ? "cannot load client key"
                         : "no key_file given and no client key in cert_file";

    if (!config->cert_file && config->key_file) {
        set_why(why, why_size, "key_file \"%s\" given without cert_file",
                config->key_file);
        return ASMTP_ERR_TLS;
    }
    if (!config->cert_file)
        return 0;

    if (SSL_CTX_use_certificate_chain_file(ctx, config->cert_file) != 1)
        return fail(why, why_size, "cannot load client certificate",
                    config->cert_file);
    if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1)
        return fail(why, why_size, key_problem, key_file);
    if (SSL_CTX_check_private_key(ctx) != 1)
        return fail(why, why_size, "client key does not match the certificate",
                    key_file);
    return 0;
}

static int build_ctx(SSL_CTX **out, const asmtp_tls_config *config, char *why,
                     size_t why_size)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    int rv;

    if (!ctx)
        return fail(why, why_size, "cannot create the TLS context", NULL);
    SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
        rv = fail(why, why_size, "cannot require TLS 1.2", NULL);
        goto error;
    }

    if (config->no_verify) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        rv = load_trust(ctx, config, why, why_size);
        if (rv)
            goto error;
    }

    rv = load_client_cert(ctx, config, why, why_size);
    if (rv)
        goto error;
    *out = ctx;
    return 0;

error:
    SSL_CTX_free(ctx);
    return rv;
}

static bool is_ip_literal(const char *name)
{
    unsigned char addr[16];

    return inet_pton(AF_INET, name, addr) == 1 ||
           inet_pton(AF_INET6, name, addr) == 1;
}

/*
 * Send name as SNI (never for an address: RFC 6066 forbids it) and, when
 * check is set, make the certificate verification require that it names
 * the host or the address.
 */
static int set_peer_name(SSL *ssl, const char *name, bool check, char *why,
                         size_t why_size)
{
    if (is_ip_literal(name)) {
        if (check &&
            X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name) != 1)
            return fail(why, why_size, "cannot check the address", name);
        return 0;
    }
    if (SSL_set_tlsext_host_name(ssl, name) != 1)
        return fail(why, why_size, "cannot send the server name", name);
    if (!check)
        return 0;
    SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (SSL_set1_host(ssl, name) != 1)
        return fail(why, why_size, "cannot check the server name", name);
    return 0;
}

static int get_ctx(asmtp__tls *tls, const asmtp_tls_config *config, char *why,
                   size_t why_size)
{
    if (config->ssl_ctx) {
        SSL_CTX_up_ref(config->ssl_ctx);
        tls->ctx = config->ssl_ctx;
        return 0;
    }
    return build_ctx(&tls->ctx, config, why, why_size);
}

static int make_ssl(asmtp__tls *tls, char *why, size_t why_size)
{
    tls->ssl = SSL_new(tls->ctx);
    if (!tls->ssl)
        return fail(why, why_size, "cannot create the TLS connection", NULL);
    tls->rbio = BIO_new(BIO_s_mem());
    tls->wbio = BIO_new(BIO_s_mem());
    if (!tls->rbio || !tls->wbio) {
        BIO_free(tls->rbio);
        BIO_free(tls->wbio);
        tls->rbio = tls->wbio = NULL;
        return fail(why, why_size, "cannot create the TLS buffers", NULL);
    }
    SSL_set_bio(tls->ssl, tls->rbio, tls->wbio);
    SSL_set_connect_state(tls->ssl);
    SSL_set_mode(tls->ssl, SSL_MODE_RELEASE_BUFFERS);
    return 0;
}

/* ---- Session resumption -------------------------------------------------- */

int asmtp_tls_session_cache_new(asmtp_tls_session_cache **out,
                                const asmtp_mem *mem)
{
    asmtp_tls_session_cache *cache;

    if (!out)
        return ASMTP_ERR_BAD_ARGUMENT;
    *out = NULL;
    cache = asmtp__calloc(mem, 1, sizeof *cache);
    if (!cache)
        return ASMTP_ERR_NOMEM;
    cache->mem = mem;
    cache->refs = 1;
    asmtp__buf_init(&cache->key, mem);
    *out = cache;
    return 0;
}

asmtp_tls_session_cache *
asmtp__tls_session_cache_ref(asmtp_tls_session_cache *cache)
{
    if (cache)
        cache->refs++;
    return cache;
}

static void forget_session(asmtp_tls_session_cache *cache)
{
    SSL_SESSION_free(cache->session);
    cache->session = NULL;
    asmtp__buf_clear(&cache->key);
}

void asmtp_tls_session_cache_free(asmtp_tls_session_cache *cache)
{
    if (!cache || --cache->refs > 0)
        return;
    forget_session(cache);
    asmtp__buf_free(&cache->key);
    asmtp__free(cache->mem, cache);
}

/* A string with its length in front (0 for none), so that no two
 * settings run together into the same key. */
static int key_part(asmtp__buf *key, const char *s)
{
    size_t len = s ? strlen(s) : 0;
    int rv = asmtp__buf_append_uint(key, s ? len + 1 : 0);

    rv = rv ? rv : asmtp__buf_append_byte(key, ':');
    return rv ? rv : asmtp__buf_append(key, s, len);
}

/*
 * What a session is bound to. A resumed handshake checks no certificate:
 * it carries the first connection's result over. So a session is offered
 * only to a connection that would have checked the same name the same
 * way, with the same client identity. (The pool's connections share one
 * configuration, so a cache per pool always matches; the key guards
 * caches that callers share between clients of their own.)
 */
static int make_key(asmtp__buf *key, const asmtp_tls_config *config,
                    const char *name)
{
    const char *parts[] = {name, config->ca_file, config->ca_path,
                           config->cert_file, config->key_file};
    int rv = asmtp__buf_append_uint(key, (uintptr_t)config->ssl_ctx);

    rv = rv ? rv : asmtp__buf_append_byte(key, config->no_verify ? 'n' : 'v');
    for (size_t i = 0; !rv && i < sizeof parts / sizeof parts[0]; i++)
        rv = key_part(key, parts[i]);
    return rv;
}

static bool same_key(const asmtp__buf *a, const asmtp__buf *b)
{
    return asmtp__buf_size(a) == asmtp__buf_size(b) &&
           memcmp(asmtp__buf_head(a), asmtp__buf_head(b), asmtp__buf_size(a)) ==
               0;
}

/* Resumable (OpenSSL marks a session that ended in an error as not) and
 * within the lifetime the server gave it. */
static bool still_good(const SSL_SESSION *session)
{
    long age = (long)time(NULL) - SSL_SESSION_get_time(session);

    return SSL_SESSION_is_resumable(session) &&
           age < SSL_SESSION_get_timeout(session);
}

/*
 * Offer the cache's session when it was made with these settings. A TLS
 * 1.3 ticket then leaves the cache: it is meant for one connection (RFC
 * 8446, C.4), and this one will be sent tickets of its own.
 */
static void offer_session(asmtp__tls *tls)
{
    asmtp_tls_session_cache *cache = tls->cache;
    SSL_SESSION *session = cache->session;

    if (!session || !same_key(&cache->key, &tls->key))
        return;
    if (!still_good(session)) {
        forget_session(cache);
        return;
    }
    if (SSL_set_session(tls->ssl, session) != 1) {
        ERR_clear_error(); /* then a full handshake, which is always fine */
        return;
    }
    SSL_SESSION_up_ref(session);
    tls->seen = session;
    if (SSL_SESSION_get_protocol_version(session) == TLS1_3_VERSION)
        forget_session(cache);
}

static int join_cache(asmtp__tls *tls, const asmtp_tls_config *config,
                      const char *name)
{
    if (make_key(&tls->key, config, name))
        return ASMTP_ERR_NOMEM;
    tls->cache = asmtp__tls_session_cache_ref(config->session_cache);
    offer_session(tls);
    return 0;
}

/*
 * Put the session ssl has now into the cache when it is new since the
 * last look and can be resumed: a TLS 1.2 session is there when the
 * handshake completes, and each TLS 1.3 ticket that arrives after it
 * replaces the session. Only a verified server's session is kept, so no
 * resumption ever skips a check that failed or never ran.
 */
static void keep_new_session(asmtp__tls *tls)
{
    SSL_SESSION *session = SSL_get0_session(tls->ssl);
    asmtp_tls_session_cache *cache = tls->cache;

    if (!cache || !session || session == tls->seen ||
        !SSL_is_init_finished(tls->ssl))
        return;
    SSL_SESSION_up_ref(session);
    SSL_SESSION_free(tls->seen);
    tls->seen = session;
    if (!SSL_SESSION_is_resumable(session) ||
        SSL_get_verify_result(tls->ssl) != X509_V_OK)
        return;

    forget_session(cache);
    if (asmtp__buf_append(&cache->key, asmtp__buf_head(&tls->key),
                          asmtp__buf_size(&tls->key)))
        return; /* no room for the key: nothing is kept */
    SSL_SESSION_up_ref(session);
    cache->session = session;
}

bool asmtp__tls_resumed(const asmtp__tls *tls)
{
    return SSL_is_init_finished(tls->ssl) && SSL_session_reused(tls->ssl);
}

/* ---- Connections --------------------------------------------------------- */

int asmtp__tls_new(asmtp__tls **out, const asmtp_tls_config *config,
                   const char *host, const asmtp_mem *mem, char *why,
                   size_t why_size)
{
    static const asmtp_tls_config defaults;
    asmtp__tls *tls;
    const char *name;
    bool check_name;
    int rv;

    *out = NULL;
    if (!config)
        config = &defaults;
    name = config->server_name ? config->server_name : host;
    if (name && !*name)
        name = NULL;
    /* With the hook, its own verify mode decides whether the check counts. */
    check_name = config->ssl_ctx || !config->no_verify;
    if (!name && !config->no_verify && !config->ssl_ctx) {
        set_why(why, why_size, "no server name to verify");
        return ASMTP_ERR_TLS;
    }

    tls = asmtp__calloc(mem, 1, sizeof *tls);
    if (!tls)
        return ASMTP_ERR_NOMEM;
    tls->mem = mem;
    asmtp__buf_init(&tls->out, mem);
    asmtp__buf_init(&tls->key, mem);

    ERR_clear_error();
    rv = get_ctx(tls, config, why, why_size);
    if (!rv)
        rv = make_ssl(tls, why, why_size);
    if (!rv && name)
        rv = set_peer_name(tls->ssl, name, check_name, why, why_size);
    if (!rv && config->session_cache)
        rv = join_cache(tls, config, name);
    if (rv) {
        asmtp__tls_free(tls);
        return rv;
    }
    *out = tls;
    return 0;
}

void asmtp__tls_free(asmtp__tls *tls)
{
    if (!tls)
        return;
    /* A connection that ends without close_notify may still be resumed
     * (RFC 5246, 7.2.1; RFC 8446), but OpenSSL drops its session at
     * SSL_free() unless told that the end was orderly. A fatal alert has
     * made the session unresumable already, when it was sent or read. */
    if (tls->cache && SSL_is_init_finished(tls->ssl))
        SSL_set_shutdown(tls->ssl,
                         SSL_get_shutdown(tls->ssl) | SSL_SENT_SHUTDOWN);
    SSL_free(tls->ssl);
    SSL_SESSION_free(tls->seen);
    asmtp_tls_session_cache_free(tls->cache);
    asmtp__buf_free(&tls->key);
    SSL_CTX_free(tls->ctx);
    asmtp__buf_free(&tls->out);
    asmtp__free(tls->mem, tls);
}

/* A hostname or address mismatch names what was expected. */
static void verify_why(SSL *ssl, long result, char *why, size_t why_size)
{
    X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
    const char *text = X509_verify_cert_error_string(result);
    const char *host = X509_VERIFY_PARAM_get0_host(param, 0);
    char *ip = NULL;

    if (result == X509_V_ERR_IP_ADDRESS_MISMATCH)
        ip = X509_VERIFY_PARAM_get1_ip_asc(param);
    if (result == X509_V_ERR_HOSTNAME_MISMATCH && host)
        set_why(why, why_size,
                "certificate verify failed: %s (the certificate does not "
                "name \"%s\")",
                text, host);
    else if (ip)
        set_why(why, why_size,
                "certificate verify failed: %s (the certificate does not "
                "name %s)",
                text, ip);
    else
        set_why(why, why_size, "certificate verify failed: %s", text);
    OPENSSL_free(ip);
}

/* The result of a failed SSL_* call that returned ret. */
static int ssl_failure(asmtp__tls *tls, int ret, const char *what, char *why,
                       size_t why_size)
{
    int error = SSL_get_error(tls->ssl, ret);
    unsigned long first = ERR_peek_error();
    long result = SSL_get_verify_result(tls->ssl);

    if (ERR_GET_LIB(first) == ERR_LIB_SSL &&
        ERR_GET_REASON(first) == SSL_R_CERTIFICATE_VERIFY_FAILED &&
        result != X509_V_OK) {
        verify_why(tls->ssl, result, why, why_size);
        ERR_clear_error();
        return ASMTP_ERR_TLS;
    }
    if (first)
        return fail(why, why_size, what, NULL);
    /* OpenSSL reports nothing new once a fatal error has ended the session
     * (with memory BIOs there is no end of file to report instead). */
    if (error == SSL_ERROR_SYSCALL)
        set_why(why, why_size, "%s: the TLS session failed earlier", what);
    else
        set_why(why, why_size, "%s (OpenSSL error %d)", what, error);
    return ASMTP_ERR_TLS;
}

static bool wants_more(asmtp__tls *tls, int ret)
{
    int error = SSL_get_error(tls->ssl, ret);

    return error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE;
}

int asmtp__tls_handshake(asmtp__tls *tls, char *why, size_t why_size)
{
    int ret;

    ERR_clear_error();
    ret = SSL_do_handshake(tls->ssl);
    if (ret == 1) {
        keep_new_session(tls);
        return 0;
    }
    if (wants_more(tls, ret))
        return ASMTP__TLS_WANT;
    return ssl_failure(tls, ret, "TLS handshake failed", why, why_size);
}

int asmtp__tls_feed(asmtp__tls *tls, const void *data, size_t len)
{
    size_t written;

    if (len == 0)
        return 0;
    ERR_clear_error();
    if (BIO_write_ex(tls->rbio, data, len, &written) != 1 || written != len) {
        ERR_clear_error();
        return ASMTP_ERR_NOMEM;
    }
    return 0;
}

int asmtp__tls_read(asmtp__tls *tls, asmtp__buf *out, char *why,
                    size_t why_size)
{
    size_t n;
    int ret;

    for (;;) {
        if (asmtp__buf_reserve(out, READ_CHUNK))
            return ASMTP_ERR_NOMEM;
        ERR_clear_error();
        ret = SSL_read_ex(tls->ssl, out->data + out->len, out->cap - out->len,
                          &n);
        if (ret != 1)
            break;
        out->len += n;
    }

    if (SSL_get_error(tls->ssl, ret) == SSL_ERROR_ZERO_RETURN) {
        keep_new_session(tls);
        return 1;
    }
    if (wants_more(tls, ret)) {
        keep_new_session(tls); /* TLS 1.3 tickets come in here */
        return 0;
    }
    return ssl_failure(tls, ret, "TLS read failed", why, why_size);
}

int asmtp__tls_write(asmtp__tls *tls, const void *data, size_t len, char *why,
                     size_t why_size)
{
    size_t written;
    int ret;

    if (len == 0)
        return 0;
    ERR_clear_error();
    ret = SSL_write_ex(tls->ssl, data, len, &written);
    if (ret == 1 && written == len)
        return 0;
    if (wants_more(tls, ret)) {
        set_why(why, why_size, "TLS write before the handshake completed");
        return ASMTP_ERR_TLS;
    }
    return ssl_failure(tls, ret, "TLS write failed", why, why_size);
}

/*
 * Move what OpenSSL wrote into out, so that the pointer handed out stays
 * valid while OpenSSL writes more. On allocation failure the bytes wait
 * in the BIO for the next call.
 */
static void take_output(asmtp__tls *tls)
{
    size_t pending = BIO_ctrl_pending(tls->wbio);
    unsigned char *end;
    size_t got;

    if (pending == 0 || asmtp__buf_reserve(&tls->out, pending))
        return;
    end = tls->out.data + tls->out.len;
    if (BIO_read_ex(tls->wbio, end, pending, &got) == 1)
        tls->out.len += got;
}

const unsigned char *asmtp__tls_output(asmtp__tls *tls, size_t *len)
{
    take_output(tls);
    *len = asmtp__buf_size(&tls->out);
    return asmtp__buf_head(&tls->out);
}

/* An idle connection keeps no output buffer. */
void asmtp__tls_output_done(asmtp__tls *tls, size_t n)
{
    asmtp__buf_consume(&tls->out, n);
    if (asmtp__buf_size(&tls->out) == 0)
        asmtp__buf_free(&tls->out);
}

void asmtp__tls_shutdown(asmtp__tls *tls)
{
    ERR_clear_error();
    (void)SSL_shutdown(tls->ssl);
    ERR_clear_error();
}

const char *asmtp__tls_version(const asmtp__tls *tls)
{
    if (!SSL_is_init_finished(tls->ssl))
        return "";
    return SSL_get_version(tls->ssl);
}

const char *asmtp__tls_cipher(const asmtp__tls *tls)
{
    if (!SSL_is_init_finished(tls->ssl))
        return "";
    return SSL_get_cipher_name(tls->ssl);
}
