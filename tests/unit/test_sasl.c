/*
 * SASL mechanism and base64 tests: exact wire bytes for every mechanism
 * with ASCII, UTF-8 and non-UTF-8 credentials (expected values computed
 * independently with Python's base64 and hmac), protocol errors, the
 * choice of mechanism, allocation failures and the wiping of secrets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "asmtp/error.h"
#include "sasl.h"
#include "support.h"

#define COUNT(array) (sizeof(array) / sizeof((array)[0]))

static asmtp_bytes bytes_of(const void *data, size_t len)
{
    asmtp_bytes bytes = {data, len};

    return bytes;
}

static asmtp_bytes text(const char *s)
{
    return bytes_of(s, strlen(s));
}

static asmtp_credentials password_creds(asmtp_bytes username,
                                        asmtp_bytes password)
{
    asmtp_credentials creds;

    memset(&creds, 0, sizeof creds);
    creds.username = username;
    creds.password = password;
    return creds;
}

static asmtp_credentials token_creds(asmtp_bytes username, asmtp_bytes token)
{
    asmtp_credentials creds;

    memset(&creds, 0, sizeof creds);
    creds.username = username;
    creds.token = token;
    return creds;
}

static void assert_buf_equal(const asmtp__buf *buf, const char *expected)
{
    size_t len = strlen(expected);

    assert_int_equal(asmtp__buf_size(buf), len);
    if (len)
        assert_memory_equal(asmtp__buf_head(buf), expected, len);
}

/* Answer one challenge given as text, the challenge against a guard page. */
static int step_text(asmtp__sasl *sasl, const char *challenge, asmtp__buf *out)
{
    size_t len = strlen(challenge);
    unsigned char *copy = guard_copy(challenge, len);
    int rv = asmtp__sasl_step(sasl, copy, len, out);

    guard_free(copy);
    return rv;
}

/* start() must give exactly the expected initial response. */
static void check_initial(unsigned mechanism, const asmtp_credentials *creds,
                          const char *expected)
{
    asmtp__sasl sasl;
    asmtp__buf out;
    bool has_initial = false;

    asmtp__buf_init(&out, NULL);
    assert_int_equal(
        asmtp__sasl_start(&sasl, NULL, mechanism, creds, &out, &has_initial),
        0);
    assert_true(has_initial);
    assert_int_equal(sasl.mechanism, mechanism);
    assert_buf_equal(&out, expected);
    asmtp__sasl_free(&sasl);
    asmtp__buf_free(&out);
}

static void test_name(void **state)
{
    (void)state;
    assert_string_equal(asmtp__sasl_name(ASMTP_AUTH_PLAIN), "PLAIN");
    assert_string_equal(asmtp__sasl_name(ASMTP_AUTH_LOGIN), "LOGIN");
    assert_string_equal(asmtp__sasl_name(ASMTP_AUTH_CRAM_MD5), "CRAM-MD5");
    assert_string_equal(asmtp__sasl_name(ASMTP_AUTH_XOAUTH2), "XOAUTH2");
    assert_null(asmtp__sasl_name(0));
    assert_null(asmtp__sasl_name(ASMTP_AUTH_PLAIN | ASMTP_AUTH_LOGIN));
    assert_null(asmtp__sasl_name(1u << 4));
}

static void test_choose(void **state)
{
    const asmtp_credentials pass = password_creds(text("u"), text("p"));
    const asmtp_credentials empty_pass = password_creds(text("u"), text(""));
    const asmtp_credentials token = token_creds(text("u"), text("t"));
    asmtp_credentials both = password_creds(text("u"), text("p"));
    asmtp_credentials none = password_creds(text("u"), bytes_of(NULL, 0));
    const unsigned any = ASMTP_AUTH_ANY;
    const unsigned pl = ASMTP_AUTH_PLAIN | ASMTP_AUTH_LOGIN;

    (void)state;
    both.token = text("t");

    /* Passwords: CRAM-MD5, then PLAIN, then LOGIN. */
    assert_int_equal(asmtp__sasl_choose(any, 0, &pass), ASMTP_AUTH_CRAM_MD5);
    assert_int_equal(asmtp__sasl_choose(any, any, &pass), ASMTP_AUTH_CRAM_MD5);
    assert_int_equal(asmtp__sasl_choose(pl, 0, &pass), ASMTP_AUTH_PLAIN);
    assert_int_equal(asmtp__sasl_choose(ASMTP_AUTH_LOGIN, 0, &pass),
                     ASMTP_AUTH_LOGIN);
    assert_int_equal(asmtp__sasl_choose(any, pl, &pass), ASMTP_AUTH_PLAIN);
    assert_int_equal(asmtp__sasl_choose(any, ASMTP_AUTH_LOGIN, &pass),
                     ASMTP_AUTH_LOGIN);
    assert_int_equal(asmtp__sasl_choose(ASMTP_AUTH_CRAM_MD5, pl, &pass), 0);
    assert_int_equal(asmtp__sasl_choose(ASMTP_AUTH_XOAUTH2, 0, &pass), 0);
    assert_int_equal(asmtp__sasl_choose(0, 0, &pass), 0);
    assert_int_equal(asmtp__sasl_choose(pl, 0, &empty_pass), ASMTP_AUTH_PLAIN);
    assert_int_equal(asmtp__sasl_choose(any, 0, &none), 0);

    /* A token is not a password. */
    assert_int_equal(asmtp__sasl_choose(any, 0, &token), ASMTP_AUTH_XOAUTH2);
    assert_int_equal(asmtp__sasl_choose(pl, 0, &token), 0);
    assert_int_equal(asmtp__sasl_choose(any, pl, &token), 0);
    assert_int_equal(asmtp__sasl_choose(any, 0, &both), ASMTP_AUTH_XOAUTH2);
    assert_int_equal(asmtp__sasl_choose(pl, 0, &both), 0);

    /* Unknown offered bits are never chosen. */
    assert_int_equal(asmtp__sasl_choose(1u << 4, 0, &pass), 0);
    assert_int_equal(asmtp__sasl_choose(any, 0, NULL), 0);
}

static void test_base64_vectors(void **state)
{
    static const char *const vectors[][2] = {
        {"", ""},
        {"f", "Zg=="},
        {"fo", "Zm8="},
        {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="},
        {"fooba", "Zm9vYmE="},
        {"foobar", "Zm9vYmFy"},
        {"\xff\xfe\xfd", "//79"},
        {"\xfb\xef\xbe", "++++"},
    };

    (void)state;
    for (size_t i = 0; i < COUNT(vectors); i++) {
        size_t plain_len = strlen(vectors[i][0]);
        size_t coded_len = strlen(vectors[i][1]);
        unsigned char *coded = guard_copy(vectors[i][1], coded_len);
        asmtp__buf out;

        asmtp__buf_init(&out, NULL);
        assert_int_equal(asmtp__base64_encode(&out, vectors[i][0], plain_len),
                         0);
        assert_buf_equal(&out, vectors[i][1]);
        asmtp__buf_clear(&out);
        assert_int_equal(asmtp__base64_decode(&out, coded, coded_len), 0);
        assert_buf_equal(&out, vectors[i][0]);
        asmtp__buf_free(&out);
        guard_free(coded);
    }
}

static void test_base64_round_trip(void **state)
{
    unsigned char data[300];
    asmtp__buf coded;
    asmtp__buf plain;

    (void)state;
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (unsigned char)(i * 151 + 7);
    asmtp__buf_init(&coded, NULL);
    asmtp__buf_init(&plain, NULL);
    for (size_t len = 0; len <= sizeof data; len++) {
        unsigned char *copy;

        asmtp__buf_clear(&coded);
        asmtp__buf_clear(&plain);
        assert_int_equal(asmtp__base64_encode(&coded, data, len), 0);
        assert_int_equal(asmtp__buf_size(&coded), (len + 2) / 3 * 4);
        copy = guard_copy(len ? asmtp__buf_head(&coded) : NULL,
                          asmtp__buf_size(&coded));
        assert_int_equal(
            asmtp__base64_decode(&plain, copy, asmtp__buf_size(&coded)), 0);
        guard_free(copy);
        assert_int_equal(asmtp__buf_size(&plain), len);
        if (len)
            assert_memory_equal(asmtp__buf_head(&plain), data, len);
    }
    asmtp__buf_free(&coded);
    asmtp__buf_free(&plain);
}

static void test_base64_invalid(void **state)
{
    static const struct {
        const char *data;
        size_t len;
    } bad[] = {
        {"Zg=", 3},
        {"Zg", 2},
        {"Z", 1},
        {"Z===", 4},
        {"====", 4},
        {"=Zm8", 4},
        {"Zg==Zg==", 8},
        {"Z=g=", 4},
        {"Zm=v", 4},
        {"Zm9v\r\n", 6},
        {" Zm9v", 5},
        {"Zm9v ", 5},
        {"Zm9!", 4},
        {"Zm-v", 4},
        {"Zm_v", 4},
        {"Zm\0v", 4},
        {"\x80"
         "AAA",
         4},
        {"Zm8=x", 5},
        {"Zm9vYg=", 7},
        {"Zm9vY===", 8},
        {"Zm 9v", 5},
    };

    (void)state;
    for (size_t i = 0; i < COUNT(bad); i++) {
        unsigned char *copy = guard_copy(bad[i].data, bad[i].len);
        asmtp__buf out;

        asmtp__buf_init(&out, NULL);
        assert_int_equal(asmtp__buf_append_str(&out, "keep"), 0);
        assert_int_equal(asmtp__base64_decode(&out, copy, bad[i].len),
                         ASMTP_ERR_PROTOCOL);
        assert_buf_equal(&out, "keep");
        asmtp__buf_free(&out);
        guard_free(copy);
    }
}

/* Non-zero bits after the last whole byte are accepted and dropped. */
static void test_base64_trailing_bits(void **state)
{
    asmtp__buf out;

    (void)state;
    asmtp__buf_init(&out, NULL);
    assert_int_equal(asmtp__base64_decode(&out, "Zh==", 4), 0);
    assert_buf_equal(&out, "f");
    asmtp__buf_clear(&out);
    assert_int_equal(asmtp__base64_decode(&out, "Zm9=", 4), 0);
    assert_buf_equal(&out, "fo");
    asmtp__buf_clear(&out);
    assert_int_equal(asmtp__base64_decode(&out, NULL, 0), 0);
    assert_int_equal(asmtp__base64_encode(&out, NULL, 0), 0);
    assert_buf_equal(&out, "");
    asmtp__buf_free(&out);
}

static void test_base64_appends_and_nomem(void **state)
{
    failmem fm;
    asmtp__buf out;

    (void)state;
    failmem_init(&fm, 0);
    asmtp__buf_init(&out, &fm.mem);
    assert_int_equal(asmtp__buf_append_str(&out, "AUTH PLAIN "), 0);
    assert_int_equal(asmtp__base64_encode(&out, "foobar", 6), 0);
    assert_buf_equal(&out, "AUTH PLAIN Zm9vYmFy");
    assert_int_equal(asmtp__base64_decode(&out, "Zm9v", 4), 0);
    assert_buf_equal(&out, "AUTH PLAIN Zm9vYmFyfoo");

    /* Growth fails: the buffer keeps its bytes. */
    {
        static unsigned char big[3000];
        size_t before = asmtp__buf_size(&out);

        memset(big, 'A', sizeof big);
        fm.fail_at = fm.count + 1;
        assert_int_equal(asmtp__base64_encode(&out, big, sizeof big),
                         ASMTP_ERR_NOMEM);
        assert_int_equal(asmtp__buf_size(&out), before);
        assert_int_equal(asmtp__base64_decode(&out, big, sizeof big),
                         ASMTP_ERR_NOMEM);
        assert_int_equal(asmtp__buf_size(&out), before);
        assert_int_equal(asmtp__base64_encode(&out, big, SIZE_MAX),
                         ASMTP_ERR_NOMEM);
        assert_buf_equal(&out, "AUTH PLAIN Zm9vYmFyfoo");
    }
    asmtp__buf_free(&out);
    assert_int_equal(fm.live, 0);
}

static void test_plain(void **state)
{
    static const unsigned char user_8bit[] = {0xff, 0xfe, 'u', 's', 'e', 'r'};
    static const unsigned char pass_8bit[] = {0xff, 0xfe, 0x80};
    asmtp_credentials creds;

    (void)state;
    creds = password_creds(text("user"), text("pass"));
    check_initial(ASMTP_AUTH_PLAIN, &creds, "AHVzZXIAcGFzcw==");

    creds.authzid = text("admin");
    check_initial(ASMTP_AUTH_PLAIN, &creds, "YWRtaW4AdXNlcgBwYXNz");

    creds = password_creds(text("j\xc3\xb6rg"), text("p\xc3\xa4ssw\xc3\xb6rd"));
    check_initial(ASMTP_AUTH_PLAIN, &creds, "AGrDtnJnAHDDpHNzd8O2cmQ=");

    creds = password_creds(bytes_of(user_8bit, sizeof user_8bit),
                           bytes_of(pass_8bit, sizeof pass_8bit));
    check_initial(ASMTP_AUTH_PLAIN, &creds, "AP/+dXNlcgD//oA=");

    creds = password_creds(text("user"), text(""));
    check_initial(ASMTP_AUTH_PLAIN, &creds, "AHVzZXIA");
}

static void test_plain_rejects_nul(void **state)
{
    static const unsigned char with_nul[] = {'a', 0, 'b'};
    const asmtp_bytes nul = bytes_of(with_nul, sizeof with_nul);
    asmtp_credentials cases[3];
    asmtp__sasl sasl;
    asmtp__buf out;
    bool has_initial = true;

    (void)state;
    cases[0] = password_creds(nul, text("pass"));
    cases[1] = password_creds(text("user"), nul);
    cases[2] = password_creds(text("user"), text("pass"));
    cases[2].authzid = nul;
    asmtp__buf_init(&out, NULL);
    for (size_t i = 0; i < COUNT(cases); i++) {
        assert_int_equal(asmtp__sasl_start(&sasl, NULL, ASMTP_AUTH_PLAIN,
                                           &cases[i], &out, &has_initial),
                         ASMTP_ERR_BAD_ARGUMENT);
        assert_false(has_initial);
        assert_int_equal(asmtp__buf_size(&out), 0);
        asmtp__sasl_free(&sasl);
    }
    asmtp__buf_free(&out);
}

static void test_plain_challenge_is_protocol_error(void **state)
{
    const asmtp_credentials creds = password_creds(text("user"), text("p"));
    asmtp__sasl sasl;
    asmtp__buf out;

    (void)state;
    asmtp__buf_init(&out, NULL);
    assert_int_equal(
        asmtp__sasl_start(&sasl, NULL, ASMTP_AUTH_PLAIN, &creds, &out, NULL),
        0);
    asmtp__buf_clear(&out);
    assert_int_equal(step_text(&sasl, "", &out), ASMTP_ERR_PROTOCOL);
    assert_int_equal(asmtp__buf_size(&out), 0);
    asmtp__sasl_free(&sasl);
    asmtp__buf_free(&out);
}

/* LOGIN answers two prompts, whatever they say, and refuses a third. */
static void check_login(const asmtp_credentials *creds, const char *first,
                        const char *second)
{
    static const char *const prompts[] = {"VXNlcm5hbWU6", "not base64!", ""};
    for (size_t p = 0; p < COUNT(prompts); p++) {
        asmtp__sasl sasl;
        asmtp__buf out;
        bool has_initial = true;

        asmtp__buf_init(&out, NULL);
        assert_int_equal(asmtp__sasl_start(&sasl, NULL, ASMTP_AUTH_LOGIN, creds,
                                           &out, &has_initial),
                         0);
        assert_false(has_initial);
        assert_int_equal(asmtp__buf_size(&out), 0);
        assert_int_equal(step_text(&sasl, prompts[p], &out), 0);
        assert_buf_equal(&out, first);
        asmtp__buf_clear(&out);
        assert_int_equal(step_text(&sasl, "UGFzc3dvcmQ6", &out), 0);
        assert_buf_equal(&out, second);
        asmtp__buf_clear(&out);
        assert_int_equal(step_text(&sasl, "UGFzc3dvcmQ6", &out),
                         ASMTP_ERR_PROTOCOL);
        assert_int_equal(asmtp__buf_size(&out), 0);
        assert_int_equal(sasl.step, 2);
        asmtp__sasl_free(&sasl);
        asmtp__buf_free(&out);
    }
}

static void test_login(void **state)
{
    static const unsigned char pass_8bit[] = {0xff, 0xfe, 0x00, 0x01};
    asmtp_credentials creds;

    (void)state;
    creds = password_creds(text("user"), text("pass"));
    check_login(&creds, "dXNlcg==", "cGFzcw==");
    creds = password_creds(text("j\xc3\xb6rg"), text("p\xc3\xa4ssw\xc3\xb6rd"));
    check_login(&creds, "asO2cmc=", "cMOkc3N3w7ZyZA==");
    creds = password_creds(text("user"), bytes_of(pass_8bit, 4));
    check_login(&creds, "dXNlcg==", "//4AAQ==");
    creds = password_creds(text("user"), text(""));
    check_login(&creds, "dXNlcg==", "");
}

#define RFC2195_CHALLENGE                                                      \
    "PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+"

/* One CRAM-MD5 challenge gets the expected answer; a second is refused. */
static void check_cram_md5(const asmtp_credentials *creds, const char *expected)
{
    asmtp__sasl sasl;
    asmtp__buf out;
    bool has_initial = true;

    asmtp__buf_init(&out, NULL);
    assert_int_equal(asmtp__sasl_start(&sasl, NULL, ASMTP_AUTH_CRAM_MD5, creds,
                                       &out, &has_initial),
                     0);
    assert_false(has_initial);
    assert_int_equal(asmtp__buf_size(&out), 0);
    assert_int_equal(step_text(&sasl, RFC2195_CHALLENGE, &out), 0);
    assert_buf_equal(&out, expected);
    asmtp__buf_clear(&out);
    assert_int_equal(step_text(&sasl, RFC2195_CHALLENGE, &out),
                     ASMTP_ERR_PROTOCOL);
    assert_int_equal(asmtp__buf_size(&out), 0);
    asmtp__sasl_free(&sasl);
    asmtp__buf_free(&out);
}

static void test_cram_md5(void **state)
{
    static const unsigned char pass_8bit[] = {0xff, 0xfe, 0x00, 0x01};
    asmtp_credentials creds;

    (void)state;
    /* RFC 2195, section 2. */
    creds = password_creds(text("tim"), text("tanstaaftanstaaf"));
    check_cram_md5(&creds, "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw");
    creds = password_creds(text("j\xc3\xb6rg"), text("p\xc3\xa4ssw\xc3\xb6rd"));
    check_cram_md5(&creds,
                   "asO2cmcgZjA2OTJkNThkMGRmMGE5Nzk0OTZmZDY4MWVkOWVmMmI=");
    creds = password_creds(text("user"), bytes_of(pass_8bit, 4));
    check_cram_md5(&creds,
                   "dXNlciA4ZjllYTAxMGJhZjIxNjBiNzQwYWRiNjg3NmE5YjY2ZA==");
    creds = password_creds(text("user"), text(""));
    check_cram_md5(&creds,
                   "dXNlciBhMDBiNTRiODI0YWZhMTllYzJkZTBmNzNjYjJhMDRjMg==");
}

static void test_cram_md5_bad_challenge(void **state)
{
    static const char *const bad[] = {"", "not base64", "PDE4OTYu=", "===="};
    const asmtp_credentials creds = password_creds(text("tim"), text("x"));

    (void)state;
    for (size_t i = 0; i < COUNT(bad); i++) {
        asmtp__sasl sasl;
        asmtp__buf out;

        asmtp__buf_init(&out, NULL);
        assert_int_equal(asmtp__sasl_start(&sasl, NULL, ASMTP_AUTH_CRAM_MD5,
                                           &creds, &out, NULL),
                         0);
        assert_int_equal(step_text(&sasl, bad[i], &out), ASMTP_ERR_PROTOCOL);
        assert_int_equal(asmtp__buf_size(&out), 0);
        assert_int_equal(sasl.step, 0);
        asmtp__sasl_free(&sasl);
        asmtp__buf_free(&out);
    }
}

static void test_xoauth2(void **state)
{
    static const unsigned char user_8bit[] = {0xff, 0xfe};
    static const unsigned char token_8bit[] = {0x80, 0x81, 0x00};
    asmtp_credentials creds;

    (void)state;
    creds = token_creds(text("someone@example.com"), text("ya29.token"));
    check_initial(ASMTP_AUTH_XOAUTH2, &creds,
                  "dXNlcj1zb21lb25lQGV4YW1wbGUuY29tAWF1dGg9QmVhcmVyIHlhMjkudG"
                  "9rZW4BAQ==");
    creds = token_creds(text("j\xc3\xb6rg@example.com"),
                        text("t\xc3\xb6k\xc3\xa9n"));
    check_initial(
        ASMTP_AUTH_XOAUTH2, &creds,
        "dXNlcj1qw7ZyZ0BleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB0w7Zrw6luAQE=");
    creds = token_creds(bytes_of(user_8bit, 2), bytes_of(token_8bit, 3));
    check_initial(ASMTP_AUTH_XOAUTH2, &creds,
                  "dXNlcj3//gFhdXRoPUJlYXJlciCAgQABAQ==");
}

/* A 334 after the initial response carries the JSON error: the answer is
 * an empty line, and a further challenge is a protocol error. */
static void test_xoauth2_error_exchange(void **state)
{
    const asmtp_credentials creds = token_creds(text("u"), text("t"));
    asmtp__sasl sasl;
    asmtp__buf out;

    (void)state;
    asmtp__buf_init(&out, NULL);
    assert_int_equal(
        asmtp__sasl_start(&sasl, NULL, ASMTP_AUTH_XOAUTH2, &creds, &out, NULL),
        0);
    asmtp__buf_clear(&out);
    assert_false(sasl.xoauth2_error);
    assert_int_equal(
        step_text(&sasl,
                  "eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIiwic2NvcGUiOi"
                  "JodHRwczovL21haWwuZ29vZ2xlLmNvbS8ifQ==",
                  &out),
        0);
    assert_true(sasl.xoauth2_error);
    assert_int_equal(asmtp__buf_size(&out), 0);
    assert_int_equal(step_text(&sasl, "", &out), ASMTP_ERR_PROTOCOL);
    assert_int_equal(asmtp__buf_size(&out), 0);
    asmtp__sasl_free(&sasl);
    assert_false(sasl.xoauth2_error);
    asmtp__buf_free(&out);
}

static void test_start_bad_arguments(void **state)
{
    static const unsigned char soh[] = {'a', 0x01, 'b'};
    const asmtp_bytes absent = bytes_of(NULL, 0);
    const asmtp_bytes dangling = bytes_of(NULL, 3);
    const struct {
        unsigned mechanism;
        asmtp_credentials creds;
    } cases[] = {
        {ASMTP_AUTH_PLAIN, password_creds(text(""), text("p"))},
        {ASMTP_AUTH_PLAIN, password_creds(text("u"), absent)},
        {ASMTP_AUTH_LOGIN, password_creds(absent, text("p"))},
        {ASMTP_AUTH_LOGIN, password_creds(text("u"), absent)},
        {ASMTP_AUTH_CRAM_MD5, password_creds(text("u"), absent)},
        {ASMTP_AUTH_CRAM_MD5, token_creds(text("u"), text("t"))},
        {ASMTP_AUTH_XOAUTH2, password_creds(text("u"), text("p"))},
        {ASMTP_AUTH_XOAUTH2, token_creds(absent, text("t"))},
        {ASMTP_AUTH_XOAUTH2, token_creds(text("u"), bytes_of(soh, 3))},
        {ASMTP_AUTH_XOAUTH2, token_creds(bytes_of(soh, 3), text("t"))},
        {ASMTP_AUTH_LOGIN, password_creds(dangling, text("p"))},
        {ASMTP_AUTH_LOGIN, password_creds(text("u"), dangling)},
        {ASMTP_AUTH_XOAUTH2, token_creds(text("u"), dangling)},
        {0, password_creds(text("u"), text("p"))},
        {ASMTP_AUTH_PLAIN | ASMTP_AUTH_LOGIN,
         password_creds(text("u"), text("p"))},
        {1u << 4, password_creds(text("u"), text("p"))},
    };
    asmtp_credentials authz = password_creds(text("u"), text("p"));
    const asmtp_credentials good = password_creds(text("u"), text("p"));
    asmtp__sasl sasl;
    asmtp__buf out;
    bool has_initial;

    (void)state;
    asmtp__buf_init(&out, NULL);
    for (size_t i = 0; i < COUNT(cases); i++) {
        has_initial = true;
        assert_int_equal(asmtp__sasl_start(&sasl, NULL, cases[i].mechanism,
                                           &cases[i].creds, &out, &has_initial),
                         ASMTP_ERR_BAD_ARGUMENT);
        assert_false(has_initial);
        assert_int_equal(asmtp__buf_size(&out), 0);
        asmtp__sasl_free(&sasl);
    }
    authz.authzid = dangling;
    assert_int_equal(
        asmtp__sasl_start(&sasl, NULL, ASMTP_AUTH_PLAIN, &authz, &out, NULL),
        ASMTP_ERR_BAD_ARGUMENT);
    assert_int_equal(
        asmtp__sasl_start(&sasl, NULL, ASMTP_AUTH_PLAIN, NULL, &out, NULL),
        ASMTP_ERR_BAD_ARGUMENT);
    assert_int_equal(
        asmtp__sasl_start(&sasl, NULL, ASMTP_AUTH_PLAIN, &good, NULL, NULL),
        ASMTP_ERR_BAD_ARGUMENT);
    asmtp__sasl_free(&sasl);
    asmtp__sasl_free(NULL);
    asmtp__buf_free(&out);
}

static void test_step_misuse(void **state)
{
    const asmtp_credentials creds = password_creds(text("u"), text("p"));
    asmtp__sasl sasl;
    asmtp__buf out;

    (void)state;
    asmtp__buf_init(&out, NULL);
    assert_int_equal(
        asmtp__sasl_start(&sasl, NULL, ASMTP_AUTH_LOGIN, &creds, &out, NULL),
        0);
    assert_int_equal(asmtp__sasl_step(&sasl, NULL, 0, NULL),
                     ASMTP_ERR_BAD_ARGUMENT);
    assert_int_equal(asmtp__sasl_step(&sasl, NULL, 4, &out),
                     ASMTP_ERR_BAD_ARGUMENT);
    assert_int_equal(asmtp__sasl_step(&sasl, NULL, 0, &out), 0);
    assert_buf_equal(&out, "dQ==");
    asmtp__sasl_free(&sasl);

    /* After free, or after a failed start, there is no exchange. */
    asmtp__buf_clear(&out);
    assert_int_equal(step_text(&sasl, "", &out), ASMTP_ERR_STATE);
    asmtp__sasl_start(&sasl, NULL, 0, &creds, &out, NULL);
    assert_int_equal(step_text(&sasl, "", &out), ASMTP_ERR_STATE);
    assert_int_equal(asmtp__buf_size(&out), 0);
    asmtp__sasl_free(&sasl);
    asmtp__buf_free(&out);
}

/* A whole exchange with every allocation failing in turn. */
static void check_nomem(unsigned mechanism, const asmtp_credentials *creds,
                        const char *const *challenges, size_t count)
{
    for (size_t fail_at = 1;; fail_at++) {
        failmem fm;
        asmtp__sasl sasl;
        asmtp__buf out;
        int rv;
        size_t i = 0;

        failmem_init(&fm, fail_at);
        asmtp__buf_init(&out, &fm.mem);
        rv = asmtp__sasl_start(&sasl, &fm.mem, mechanism, creds, &out, NULL);
        for (; rv == 0 && i < count; i++) {
            asmtp__buf_clear(&out);
            rv = step_text(&sasl, challenges[i], &out);
        }
        if (rv == 0)
            assert_int_equal(fm.failed, 0);
        else {
            assert_int_equal(rv, ASMTP_ERR_NOMEM);
            assert_int_equal(asmtp__buf_size(&out), 0);
        }
        asmtp__sasl_free(&sasl);
        asmtp__buf_free(&out);
        assert_int_equal(fm.live, 0);
        if (rv == 0)
            break;
    }
}

static void test_nomem(void **state)
{
    static const char *const login[] = {"VXNlcm5hbWU6", "UGFzc3dvcmQ6"};
    static const char *const cram[] = {RFC2195_CHALLENGE};
    static const char *const xoauth2[] = {"e30="};
    asmtp_credentials creds = password_creds(text("tim"), text("secret"));

    (void)state;
    creds.authzid = text("admin");
    check_nomem(ASMTP_AUTH_PLAIN, &creds, NULL, 0);
    check_nomem(ASMTP_AUTH_LOGIN, &creds, login, 2);
    check_nomem(ASMTP_AUTH_CRAM_MD5, &creds, cram, 1);
    creds = token_creds(text("tim"), text("ya29.token"));
    check_nomem(ASMTP_AUTH_XOAUTH2, &creds, xoauth2, 1);
}

/*
 * An allocator that, whenever a block is released (by free or by being
 * moved by realloc), checks that the secret is no longer in it.
 */
#define SECRET "S3cr3t-Pa55w0rd-n0t-wiped"

typedef struct scan_header {
    size_t size;
    size_t align; /* keeps the payload aligned for any type */
} scan_header;

static size_t secrets_found;

static void scan_block(scan_header *header)
{
    const unsigned char *p = (const unsigned char *)(header + 1);
    size_t len = strlen(SECRET);

    for (size_t i = 0; i + len <= header->size; i++)
        if (memcmp(p + i, SECRET, len) == 0)
            secrets_found++;
}

static void *scan_malloc(size_t size, void *user_data)
{
    scan_header *header = malloc(sizeof *header + size);

    (void)user_data;
    if (!header)
        return NULL;
    header->size = size;
    return header + 1;
}

static void scan_free(void *ptr, void *user_data)
{
    scan_header *header;

    (void)user_data;
    if (!ptr)
        return;
    header = (scan_header *)ptr - 1;
    scan_block(header);
    free(header);
}

static void *scan_realloc(void *ptr, size_t size, void *user_data)
{
    void *moved = scan_malloc(size, user_data);

    if (!moved)
        return NULL;
    if (ptr) {
        size_t old = ((scan_header *)ptr - 1)->size;

        memcpy(moved, ptr, old < size ? old : size);
        scan_free(ptr, user_data);
    }
    return moved;
}

static void run_scanned(const asmtp_mem *mem, unsigned mechanism,
                        const asmtp_credentials *creds)
{
    asmtp__sasl sasl;
    asmtp__buf out;

    asmtp__buf_init(&out, mem);
    assert_int_equal(
        asmtp__sasl_start(&sasl, mem, mechanism, creds, &out, NULL), 0);
    if (mechanism == ASMTP_AUTH_LOGIN)
        assert_int_equal(step_text(&sasl, "", &out), 0);
    if (mechanism != ASMTP_AUTH_PLAIN)
        assert_int_equal(step_text(&sasl, RFC2195_CHALLENGE, &out), 0);
    asmtp__sasl_free(&sasl);
    asmtp__buf_free(&out);
}

static void test_secrets_wiped(void **state)
{
    static char long_secret[3000];
    const asmtp_mem mem = {NULL, scan_malloc, scan_realloc, scan_free};
    const unsigned mechanisms[] = {ASMTP_AUTH_PLAIN, ASMTP_AUTH_LOGIN,
                                   ASMTP_AUTH_CRAM_MD5, ASMTP_AUTH_XOAUTH2};
    asmtp_credentials creds;

    (void)state;
    /* A long secret too, so that buffers grow past their first size. */
    memset(long_secret, 'x', sizeof long_secret);
    memcpy(long_secret + 1000, SECRET, strlen(SECRET));
    long_secret[sizeof long_secret - 1] = '\0';
    for (int pass = 0; pass < 2; pass++) {
        const char *secret = pass ? long_secret : SECRET;

        for (size_t i = 0; i < COUNT(mechanisms); i++) {
            creds = password_creds(text(secret), text(secret));
            creds.token = text(secret);
            creds.authzid = text(secret);
            run_scanned(&mem, mechanisms[i], &creds);
        }
    }
    assert_int_equal(secrets_found, 0);

    /* The scanner does find a secret left in a freed block. */
    {
        char *leak = mem.malloc(64, NULL);

        memcpy(leak, SECRET, strlen(SECRET));
        mem.free(leak, NULL);
        assert_int_equal(secrets_found, 1);
        secrets_found = 0;
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_name),
        cmocka_unit_test(test_choose),
        cmocka_unit_test(test_base64_vectors),
        cmocka_unit_test(test_base64_round_trip),
        cmocka_unit_test(test_base64_invalid),
        cmocka_unit_test(test_base64_trailing_bits),
        cmocka_unit_test(test_base64_appends_and_nomem),
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_plain_rejects_nul),
        cmocka_unit_test(test_plain_challenge_is_protocol_error),
        cmocka_unit_test(test_login),
        cmocka_unit_test(test_cram_md5),
        cmocka_unit_test(test_cram_md5_bad_challenge),
        cmocka_unit_test(test_xoauth2),
        cmocka_unit_test(test_xoauth2_error_exchange),
        cmocka_unit_test(test_start_bad_arguments),
        cmocka_unit_test(test_step_misuse),
        cmocka_unit_test(test_nomem),
        cmocka_unit_test(test_secrets_wiped),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
