/*
 * Extension parser tests: EHLO replies built line by line, each line
 * placed against a guard page, checked against the flags, SIZE, AUTH
 * mechanisms and the keyword table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "asmtp/error.h"
#include "ext.h"
#include "support.h"

#define MAX_LINES 64

/* A hand-built EHLO reply whose line bytes sit against guard pages. */
typedef struct test_reply {
    asmtp_reply reply;
    asmtp_bytes lines[MAX_LINES];
    unsigned char *copies[MAX_LINES];
} test_reply;

static void reply_add(test_reply *r, const void *data, size_t len)
{
    size_t i = r->reply.line_count;

    assert_true(i < MAX_LINES);
    r->copies[i] = guard_copy(data, len);
    r->lines[i].data = r->copies[i];
    r->lines[i].len = len;
    r->reply.line_count++;
}

/* A 250 reply: the greeting line, then the keyword lines given. */
static void reply_build(test_reply *r, const char *const *lines, size_t n)
{
    memset(r, 0, sizeof *r);
    r->reply.code = 250;
    r->reply.lines = r->lines;
    reply_add(r, "mail.example.com Hello client.example.org", 40);
    for (size_t i = 0; i < n; i++)
        reply_add(r, lines[i], strlen(lines[i]));
}

static void reply_release(test_reply *r)
{
    for (size_t i = 0; i < r->reply.line_count; i++)
        guard_free(r->copies[i]);
    r->reply.line_count = 0;
}

#define COUNT(array) (sizeof(array) / sizeof((array)[0]))

/* Parse the lines into ext with the default allocator. */
static void parse_lines(asmtp__extensions *ext, const char *const *lines,
                        size_t n)
{
    test_reply r;

    reply_build(&r, lines, n);
    assert_int_equal(asmtp__extensions_parse(ext, &r.reply), 0);
    reply_release(&r);
}

static void test_each_known_keyword(void **state)
{
    static const struct {
        const char *keyword;
        unsigned flag;
    } cases[] = {
        {"PIPELINING", ASMTP__EXT_PIPELINING},
        {"CHUNKING", ASMTP__EXT_CHUNKING},
        {"BINARYMIME", ASMTP__EXT_BINARYMIME},
        {"8BITMIME", ASMTP__EXT_8BITMIME},
        {"SMTPUTF8", ASMTP__EXT_SMTPUTF8},
        {"DSN", ASMTP__EXT_DSN},
        {"ENHANCEDSTATUSCODES", ASMTP__EXT_ENHANCEDSTATUSCODES},
        {"STARTTLS", ASMTP__EXT_STARTTLS},
        {"REQUIRETLS", ASMTP__EXT_REQUIRETLS},
        {"SIZE", ASMTP__EXT_SIZE},
        {"AUTH", ASMTP__EXT_AUTH},
    };
    asmtp__extensions ext;

    (void)state;
    asmtp__extensions_init(&ext, NULL);
    for (size_t i = 0; i < COUNT(cases); i++) {
        const char *line = cases[i].keyword;

        parse_lines(&ext, &line, 1);
        assert_int_equal(ext.flags, cases[i].flag);
        assert_true(asmtp__extensions_has(&ext, cases[i].flag));
        assert_int_equal(ext.keyword_count, 1);
        assert_string_equal(ext.keywords[0].keyword, cases[i].keyword);
        assert_string_equal(asmtp__extensions_find(&ext, cases[i].keyword), "");
        assert_int_equal(ext.size_max, 0);
        assert_int_equal(ext.auth, 0);
    }
    asmtp__extensions_clear(&ext);
}

static void test_all_known_together(void **state)
{
    static const char *const lines[] = {
        "PIPELINING",
        "CHUNKING",
        "BINARYMIME",
        "8BITMIME",
        "SMTPUTF8",
        "DSN",
        "STARTTLS",
        "REQUIRETLS",
        "SIZE 1000",
        "AUTH PLAIN",
        "ENHANCEDSTATUSCODES",
    };
    asmtp__extensions ext;

    (void)state;
    asmtp__extensions_init(&ext, NULL);
    parse_lines(&ext, lines, COUNT(lines));
    assert_int_equal(ext.flags, (1u << 11) - 1);
    assert_int_equal(ext.keyword_count, COUNT(lines));
    assert_int_equal(ext.size_max, 1000);
    assert_int_equal(ext.auth, ASMTP_AUTH_PLAIN);
    asmtp__extensions_clear(&ext);
}

static void test_case_variants(void **state)
{
    static const char *const lines[] = {
        "pipelining", "StartTLS", "8bitmime", "sMtPuTf8", "size 42", "dsn",
    };
    asmtp__extensions ext;

    (void)state;
    asmtp__extensions_init(&ext, NULL);
    parse_lines(&ext, lines, COUNT(lines));
    assert_int_equal(ext.flags, ASMTP__EXT_PIPELINING | ASMTP__EXT_STARTTLS |
                                    ASMTP__EXT_8BITMIME | ASMTP__EXT_SMTPUTF8 |
                                    ASMTP__EXT_SIZE | ASMTP__EXT_DSN);
    assert_int_equal(ext.size_max, 42);
    assert_string_equal(asmtp__extensions_find(&ext, "PIPELINING"), "");
    assert_string_equal(asmtp__extensions_find(&ext, "Size"), "42");
    assert_string_equal(asmtp__extensions_find(&ext, "STARTTLS"), "");
    /* The spelling is kept as sent. */
    assert_string_equal(ext.keywords[1].keyword, "StartTLS");
    asmtp__extensions_clear(&ext);
}

static void test_whole_token_traps(void **state)
{
    static const char *const lines[] = {
        "DSNX",       "8BITMIMEX",   "PIPELINING2", "X-STARTTLS",
        "STARTTLS-X", "SIZEX 1000",  "AUTHX PLAIN", "CHUNK",
        "SMTPUTF",    "BINARYMIME-", "REQUIRE-TLS",
    };
    asmtp__extensions ext;

    (void)state;
    asmtp__extensions_init(&ext, NULL);
    parse_lines(&ext, lines, COUNT(lines));
    assert_int_equal(ext.flags, 0);
    assert_int_equal(ext.auth, 0);
    assert_int_equal(ext.size_max, 0);
    assert_int_equal(ext.keyword_count, COUNT(lines));
    assert_null(asmtp__extensions_find(&ext, "DSN"));
    assert_null(asmtp__extensions_find(&ext, "8BITMIME"));
    assert_null(asmtp__extensions_find(&ext, "STARTTLS"));
    assert_null(asmtp__extensions_find(&ext, "SIZE"));
    assert_null(asmtp__extensions_find(&ext, "AUTH"));
    assert_string_equal(asmtp__extensions_find(&ext, "dsnx"), "");
    assert_string_equal(asmtp__extensions_find(&ext, "SIZEX"), "1000");
    /* A prefix or an extension of a keyword does not find it. */
    assert_null(asmtp__extensions_find(&ext, "DSNXY"));
    assert_null(asmtp__extensions_find(&ext, "DS"));
    assert_null(asmtp__extensions_find(&ext, ""));
    assert_null(asmtp__extensions_find(&ext, NULL));
    asmtp__extensions_clear(&ext);
}

static void test_auth_mechanisms(void **state)
{
    static const struct {
        const char *line;
        unsigned auth;
        const char *params;
    } cases[] = {
        {"AUTH PLAIN LOGIN CRAM-MD5 XOAUTH2", ASMTP_AUTH_ANY,
         "PLAIN LOGIN CRAM-MD5 XOAUTH2"},
        {"auth plain login", ASMTP_AUTH_PLAIN | ASMTP_AUTH_LOGIN,
         "plain login"},
        {"AUTH cram-md5 XoAuth2", ASMTP_AUTH_CRAM_MD5 | ASMTP_AUTH_XOAUTH2,
         "cram-md5 XoAuth2"},
        {"AUTH GSSAPI NTLM PLAIN", ASMTP_AUTH_PLAIN, "GSSAPI NTLM PLAIN"},
        {"AUTH PLAIN-CLIENTTOKEN", 0, "PLAIN-CLIENTTOKEN"},
        {"AUTH XPLAIN LOGINX CRAM-MD5X CRAM XOAUTH", 0,
         "XPLAIN LOGINX CRAM-MD5X CRAM XOAUTH"},
        {"AUTH OAUTHBEARER XOAUTH2 XOAUTH", ASMTP_AUTH_XOAUTH2,
         "OAUTHBEARER XOAUTH2 XOAUTH"},
        {"AUTH  LOGIN   PLAIN  ", ASMTP_AUTH_PLAIN | ASMTP_AUTH_LOGIN,
         " LOGIN   PLAIN"},
        {"AUTH", 0, ""},
        {"AUTH ", 0, ""},
        {"AUTH=LOGIN PLAIN", ASMTP_AUTH_PLAIN | ASMTP_AUTH_LOGIN,
         "LOGIN PLAIN"},
        {"auth=login", ASMTP_AUTH_LOGIN, "login"},
        {"AUTH=", 0, ""},
    };
    asmtp__extensions ext;

    (void)state;
    asmtp__extensions_init(&ext, NULL);
    for (size_t i = 0; i < COUNT(cases); i++) {
        parse_lines(&ext, &cases[i].line, 1);
        assert_int_equal(ext.flags, ASMTP__EXT_AUTH);
        assert_int_equal(ext.auth, cases[i].auth);
        assert_int_equal(ext.keyword_count, 1);
        assert_string_equal(asmtp__extensions_find(&ext, "AUTH"),
                            cases[i].params);
    }
    asmtp__extensions_clear(&ext);
}

static void test_auth_legacy_alone(void **state)
{
    static const char *const lines[] = {"AUTH=LOGIN PLAIN", "PIPELINING"};
    asmtp__extensions ext;

    (void)state;
    asmtp__extensions_init(&ext, NULL);
    parse_lines(&ext, lines, COUNT(lines));
    assert_true(asmtp__extensions_has(&ext, ASMTP__EXT_AUTH));
    assert_int_equal(ext.auth, ASMTP_AUTH_LOGIN | ASMTP_AUTH_PLAIN);
    assert_int_equal(ext.keyword_count, 2);
    assert_string_equal(ext.keywords[0].keyword, "AUTH");
    assert_string_equal(asmtp__extensions_find(&ext, "AUTH"), "LOGIN PLAIN");
    assert_null(asmtp__extensions_find(&ext, "AUTH=LOGIN"));
    asmtp__extensions_clear(&ext);
}

/* The real AUTH line owns the entry whichever comes first; mechanisms are
 * the union. */
static void test_auth_merged(void **state)
{
    static const char *const legacy_last[] = {"AUTH PLAIN CRAM-MD5",
                                              "AUTH=LOGIN", "8BITMIME"};
    static const char *const legacy_first[] = {
        "AUTH=LOGIN", "8BITMIME", "AUTH PLAIN CRAM-MD5", "AUTH=XOAUTH2"};
    asmtp__extensions ext;

    (void)state;
    asmtp__extensions_init(&ext, NULL);
    parse_lines(&ext, legacy_last, COUNT(legacy_last));
    assert_int_equal(ext.auth,
                     ASMTP_AUTH_PLAIN | ASMTP_AUTH_CRAM_MD5 | ASMTP_AUTH_LOGIN);
    assert_int_equal(ext.keyword_count, 2);
    assert_string_equal(asmtp__extensions_find(&ext, "auth"), "PLAIN CRAM-MD5");

    parse_lines(&ext, legacy_first, COUNT(legacy_first));
    assert_int_equal(ext.auth, ASMTP_AUTH_ANY);
    assert_int_equal(ext.keyword_count, 2);
    assert_string_equal(asmtp__extensions_find(&ext, "AUTH"), "PLAIN CRAM-MD5");
    assert_int_equal(ext.flags, ASMTP__EXT_AUTH | ASMTP__EXT_8BITMIME);
    asmtp__extensions_clear(&ext);
}

static void test_size_forms(void **state)
{
    static const struct {
        const char *line;
        uint64_t size_max;
        const char *params;
    } cases[] = {
        {"SIZE", 0, ""},
        {"SIZE 0", 0, "0"},
        {"SIZE 35882577", 35882577, "35882577"},
        {"size 1", 1, "1"},
        {"SIZE 18446744073709551615", UINT64_MAX, "18446744073709551615"},
        {"SIZE 18446744073709551616", 0, "18446744073709551616"},
        {"SIZE 99999999999999999999999", 0, "99999999999999999999999"},
        {"SIZE abc", 0, "abc"},
        {"SIZE 12x", 0, "12x"},
        {"SIZE -5", 0, "-5"},
        {"SIZE +5", 0, "+5"},
        {"SIZE 10 20", 0, "10 20"},
        {"SIZE  1000", 1000, " 1000"},
        {"SIZE 1000   ", 1000, "1000"},
        {"SIZE 0000000000000000000000012", 12, "0000000000000000000000012"},
    };
    asmtp__extensions ext;

    (void)state;
    asmtp__extensions_init(&ext, NULL);
    for (size_t i = 0; i < COUNT(cases); i++) {
        parse_lines(&ext, &cases[i].line, 1);
        assert_int_equal(ext.flags, ASMTP__EXT_SIZE);
        assert_true(ext.size_max == cases[i].size_max);
        assert_string_equal(asmtp__extensions_find(&ext, "SIZE"),
                            cases[i].params);
    }
    asmtp__extensions_clear(&ext);
}

static void test_unknown_keywords(void **state)
{
    static const char *const lines[] = {
        "X-EXPS GSSAPI NTLM",
        "VRFY",
        "ETRN",
        "XCLIENT NAME ADDR PROTO",
        "DELIVERBY 300",
        "X-LINK2STATE",
        "MT-PRIORITY MIXER",
        "LIMITS RCPTMAX=100 MAILMAX=10",
    };
    asmtp__extensions ext;

    (void)state;
    asmtp__extensions_init(&ext, NULL);
    parse_lines(&ext, lines, COUNT(lines));
    assert_int_equal(ext.flags, 0);
    assert_int_equal(ext.keyword_count, COUNT(lines));
    assert_string_equal(asmtp__extensions_find(&ext, "x-exps"), "GSSAPI NTLM");
    assert_string_equal(asmtp__extensions_find(&ext, "VRFY"), "");
    assert_string_equal(asmtp__extensions_find(&ext, "etrn"), "");
    assert_string_equal(asmtp__extensions_find(&ext, "XCLIENT"),
                        "NAME ADDR PROTO");
    assert_string_equal(asmtp__extensions_find(&ext, "DeliverBy"), "300");
    assert_string_equal(asmtp__extensions_find(&ext, "X-LINK2STATE"), "");
    assert_string_equal(asmtp__extensions_find(&ext, "MT-PRIORITY"), "MIXER");
    assert_string_equal(asmtp__extensions_find(&ext, "LIMITS"),
                        "RCPTMAX=100 MAILMAX=10");
    assert_null(asmtp__extensions_find(&ext, "X-EXPS GSSAPI"));
    assert_null(asmtp__extensions_find(&ext, "EXPN"));
    asmtp__extensions_clear(&ext);
}

static void test_params_spaces(void **state)
{
    static const char *const lines[] = {
        "X-FOO  a   b  ",
        "X-BAR a b",
        "X-BAZ    ",
        "X-QUX \t",
    };
    asmtp__extensions ext;

    (void)state;
    asmtp__extensions_init(&ext, NULL);
    parse_lines(&ext, lines, COUNT(lines));
    assert_string_equal(asmtp__extensions_find(&ext, "X-FOO"), " a   b");
    assert_string_equal(asmtp__extensions_find(&ext, "X-BAR"), "a b");
    assert_string_equal(asmtp__extensions_find(&ext, "X-BAZ"), "");
    assert_string_equal(asmtp__extensions_find(&ext, "X-QUX"), "\t");
    asmtp__extensions_clear(&ext);
}

static void test_invalid_lines_ignored(void **state)
{
    static const struct {
        const char *data;
        size_t len;
    } bad[] = {
        {"", 0},
        {" PIPELINING", 11},
        {"-DSN", 4},
        {"=AUTH PLAIN", 11},
        {"\tSTARTTLS", 9},
        {"DSN\tX", 5},
        {"CHUNKING:yes", 12},
        {"8BITMIME\0X", 10},
        {"SMTPUTF8\0", 9},
        {"\0", 1},
        {"\xc3\x9cNICODE", 8},
        {"PIPELINING\xff", 11},
        {"SIZE=1000", 9},
        {"AUTH\0=PLAIN", 11},
        {"X-FOO bar\0", 10},
        {"STARTTLS\r", 9},
    };
    test_reply r;
    asmtp__extensions ext;

    (void)state;
    asmtp__extensions_init(&ext, NULL);
    reply_build(&r, NULL, 0);
    for (size_t i = 0; i < COUNT(bad); i++)
        reply_add(&r, bad[i].data, bad[i].len);
    reply_add(&r, "ETRN", 4);
    assert_int_equal(asmtp__extensions_parse(&ext, &r.reply), 0);
    assert_int_equal(ext.flags, 0);
    assert_int_equal(ext.keyword_count, 1);
    assert_string_equal(ext.keywords[0].keyword, "ETRN");
    reply_release(&r);
    asmtp__extensions_clear(&ext);
}

static void test_greeting_line_ignored(void **state)
{
    test_reply r;
    asmtp__extensions ext;

    (void)state;
    asmtp__extensions_init(&ext, NULL);
    memset(&r, 0, sizeof r);
    r.reply.code = 250;
    r.reply.lines = r.lines;
    reply_add(&r, "PIPELINING", 10);
    assert_int_equal(asmtp__extensions_parse(&ext, &r.reply), 0);
    assert_int_equal(ext.flags, 0);
    assert_int_equal(ext.keyword_count, 0);
    assert_null(asmtp__extensions_find(&ext, "PIPELINING"));
    reply_release(&r);

    /* No lines at all, and no reply. */
    r.reply.lines = NULL;
    r.reply.line_count = 0;
    assert_int_equal(asmtp__extensions_parse(&ext, &r.reply), 0);
    assert_int_equal(ext.keyword_count, 0);
    r.reply.line_count = 3;
    assert_int_equal(asmtp__extensions_parse(&ext, &r.reply), 0);
    assert_int_equal(ext.keyword_count, 0);
    assert_int_equal(asmtp__extensions_parse(&ext, NULL), 0);
    assert_int_equal(ext.keyword_count, 0);
    asmtp__extensions_clear(&ext);
}

static void test_duplicates_later_wins(void **state)
{
    static const char *const lines[] = {
        "SIZE 100", "x-foo a",  "PIPELINING",
        "X-FOO b",  "SIZE 200", "pipelining",
    };
    asmtp__extensions ext;

    (void)state;
    asmtp__extensions_init(&ext, NULL);
    parse_lines(&ext, lines, COUNT(lines));
    assert_int_equal(ext.keyword_count, 3);
    assert_int_equal(ext.size_max, 200);
    assert_string_equal(asmtp__extensions_find(&ext, "SIZE"), "200");
    assert_string_equal(asmtp__extensions_find(&ext, "x-foo"), "b");
    assert_string_equal(ext.keywords[1].keyword, "X-FOO");
    assert_string_equal(ext.keywords[2].keyword, "pipelining");
    assert_int_equal(ext.flags, ASMTP__EXT_SIZE | ASMTP__EXT_PIPELINING);
    asmtp__extensions_clear(&ext);
}

static void test_reparse_replaces(void **state)
{
    static const char *const first[] = {"STARTTLS", "AUTH PLAIN", "SIZE 10",
                                        "X-OLD"};
    static const char *const second[] = {"PIPELINING", "X-NEW 1"};
    asmtp__extensions ext;

    (void)state;
    asmtp__extensions_init(&ext, NULL);
    parse_lines(&ext, first, COUNT(first));
    assert_int_equal(ext.keyword_count, 4);
    parse_lines(&ext, second, COUNT(second));
    assert_int_equal(ext.flags, ASMTP__EXT_PIPELINING);
    assert_int_equal(ext.auth, 0);
    assert_int_equal(ext.size_max, 0);
    assert_int_equal(ext.keyword_count, 2);
    assert_null(asmtp__extensions_find(&ext, "X-OLD"));
    assert_null(asmtp__extensions_find(&ext, "STARTTLS"));
    assert_string_equal(asmtp__extensions_find(&ext, "X-NEW"), "1");
    asmtp__extensions_clear(&ext);
}

static void test_clear(void **state)
{
    static const char *const lines[] = {"STARTTLS", "AUTH LOGIN", "SIZE 10"};
    asmtp__extensions ext;

    (void)state;
    asmtp__extensions_init(&ext, NULL);
    asmtp__extensions_clear(&ext);
    parse_lines(&ext, lines, COUNT(lines));
    asmtp__extensions_clear(&ext);
    assert_int_equal(ext.flags, 0);
    assert_int_equal(ext.auth, 0);
    assert_int_equal(ext.size_max, 0);
    assert_int_equal(ext.keyword_count, 0);
    assert_null(ext.keywords);
    assert_null(asmtp__extensions_find(&ext, "STARTTLS"));
    asmtp__extensions_clear(&ext);
}

static void test_long_line(void **state)
{
    static char line[20000];
    asmtp__extensions ext;
    const char *lines[1] = {line};
    const char *params;

    (void)state;
    memcpy(line, "X-LONG ", 7);
    memset(line + 7, 'a', sizeof line - 8);
    line[sizeof line - 1] = '\0';
    asmtp__extensions_init(&ext, NULL);
    parse_lines(&ext, lines, 1);
    params = asmtp__extensions_find(&ext, "X-LONG");
    assert_non_null(params);
    assert_int_equal(strlen(params), sizeof line - 8);
    asmtp__extensions_clear(&ext);
}

/* Fail each allocation in turn, both on a fresh set and on a re-parse. */
static void test_nomem(void **state)
{
    static const char *const lines[] = {
        "PIPELINING", "AUTH=LOGIN", "AUTH PLAIN", "SIZE 100",
        "X-FOO bar",  "X-FOO baz",  "STARTTLS",
    };
    test_reply r;

    (void)state;
    reply_build(&r, lines, COUNT(lines));
    for (int reparse = 0; reparse < 2; reparse++) {
        for (size_t fail_at = 1;; fail_at++) {
            failmem fm;
            asmtp__extensions ext;
            int rv;

            failmem_init(&fm, 0);
            asmtp__extensions_init(&ext, &fm.mem);
            if (reparse)
                assert_int_equal(asmtp__extensions_parse(&ext, &r.reply), 0);
            fm.count = 0;
            fm.fail_at = fail_at;
            rv = asmtp__extensions_parse(&ext, &r.reply);
            if (rv == 0) {
                assert_int_equal(fm.failed, 0);
                assert_int_equal(ext.keyword_count, 5);
                assert_int_equal(ext.auth, ASMTP_AUTH_LOGIN | ASMTP_AUTH_PLAIN);
                asmtp__extensions_clear(&ext);
                assert_int_equal(fm.live, 0);
                break;
            }
            assert_int_equal(rv, ASMTP_ERR_NOMEM);
            assert_int_equal(ext.flags, 0);
            assert_int_equal(ext.auth, 0);
            assert_int_equal(ext.keyword_count, 0);
            assert_null(ext.keywords);
            assert_null(asmtp__extensions_find(&ext, "PIPELINING"));
            assert_int_equal(fm.live, 0);
            asmtp__extensions_clear(&ext);
        }
    }
    reply_release(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_known_keyword),
        cmocka_unit_test(test_all_known_together),
        cmocka_unit_test(test_case_variants),
        cmocka_unit_test(test_whole_token_traps),
        cmocka_unit_test(test_auth_mechanisms),
        cmocka_unit_test(test_auth_legacy_alone),
        cmocka_unit_test(test_auth_merged),
        cmocka_unit_test(test_size_forms),
        cmocka_unit_test(test_unknown_keywords),
        cmocka_unit_test(test_params_spaces),
        cmocka_unit_test(test_invalid_lines_ignored),
        cmocka_unit_test(test_greeting_line_ignored),
        cmocka_unit_test(test_duplicates_later_wins),
        cmocka_unit_test(test_reparse_replaces),
        cmocka_unit_test(test_clear),
        cmocka_unit_test(test_long_line),
        cmocka_unit_test(test_nomem),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
