/*
 * TLS layer tests against a real OpenSSL server in memory. The certificates
 * (a CA, servers for a name and for addresses, a self-signed stranger, a
 * client) are made at start-up; the tests pump bytes between the two ends.
 * Session resumption runs several connections against one server context.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "asmtp/error.h"
#include "support.h"
#include "tls.h"

#define PATH_SIZE 160

/* The certificates and keys of the whole test run, and their files. */
static struct pki {
    char dir[64];
    char ca_dir[PATH_SIZE];
    char empty_dir[PATH_SIZE];
    char ca_file[PATH_SIZE];
    char hashed_ca[PATH_SIZE];
    char client_cert[PATH_SIZE];
    char client_key_file[PATH_SIZE];
    char client_both[PATH_SIZE];
    char client_locked_key[PATH_SIZE];
    char server_key_file[PATH_SIZE];
    EVP_PKEY *ca_key;
    EVP_PKEY *server_key;
    EVP_PKEY *client_key;
    X509 *ca;
    X509 *server;    /* mx.example.test, from the CA */
    X509 *ip_server; /* 127.0.0.1 and ::1, from the CA */
    X509 *wildcard;  /* mx*.example.test, from the CA */
    X509 *stranger;  /* mx.example.test, self-signed */
    X509 *client;    /* client.example.test, from the CA */
} pki;

/* A server end: an SSL object between its own memory BIOs. */
typedef struct server {
    SSL_CTX *ctx;
    SSL *ssl;
    BIO *rbio;
    BIO *wbio;
    char sni[256];
    /* The versions the client offered, as sent in supported_versions. */
    unsigned char versions[32];
    size_t versions_len;
    bool done;
    bool failed;
} server;

static EVP_PKEY *make_key(void)
{
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");

    assert_non_null(key);
    return key;
}

static void add_ext(X509 *cert, X509V3_CTX *v3, int nid, const char *value)
{
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, v3, nid, value);

    assert_non_null(ext);
    assert_int_equal(X509_add_ext(cert, ext, -1), 1);
    X509_EXTENSION_free(ext);
}

/* A certificate for key, signed by issuer (itself when NULL): a leaf for
 * the subjectAltName san, or a CA when san is NULL. */
static X509 *make_cert(const char *cn, EVP_PKEY *key, const char *san,
                       X509 *issuer, EVP_PKEY *issuer_key)
{
    static long serial = 1;
    X509 *cert = X509_new();
    X509V3_CTX v3;

    assert_non_null(cert);
    X509_set_version(cert, X509_VERSION_3);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), serial++);
    X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
    X509_set_pubkey(cert, key);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_ASC,
                               (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(cert, X509_get_subject_name(issuer ? issuer : cert));

    X509V3_set_ctx(&v3, issuer ? issuer : cert, cert, NULL, NULL, 0);
    if (san) {
        add_ext(cert, &v3, NID_subject_alt_name, san);
    } else {
        add_ext(cert, &v3, NID_basic_constraints, "critical,CA:TRUE");
        add_ext(cert, &v3, NID_key_usage, "critical,keyCertSign,cRLSign");
    }
    assert_true(X509_sign(cert, issuer_key ? issuer_key : key, EVP_sha256()) >
                0);
    return cert;
}

static void write_pem(char *path, const char *name, X509 *cert, EVP_PKEY *key,
                      const char *passphrase)
{
    const EVP_CIPHER *cipher = passphrase ? EVP_aes_128_cbc() : NULL;
    int len = passphrase ? (int)strlen(passphrase) : 0;
    FILE *fp;

    snprintf(path, PATH_SIZE, "%s/%s", pki.dir, name);
    fp = fopen(path, "w");
    assert_non_null(fp);
    if (cert)
        assert_int_equal(PEM_write_X509(fp, cert), 1);
    if (key)
        assert_int_equal(PEM_write_PrivateKey(fp, key, cipher,
                                              (const unsigned char *)passphrase,
                                              len, NULL, NULL),
                         1);
    assert_int_equal(fclose(fp), 0);
}

/* A directory as c_rehash leaves it: the CA under <subject hash>.0. */
static void write_hashed_ca(void)
{
    unsigned long hash;
    char name[32];

    hash = X509_NAME_hash_ex(X509_get_subject_name(pki.ca), NULL, NULL, NULL);
    snprintf(pki.ca_dir, PATH_SIZE, "%s/cadir", pki.dir);
    assert_int_equal(mkdir(pki.ca_dir, 0700), 0);
    snprintf(name, sizeof name, "cadir/%08lx.0", hash);
    write_pem(pki.hashed_ca, name, pki.ca, NULL, NULL);

    snprintf(pki.empty_dir, PATH_SIZE, "%s/empty", pki.dir);
    assert_int_equal(mkdir(pki.empty_dir, 0700), 0);
}

static int make_pki(void **state)
{
    (void)state;
    snprintf(pki.dir, sizeof pki.dir, "/tmp/asmtp-tls-XXXXXX");
    assert_non_null(mkdtemp(pki.dir));

    pki.ca_key = make_key();
    pki.server_key = make_key();
    pki.client_key = make_key();
    pki.ca = make_cert("asmtp test CA", pki.ca_key, NULL, NULL, NULL);
    pki.server = make_cert("mx.example.test", pki.server_key,
                           "DNS:mx.example.test", pki.ca, pki.ca_key);
    pki.ip_server = make_cert("127.0.0.1", pki.server_key,
                              "IP:127.0.0.1,IP:::1", pki.ca, pki.ca_key);
    pki.wildcard = make_cert("wildcard", pki.server_key, "DNS:mx*.example.test",
                             pki.ca, pki.ca_key);
    pki.stranger = make_cert("mx.example.test", pki.server_key,
                             "DNS:mx.example.test", NULL, NULL);
    pki.client = make_cert("client.example.test", pki.client_key,
                           "DNS:client.example.test", pki.ca, pki.ca_key);

    write_pem(pki.ca_file, "ca.pem", pki.ca, NULL, NULL);
    write_pem(pki.client_cert, "client.pem", pki.client, NULL, NULL);
    write_pem(pki.client_key_file, "client.key", NULL, pki.client_key, NULL);
    write_pem(pki.client_both, "client-both.pem", pki.client, pki.client_key,
              NULL);
    write_pem(pki.client_locked_key, "client-locked.key", NULL, pki.client_key,
              "secret");
    write_pem(pki.server_key_file, "server.key", NULL, pki.server_key, NULL);
    write_hashed_ca();
    return 0;
}

static int free_pki(void **state)
{
    static const char *const files[] = {
        "ca.pem",          "client.pem",        "client.key",
        "client-both.pem", "client-locked.key", "server.key",
    };
    char path[PATH_SIZE];

    (void)state;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", pki.dir, files[i]);
        unlink(path);
    }
    unlink(pki.hashed_ca);
    rmdir(pki.ca_dir);
    rmdir(pki.empty_dir);
    rmdir(pki.dir);

    EVP_PKEY_free(pki.ca_key);
    EVP_PKEY_free(pki.server_key);
    EVP_PKEY_free(pki.client_key);
    X509_free(pki.ca);
    X509_free(pki.server);
    X509_free(pki.ip_server);
    X509_free(pki.wildcard);
    X509_free(pki.stranger);
    X509_free(pki.client);
    return 0;
}

static int remember_sni(SSL *ssl, int *alert, void *arg)
{
    server *s = arg;
    const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);

    (void)alert;
    if (name)
        snprintf(s->sni, sizeof s->sni, "%s", name);
    return SSL_TLSEXT_ERR_OK;
}

static int remember_versions(SSL *ssl, int *alert, void *arg)
{
    server *s = arg;
    const unsigned char *ext;
    size_t len;

    (void)alert;
    if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_supported_versions, &ext,
                                  &len) == 1 &&
        len > 0 && len - 1 <= sizeof s->versions) {
        memcpy(s->versions, ext + 1, len - 1);
        s->versions_len = len - 1;
    }
    return SSL_CLIENT_HELLO_SUCCESS;
}

static void server_init(server *s, X509 *cert)
{
    memset(s, 0, sizeof *s);
    s->ctx = SSL_CTX_new(TLS_server_method());
    assert_non_null(s->ctx);
    assert_int_equal(SSL_CTX_use_certificate(s->ctx, cert), 1);
    assert_int_equal(SSL_CTX_use_PrivateKey(s->ctx, pki.server_key), 1);
    SSL_CTX_set_tlsext_servername_callback(s->ctx, remember_sni);
    SSL_CTX_set_tlsext_servername_arg(s->ctx, s);
    SSL_CTX_set_client_hello_cb(s->ctx, remember_versions, s);
}

/* Create the server's connection once its context is configured. */
static void server_start(server *s)
{
    s->ssl = SSL_new(s->ctx);
    s->rbio = BIO_new(BIO_s_mem());
    s->wbio = BIO_new(BIO_s_mem());
    assert_non_null(s->ssl);
    assert_non_null(s->rbio);
    assert_non_null(s->wbio);
    SSL_set_bio(s->ssl, s->rbio, s->wbio);
    SSL_set_accept_state(s->ssl);
}

static void server_free(server *s)
{
    SSL_free(s->ssl);
    SSL_CTX_free(s->ctx);
}

/* Ask the client for a certificate from the test CA and insist on it. */
static void server_require_client_cert(server *s)
{
    X509_STORE *store = SSL_CTX_get_cert_store(s->ctx);

    assert_int_equal(X509_STORE_add_cert(store, pki.ca), 1);
    SSL_CTX_set_verify(s->ctx,
                       SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
}

static void server_step(server *s)
{
    int ret;

    if (s->done || s->failed)
        return;
    ret = SSL_do_handshake(s->ssl);
    if (ret == 1)
        s->done = true;
    else if (SSL_get_error(s->ssl, ret) != SSL_ERROR_WANT_READ)
        s->failed = true;
    ERR_clear_error();
}

/* Everything the client wants to send goes to the server. */
static void to_server(asmtp__tls *tls, server *s)
{
    size_t len;
    const unsigned char *data = asmtp__tls_output(tls, &len);

    if (len == 0)
        return;
    assert_int_equal(BIO_write(s->rbio, data, (int)len), (int)len);
    asmtp__tls_output_done(tls, len);
}

/* Everything the server sent goes to the client, step bytes at a time. */
static void to_client(server *s, asmtp__tls *tls, size_t step)
{
    unsigned char chunk[16384];
    int n;

    while ((n = BIO_read(s->wbio, chunk, (int)sizeof chunk)) > 0) {
        for (size_t off = 0; off < (size_t)n; off += step) {
            size_t piece = (size_t)n - off < step ? (size_t)n - off : step;

            assert_int_equal(asmtp__tls_feed(tls, chunk + off, piece), 0);
        }
    }
}

/*
 * Feed the server's output to the client step bytes at a time, driving the
 * client's handshake after each piece; the last result.
 */
static int feed_handshake(asmtp__tls *tls, server *s, size_t step, char *why,
                          size_t why_size)
{
    unsigned char chunk[16384];
    int rv = asmtp__tls_handshake(tls, why, why_size);
    int n;

    while (rv >= 0 && (n = BIO_read(s->wbio, chunk, (int)sizeof chunk)) > 0) {
        for (size_t off = 0; rv >= 0 && off < (size_t)n; off += step) {
            size_t piece = (size_t)n - off < step ? (size_t)n - off : step;

            assert_int_equal(asmtp__tls_feed(tls, chunk + off, piece), 0);
            rv = asmtp__tls_handshake(tls, why, why_size);
        }
    }
    return rv;
}

/* Run both handshakes; the client's result (0 or an error). */
static int pump_handshake(asmtp__tls *tls, server *s, size_t step, char *why,
                          size_t why_size)
{
    int rv = asmtp__tls_handshake(tls, why, why_size);

    for (int round = 0; round < 100; round++) {
        to_server(tls, s);
        if (rv < 0)
            return rv;
        assert_true(rv == 0 || rv == ASMTP__TLS_WANT);
        server_step(s);
        if (rv == 0 && (s->done || s->failed)) {
            to_client(s, tls, step);
            return 0;
        }
        rv = feed_handshake(tls, s, step, why, why_size);
    }
    fail_msg("the handshake did not finish");
    return -1;
}

static asmtp_tls_config trust_ca(void)
{
    asmtp_tls_config config;

    memset(&config, 0, sizeof config);
    config.ca_file = pki.ca_file;
    return config;
}

/* A client against a fresh server with cert; 0 or the client's error. */
static int try_connect(const asmtp_tls_config *config, const char *host,
                       X509 *cert, char *why, size_t why_size)
{
    asmtp__tls *tls;
    server s;
    int rv;

    rv = asmtp__tls_new(&tls, config, host, NULL, why, why_size);
    if (rv)
        return rv;
    server_init(&s, cert);
    server_start(&s);
    rv = pump_handshake(tls, &s, 4096, why, why_size);
    if (rv == 0)
        assert_true(s.done);
    asmtp__tls_free(tls);
    server_free(&s);
    assert_int_equal(ERR_peek_error(), 0);
    return rv;
}

/* Connect, expecting a TLS error whose reason holds each of two texts. */
static void expect_failure(const asmtp_tls_config *config, const char *host,
                           X509 *cert, const char *text1, const char *text2)
{
    char why[512] = "";

    assert_int_equal(try_connect(config, host, cert, why, sizeof why),
                     ASMTP_ERR_TLS);
    if (!strstr(why, text1) || (text2 && !strstr(why, text2)))
        fail_msg("unexpected reason: %s", why);
}

static void test_handshake_verified(void **state)
{
    asmtp_tls_config config = trust_ca();
    asmtp__tls *tls;
    char why[256] = "";
    server s;

    (void)state;
    assert_int_equal(
        asmtp__tls_new(&tls, &config, "mx.example.test", NULL, why, sizeof why),
        0);
    assert_string_equal(asmtp__tls_version(tls), "");
    assert_string_equal(asmtp__tls_cipher(tls), "");

    server_init(&s, pki.server);
    server_start(&s);
    assert_int_equal(pump_handshake(tls, &s, 4096, why, sizeof why), 0);
    assert_true(s.done);
    assert_string_equal(s.sni, "mx.example.test");
    assert_null(SSL_get0_peer_certificate(s.ssl));
    /* Only TLS 1.3 and 1.2 are offered. */
    assert_int_equal(s.versions_len, 4);
    assert_memory_equal(s.versions, "\x03\x04\x03\x03", 4);
    assert_int_equal(strncmp(asmtp__tls_version(tls), "TLSv1.", 6), 0);
    assert_true(strlen(asmtp__tls_cipher(tls)) > 0);

    asmtp__tls_free(tls);
    server_free(&s);
}

static void test_server_name_overrides_host(void **state)
{
    asmtp_tls_config config = trust_ca();
    asmtp__tls *tls;
    char why[256] = "";
    server s;

    (void)state;
    config.server_name = "mx.example.test";
    assert_int_equal(
        asmtp__tls_new(&tls, &config, "192.0.2.7", NULL, why, sizeof why), 0);
    server_init(&s, pki.server);
    server_start(&s);
    assert_int_equal(pump_handshake(tls, &s, 4096, why, sizeof why), 0);
    assert_string_equal(s.sni, "mx.example.test");
    asmtp__tls_free(tls);
    server_free(&s);
}

static void test_wrong_name(void **state)
{
    asmtp_tls_config config = trust_ca();

    (void)state;
    expect_failure(&config, "other.example.test", pki.server,
                   "hostname mismatch", "\"other.example.test\"");
    config.server_name = "other.example.test";
    expect_failure(&config, "mx.example.test", pki.server, "hostname mismatch",
                   NULL);
}

static void test_no_partial_wildcards(void **state)
{
    asmtp_tls_config config = trust_ca();

    (void)state;
    /* Without the flag OpenSSL would take "mx*" to match "mx1". */
    assert_int_equal(
        X509_check_host(pki.wildcard, "mx1.example.test", 0, 0, NULL), 1);
    expect_failure(&config, "mx1.example.test", pki.wildcard,
                   "hostname mismatch", NULL);
}

static void test_untrusted_server(void **state)
{
    asmtp_tls_config config = trust_ca();

    (void)state;
    expect_failure(&config, "mx.example.test", pki.stranger,
                   "certificate verify failed", "self-signed");
}

static void test_no_verify_accepts_untrusted(void **state)
{
    asmtp_tls_config config;
    asmtp__tls *tls;
    char why[256] = "";
    server s;

    (void)state;
    memset(&config, 0, sizeof config);
    config.no_verify = true;
    config.ca_file = "/nonexistent/ignored.pem";
    assert_int_equal(
        asmtp__tls_new(&tls, &config, "mx.example.test", NULL, why, sizeof why),
        0);
    server_init(&s, pki.stranger);
    server_start(&s);
    assert_int_equal(pump_handshake(tls, &s, 4096, why, sizeof why), 0);
    assert_string_equal(s.sni, "mx.example.test");
    asmtp__tls_free(tls);
    server_free(&s);
}

static void test_no_verify_without_name(void **state)
{
    asmtp_tls_config config;
    asmtp__tls *tls;
    char why[256] = "";
    server s;

    (void)state;
    memset(&config, 0, sizeof config);
    config.no_verify = true;
    assert_int_equal(asmtp__tls_new(&tls, &config, NULL, NULL, why, sizeof why),
                     0);
    server_init(&s, pki.stranger);
    server_start(&s);
    assert_int_equal(pump_handshake(tls, &s, 4096, why, sizeof why), 0);
    assert_string_equal(s.sni, "");
    asmtp__tls_free(tls);
    server_free(&s);
}

static void test_no_name_to_verify(void **state)
{
    asmtp_tls_config config = trust_ca();
    asmtp__tls *tls;
    char why[256] = "";

    (void)state;
    assert_int_equal(asmtp__tls_new(&tls, &config, NULL, NULL, why, sizeof why),
                     ASMTP_ERR_TLS);
    assert_null(tls);
    assert_string_equal(why, "no server name to verify");

    config.server_name = "";
    assert_int_equal(asmtp__tls_new(&tls, NULL, "", NULL, why, sizeof why),
                     ASMTP_ERR_TLS);
    assert_int_equal(asmtp__tls_new(&tls, &config, "", NULL, NULL, 0),
                     ASMTP_ERR_TLS);
}

static void expect_config_error_for(const asmtp_tls_config *config,
                                    const char *host, const char *text1,
                                    const char *text2)
{
    asmtp__tls *tls;
    char why[512] = "";

    assert_int_equal(asmtp__tls_new(&tls, config, host, NULL, why, sizeof why),
                     ASMTP_ERR_TLS);
    assert_null(tls);
    if (!strstr(why, text1) || (text2 && !strstr(why, text2)))
        fail_msg("unexpected reason: %s", why);
    assert_int_equal(ERR_peek_error(), 0);
}

static void expect_config_error(const asmtp_tls_config *config,
                                const char *text1, const char *text2)
{
    expect_config_error_for(config, "mx.example.test", text1, text2);
}

static void test_name_too_long(void **state)
{
    asmtp_tls_config config = trust_ca();
    char name[300];

    (void)state;
    memset(name, 'a', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    expect_config_error_for(&config, name, "cannot send the server name",
                            "\"aaaa");
}

static void test_default_store(void **state)
{
    asmtp__tls *tls;
    char why[256] = "";

    (void)state;
    /* The system store does not know the test CA. */
    assert_int_equal(
        asmtp__tls_new(&tls, NULL, "mx.example.test", NULL, why, sizeof why),
        0);
    asmtp__tls_free(tls);
    expect_failure(NULL, "mx.example.test", pki.server,
                   "certificate verify failed", NULL);
}

static void test_ip_literals(void **state)
{
    asmtp_tls_config config = trust_ca();
    asmtp__tls *tls;
    char why[256] = "";
    server s;

    (void)state;
    assert_int_equal(
        asmtp__tls_new(&tls, &config, "127.0.0.1", NULL, why, sizeof why), 0);
    server_init(&s, pki.ip_server);
    server_start(&s);
    assert_int_equal(pump_handshake(tls, &s, 4096, why, sizeof why), 0);
    assert_string_equal(s.sni, ""); /* no SNI for an address */
    asmtp__tls_free(tls);
    server_free(&s);

    assert_int_equal(
        try_connect(&config, "::1", pki.ip_server, why, sizeof why), 0);
}

static void test_ip_mismatch(void **state)
{
    asmtp_tls_config config = trust_ca();

    (void)state;
    expect_failure(&config, "127.0.0.1", pki.server, "IP address mismatch",
                   "127.0.0.1");
    expect_failure(&config, "127.0.0.2", pki.ip_server, "IP address mismatch",
                   "127.0.0.2");
    /* A certificate for the name does not cover the address. */
    expect_failure(&config, "::1", pki.server, "IP address mismatch",
                   "0:0:0:0:0:0:0:1");
}

static void test_ca_path(void **state)
{
    asmtp_tls_config config;
    char why[256] = "";

    (void)state;
    memset(&config, 0, sizeof config);
    config.ca_path = pki.ca_dir;
    assert_int_equal(
        try_connect(&config, "mx.example.test", pki.server, why, sizeof why),
        0);

    config.ca_path = pki.empty_dir;
    expect_failure(&config, "mx.example.test", pki.server,
                   "certificate verify failed", "local issuer");

    config.ca_file = pki.ca_file;
    assert_int_equal(
        try_connect(&config, "mx.example.test", pki.server, why, sizeof why),
        0);
}

static void test_missing_ca_file(void **state)
{
    asmtp_tls_config config;
    asmtp__tls *tls;
    char why[256] = "";

    (void)state;
    memset(&config, 0, sizeof config);
    config.ca_file = "/nonexistent/ca.pem";
    assert_int_equal(
        asmtp__tls_new(&tls, &config, "mx.example.test", NULL, why, sizeof why),
        ASMTP_ERR_TLS);
    assert_null(tls);
    assert_string_equal(why, "cannot load CA file \"/nonexistent/ca.pem\": "
                             "No such file or directory");
    assert_int_equal(ERR_peek_error(), 0);

    /* A file that holds no certificate is no better. */
    config.ca_file = pki.client_key_file;
    assert_int_equal(
        asmtp__tls_new(&tls, &config, "mx.example.test", NULL, why, sizeof why),
        ASMTP_ERR_TLS);
    assert_non_null(strstr(why, pki.client_key_file));
}

/* A client with config against a server that insists on a certificate. */
static void connect_with_client_cert(const asmtp_tls_config *config)
{
    asmtp__tls *tls;
    char why[256] = "";
    X509 *seen;
    server s;

    assert_int_equal(
        asmtp__tls_new(&tls, config, "mx.example.test", NULL, why, sizeof why),
        0);
    server_init(&s, pki.server);
    server_require_client_cert(&s);
    server_start(&s);
    assert_int_equal(pump_handshake(tls, &s, 4096, why, sizeof why), 0);
    assert_true(s.done);
    seen = SSL_get0_peer_certificate(s.ssl);
    assert_non_null(seen);
    assert_int_equal(X509_cmp(seen, pki.client), 0);
    assert_int_equal(SSL_get_verify_result(s.ssl), X509_V_OK);
    asmtp__tls_free(tls);
    server_free(&s);
}

static void test_client_certificate(void **state)
{
    asmtp_tls_config config = trust_ca();

    (void)state;
    config.cert_file = pki.client_cert;
    config.key_file = pki.client_key_file;
    connect_with_client_cert(&config);

    /* The key may sit in the certificate's file. */
    config.cert_file = pki.client_both;
    config.key_file = NULL;
    connect_with_client_cert(&config);
}

static void test_client_certificate_missing(void **state)
{
    asmtp_tls_config config = trust_ca();
    asmtp__tls *tls;
    asmtp__buf plain;
    char why[256] = "";
    server s;

    (void)state;
    assert_int_equal(
        asmtp__tls_new(&tls, &config, "mx.example.test", NULL, why, sizeof why),
        0);
    server_init(&s, pki.server);
    server_require_client_cert(&s);
    server_start(&s);
    /* TLS 1.3: the client finishes first; the server's alert comes next. */
    assert_int_equal(pump_handshake(tls, &s, 4096, why, sizeof why), 0);
    assert_true(s.failed);
    asmtp__buf_init(&plain, NULL);
    assert_int_equal(asmtp__tls_read(tls, &plain, why, sizeof why),
                     ASMTP_ERR_TLS);
    assert_non_null(strstr(why, "certificate required"));
    assert_int_equal(ERR_peek_error(), 0);
    asmtp__buf_free(&plain);
    asmtp__tls_free(tls);
    server_free(&s);
}

static void test_client_key_problems(void **state)
{
    asmtp_tls_config config = trust_ca();

    (void)state;
    config.cert_file = pki.client_cert;
    config.key_file = pki.server_key_file;
    expect_config_error(&config, pki.server_key_file, "mismatch");

    config.key_file = NULL; /* the certificate file holds no key */
    expect_config_error(&config, "no key_file given", pki.client_cert);

    config.key_file = pki.client_locked_key; /* never prompts */
    expect_config_error(&config, "cannot load client key",
                        pki.client_locked_key);

    config.key_file = "/nonexistent/client.key";
    expect_config_error(&config, "cannot load client key",
                        "\"/nonexistent/client.key\": No such file");

    config.cert_file = "/nonexistent/client.pem";
    expect_config_error(&config, "cannot load client certificate",
                        "\"/nonexistent/client.pem\"");

    config.cert_file = NULL;
    config.key_file = pki.client_key_file;
    expect_config_error(&config, "without cert_file", pki.client_key_file);
}

static void test_expert_ctx(void **state)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    asmtp_tls_config config;
    asmtp__tls *tls, *nameless;
    char why[256] = "";
    server s;

    (void)state;
    assert_non_null(ctx);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    memset(&config, 0, sizeof config);
    config.ssl_ctx = ctx;
    config.ca_file = "/nonexistent/ignored.pem";
    assert_int_equal(
        asmtp__tls_new(&tls, &config, "mx.example.test", NULL, why, sizeof why),
        0);
    /* Without a name the hook's own settings decide. */
    assert_int_equal(
        asmtp__tls_new(&nameless, &config, NULL, NULL, why, sizeof why), 0);
    asmtp__tls_free(nameless);
    SSL_CTX_free(ctx); /* the connection holds its own reference */

    server_init(&s, pki.stranger);
    server_start(&s);
    assert_int_equal(pump_handshake(tls, &s, 4096, why, sizeof why), 0);
    assert_string_equal(s.sni, "mx.example.test");
    asmtp__tls_free(tls);
    server_free(&s);
}

static void test_expert_ctx_checks_name(void **state)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    asmtp_tls_config config;
    char why[256] = "";

    (void)state;
    assert_non_null(ctx);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    assert_int_equal(X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), pki.ca),
                     1);
    memset(&config, 0, sizeof config);
    config.ssl_ctx = ctx;
    config.no_verify = true; /* ignored: the hook decides */
    assert_int_equal(
        try_connect(&config, "mx.example.test", pki.server, why, sizeof why),
        0);
    expect_failure(&config, "other.example.test", pki.server,
                   "hostname mismatch", NULL);
    expect_failure(&config, "127.0.0.1", pki.server, "IP address mismatch",
                   NULL);
    SSL_CTX_free(ctx);
}

/* A verified connection whose handshake is fed step bytes at a time. */
static asmtp__tls *connected(server *s, size_t step, const asmtp_mem *mem)
{
    asmtp_tls_config config = trust_ca();
    asmtp__tls *tls;
    char why[256] = "";

    assert_int_equal(
        asmtp__tls_new(&tls, &config, "mx.example.test", mem, why, sizeof why),
        0);
    server_init(s, pki.server);
    server_start(s);
    assert_int_equal(pump_handshake(tls, s, step, why, sizeof why), 0);
    assert_true(s->done);
    return tls;
}

static void assert_buf_equal(const asmtp__buf *buf, const void *data,
                             size_t len)
{
    assert_int_equal(asmtp__buf_size(buf), len);
    assert_memory_equal(asmtp__buf_head(buf), data, len);
}

/* Feed the server's output one byte at a time, reading after each. */
static void read_bytewise(server *s, asmtp__tls *tls, asmtp__buf *plain)
{
    unsigned char byte;
    char why[256] = "";

    while (BIO_read(s->wbio, &byte, 1) == 1) {
        assert_int_equal(asmtp__tls_feed(tls, &byte, 1), 0);
        assert_int_equal(asmtp__tls_read(tls, plain, why, sizeof why), 0);
    }
}

static void test_data_both_ways(void **state)
{
    static const char command[] = "EHLO client.example.test\r\n";
    static const char reply[] = "250-mx.example.test\r\n250 SMTPUTF8\r\n";
    char got[sizeof command];
    asmtp__tls *tls;
    asmtp__buf plain;
    char why[256] = "";
    server s;

    (void)state;
    tls = connected(&s, 1, NULL);
    asmtp__buf_init(&plain, NULL);
    assert_int_equal(asmtp__tls_read(tls, &plain, why, sizeof why), 0);
    assert_int_equal(asmtp__buf_size(&plain), 0);

    assert_int_equal(
        asmtp__tls_write(tls, command, strlen(command), why, sizeof why), 0);
    assert_int_equal(asmtp__tls_write(tls, command, 0, why, sizeof why), 0);
    to_server(tls, &s);
    assert_int_equal(SSL_read(s.ssl, got, (int)sizeof got), strlen(command));
    assert_memory_equal(got, command, strlen(command));

    assert_int_equal(SSL_write(s.ssl, reply, (int)strlen(reply)),
                     strlen(reply));
    read_bytewise(&s, tls, &plain);
    assert_buf_equal(&plain, reply, strlen(reply));

    /* Reading appends; nothing more is there. */
    assert_int_equal(asmtp__tls_feed(tls, "", 0), 0);
    assert_int_equal(asmtp__tls_read(tls, &plain, why, sizeof why), 0);
    assert_buf_equal(&plain, reply, strlen(reply));
    asmtp__buf_free(&plain);
    asmtp__tls_free(tls);
    server_free(&s);
}

static void test_large_data(void **state)
{
    size_t size = 300000;
    unsigned char *data = malloc(size);
    unsigned char *got = malloc(size);
    asmtp__tls *tls;
    asmtp__buf plain;
    size_t have = 0;
    char why[256] = "";
    server s;

    (void)state;
    assert_non_null(data);
    assert_non_null(got);
    for (size_t i = 0; i < size; i++)
        data[i] = (unsigned char)(i * 7 + i / 251);
    tls = connected(&s, 4096, NULL);

    assert_int_equal(asmtp__tls_write(tls, data, size, why, sizeof why), 0);
    to_server(tls, &s);
    while (have < size) {
        int n = SSL_read(s.ssl, got + have, (int)(size - have));

        assert_true(n > 0);
        have += (size_t)n;
    }
    assert_memory_equal(got, data, size);

    assert_int_equal(SSL_write(s.ssl, data, (int)size), (int)size);
    to_client(&s, tls, 1000);
    asmtp__buf_init(&plain, NULL);
    assert_int_equal(asmtp__tls_read(tls, &plain, why, sizeof why), 0);
    assert_buf_equal(&plain, data, size);

    asmtp__buf_free(&plain);
    asmtp__tls_free(tls);
    server_free(&s);
    free(data);
    free(got);
}

/*
 * The output pointer stays put while OpenSSL produces more (a stronger
 * promise than tls.h makes), and output_done() drops bytes from the front.
 */
static void test_output_pointer_stable(void **state)
{
    const unsigned char *first, *again;
    unsigned char copy[64];
    size_t first_len, len;
    asmtp__tls *tls;
    char why[256] = "";
    server s;

    (void)state;
    tls = connected(&s, 4096, NULL);
    assert_int_equal(asmtp__tls_write(tls, "NOOP\r\n", 6, why, sizeof why), 0);
    first = asmtp__tls_output(tls, &first_len);
    assert_true(first_len > 0 && first_len <= sizeof copy);
    memcpy(copy, first, first_len);
    assert_int_equal(asmtp__tls_write(tls, "QUIT\r\n", 6, why, sizeof why), 0);
    assert_memory_equal(first, copy, first_len);

    again = asmtp__tls_output(tls, &len);
    assert_true(len > first_len);
    assert_memory_equal(again, copy, first_len);
    asmtp__tls_output_done(tls, 1);
    again = asmtp__tls_output(tls, &len);
    assert_memory_equal(again, copy + 1, first_len - 1);

    to_server(tls, &s);
    assert_int_equal(asmtp__tls_output(tls, &len)[0], 0);
    assert_int_equal(len, 0);
    asmtp__tls_free(tls);
    server_free(&s);
}

static void test_close_notify_from_server(void **state)
{
    asmtp__tls *tls;
    asmtp__buf plain;
    char why[256] = "";
    server s;

    (void)state;
    tls = connected(&s, 4096, NULL);
    assert_int_equal(SSL_write(s.ssl, "221 bye\r\n", 9), 9);
    SSL_shutdown(s.ssl);
    to_client(&s, tls, 3);
    asmtp__buf_init(&plain, NULL);
    assert_int_equal(asmtp__tls_read(tls, &plain, why, sizeof why), 1);
    assert_buf_equal(&plain, "221 bye\r\n", 9);
    assert_int_equal(asmtp__tls_read(tls, &plain, why, sizeof why), 1);
    asmtp__buf_free(&plain);
    asmtp__tls_free(tls);
    server_free(&s);
}

static void test_client_shutdown(void **state)
{
    char got[16];
    asmtp__tls *tls;
    server s;

    (void)state;
    tls = connected(&s, 4096, NULL);
    asmtp__tls_shutdown(tls);
    to_server(tls, &s);
    assert_true(SSL_read(s.ssl, got, (int)sizeof got) <= 0);
    assert_int_equal(SSL_get_error(s.ssl, 0), SSL_ERROR_ZERO_RETURN);
    asmtp__tls_free(tls);
    server_free(&s);

    /* Before any handshake it is harmless. */
    assert_int_equal(
        asmtp__tls_new(&tls, NULL, "mx.example.test", NULL, NULL, 0), 0);
    asmtp__tls_shutdown(tls);
    assert_int_equal(ERR_peek_error(), 0);
    asmtp__tls_free(tls);
}

static void test_garbage_after_handshake(void **state)
{
    static const unsigned char garbage[] = "\x17\x03\x03\x00\x20"
                                           "not a TLS record, only 32 bytes.";
    asmtp__tls *tls;
    asmtp__buf plain;
    char why[256] = "";
    server s;

    (void)state;
    tls = connected(&s, 4096, NULL);
    assert_int_equal(asmtp__tls_feed(tls, garbage, sizeof garbage - 1), 0);
    asmtp__buf_init(&plain, NULL);
    assert_int_equal(asmtp__tls_read(tls, &plain, why, sizeof why),
                     ASMTP_ERR_TLS);
    assert_int_equal(asmtp__buf_size(&plain), 0);
    assert_non_null(strstr(why, "TLS read failed: "));
    assert_int_equal(ERR_peek_error(), 0);

    /* The connection is dead: nothing more goes out either. */
    assert_int_equal(asmtp__tls_write(tls, "QUIT\r\n", 6, why, sizeof why),
                     ASMTP_ERR_TLS);
    assert_string_equal(why,
                        "TLS write failed: the TLS session failed earlier");
    assert_int_equal(ERR_peek_error(), 0);
    asmtp__buf_free(&plain);
    asmtp__tls_free(tls);
    server_free(&s);
}

static void test_plaintext_during_handshake(void **state)
{
    asmtp__tls *tls;
    asmtp__buf plain;
    size_t len;
    char why[256] = "";

    (void)state;
    assert_int_equal(
        asmtp__tls_new(&tls, NULL, "mx.example.test", NULL, why, sizeof why),
        0);
    assert_int_equal(asmtp__tls_handshake(tls, why, sizeof why),
                     ASMTP__TLS_WANT);
    assert_true(asmtp__tls_output(tls, &len) != NULL && len > 0);
    asmtp__tls_output_done(tls, len);

    assert_int_equal(asmtp__tls_feed(tls, "220 hello\r\n", 11), 0);
    assert_int_equal(asmtp__tls_handshake(tls, why, sizeof why), ASMTP_ERR_TLS);
    assert_non_null(strstr(why, "TLS handshake failed: "));
    assert_int_equal(ERR_peek_error(), 0);

    asmtp__buf_init(&plain, NULL);
    assert_true(asmtp__tls_read(tls, &plain, why, sizeof why) < 0);
    assert_int_equal(asmtp__buf_size(&plain), 0);
    asmtp__buf_free(&plain);
    asmtp__tls_free(tls);
}

static void test_write_before_handshake(void **state)
{
    asmtp__tls *tls;
    char why[256] = "";

    (void)state;
    assert_int_equal(
        asmtp__tls_new(&tls, NULL, "mx.example.test", NULL, why, sizeof why),
        0);
    assert_int_equal(asmtp__tls_write(tls, "MAIL", 4, why, sizeof why),
                     ASMTP_ERR_TLS);
    assert_non_null(strstr(why, "before the handshake"));
    asmtp__tls_free(tls);
}

/* A server limited to the given versions; the client's result. */
static int connect_limited(int min_version, int max_version, char *why,
                           size_t why_size, char *version, size_t version_size)
{
    asmtp_tls_config config = trust_ca();
    asmtp__tls *tls;
    server s;
    int rv;

    server_init(&s, pki.server);
    SSL_CTX_set_security_level(s.ctx, 0);
    SSL_CTX_set_min_proto_version(s.ctx, min_version);
    SSL_CTX_set_max_proto_version(s.ctx, max_version);
    server_start(&s);
    assert_int_equal(
        asmtp__tls_new(&tls, &config, "mx.example.test", NULL, why, why_size),
        0);
    rv = pump_handshake(tls, &s, 4096, why, why_size);
    snprintf(version, version_size, "%s", asmtp__tls_version(tls));
    asmtp__tls_free(tls);
    server_free(&s);
    return rv;
}

static void test_old_protocols(void **state)
{
    char why[256] = "";
    char version[32];

    (void)state;
    assert_int_equal(connect_limited(TLS1_VERSION, TLS1_2_VERSION, why,
                                     sizeof why, version, sizeof version),
                     0);
    assert_string_equal(version, "TLSv1.2");

    /* Below TLS 1.2 never, even with a server that would allow it. */
    assert_int_equal(connect_limited(TLS1_VERSION, TLS1_1_VERSION, why,
                                     sizeof why, version, sizeof version),
                     ASMTP_ERR_TLS);
    assert_non_null(strstr(why, "TLS handshake failed: "));
    assert_string_equal(version, "");
}

/* Errors left in the thread's queue by others never show up as reasons. */
static void test_error_queue_isolated(void **state)
{
    asmtp_tls_config config = trust_ca();
    asmtp__tls *tls;
    asmtp__buf plain;
    char why[256] = "";
    server s;

    (void)state;
    ERR_raise(ERR_LIB_SSL, SSL_R_BAD_LENGTH);
    assert_int_equal(asmtp__tls_new(&tls, &config, "other.example.test", NULL,
                                    why, sizeof why),
                     0);
    server_init(&s, pki.server);
    server_start(&s);
    ERR_raise(ERR_LIB_SSL, SSL_R_BAD_LENGTH);
    assert_int_equal(pump_handshake(tls, &s, 4096, why, sizeof why),
                     ASMTP_ERR_TLS);
    assert_non_null(strstr(why, "hostname mismatch"));
    asmtp__tls_free(tls);
    server_free(&s);

    tls = connected(&s, 4096, NULL);
    assert_int_equal(asmtp__tls_feed(tls, "\x17\x03\x03\x00\x01x", 6), 0);
    asmtp__buf_init(&plain, NULL);
    ERR_raise(ERR_LIB_SSL, SSL_R_BAD_LENGTH);
    assert_int_equal(asmtp__tls_read(tls, &plain, why, sizeof why),
                     ASMTP_ERR_TLS);
    if (strstr(why, "bad length"))
        fail_msg("stale reason: %s", why);
    asmtp__buf_free(&plain);
    asmtp__tls_free(tls);
    server_free(&s);

    config.ca_file = "/nonexistent/ca.pem";
    ERR_raise(ERR_LIB_SSL, SSL_R_BAD_LENGTH);
    assert_int_equal(
        asmtp__tls_new(&tls, &config, "mx.example.test", NULL, why, sizeof why),
        ASMTP_ERR_TLS);
    assert_non_null(strstr(why, "No such file"));
}

static void test_small_why(void **state)
{
    asmtp_tls_config config = trust_ca();
    char why[12];

    (void)state;
    memset(why, 'x', sizeof why);
    assert_int_equal(
        try_connect(&config, "other.example.test", pki.server, why, sizeof why),
        ASMTP_ERR_TLS);
    assert_string_equal(why, "certificate");
    assert_int_equal(
        try_connect(&config, "other.example.test", pki.server, NULL, 0),
        ASMTP_ERR_TLS);
}

static void test_nomem(void **state)
{
    asmtp__tls *tls = NULL;
    asmtp__buf plain;
    failmem fm;
    size_t len;
    char why[256] = "";
    server s;

    (void)state;
    failmem_init(&fm, 1);
    assert_int_equal(
        asmtp__tls_new(&tls, NULL, "mx.example.test", &fm.mem, why, sizeof why),
        ASMTP_ERR_NOMEM);
    assert_null(tls);
    assert_int_equal(fm.live, 0);

    /* The output buffer cannot grow: the bytes wait for the next call. */
    failmem_init(&fm, 2);
    assert_int_equal(
        asmtp__tls_new(&tls, NULL, "mx.example.test", &fm.mem, why, sizeof why),
        0);
    assert_int_equal(asmtp__tls_handshake(tls, why, sizeof why),
                     ASMTP__TLS_WANT);
    asmtp__tls_output(tls, &len);
    assert_int_equal(len, 0);
    fm.fail_at = 0;
    asmtp__tls_output(tls, &len);
    assert_true(len > 0);
    asmtp__tls_free(tls);
    assert_int_equal(fm.live, 0);

    /* The caller's buffer cannot grow: the plaintext stays in TLS. */
    tls = connected(&s, 4096, NULL);
    assert_int_equal(SSL_write(s.ssl, "250 ok\r\n", 8), 8);
    to_client(&s, tls, 4096);
    failmem_init(&fm, 1);
    asmtp__buf_init(&plain, &fm.mem);
    assert_int_equal(asmtp__tls_read(tls, &plain, why, sizeof why),
                     ASMTP_ERR_NOMEM);
    fm.fail_at = 0;
    assert_int_equal(asmtp__tls_read(tls, &plain, why, sizeof why), 0);
    assert_buf_equal(&plain, "250 ok\r\n", 8);
    asmtp__buf_free(&plain);
    assert_int_equal(fm.live, 0);
    asmtp__tls_free(tls);
    server_free(&s);
}

/* The whole exchange through a counting allocator leaves nothing behind. */
static void test_own_allocations_freed(void **state)
{
    asmtp__tls *tls;
    failmem fm;
    char why[256] = "";
    server s;

    (void)state;
    failmem_init(&fm, 0);
    tls = connected(&s, 4096, &fm.mem);
    assert_int_equal(asmtp__tls_write(tls, "QUIT\r\n", 6, why, sizeof why), 0);
    to_server(tls, &s);
    assert_int_equal(fm.live, 1); /* the idle connection holds only itself */
    asmtp__tls_free(tls);
    assert_int_equal(fm.live, 0);
    assert_true(fm.count >= 2);
    server_free(&s);
    asmtp__tls_free(NULL);
}

/* ---- Session resumption ------------------------------------------------ */

/*
 * A verified connection to s with config. The server's context stays, so
 * that it takes back the tickets it issued; with read_tickets the client
 * reads what followed the handshake (TLS 1.3 sends its tickets there).
 */
static asmtp__tls *visit(server *s, const asmtp_tls_config *config,
                         bool read_tickets)
{
    asmtp__tls *tls;
    asmtp__buf plain;
    char why[256] = "";

    SSL_free(s->ssl);
    s->done = s->failed = false;
    server_start(s);
    assert_int_equal(
        asmtp__tls_new(&tls, config, "mx.example.test", NULL, why, sizeof why),
        0);
    assert_false(asmtp__tls_resumed(tls));
    assert_int_equal(pump_handshake(tls, s, 4096, why, sizeof why), 0);
    assert_true(s->done);
    assert_int_equal(asmtp__tls_resumed(tls), SSL_session_reused(s->ssl));
    if (read_tickets) {
        asmtp__buf_init(&plain, NULL);
        assert_int_equal(asmtp__tls_read(tls, &plain, why, sizeof why), 0);
        assert_int_equal(asmtp__buf_size(&plain), 0);
        asmtp__buf_free(&plain);
    }
    return tls;
}

/* Whether a connection like visit()'s resumed; it is freed. */
static bool visit_resumed(server *s, const asmtp_tls_config *config,
                          bool read_tickets)
{
    asmtp__tls *tls = visit(s, config, read_tickets);
    bool resumed = asmtp__tls_resumed(tls);

    asmtp__tls_free(tls);
    return resumed;
}

static asmtp_tls_config trust_ca_sharing(asmtp_tls_session_cache **cache)
{
    asmtp_tls_config config = trust_ca();

    assert_int_equal(asmtp_tls_session_cache_new(cache, NULL), 0);
    config.session_cache = *cache;
    return config;
}

static void test_tls13_ticket_resumes_once(void **state)
{
    asmtp_tls_session_cache *cache;
    asmtp_tls_config config = trust_ca_sharing(&cache);
    asmtp__tls *first, *second;
    asmtp__buf plain;
    char why[256] = "";
    server s;

    (void)state;
    server_init(&s, pki.server);
    /* Before the tickets are read, the cache has nothing to offer. */
    first = visit(&s, &config, false);
    assert_string_equal(asmtp__tls_version(first), "TLSv1.3");
    assert_false(visit_resumed(&s, &config, true));
    asmtp__tls_free(first);

    /* The second connection takes the ticket; the third finds none until
     * the second has read its own. */
    second = visit(&s, &config, false);
    assert_true(asmtp__tls_resumed(second));
    assert_false(visit_resumed(&s, &config, false));
    asmtp__buf_init(&plain, NULL);
    assert_int_equal(asmtp__tls_read(second, &plain, why, sizeof why), 0);
    asmtp__buf_free(&plain);
    assert_true(visit_resumed(&s, &config, true));

    /* The cache outlives the caller's reference while a connection holds
     * one. */
    asmtp_tls_session_cache_free(cache);
    asmtp__tls_free(second);
    server_free(&s);
}

static void test_tls12_session_resumes_again(void **state)
{
    asmtp_tls_session_cache *cache;
    asmtp_tls_config config = trust_ca_sharing(&cache);
    asmtp__tls *first;
    server s;

    (void)state;
    server_init(&s, pki.server);
    SSL_CTX_set_max_proto_version(s.ctx, TLS1_2_VERSION);
    /* The session is there once the handshake is done; it can be used
     * more than once. */
    first = visit(&s, &config, false);
    assert_string_equal(asmtp__tls_version(first), "TLSv1.2");
    assert_false(asmtp__tls_resumed(first));
    assert_true(visit_resumed(&s, &config, false));
    assert_true(visit_resumed(&s, &config, false));
    asmtp__tls_free(first);
    asmtp_tls_session_cache_free(cache);
    server_free(&s);
}

static void test_session_needs_same_settings(void **state)
{
    asmtp_tls_session_cache *cache;
    asmtp_tls_config config = trust_ca_sharing(&cache);
    asmtp_tls_config other = config;
    server s;

    (void)state;
    server_init(&s, pki.server);
    assert_false(visit_resumed(&s, &config, true));
    /* Another client identity, then another trust store. */
    other.cert_file = pki.client_cert;
    other.key_file = pki.client_key_file;
    assert_false(visit_resumed(&s, &other, true));
    assert_true(visit_resumed(&s, &other, true));
    other = config;
    other.ca_file = NULL;
    other.ca_path = pki.ca_dir;
    assert_false(visit_resumed(&s, &other, true));
    assert_true(visit_resumed(&s, &other, true));
    asmtp_tls_session_cache_free(cache);
    server_free(&s);
}

static void test_unverified_session_not_kept(void **state)
{
    asmtp_tls_session_cache *cache;
    asmtp_tls_config config = trust_ca_sharing(&cache);
    server s;

    (void)state;
    config.ca_file = NULL;
    config.no_verify = true;
    server_init(&s, pki.server);
    assert_false(visit_resumed(&s, &config, true));
    assert_false(visit_resumed(&s, &config, true));
    asmtp_tls_session_cache_free(cache);
    server_free(&s);
}

/* A connection that ended without close_notify leaves its session
 * usable; one that failed with a fatal alert does not. */
static void test_session_after_bad_end(void **state)
{
    static const unsigned char garbage[] = "\x17\x03\x03\x00\x20"
                                           "not a TLS record, only 32 bytes.";
    asmtp_tls_session_cache *cache;
    asmtp_tls_config config = trust_ca_sharing(&cache);
    asmtp__tls *tls;
    asmtp__buf plain;
    char why[256] = "";
    server s;

    (void)state;
    server_init(&s, pki.server);
    assert_false(visit_resumed(&s, &config, true));
    assert_true(visit_resumed(&s, &config, true));

    tls = visit(&s, &config, true);
    assert_true(asmtp__tls_resumed(tls));
    assert_int_equal(asmtp__tls_feed(tls, garbage, sizeof garbage - 1), 0);
    asmtp__buf_init(&plain, NULL);
    assert_int_equal(asmtp__tls_read(tls, &plain, why, sizeof why),
                     ASMTP_ERR_TLS);
    asmtp__buf_free(&plain);
    asmtp__tls_free(tls);
    assert_false(visit_resumed(&s, &config, true));
    asmtp_tls_session_cache_free(cache);
    server_free(&s);
}

static void test_session_cache_nomem(void **state)
{
    asmtp_tls_session_cache *cache = NULL;
    asmtp_tls_config config = trust_ca();
    asmtp__tls *tls = NULL;
    failmem fm;
    char why[256] = "";
    server s;

    (void)state;
    assert_int_equal(asmtp_tls_session_cache_new(NULL, NULL),
                     ASMTP_ERR_BAD_ARGUMENT);
    asmtp_tls_session_cache_free(NULL);
    failmem_init(&fm, 1);
    assert_int_equal(asmtp_tls_session_cache_new(&cache, &fm.mem),
                     ASMTP_ERR_NOMEM);
    assert_null(cache);

    /* The connection's copy of its settings (after the tls object). */
    assert_int_equal(asmtp_tls_session_cache_new(&cache, NULL), 0);
    config.session_cache = cache;
    failmem_init(&fm, 2);
    assert_int_equal(asmtp__tls_new(&tls, &config, "mx.example.test", &fm.mem,
                                    why, sizeof why),
                     ASMTP_ERR_NOMEM);
    assert_null(tls);
    assert_int_equal(fm.live, 0);
    asmtp_tls_session_cache_free(cache);

    /* The cache's copy: then nothing is kept, and the next connection
     * makes a full handshake. */
    failmem_init(&fm, 2);
    assert_int_equal(asmtp_tls_session_cache_new(&cache, &fm.mem), 0);
    config.session_cache = cache;
    server_init(&s, pki.server);
    assert_false(visit_resumed(&s, &config, true));
    assert_true(fm.failed > 0);
    fm.fail_at = 0;
    assert_false(visit_resumed(&s, &config, true));
    assert_true(visit_resumed(&s, &config, true));
    asmtp_tls_session_cache_free(cache);
    assert_int_equal(fm.live, 0);
    server_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handshake_verified),
        cmocka_unit_test(test_server_name_overrides_host),
        cmocka_unit_test(test_wrong_name),
        cmocka_unit_test(test_no_partial_wildcards),
        cmocka_unit_test(test_untrusted_server),
        cmocka_unit_test(test_no_verify_accepts_untrusted),
        cmocka_unit_test(test_no_verify_without_name),
        cmocka_unit_test(test_no_name_to_verify),
        cmocka_unit_test(test_name_too_long),
        cmocka_unit_test(test_default_store),
        cmocka_unit_test(test_ip_literals),
        cmocka_unit_test(test_ip_mismatch),
        cmocka_unit_test(test_ca_path),
        cmocka_unit_test(test_missing_ca_file),
        cmocka_unit_test(test_client_certificate),
        cmocka_unit_test(test_client_certificate_missing),
        cmocka_unit_test(test_client_key_problems),
        cmocka_unit_test(test_expert_ctx),
        cmocka_unit_test(test_expert_ctx_checks_name),
        cmocka_unit_test(test_data_both_ways),
        cmocka_unit_test(test_large_data),
        cmocka_unit_test(test_output_pointer_stable),
        cmocka_unit_test(test_close_notify_from_server),
        cmocka_unit_test(test_client_shutdown),
        cmocka_unit_test(test_garbage_after_handshake),
        cmocka_unit_test(test_plaintext_during_handshake),
        cmocka_unit_test(test_write_before_handshake),
        cmocka_unit_test(test_old_protocols),
        cmocka_unit_test(test_error_queue_isolated),
        cmocka_unit_test(test_small_why),
        cmocka_unit_test(test_nomem),
        cmocka_unit_test(test_own_allocations_freed),
        cmocka_unit_test(test_tls13_ticket_resumes_once),
        cmocka_unit_test(test_tls12_session_resumes_again),
        cmocka_unit_test(test_session_needs_same_settings),
        cmocka_unit_test(test_unverified_session_not_kept),
        cmocka_unit_test(test_session_after_bad_end),
        cmocka_unit_test(test_session_cache_nomem),
    };

    return cmocka_run_group_tests(tests, make_pki, free_pki);
}
