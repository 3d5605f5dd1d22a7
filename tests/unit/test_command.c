/*
 * Unit tests for the command encoder (src/command.c): the exact bytes of
 * every command and parameter, refusal of every control character in every
 * argument, the line limits, and allocation failures. Each test starts from
 * a buffer already holding bytes, so "appends nothing" is checked as such.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "asmtp/error.h"
#include "command.h"
#include "support.h"

#define PREFIX "250 queued\r\n"

#define BAD  ASMTP_ERR_BAD_ARGUMENT
#define LONG ASMTP_ERR_COMMAND_TOO_LONG

/* ---- Helpers ---- */

/* A buffer holding PREFIX behind a consumed front, as a session leaves it. */
static void buf_with_prefix(asmtp__buf *buf)
{
    asmtp__buf_init(buf, NULL);
    assert_int_equal(asmtp__buf_append_str(buf, "xx" PREFIX), 0);
    asmtp__buf_consume(buf, 2);
}

static void assert_unchanged(const asmtp__buf *buf)
{
    assert_int_equal(asmtp__buf_size(buf), strlen(PREFIX));
    assert_memory_equal(asmtp__buf_head(buf), PREFIX, strlen(PREFIX));
}

/* rv is 0 and exactly expected was appended; then drop it again. */
static void expect_line(asmtp__buf *buf, int rv, const char *expected)
{
    size_t prefix_len = strlen(PREFIX);
    size_t len = strlen(expected);

    assert_int_equal(rv, 0);
    assert_int_equal(asmtp__buf_size(buf), prefix_len + len);
    assert_memory_equal(asmtp__buf_head(buf), PREFIX, prefix_len);
    if (memcmp(asmtp__buf_head(buf) + prefix_len, expected, len) != 0)
        fail_msg("appended \"%.*s\", expected \"%s\"", (int)len,
                 (const char *)asmtp__buf_head(buf) + prefix_len, expected);
    asmtp__buf_truncate(buf, buf->off + prefix_len);
}

static void expect_error(asmtp__buf *buf, int rv, int code)
{
    assert_int_equal(rv, code);
    assert_unchanged(buf);
}

/* A NUL-terminated copy that ends right before an unreadable page. */
static char *guarded(const char *s)
{
    return (char *)guard_copy(s, strlen(s) + 1);
}

static void unguard(char *s)
{
    guard_free((unsigned char *)s);
}

/* n copies of c, NUL-terminated; free() it. */
static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);

    assert_non_null(s);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

static char *concat(const char *a, const char *b)
{
    size_t len_a = strlen(a), len_b = strlen(b);
    char *s = malloc(len_a + len_b + 1);

    assert_non_null(s);
    memcpy(s, a, len_a);
    memcpy(s + len_a, b, len_b + 1);
    return s;
}

/* ---- EHLO, HELO and the commands without a path ---- */

static void test_ehlo_helo(void **state)
{
    static const char *const good[] = {
        "example.com",        "[192.0.2.1]", "[IPv6:::1]",
        "[IPv6:2001:db8::1]", "localhost",   "host_with_underscore.example",
    };
    asmtp__buf buf;
    char expected[128];

    (void)state;
    buf_with_prefix(&buf);
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        char *domain = guarded(good[i]);

        snprintf(expected, sizeof expected, "EHLO %s\r\n", good[i]);
        expect_line(&buf, asmtp__command_ehlo(&buf, domain), expected);
        snprintf(expected, sizeof expected, "HELO %s\r\n", good[i]);
        expect_line(&buf, asmtp__command_helo(&buf, domain), expected);
        unguard(domain);
    }
    expect_error(&buf, asmtp__command_ehlo(&buf, ""), BAD);
    expect_error(&buf, asmtp__command_ehlo(&buf, NULL), BAD);
    expect_error(&buf, asmtp__command_ehlo(&buf, "a b"), BAD);
    expect_error(&buf, asmtp__command_ehlo(&buf, " "), BAD);
    expect_error(&buf, asmtp__command_ehlo(&buf, "a\r\nQUIT"), BAD);
    expect_error(&buf, asmtp__command_helo(&buf, ""), BAD);
    expect_error(&buf, asmtp__command_helo(&buf, NULL), BAD);
    expect_error(&buf, asmtp__command_helo(&buf, "a b"), BAD);
    asmtp__buf_free(&buf);
}

static void test_commands_without_arguments(void **state)
{
    asmtp__buf buf;

    (void)state;
    buf_with_prefix(&buf);
    expect_line(&buf, asmtp__command_data(&buf), "DATA\r\n");
    expect_line(&buf, asmtp__command_rset(&buf), "RSET\r\n");
    expect_line(&buf, asmtp__command_starttls(&buf), "STARTTLS\r\n");
    expect_line(&buf, asmtp__command_quit(&buf), "QUIT\r\n");
    asmtp__buf_free(&buf);
}

static void test_bdat(void **state)
{
    asmtp__buf buf;

    (void)state;
    buf_with_prefix(&buf);
    expect_line(&buf, asmtp__command_bdat(&buf, 0, false), "BDAT 0\r\n");
    expect_line(&buf, asmtp__command_bdat(&buf, 0, true), "BDAT 0 LAST\r\n");
    expect_line(&buf, asmtp__command_bdat(&buf, 1234567, false),
                "BDAT 1234567\r\n");
    expect_line(&buf, asmtp__command_bdat(&buf, 1000, true),
                "BDAT 1000 LAST\r\n");
    expect_line(&buf, asmtp__command_bdat(&buf, UINT64_MAX, true),
                "BDAT 18446744073709551615 LAST\r\n");
    asmtp__buf_free(&buf);
}

static void test_optional_arguments(void **state)
{
    asmtp__buf buf;

    (void)state;
    buf_with_prefix(&buf);
    expect_line(&buf, asmtp__command_noop(&buf, NULL), "NOOP\r\n");
    expect_line(&buf, asmtp__command_noop(&buf, ""), "NOOP\r\n");
    expect_line(&buf, asmtp__command_noop(&buf, "ping 1"), "NOOP ping 1\r\n");
    expect_line(&buf, asmtp__command_help(&buf, NULL), "HELP\r\n");
    expect_line(&buf, asmtp__command_help(&buf, ""), "HELP\r\n");
    expect_line(&buf, asmtp__command_help(&buf, "MAIL"), "HELP MAIL\r\n");
    asmtp__buf_free(&buf);
}

static void test_required_arguments(void **state)
{
    asmtp__buf buf;

    (void)state;
    buf_with_prefix(&buf);
    expect_line(&buf, asmtp__command_vrfy(&buf, "Smith"), "VRFY Smith\r\n");
    expect_line(&buf, asmtp__command_vrfy(&buf, "<jo@example.com>"),
                "VRFY <jo@example.com>\r\n");
    expect_line(&buf, asmtp__command_expn(&buf, "list-users"),
                "EXPN list-users\r\n");
    expect_line(&buf, asmtp__command_expn(&buf, "Some List"),
                "EXPN Some List\r\n");
    expect_error(&buf, asmtp__command_vrfy(&buf, NULL), BAD);
    expect_error(&buf, asmtp__command_vrfy(&buf, ""), BAD);
    expect_error(&buf, asmtp__command_expn(&buf, NULL), BAD);
    expect_error(&buf, asmtp__command_expn(&buf, ""), BAD);
    asmtp__buf_free(&buf);
}

static void test_null_output(void **state)
{
    asmtp__mail_params mail = {0};
    asmtp__rcpt_params rcpt = {0};

    (void)state;
    assert_int_equal(asmtp__command_ehlo(NULL, "a"), BAD);
    assert_int_equal(asmtp__command_helo(NULL, "a"), BAD);
    assert_int_equal(asmtp__command_mail(NULL, "a@b", &mail), BAD);
    assert_int_equal(asmtp__command_rcpt(NULL, "a@b", &rcpt), BAD);
    assert_int_equal(asmtp__command_data(NULL), BAD);
    assert_int_equal(asmtp__command_bdat(NULL, 1, true), BAD);
    assert_int_equal(asmtp__command_rset(NULL), BAD);
    assert_int_equal(asmtp__command_noop(NULL, NULL), BAD);
    assert_int_equal(asmtp__command_vrfy(NULL, "a"), BAD);
    assert_int_equal(asmtp__command_expn(NULL, "a"), BAD);
    assert_int_equal(asmtp__command_help(NULL, NULL), BAD);
    assert_int_equal(asmtp__command_starttls(NULL), BAD);
    assert_int_equal(asmtp__command_auth(NULL, "PLAIN", NULL, 0), BAD);
    assert_int_equal(asmtp__command_quit(NULL), BAD);
    assert_int_equal(asmtp__command_raw(NULL, "X", 1), BAD);
    assert_int_equal(asmtp__xtext_append(NULL, "X", 1), BAD);
}

/* ---- MAIL and RCPT paths ---- */

static void test_mail_rcpt_basic(void **state)
{
    asmtp__mail_params mail = {0};
    asmtp__rcpt_params rcpt = {0};
    asmtp__buf buf;

    (void)state;
    buf_with_prefix(&buf);
    expect_line(&buf, asmtp__command_mail(&buf, "", NULL), "MAIL FROM:<>\r\n");
    expect_line(&buf, asmtp__command_mail(&buf, "", &mail), "MAIL FROM:<>\r\n");
    expect_line(&buf, asmtp__command_mail(&buf, "jo@example.com", NULL),
                "MAIL FROM:<jo@example.com>\r\n");
    expect_line(&buf, asmtp__command_mail(&buf, "jo@example.com", &mail),
                "MAIL FROM:<jo@example.com>\r\n");
    expect_line(&buf, asmtp__command_rcpt(&buf, "jo@example.com", NULL),
                "RCPT TO:<jo@example.com>\r\n");
    expect_line(&buf, asmtp__command_rcpt(&buf, "jo@example.com", &rcpt),
                "RCPT TO:<jo@example.com>\r\n");
    expect_error(&buf, asmtp__command_mail(&buf, NULL, NULL), BAD);
    expect_error(&buf, asmtp__command_rcpt(&buf, NULL, NULL), BAD);
    expect_error(&buf, asmtp__command_rcpt(&buf, "", NULL), BAD);
    expect_error(&buf, asmtp__command_rcpt(&buf, "", &rcpt), BAD);
    asmtp__buf_free(&buf);
}

static void test_postmaster(void **state)
{
    static const char *const names[] = {"postmaster", "Postmaster",
                                        "POSTMASTER", "PostMaster"};
    static const char *const refused[] = {
        "postmaste",  "postmasterx", "post master", "postmastex",
        "xostmaster", "jo",          "<>"};
    asmtp__buf buf;
    char expected[64];

    (void)state;
    buf_with_prefix(&buf);
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        snprintf(expected, sizeof expected, "RCPT TO:<%s>\r\n", names[i]);
        expect_line(&buf, asmtp__command_rcpt(&buf, names[i], NULL), expected);
        expect_error(&buf, asmtp__command_mail(&buf, names[i], NULL), BAD);
    }
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        expect_error(&buf, asmtp__command_rcpt(&buf, refused[i], NULL), BAD);
        expect_error(&buf, asmtp__command_mail(&buf, refused[i], NULL), BAD);
    }
    expect_line(&buf, asmtp__command_rcpt(&buf, "postmaster@example.com", NULL),
                "RCPT TO:<postmaster@example.com>\r\n");
    asmtp__buf_free(&buf);
}

/* Expect path as the encoded form of input in MAIL and RCPT, or NULL. */
static void expect_path(asmtp__buf *buf, const char *input, const char *path)
{
    char *arg = guarded(input);
    char expected[640];

    if (path) {
        snprintf(expected, sizeof expected, "MAIL FROM:<%s>\r\n", path);
        expect_line(buf, asmtp__command_mail(buf, arg, NULL), expected);
        snprintf(expected, sizeof expected, "RCPT TO:<%s>\r\n", path);
        expect_line(buf, asmtp__command_rcpt(buf, arg, NULL), expected);
    } else {
        expect_error(buf, asmtp__command_mail(buf, arg, NULL), BAD);
        expect_error(buf, asmtp__command_rcpt(buf, arg, NULL), BAD);
    }
    unguard(arg);
}

static void test_local_part_quoting(void **state)
{
    static const struct {
        const char *input;
        const char *path;
    } cases[] = {
        {"jo@example.com", "jo@example.com"},
        {"first.last@example.com", "first.last@example.com"},
        {"a.b.c.d@example.com", "a.b.c.d@example.com"},
        {"!#$%&'*+-/=?^_`{|}~@example.com", "!#$%&'*+-/=?^_`{|}~@example.com"},
        {"A9z@example.com", "A9z@example.com"},
        {"a b@example.com", "\"a b\"@example.com"},
        {" @example.com", "\" \"@example.com"},
        {".a@example.com", "\".a\"@example.com"},
        {"a.@example.com", "\"a.\"@example.com"},
        {"a..b@example.com", "\"a..b\"@example.com"},
        {".@example.com", "\".\"@example.com"},
        {"a\"b@example.com", "\"a\\\"b\"@example.com"},
        {"a\\b@example.com", "\"a\\\\b\"@example.com"},
        {"a(b)@example.com", "\"a(b)\"@example.com"},
        {"a,b@example.com", "\"a,b\"@example.com"},
        {"a:b@example.com", "\"a:b\"@example.com"},
        {"a;b@example.com", "\"a;b\"@example.com"},
        {"a<b@example.com", "\"a<b\"@example.com"},
        {"a>b@example.com", "\"a>b\"@example.com"},
        {"a[b]@example.com", "\"a[b]\"@example.com"},
        {"a@b@example.com", "\"a@b\"@example.com"},
        {"@@example.com", "\"@\"@example.com"},
        /* Already quoted: sent as it is. */
        {"\"a b\"@example.com", "\"a b\"@example.com"},
        {"\"a\\\"b\"@example.com", "\"a\\\"b\"@example.com"},
        {"\"a\\\\b\"@example.com", "\"a\\\\b\"@example.com"},
        {"\"\"@example.com", "\"\"@example.com"},
        {"\"a@b\"@example.com", "\"a@b\"@example.com"},
        {"\"j\xc3\xb6 r\"@example.com", "\"j\xc3\xb6 r\"@example.com"},
        /* Looks quoted but is not: quoted again. */
        {"\"@example.com", "\"\\\"\"@example.com"},
        {"\"ab@example.com", "\"\\\"ab\"@example.com"},
        {"ab\"@example.com", "\"ab\\\"\"@example.com"},
        {"\"a\"b\"@example.com", "\"\\\"a\\\"b\\\"\"@example.com"},
        {"\"abc\\\"@example.com", "\"\\\"abc\\\\\\\"\"@example.com"},
        {"\"a\"@\"b\"@example.com", "\"\\\"a\\\"@\\\"b\\\"\"@example.com"},
        {"\"a\\\xc3\xb6\"@example.com",
         "\"\\\"a\\\\\xc3\xb6\\\"\"@example.com"},
        {"a\"@example.com", "\"a\\\"\"@example.com"},
        /* UTF-8 local parts (RFC 6531). */
        {"j\xc3\xb6rg@example.com", "j\xc3\xb6rg@example.com"},
        {"\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.\xe5\xb9\xbf"
         "\xe5\x91\x8a",
         "\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.\xe5\xb9\xbf"
         "\xe5\x91\x8a"},
        {"j\xc3\xb6 rg@example.com", "\"j\xc3\xb6 rg\"@example.com"},
        /* No local part, no domain, no '@'. */
        {"@example.com", NULL},
        {"jo@", NULL},
        {"jo", NULL},
        {"@", NULL},
        {"<jo@example.com>", NULL},
        {"jo@example.com> SIZE=1", NULL},
        {"a b@c d", NULL},
    };
    asmtp__buf buf;

    (void)state;
    buf_with_prefix(&buf);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        expect_path(&buf, cases[i].input, cases[i].path);
    asmtp__buf_free(&buf);
}

static void test_domains(void **state)
{
    static const char *const good[] = {
        "example.com",
        "a",
        "a-b.example",
        "a--b.example",
        "xn--bcher-kva.example",
        "1.2.3.4",
        "EXAMPLE.COM",
        "b\xc3\xbc\x63her.example",
        "\xe4\xbe\x8b\xe5\xad\x90.\xe5\xb9\xbf\xe5\x91\x8a",
        "[192.0.2.1]",
        "[IPv6:2001:db8::1]",
        "[IPv6:::1]",
        "[IPv6:::ffff:192.0.2.1]",
        "[x-tag:some!content]",
    };
    static const char *const bad[] = {
        ".example.com",
        "example.com.",
        "a..b",
        "-a.example",
        "a-.example",
        "a.-b",
        "a_b.example",
        "a b.example",
        "a<b",
        "a>b",
        "a\"b",
        "a,b",
        "a(b)",
        "a;b",
        "a:b",
        "a/b",
        "a+b",
        "a=b",
        "a!b",
        "a\\b",
        "[",
        "]",
        "[]",
        "[a]b",
        "a[b]",
        "[a[b]",
        "[a]]",
        "[a\\b]",
        "[a b]",
        "[a>b]",
        "[a<b]",
        "[a\"b]",
        "[\xc3\xb6]",
        "a]",
        "[a",
        ".",
        "-",
        "b> SIZE=1",
        "b>\r\nRSET",
    };
    asmtp__buf buf;
    char input[96], path[96];

    (void)state;
    buf_with_prefix(&buf);
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        snprintf(input, sizeof input, "jo@%s", good[i]);
        expect_path(&buf, input, input);
    }
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        snprintf(input, sizeof input, "jo@%s", bad[i]);
        expect_path(&buf, input, NULL);
        snprintf(input, sizeof input, "a b@%s", bad[i]);
        expect_path(&buf, input, NULL);
    }
    snprintf(input, sizeof input, "a b@[IPv6:::1]");
    snprintf(path, sizeof path, "\"a b\"@[IPv6:::1]");
    expect_path(&buf, input, path);
    asmtp__buf_free(&buf);
}

/* ---- MAIL parameters ---- */

static void test_mail_params_each(void **state)
{
    asmtp__buf buf;
    asmtp__mail_params p;

    (void)state;
    buf_with_prefix(&buf);
    p = (asmtp__mail_params){.has_size = true, .size = 0};
    expect_line(&buf, asmtp__command_mail(&buf, "a@b.c", &p),
                "MAIL FROM:<a@b.c> SIZE=0\r\n");
    p = (asmtp__mail_params){.has_size = true, .size = UINT64_MAX};
    expect_line(&buf, asmtp__command_mail(&buf, "a@b.c", &p),
                "MAIL FROM:<a@b.c> SIZE=18446744073709551615\r\n");
    p = (asmtp__mail_params){.has_size = false, .size = 5};
    expect_line(&buf, asmtp__command_mail(&buf, "a@b.c", &p),
                "MAIL FROM:<a@b.c>\r\n");
    p = (asmtp__mail_params){.body = ASMTP_BODY_7BIT};
    expect_line(&buf, asmtp__command_mail(&buf, "a@b.c", &p),
                "MAIL FROM:<a@b.c> BODY=7BIT\r\n");
    p = (asmtp__mail_params){.body = ASMTP_BODY_8BITMIME};
    expect_line(&buf, asmtp__command_mail(&buf, "a@b.c", &p),
                "MAIL FROM:<a@b.c> BODY=8BITMIME\r\n");
    p = (asmtp__mail_params){.body = ASMTP_BODY_BINARYMIME};
    expect_line(&buf, asmtp__command_mail(&buf, "a@b.c", &p),
                "MAIL FROM:<a@b.c> BODY=BINARYMIME\r\n");
    p = (asmtp__mail_params){.smtputf8 = true};
    expect_line(&buf, asmtp__command_mail(&buf, "j\xc3\xb6@b.c", &p),
                "MAIL FROM:<j\xc3\xb6@b.c> SMTPUTF8\r\n");
    p = (asmtp__mail_params){.ret = ASMTP_RET_FULL};
    expect_line(&buf, asmtp__command_mail(&buf, "", &p),
                "MAIL FROM:<> RET=FULL\r\n");
    p = (asmtp__mail_params){.ret = ASMTP_RET_HDRS};
    expect_line(&buf, asmtp__command_mail(&buf, "a@b.c", &p),
                "MAIL FROM:<a@b.c> RET=HDRS\r\n");
    p = (asmtp__mail_params){.envid = "QQ314159"};
    expect_line(&buf, asmtp__command_mail(&buf, "a@b.c", &p),
                "MAIL FROM:<a@b.c> ENVID=QQ314159\r\n");
    p = (asmtp__mail_params){.envid = "a+b=c d~!"};
    expect_line(&buf, asmtp__command_mail(&buf, "a@b.c", &p),
                "MAIL FROM:<a@b.c> ENVID=a+2Bb+3Dc+20d~!\r\n");
    asmtp__buf_free(&buf);
}

static void test_mail_params_all(void **state)
{
    asmtp__mail_params p = {
        .has_size = true,
        .size = 12345,
        .body = ASMTP_BODY_8BITMIME,
        .smtputf8 = true,
        .ret = ASMTP_RET_HDRS,
        .envid = "<id+1@x>",
    };
    asmtp__buf buf;

    (void)state;
    buf_with_prefix(&buf);
    expect_line(&buf, asmtp__command_mail(&buf, "jo@example.com", &p),
                "MAIL FROM:<jo@example.com> SIZE=12345 BODY=8BITMIME SMTPUTF8"
                " RET=HDRS ENVID=<id+2B1@x>\r\n");
    asmtp__buf_free(&buf);
}

/* Every combination of the five parameters, in the fixed order. */
static void test_mail_params_combinations(void **state)
{
    static const char *const bodies[] = {"", " BODY=7BIT", " BODY=8BITMIME",
                                         " BODY=BINARYMIME"};
    static const char *const rets[] = {"", " RET=FULL", " RET=HDRS"};
    asmtp__buf buf;
    char expected[256];

    (void)state;
    buf_with_prefix(&buf);
    for (unsigned combo = 0; combo < 2 * 4 * 2 * 3 * 2; combo++) {
        asmtp__mail_params p = {
            .has_size = combo % 2,
            .size = 987654321,
            .body = (int)(combo / 2 % 4),
            .smtputf8 = combo / 8 % 2,
            .ret = (int)(combo / 16 % 3),
            .envid = combo / 48 % 2 ? "e=1" : NULL,
        };

        snprintf(expected, sizeof expected, "MAIL FROM:<a@b.c>%s%s%s%s%s\r\n",
                 p.has_size ? " SIZE=987654321" : "", bodies[p.body],
                 p.smtputf8 ? " SMTPUTF8" : "", rets[p.ret],
                 p.envid ? " ENVID=e+3D1" : "");
        expect_line(&buf, asmtp__command_mail(&buf, "a@b.c", &p), expected);
    }
    asmtp__buf_free(&buf);
}

static void test_mail_params_refused(void **state)
{
    static const asmtp__mail_params refused[] = {
        {.body = -1},
        {.body = ASMTP_BODY_BINARYMIME + 1},
        {.body = 1000},
        {.ret = -1},
        {.ret = ASMTP_RET_HDRS + 1},
        {.envid = ""},
        {.envid = "caf\xc3\xa9"},
        {.envid = "\x80"},
        {.envid = "a\r\nRSET"},
        {.has_size = true, .size = 1, .body = 9},
        {.smtputf8 = true, .ret = 7},
    };
    asmtp__buf buf;

    (void)state;
    buf_with_prefix(&buf);
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++)
        expect_error(&buf, asmtp__command_mail(&buf, "a@b.c", &refused[i]),
                     BAD);
    asmtp__buf_free(&buf);
}

/* ---- RCPT parameters ---- */

static const struct {
    unsigned notify;
    const char *text; /* NULL: refused */
} notify_cases[] = {
    {0, ""},
    {ASMTP_NOTIFY_SUCCESS, " NOTIFY=SUCCESS"},
    {ASMTP_NOTIFY_FAILURE, " NOTIFY=FAILURE"},
    {ASMTP_NOTIFY_SUCCESS | ASMTP_NOTIFY_FAILURE, " NOTIFY=SUCCESS,FAILURE"},
    {ASMTP_NOTIFY_DELAY, " NOTIFY=DELAY"},
    {ASMTP_NOTIFY_SUCCESS | ASMTP_NOTIFY_DELAY, " NOTIFY=SUCCESS,DELAY"},
    {ASMTP_NOTIFY_FAILURE | ASMTP_NOTIFY_DELAY, " NOTIFY=FAILURE,DELAY"},
    {ASMTP_NOTIFY_SUCCESS | ASMTP_NOTIFY_FAILURE | ASMTP_NOTIFY_DELAY,
     " NOTIFY=SUCCESS,FAILURE,DELAY"},
    {ASMTP_NOTIFY_NEVER, " NOTIFY=NEVER"},
    {ASMTP_NOTIFY_NEVER | ASMTP_NOTIFY_SUCCESS, NULL},
    {ASMTP_NOTIFY_NEVER | ASMTP_NOTIFY_FAILURE, NULL},
    {ASMTP_NOTIFY_NEVER | ASMTP_NOTIFY_SUCCESS | ASMTP_NOTIFY_FAILURE, NULL},
    {ASMTP_NOTIFY_NEVER | ASMTP_NOTIFY_DELAY, NULL},
    {ASMTP_NOTIFY_NEVER | ASMTP_NOTIFY_SUCCESS | ASMTP_NOTIFY_DELAY, NULL},
    {ASMTP_NOTIFY_NEVER | ASMTP_NOTIFY_FAILURE | ASMTP_NOTIFY_DELAY, NULL},
    {15, NULL},
    {16, NULL},
    {ASMTP_NOTIFY_SUCCESS | 32, NULL},
    {ASMTP_NOTIFY_NEVER | 64, NULL},
    {0x80000000u, NULL},
};

static const struct {
    const char *orcpt;
    const char *text;
} orcpt_cases[] = {
    {NULL, ""},
    {"jo@example.com", " ORCPT=rfc822;jo@example.com"},
    {"j\xc3\xb6rg@example.com", " ORCPT=utf-8;j\xc3\xb6rg@example.com"},
};

static void test_rcpt_params_combinations(void **state)
{
    size_t notify_count = sizeof notify_cases / sizeof *notify_cases;
    size_t orcpt_count = sizeof orcpt_cases / sizeof *orcpt_cases;
    asmtp__buf buf;
    char expected[256];

    (void)state;
    buf_with_prefix(&buf);
    for (size_t n = 0; n < notify_count; n++) {
        for (size_t o = 0; o < orcpt_count; o++) {
            asmtp__rcpt_params p = {notify_cases[n].notify,
                                    orcpt_cases[o].orcpt};
            int rv = asmtp__command_rcpt(&buf, "to@example.com", &p);

            if (!notify_cases[n].text) {
                expect_error(&buf, rv, BAD);
                continue;
            }
            snprintf(expected, sizeof expected,
                     "RCPT TO:<to@example.com>%s%s\r\n", notify_cases[n].text,
                     orcpt_cases[o].text);
            expect_line(&buf, rv, expected);
        }
    }
    asmtp__buf_free(&buf);
}

static void expect_orcpt(asmtp__buf *buf, const char *orcpt, const char *text)
{
    asmtp__rcpt_params p = {0, NULL};
    char expected[256];

    p.orcpt = guarded(orcpt);
    if (text) {
        snprintf(expected, sizeof expected, "RCPT TO:<a@b.c> ORCPT=%s\r\n",
                 text);
        expect_line(buf, asmtp__command_rcpt(buf, "a@b.c", &p), expected);
    } else {
        expect_error(buf, asmtp__command_rcpt(buf, "a@b.c", &p), BAD);
    }
    unguard((char *)p.orcpt);
}

static void test_orcpt_rfc822(void **state)
{
    asmtp__buf buf;

    (void)state;
    buf_with_prefix(&buf);
    expect_orcpt(&buf, "a@b.c", "rfc822;a@b.c");
    expect_orcpt(&buf, "a+tag@b.c", "rfc822;a+2Btag@b.c");
    expect_orcpt(&buf, "a=b@c", "rfc822;a+3Db@c");
    expect_orcpt(&buf, "\"a b\"@c", "rfc822;\"a+20b\"@c");
    expect_orcpt(&buf, "a\\b@c", "rfc822;a\\b@c");
    expect_orcpt(&buf, "!~<>", "rfc822;!~<>");
    expect_orcpt(&buf, "", NULL);
    asmtp__buf_free(&buf);
}

static void test_orcpt_utf8(void **state)
{
    asmtp__buf buf;

    (void)state;
    buf_with_prefix(&buf);
    expect_orcpt(&buf, "j\xc3\xb6rg@b.c", "utf-8;j\xc3\xb6rg@b.c");
    expect_orcpt(&buf, "\xe2\x82\xac+x=y\\z w@b.c",
                 "utf-8;\xe2\x82\xac\\x{2B}x\\x{3D}y\\x{5C}z\\x{20}w@b.c");
    expect_orcpt(&buf, "\xf0\x9d\x84\x9e@b.c", "utf-8;\xf0\x9d\x84\x9e@b.c");
    expect_orcpt(&buf, "\xf4\x8f\xbf\xbf", "utf-8;\xf4\x8f\xbf\xbf");
    expect_orcpt(&buf, "\xed\x9f\xbf", "utf-8;\xed\x9f\xbf");
    expect_orcpt(&buf, "\xee\x80\x80", "utf-8;\xee\x80\x80");
    expect_orcpt(&buf, "\xe0\xa0\x80", "utf-8;\xe0\xa0\x80");
    expect_orcpt(&buf, "\xf0\x90\x80\x80", "utf-8;\xf0\x90\x80\x80");
    expect_orcpt(&buf, "\xc2\x80", "utf-8;\xc2\x80");
    expect_orcpt(&buf, "\xdf\xbf!~", "utf-8;\xdf\xbf!~");
    /* Malformed UTF-8. */
    expect_orcpt(&buf, "\x80", NULL);
    expect_orcpt(&buf, "a\xbf", NULL);
    expect_orcpt(&buf, "\xc0\x80", NULL);
    expect_orcpt(&buf, "\xc1\xbf", NULL);
    expect_orcpt(&buf, "\xc3", NULL);
    expect_orcpt(&buf, "\xc3x", NULL);
    expect_orcpt(&buf, "\xe0\x80\x80", NULL);
    expect_orcpt(&buf, "\xe0\x9f\xbf", NULL);
    expect_orcpt(&buf, "\xed\xa0\x80", NULL);
    expect_orcpt(&buf, "\xed\xbf\xbf", NULL);
    expect_orcpt(&buf, "\xe2\x82", NULL);
    expect_orcpt(&buf, "\xe2\x82x", NULL);
    expect_orcpt(&buf, "\xf0\x80\x80\x80", NULL);
    expect_orcpt(&buf, "\xf0\x8f\xbf\xbf", NULL);
    expect_orcpt(&buf, "\xf4\x90\x80\x80", NULL);
    expect_orcpt(&buf, "\xf0\x9d\x84", NULL);
    expect_orcpt(&buf, "\xf0\x9d\x84x", NULL);
    expect_orcpt(&buf, "\xf0\x9dx\x9e", NULL);
    expect_orcpt(&buf, "\xf5\x80\x80\x80", NULL);
    expect_orcpt(&buf, "\xf8\x88\x80\x80\x80", NULL);
    expect_orcpt(&buf, "\xfe", NULL);
    expect_orcpt(&buf, "\xff", NULL);
    asmtp__buf_free(&buf);
}

/* ---- AUTH and raw lines ---- */

static void test_auth(void **state)
{
    asmtp__buf buf;
    const char *plain = "AGpvAHNlY3JldA==";

    (void)state;
    buf_with_prefix(&buf);
    expect_line(&buf, asmtp__command_auth(&buf, "LOGIN", NULL, 0),
                "AUTH LOGIN\r\n");
    expect_line(&buf, asmtp__command_auth(&buf, "PLAIN", "", 0),
                "AUTH PLAIN =\r\n");
    expect_line(&buf, asmtp__command_auth(&buf, "PLAIN", plain, strlen(plain)),
                "AUTH PLAIN AGpvAHNlY3JldA==\r\n");
    expect_line(&buf, asmtp__command_auth(&buf, "PLAIN", plain, 4),
                "AUTH PLAIN AGpv\r\n");
    expect_line(&buf, asmtp__command_auth(&buf, "CRAM-MD5", NULL, 0),
                "AUTH CRAM-MD5\r\n");
    expect_line(&buf, asmtp__command_auth(&buf, "X_MECH-2", "=", 1),
                "AUTH X_MECH-2 =\r\n");
    expect_error(&buf, asmtp__command_auth(&buf, NULL, NULL, 0), BAD);
    expect_error(&buf, asmtp__command_auth(&buf, "", NULL, 0), BAD);
    expect_error(&buf, asmtp__command_auth(&buf, "plain", NULL, 0), BAD);
    expect_error(&buf, asmtp__command_auth(&buf, "PLAIN ", NULL, 0), BAD);
    expect_error(&buf, asmtp__command_auth(&buf, "PL AIN", NULL, 0), BAD);
    expect_error(&buf, asmtp__command_auth(&buf, "PLAIN=", NULL, 0), BAD);
    expect_error(&buf, asmtp__command_auth(&buf, "X.Y", NULL, 0), BAD);
    expect_error(&buf, asmtp__command_auth(&buf, "CRAM-MD\xc3\xa9", NULL, 0),
                 BAD);
    expect_error(&buf, asmtp__command_auth(&buf, "PLAIN", NULL, 3), BAD);
    asmtp__buf_free(&buf);
}

static void test_raw(void **state)
{
    asmtp__buf buf;
    unsigned char *line = guard_copy("XCLIENT NAME=spike", 18);

    (void)state;
    buf_with_prefix(&buf);
    expect_line(&buf, asmtp__command_raw(&buf, (const char *)line, 18),
                "XCLIENT NAME=spike\r\n");
    expect_line(&buf, asmtp__command_raw(&buf, (const char *)line, 7),
                "XCLIENT\r\n");
    expect_line(&buf, asmtp__command_raw(&buf, " ", 1), " \r\n");
    expect_error(&buf, asmtp__command_raw(&buf, "", 0), BAD);
    expect_error(&buf, asmtp__command_raw(&buf, (const char *)line, 0), BAD);
    expect_error(&buf, asmtp__command_raw(&buf, NULL, 0), BAD);
    expect_error(&buf, asmtp__command_raw(&buf, NULL, 5), BAD);
    expect_error(&buf, asmtp__command_raw(&buf, "A\r\nB", 4), BAD);
    guard_free(line);
    asmtp__buf_free(&buf);
}

/* ---- Control characters in every argument ---- */

typedef struct arg_position {
    const char *name;
    const char *valid; /* succeeds in this position */
    bool sized;        /* passed with a length, so NUL can be tried too */
    int (*call)(asmtp__buf *out, const char *arg, size_t len);
} arg_position;

static int call_ehlo(asmtp__buf *out, const char *arg, size_t len)
{
    (void)len;
    return asmtp__command_ehlo(out, arg);
}

static int call_helo(asmtp__buf *out, const char *arg, size_t len)
{
    (void)len;
    return asmtp__command_helo(out, arg);
}

static int call_mail_path(asmtp__buf *out, const char *arg, size_t len)
{
    (void)len;
    return asmtp__command_mail(out, arg, NULL);
}

static int call_mail_envid(asmtp__buf *out, const char *arg, size_t len)
{
    asmtp__mail_params p = {.envid = arg};

    (void)len;
    return asmtp__command_mail(out, "a@b.c", &p);
}

static int call_rcpt_path(asmtp__buf *out, const char *arg, size_t len)
{
    (void)len;
    return asmtp__command_rcpt(out, arg, NULL);
}

static int call_rcpt_orcpt(asmtp__buf *out, const char *arg, size_t len)
{
    asmtp__rcpt_params p = {ASMTP_NOTIFY_FAILURE, arg};

    (void)len;
    return asmtp__command_rcpt(out, "a@b.c", &p);
}

static int call_noop(asmtp__buf *out, const char *arg, size_t len)
{
    (void)len;
    return asmtp__command_noop(out, arg);
}

static int call_vrfy(asmtp__buf *out, const char *arg, size_t len)
{
    (void)len;
    return asmtp__command_vrfy(out, arg);
}

static int call_expn(asmtp__buf *out, const char *arg, size_t len)
{
    (void)len;
    return asmtp__command_expn(out, arg);
}

static int call_help(asmtp__buf *out, const char *arg, size_t len)
{
    (void)len;
    return asmtp__command_help(out, arg);
}

static int call_auth_mechanism(asmtp__buf *out, const char *arg, size_t len)
{
    (void)len;
    return asmtp__command_auth(out, arg, "dGVzdA==", 8);
}

static int call_auth_response(asmtp__buf *out, const char *arg, size_t len)
{
    return asmtp__command_auth(out, "PLAIN", arg, len);
}

static int call_raw(asmtp__buf *out, const char *arg, size_t len)
{
    return asmtp__command_raw(out, arg, len);
}

static const arg_position positions[] = {
    {"EHLO domain", "mail.example.com", false, call_ehlo},
    {"EHLO literal", "[IPv6:::1]", false, call_ehlo},
    {"HELO domain", "mail.example.com", false, call_helo},
    {"MAIL path", "jo@example.com", false, call_mail_path},
    {"MAIL quoted path", "\"j o\"@example.com", false, call_mail_path},
    {"MAIL path to quote", "j o@example.com", false, call_mail_path},
    {"MAIL literal path", "jo@[192.0.2.1]", false, call_mail_path},
    {"MAIL UTF-8 path", "j\xc3\xb6@b\xc3\xbc.example", false, call_mail_path},
    {"MAIL ENVID", "QQ+31 4", false, call_mail_envid},
    {"RCPT path", "jo@example.com", false, call_rcpt_path},
    {"RCPT postmaster", "Postmaster", false, call_rcpt_path},
    {"RCPT ORCPT", "jo@example.com", false, call_rcpt_orcpt},
    {"RCPT UTF-8 ORCPT", "j\xc3\xb6 @example.com", false, call_rcpt_orcpt},
    {"NOOP", "ping", false, call_noop},
    {"VRFY", "Smith", false, call_vrfy},
    {"EXPN", "staff", false, call_expn},
    {"HELP", "RCPT", false, call_help},
    {"AUTH mechanism", "SCRAM-SHA-1", false, call_auth_mechanism},
    {"AUTH response", "dXNlcg==", true, call_auth_response},
    {"raw line", "XFOO bar", true, call_raw},
};

/* valid with byte inserted at index at; len is the new length. */
static char *with_byte(const char *valid, size_t at, unsigned char byte)
{
    size_t len = strlen(valid);
    char tmp[64];

    assert_true(len + 1 < sizeof tmp);
    memcpy(tmp, valid, at);
    tmp[at] = (char)byte;
    memcpy(tmp + at + 1, valid + at, len - at + 1);
    return (char *)guard_copy(tmp, len + 2);
}

static void try_control(asmtp__buf *buf, const arg_position *pos,
                        unsigned char byte)
{
    size_t len = strlen(pos->valid);

    for (size_t at = 0; at <= len; at++) {
        char *arg = with_byte(pos->valid, at, byte);

        if (pos->call(buf, arg, len + 1) != BAD)
            fail_msg("%s: byte 0x%02x at %zu accepted", pos->name, byte, at);
        assert_unchanged(buf);
        guard_free((unsigned char *)arg);
    }
}

static void test_control_characters(void **state)
{
    asmtp__buf buf;

    (void)state;
    buf_with_prefix(&buf);
    for (size_t i = 0; i < sizeof positions / sizeof *positions; i++) {
        const arg_position *pos = &positions[i];
        char *valid = guarded(pos->valid);

        assert_int_equal(pos->call(&buf, valid, strlen(valid)), 0);
        asmtp__buf_truncate(&buf, buf.off + strlen(PREFIX));
        unguard(valid);
        for (unsigned byte = pos->sized ? 0x00 : 0x01; byte < 0x20; byte++)
            try_control(&buf, pos, (unsigned char)byte);
        try_control(&buf, pos, 0x7f);
    }
    asmtp__buf_free(&buf);
}

/* A byte of 0x80 and above is no control character anywhere. */
static void test_8bit_is_not_control(void **state)
{
    asmtp__buf buf;

    (void)state;
    buf_with_prefix(&buf);
    expect_line(&buf, asmtp__command_ehlo(&buf, "\xc3\xa9.example"),
                "EHLO \xc3\xa9.example\r\n");
    expect_line(&buf, asmtp__command_noop(&buf, "\x80\xff"),
                "NOOP \x80\xff\r\n");
    expect_line(&buf, asmtp__command_raw(&buf, "X \x9b", 3), "X \x9b\r\n");
    asmtp__buf_free(&buf);
}

/* ---- Line limits ---- */

/* arg of length n gives a line of fixed + n octets. */
typedef struct limit_case {
    const char *name;
    size_t fixed;
    size_t limit;
    int (*call)(asmtp__buf *out, const char *arg, size_t len);
} limit_case;

static int call_mail_local(asmtp__buf *out, const char *arg, size_t len)
{
    char *path = concat(arg, "@example.com");
    int rv;

    (void)len;
    rv = asmtp__command_mail(out, path, NULL);
    free(path);
    return rv;
}

static int call_rcpt_domain(asmtp__buf *out, const char *arg, size_t len)
{
    char *path = concat("jo@", arg);
    int rv;

    (void)len;
    rv = asmtp__command_rcpt(out, path, NULL);
    free(path);
    return rv;
}

static int call_mail_size_local(asmtp__buf *out, const char *arg, size_t len)
{
    asmtp__mail_params p = {.has_size = true, .size = UINT64_MAX};
    char *path = concat(arg, "@b.c");
    int rv;

    (void)len;
    rv = asmtp__command_mail(out, path, &p);
    free(path);
    return rv;
}

static int call_rcpt_notify_local(asmtp__buf *out, const char *arg, size_t len)
{
    asmtp__rcpt_params p = {
        ASMTP_NOTIFY_SUCCESS | ASMTP_NOTIFY_FAILURE | ASMTP_NOTIFY_DELAY, NULL};
    char *path = concat(arg, "@b.c");
    int rv;

    (void)len;
    rv = asmtp__command_rcpt(out, path, &p);
    free(path);
    return rv;
}

static const limit_case limits[] = {
    {"EHLO", 7, ASMTP__COMMAND_LINE_MAX, call_ehlo},
    {"HELO", 7, ASMTP__COMMAND_LINE_MAX, call_helo},
    {"NOOP", 7, ASMTP__COMMAND_LINE_MAX, call_noop},
    {"VRFY", 7, ASMTP__COMMAND_LINE_MAX, call_vrfy},
    {"EXPN", 7, ASMTP__COMMAND_LINE_MAX, call_expn},
    {"HELP", 7, ASMTP__COMMAND_LINE_MAX, call_help},
    /* MAIL FROM:< + local + @example.com> CRLF */
    {"MAIL local part", 11 + 12 + 3, ASMTP__COMMAND_LINE_MAX, call_mail_local},
    /* RCPT TO:<jo@ + domain > CRLF */
    {"RCPT domain", 12 + 3, ASMTP__COMMAND_LINE_MAX, call_rcpt_domain},
    /* MAIL FROM:< + local + @b.c> SIZE=18446744073709551615 CRLF */
    {"MAIL SIZE", 11 + 5 + 26 + 2, ASMTP__COMMAND_LINE_MAX,
     call_mail_size_local},
    /* RCPT TO:< + local + @b.c> NOTIFY=SUCCESS,FAILURE,DELAY CRLF */
    {"RCPT NOTIFY", 9 + 5 + 29 + 2, ASMTP__COMMAND_LINE_MAX,
     call_rcpt_notify_local},
    {"MAIL ENVID", 11 + 6 + 7 + 2, ASMTP__COMMAND_LINE_MAX, call_mail_envid},
    /* RCPT TO:<a@b.c> NOTIFY=FAILURE ORCPT=rfc822; + xtext CRLF */
    {"RCPT ORCPT", 15 + 15 + 14 + 2, ASMTP__COMMAND_LINE_MAX, call_rcpt_orcpt},
    {"raw", 2, ASMTP__COMMAND_LINE_MAX, call_raw},
    /* AUTH PLAIN + SP + response CRLF */
    {"AUTH response", 11 + 2, 12288, call_auth_response},
    {"AUTH mechanism", 5 + 9 + 2, 12288, call_auth_mechanism},
};

static void test_line_limits(void **state)
{
    asmtp__buf buf;

    (void)state;
    buf_with_prefix(&buf);
    for (size_t i = 0; i < sizeof limits / sizeof *limits; i++) {
        const limit_case *c = &limits[i];
        size_t n = c->limit - c->fixed;
        char letter = c->call == call_auth_mechanism ? 'A' : 'a';
        char *fits = repeat(letter, n);
        char *over = repeat(letter, n + 1);

        if (c->call(&buf, fits, n) != 0)
            fail_msg("%s: %zu octets refused", c->name, c->limit);
        assert_int_equal(asmtp__buf_size(&buf), strlen(PREFIX) + c->limit);
        assert_memory_equal(asmtp__buf_head(&buf) + asmtp__buf_size(&buf) - 2,
                            "\r\n", 2);
        asmtp__buf_truncate(&buf, buf.off + strlen(PREFIX));
        if (c->call(&buf, over, n + 1) != LONG)
            fail_msg("%s: %zu octets accepted", c->name, c->limit + 1);
        assert_unchanged(&buf);
        free(fits);
        free(over);
    }
    asmtp__buf_free(&buf);
}

/* Growth from quoting and encoding counts toward the limit. */
static void test_line_limits_after_encoding(void **state)
{
    asmtp__buf buf;
    char *quotes = repeat('"', 243), *more_quotes = repeat('"', 244);
    char *pluses = repeat('+', 162), *more_pluses = repeat('+', 163);
    char *utf8 = concat("\xc3\xa9", pluses + 82), *fits, *over;
    asmtp__rcpt_params orcpt = {0, NULL};
    asmtp__mail_params envid = {.envid = pluses};

    (void)state;
    buf_with_prefix(&buf);
    /* RCPT TO:< + "\"\"...@example.com" (2 + 486 + 12) + > CRLF */
    fits = concat(quotes, "@example.com");
    over = concat(more_quotes, "@example.com");
    assert_int_equal(asmtp__command_rcpt(&buf, fits, NULL), 0);
    assert_int_equal(asmtp__buf_size(&buf), strlen(PREFIX) + 512);
    asmtp__buf_truncate(&buf, buf.off + strlen(PREFIX));
    expect_error(&buf, asmtp__command_rcpt(&buf, over, NULL), LONG);
    free(fits);
    free(over);

    /* MAIL FROM:<a@b.c> ENVID= + 162 * "+2B" + CRLF */
    assert_int_equal(asmtp__command_mail(&buf, "a@b.c", &envid), 0);
    assert_int_equal(asmtp__buf_size(&buf), strlen(PREFIX) + 512);
    asmtp__buf_truncate(&buf, buf.off + strlen(PREFIX));
    envid.envid = more_pluses;
    expect_error(&buf, asmtp__command_mail(&buf, "a@b.c", &envid), LONG);

    /* RCPT TO:<a@b.c> ORCPT=utf-8; + 2 + 80 * "\x{2B}" + CRLF */
    orcpt.orcpt = utf8;
    assert_int_equal(asmtp__command_rcpt(&buf, "a@b.c", &orcpt), 0);
    assert_int_equal(asmtp__buf_size(&buf), strlen(PREFIX) + 512);
    asmtp__buf_truncate(&buf, buf.off + strlen(PREFIX));
    over = concat(utf8, "a");
    orcpt.orcpt = over;
    expect_error(&buf, asmtp__command_rcpt(&buf, "a@b.c", &orcpt), LONG);
    free(over);

    free(quotes);
    free(more_quotes);
    free(pluses);
    free(more_pluses);
    free(utf8);
    asmtp__buf_free(&buf);
}

/* A bad argument is reported as such even when the line is too long too. */
static void test_bad_argument_wins(void **state)
{
    char *local = repeat('a', 600);
    char *path = concat(local, "@example.com");
    char *domain = repeat('d', 600);
    asmtp__mail_params mail = {.body = 9};
    asmtp__rcpt_params rcpt = {ASMTP_NOTIFY_NEVER | ASMTP_NOTIFY_DELAY, NULL};
    asmtp__buf buf;

    (void)state;
    buf_with_prefix(&buf);
    expect_error(&buf, asmtp__command_mail(&buf, path, NULL), LONG);
    expect_error(&buf, asmtp__command_mail(&buf, path, &mail), BAD);
    expect_error(&buf, asmtp__command_rcpt(&buf, path, &rcpt), BAD);
    mail = (asmtp__mail_params){.envid = "\xc3\xa9"};
    expect_error(&buf, asmtp__command_mail(&buf, path, &mail), BAD);
    domain[300] = ' ';
    expect_error(&buf, asmtp__command_ehlo(&buf, domain), BAD);
    domain[300] = '\n';
    expect_error(&buf, asmtp__command_noop(&buf, domain), BAD);
    expect_error(&buf, asmtp__command_raw(&buf, domain, 600), BAD);
    free(local);
    free(path);
    free(domain);
    asmtp__buf_free(&buf);
}

static void test_auth_beyond_512(void **state)
{
    char *response = repeat('Q', 4000);
    char *expected = concat("AUTH XOAUTH2 ", response);
    char *line = concat(expected, "\r\n");
    asmtp__buf buf;

    (void)state;
    buf_with_prefix(&buf);
    expect_line(&buf, asmtp__command_auth(&buf, "XOAUTH2", response, 4000),
                line);
    free(response);
    free(expected);
    free(line);
    asmtp__buf_free(&buf);
}

/* ---- xtext and SMTPUTF8 ---- */

static void expect_xtext(const void *data, size_t len, const char *expected)
{
    asmtp__buf buf;
    unsigned char *copy = guard_copy(data, len);

    buf_with_prefix(&buf);
    assert_int_equal(asmtp__xtext_append(&buf, copy, len), 0);
    assert_int_equal(asmtp__buf_size(&buf), strlen(PREFIX) + strlen(expected));
    assert_memory_equal(asmtp__buf_head(&buf) + strlen(PREFIX), expected,
                        strlen(expected));
    guard_free(copy);
    asmtp__buf_free(&buf);
}

static void test_xtext(void **state)
{
    unsigned char all[256];
    char all_expected[256 * 3 + 1];
    size_t n = 0;
    asmtp__buf buf;

    (void)state;
    expect_xtext("", 0, "");
    expect_xtext("abc", 3, "abc");
    expect_xtext("+", 1, "+2B");
    expect_xtext("=", 1, "+3D");
    expect_xtext(" ", 1, "+20");
    expect_xtext("!~", 2, "!~");
    expect_xtext("\x00", 1, "+00");
    expect_xtext("\x7f", 1, "+7F");
    expect_xtext("\x80\xff", 2, "+80+FF");
    expect_xtext("\xc3\xa9", 2, "+C3+A9");
    expect_xtext("a+b=c d\r\n", 9, "a+2Bb+3Dc+20d+0D+0A");
    expect_xtext("<x@y>", 5, "<x@y>");

    for (unsigned i = 0; i < 256; i++) {
        all[i] = (unsigned char)i;
        if (i >= '!' && i <= '~' && i != '+' && i != '=') {
            all_expected[n++] = (char)i;
        } else {
            all_expected[n++] = '+';
            all_expected[n++] = "0123456789ABCDEF"[i >> 4];
            all_expected[n++] = "0123456789ABCDEF"[i & 15];
        }
    }
    all_expected[n] = '\0';
    expect_xtext(all, sizeof all, all_expected);

    buf_with_prefix(&buf);
    expect_line(&buf, asmtp__xtext_append(&buf, NULL, 0), "");
    expect_error(&buf, asmtp__xtext_append(&buf, NULL, 1), BAD);
    expect_error(&buf, asmtp__xtext_append(&buf, "x", SIZE_MAX),
                 ASMTP_ERR_NOMEM);
    asmtp__buf_free(&buf);
}

static void test_needs_smtputf8(void **state)
{
    (void)state;
    assert_false(asmtp__address_needs_smtputf8(NULL));
    assert_false(asmtp__address_needs_smtputf8(""));
    assert_false(asmtp__address_needs_smtputf8("jo@example.com"));
    assert_false(asmtp__address_needs_smtputf8("\"a~\x7f\"@b"));
    assert_true(asmtp__address_needs_smtputf8("j\xc3\xb6@example.com"));
    assert_true(asmtp__address_needs_smtputf8("jo@b\xc3\xbc.example"));
    assert_true(asmtp__address_needs_smtputf8("\x80"));
    assert_true(asmtp__address_needs_smtputf8("\xff"));
}

/* ---- Allocation failures ---- */

static char *long_response;

static int nomem_ehlo(asmtp__buf *out)
{
    return asmtp__command_ehlo(out, "client.example.com");
}

static int nomem_helo(asmtp__buf *out)
{
    return asmtp__command_helo(out, "client.example.com");
}

static int nomem_mail(asmtp__buf *out)
{
    asmtp__mail_params p = {true,           100,   ASMTP_BODY_8BITMIME, true,
                            ASMTP_RET_HDRS, "id 1"};

    return asmtp__command_mail(out, "j o@example.com", &p);
}

static int nomem_rcpt(asmtp__buf *out)
{
    asmtp__rcpt_params p = {ASMTP_NOTIFY_FAILURE, "j\xc3\xb6+@example.com"};

    return asmtp__command_rcpt(out, "jo@example.com", &p);
}

static int nomem_data(asmtp__buf *out)
{
    return asmtp__command_data(out);
}

static int nomem_bdat(asmtp__buf *out)
{
    return asmtp__command_bdat(out, 65536, true);
}

static int nomem_rset(asmtp__buf *out)
{
    return asmtp__command_rset(out);
}

static int nomem_noop(asmtp__buf *out)
{
    return asmtp__command_noop(out, "x");
}

static int nomem_vrfy(asmtp__buf *out)
{
    return asmtp__command_vrfy(out, "Smith");
}

static int nomem_expn(asmtp__buf *out)
{
    return asmtp__command_expn(out, "staff");
}

static int nomem_help(asmtp__buf *out)
{
    return asmtp__command_help(out, NULL);
}

static int nomem_starttls(asmtp__buf *out)
{
    return asmtp__command_starttls(out);
}

static int nomem_quit(asmtp__buf *out)
{
    return asmtp__command_quit(out);
}

static int nomem_auth(asmtp__buf *out)
{
    return asmtp__command_auth(out, "PLAIN", "AGpvAHNlY3JldA==", 16);
}

static int nomem_auth_long(asmtp__buf *out)
{
    return asmtp__command_auth(out, "XOAUTH2", long_response,
                               strlen(long_response));
}

static int nomem_raw(asmtp__buf *out)
{
    return asmtp__command_raw(out, "XFOO", 4);
}

static int nomem_xtext(asmtp__buf *out)
{
    return asmtp__xtext_append(out, long_response, strlen(long_response));
}

static int (*const nomem_calls[])(asmtp__buf *out) = {
    nomem_ehlo, nomem_helo,  nomem_mail,     nomem_rcpt, nomem_data,
    nomem_bdat, nomem_rset,  nomem_noop,     nomem_vrfy, nomem_expn,
    nomem_help, nomem_quit,  nomem_starttls, nomem_auth, nomem_auth_long,
    nomem_raw,  nomem_xtext,
};

/* Fill the buffer: empty, full to its capacity, or full with a consumed
 * front (so that growing first moves the bytes down). */
static void nomem_setup(asmtp__buf *buf, int kind, unsigned char *expected,
                        size_t *expected_len)
{
    unsigned char fill[256];

    for (size_t i = 0; i < sizeof fill; i++)
        fill[i] = (unsigned char)('a' + i % 26);
    *expected_len = 0;
    if (kind == 0)
        return;
    assert_int_equal(asmtp__buf_append(buf, fill, sizeof fill), 0);
    assert_int_equal(buf->cap, sizeof fill);
    if (kind == 2)
        asmtp__buf_consume(buf, 200);
    *expected_len = asmtp__buf_size(buf);
    memcpy(expected, asmtp__buf_head(buf), *expected_len);
}

static void nomem_one(int (*call)(asmtp__buf *out), int kind)
{
    unsigned char expected[256];
    size_t expected_len;
    bool done = false;

    for (size_t fail_at = 1; !done; fail_at++) {
        failmem fm;
        asmtp__buf buf;
        int rv;

        assert_true(fail_at < 10);
        failmem_init(&fm, 0);
        asmtp__buf_init(&buf, &fm.mem);
        nomem_setup(&buf, kind, expected, &expected_len);
        fm.fail_at = fm.count + fail_at;
        rv = call(&buf);
        done = rv == 0;
        if (!done) {
            assert_int_equal(rv, ASMTP_ERR_NOMEM);
            assert_true(fm.failed > 0);
            assert_int_equal(asmtp__buf_size(&buf), expected_len);
            if (expected_len)
                assert_memory_equal(asmtp__buf_head(&buf), expected,
                                    expected_len);
        }
        asmtp__buf_free(&buf);
        assert_int_equal(fm.live, 0);
    }
}

static void test_allocation_failures(void **state)
{
    (void)state;
    long_response = repeat('Z', 3000);
    for (size_t i = 0; i < sizeof nomem_calls / sizeof *nomem_calls; i++)
        for (int kind = 0; kind < 3; kind++)
            nomem_one(nomem_calls[i], kind);
    free(long_response);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ehlo_helo),
        cmocka_unit_test(test_commands_without_arguments),
        cmocka_unit_test(test_bdat),
        cmocka_unit_test(test_optional_arguments),
        cmocka_unit_test(test_required_arguments),
        cmocka_unit_test(test_null_output),
        cmocka_unit_test(test_mail_rcpt_basic),
        cmocka_unit_test(test_postmaster),
        cmocka_unit_test(test_local_part_quoting),
        cmocka_unit_test(test_domains),
        cmocka_unit_test(test_mail_params_each),
        cmocka_unit_test(test_mail_params_all),
        cmocka_unit_test(test_mail_params_combinations),
        cmocka_unit_test(test_mail_params_refused),
        cmocka_unit_test(test_rcpt_params_combinations),
        cmocka_unit_test(test_orcpt_rfc822),
        cmocka_unit_test(test_orcpt_utf8),
        cmocka_unit_test(test_auth),
        cmocka_unit_test(test_raw),
        cmocka_unit_test(test_control_characters),
        cmocka_unit_test(test_8bit_is_not_control),
        cmocka_unit_test(test_line_limits),
        cmocka_unit_test(test_line_limits_after_encoding),
        cmocka_unit_test(test_bad_argument_wins),
        cmocka_unit_test(test_auth_beyond_512),
        cmocka_unit_test(test_xtext),
        cmocka_unit_test(test_needs_smtputf8),
        cmocka_unit_test(test_allocation_failures),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
