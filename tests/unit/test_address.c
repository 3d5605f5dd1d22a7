/*
 * Address list parser tests: tables of field bodies and the addr-specs
 * they must give, each body placed against a guard page; bodies that must
 * be refused, with the list left as it was; every result parsed again;
 * and every allocation failed in turn.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "address.h"
#include "asmtp/error.h"
#include "support.h"

#define COUNT(array) (sizeof(array) / sizeof((array)[0]))
#define MAX_WANT     8

/* A body and the addresses it gives, the list ending at the first NULL. */
struct valid_case {
    const char *text;
    const char *want[MAX_WANT];
};

/* A body that is not an address list; len counts embedded NULs. */
struct invalid_case {
    const char *text;
    size_t len;
};

#define BAD(s)                                                                 \
    {                                                                          \
        s, sizeof(s) - 1                                                       \
    }

static int parse_guarded(asmtp__address_list *list, const char *text,
                         size_t len)
{
    unsigned char *copy = guard_copy(text, len);
    int rv = asmtp__address_list_parse(list, (const char *)copy, len);

    guard_free(copy);
    return rv;
}

static size_t want_count(const struct valid_case *c)
{
    size_t n = 0;

    while (n < MAX_WANT && c->want[n])
        n++;
    return n;
}

static void check_list(const char *text, const asmtp__address_list *list,
                       const char *const *want, size_t n)
{
    if (list->count != n)
        fail_msg("%s: %zu addresses, expected %zu", text, list->count, n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(list->addresses[i], want[i]) != 0)
            fail_msg("%s: address %zu is %s, expected %s", text, i,
                     list->addresses[i], want[i]);
}

static void run_valid(const struct valid_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        asmtp__address_list list;
        int rv;

        asmtp__address_list_init(&list, NULL);
        rv = parse_guarded(&list, cases[i].text, strlen(cases[i].text));
        if (rv != 0)
            fail_msg("%s: returned %d", cases[i].text, rv);
        check_list(cases[i].text, &list, cases[i].want, want_count(&cases[i]));
        asmtp__address_list_free(&list);
    }
}

/* Each must fail, leaving a list that already holds one address as it
 * was: same array, same string. */
static void run_invalid(const struct invalid_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        asmtp__address_list list;
        char **addresses;
        char *first;
        int rv;

        asmtp__address_list_init(&list, NULL);
        assert_int_equal(parse_guarded(&list, "keep@example.org", 16), 0);
        addresses = list.addresses;
        first = list.addresses[0];
        rv = parse_guarded(&list, cases[i].text, cases[i].len);
        if (rv != ASMTP_ERR_MESSAGE)
            fail_msg("%.*s: returned %d, expected ASMTP_ERR_MESSAGE",
                     (int)cases[i].len, cases[i].text, rv);
        assert_int_equal(list.count, 1);
        assert_ptr_equal(list.addresses, addresses);
        assert_ptr_equal(list.addresses[0], first);
        assert_string_equal(first, "keep@example.org");
        asmtp__address_list_free(&list);
    }
}

static void test_plain(void **state)
{
    static const struct valid_case cases[] = {
        {"user@example.com", {"user@example.com"}},
        {"  user@example.com  ", {"user@example.com"}},
        {"a@b", {"a@b"}},
        {"first.last@sub.example.com", {"first.last@sub.example.com"}},
        {"a@x, b@y,c@z", {"a@x", "b@y", "c@z"}},
        {"<user@example.com>", {"user@example.com"}},
        {"< user @ example.com >", {"user@example.com"}},
        {"user+tag!#$%&'*/=?^_`{|}~-@example.com",
         {"user+tag!#$%&'*/=?^_`{|}~-@example.com"}},
        {"a@b,a@b", {"a@b", "a@b"}},
        {"UPPER@Example.COM", {"UPPER@Example.COM"}},
    };

    (void)state;
    run_valid(cases, COUNT(cases));
}

static void test_display_names(void **state)
{
    static const struct valid_case cases[] = {
        {"John Doe <jdoe@example.com>", {"jdoe@example.com"}},
        {"John<j@d>", {"j@d"}},
        {"\"Doe, John\" <j@d>", {"j@d"}},
        {"\"Doe, John\" <j@d>, \"Roe; Jane\" <r@d>", {"j@d", "r@d"}},
        {"\"a@b\" <c@d>", {"c@d"}},
        {"\"<x@y>\" <c@d>", {"c@d"}},
        {"\"quote \\\" inside\" <q@d>", {"q@d"}},
        {"Dr. J. R. Smith <s@d>", {"s@d"}},
        {"J.R. <s@d>", {"s@d"}},
        {". <s@d>", {"s@d"}},
        {"\"\" <e@d>", {"e@d"}},
        {"Mixed \"quoted\" words <m@d>", {"m@d"}},
        {"Jörg Müller <jm@d>", {"jm@d"}},
        {"\"Åsa Ström\" <as@d>", {"as@d"}},
        {"名前 <n@d>", {"n@d"}},
    };

    (void)state;
    run_valid(cases, COUNT(cases));
}

static void test_comments(void **state)
{
    static const struct valid_case cases[] = {
        {"(comment) a@b", {"a@b"}},
        {"a@b (comment)", {"a@b"}},
        {"a(x)@(y)b(z)", {"a@b"}},
        {"a@b(z).(w)c", {"a@b.c"}},
        {"(a (b) \\) c) x@y", {"x@y"}},
        {"x@y (nested (deeply (very)) done)", {"x@y"}},
        {"x@y (\\(not a nest)", {"x@y"}},
        {"x@y (\"quotes\" and <angles> and @, fine)", {"x@y"}},
        {"Name (c) <(c)x(c)@(c)y(c)> (c)", {"x@y"}},
        {"(c)<x@y>(c),(c)<z@w>", {"x@y", "z@w"}},
        {"x@y (Jörg)", {"x@y"}},
        {"x@y (a\r\n b)", {"x@y"}},
        {"x@y (\\\\)", {"x@y"}},
        {"(only a comment)", {NULL}},
        {"x@y(a)(b)", {"x@y"}},
    };

    (void)state;
    run_valid(cases, COUNT(cases));
}

static void test_groups(void **state)
{
    static const struct valid_case cases[] = {
        {"undisclosed-recipients:;", {NULL}},
        {"undisclosed-recipients: ;", {NULL}},
        {"Undisclosed recipients:;", {NULL}},
        {"team: a@b, Bee <b@c>;", {"a@b", "b@c"}},
        {"x@y, team: a@b;, z@w", {"x@y", "a@b", "z@w"}},
        {"team: a@b; , other: c@d;", {"a@b", "c@d"}},
        {"\"the team\": a@b;", {"a@b"}},
        {"team: , a@b , , c@d ,;", {"a@b", "c@d"}},
        {"team:(empty);", {NULL}},
        {"team: a@b ; (after)", {"a@b"}},
        {"open group: a@b", {"a@b"}},
        {"undisclosed-recipients:", {NULL}},
        {"team: <>;", {NULL}},
        {"a: b@c;, d: e@f;", {"b@c", "e@f"}},
    };

    (void)state;
    run_valid(cases, COUNT(cases));
}

static void test_folding(void **state)
{
    static const struct valid_case cases[] = {
        {"a@b,\r\n c@d", {"a@b", "c@d"}},    {"a@b,\n\tc@d", {"a@b", "c@d"}},
        {"John\r\n Doe\r\n <j@d>", {"j@d"}}, {"<j\r\n @\r\n d>", {"j@d"}},
        {"\"a\r\n b\"@c", {"\"a b\"@c"}},    {"\"a\n  b\"@c", {"\"a  b\"@c"}},
        {"a@b\r\n \r\n .c", {"a@b.c"}},      {"\r\n a@b\r\n ", {"a@b"}},
        {"\ta@b\t,\tc@d\t", {"a@b", "c@d"}},
    };
    /* A line break that does not fold: not followed by white space, or a
     * CR without LF. */
    static const struct invalid_case bad[] = {
        BAD("a@b,\r\n\r\n c@d"),
        BAD("a@b,\r\nc@d"),
        BAD("a@b,\nc@d"),
        BAD("a@b\r\n"),
        BAD("a@b\n"),
        BAD("a@b,\r c@d"),
        BAD("a@b\r"),
    };

    (void)state;
    run_valid(cases, COUNT(cases));
    run_invalid(bad, COUNT(bad));
}

static void test_encoded_words(void **state)
{
    static const struct valid_case cases[] = {
        {"=?utf-8?q?J=C3=B6rg?= <j@d>", {"j@d"}},
        {"=?utf-8?b?SsO2cmc=?= <j@d>", {"j@d"}},
        {"=?iso-8859-1?q?a?= =?iso-8859-1?q?b?= <ab@d>", {"ab@d"}},
        {"\"=?utf-8?q?Doe=2C_John?=\" <j@d>", {"j@d"}},
        {"=?utf-8?q?Dr.?= Who <w@d>", {"w@d"}},
        {"=?utf-8?q?team?=: a@b;", {"a@b"}},
        {"=?utf-8?q?x?=@d", {"=?utf-8?q?x?=@d"}},
    };

    (void)state;
    run_valid(cases, COUNT(cases));
}

static void test_quoted_local_parts(void **state)
{
    static const struct valid_case cases[] = {
        {"\"a b\"@c", {"\"a b\"@c"}},
        {"\"ab\"@c", {"ab@c"}},
        {"\"a.b\"@c", {"a.b@c"}},
        {"\"a..b\"@c", {"\"a..b\"@c"}},
        {"\".a\"@c", {"\".a\"@c"}},
        {"\"a.\"@c", {"\"a.\"@c"}},
        {"\"\"@c", {"\"\"@c"}},
        {"\"a\\\"b\"@c", {"\"a\\\"b\"@c"}},
        {"\"a\\\\b\"@c", {"\"a\\\\b\"@c"}},
        {"\"\\a\\b\"@c", {"ab@c"}},
        {"\"a@b\"@c", {"\"a@b\"@c"}},
        {"\"a,b\"@c", {"\"a,b\"@c"}},
        {"Name <\"x y\"@c>", {"\"x y\"@c"}},
        {"\"(not a comment)\"@c", {"\"(not a comment)\"@c"}},
        {"\"a\\ b\"@c", {"\"a b\"@c"}},
    };
    static const struct invalid_case bad[] = {
        BAD("\"a\tb\"@c"),
        BAD("\"a\\\tb\"@c"),
        BAD("\"a\r\n\tb\"@c"),
    };

    (void)state;
    run_valid(cases, COUNT(cases));
    run_invalid(bad, COUNT(bad));
}

static void test_domain_literals(void **state)
{
    static const struct valid_case cases[] = {
        {"a@[192.0.2.1]", {"a@[192.0.2.1]"}},
        {"a@[IPv6:2001:db8::1]", {"a@[IPv6:2001:db8::1]"}},
        {"<a@[192.0.2.1]>", {"a@[192.0.2.1]"}},
        {"a@[ 192.0.2.1 ]", {"a@[192.0.2.1]"}},
        {"a@[192.0.2.1\r\n ]", {"a@[192.0.2.1]"}},
        {"a@ (c) [192.0.2.1] (c)", {"a@[192.0.2.1]"}},
        {"a@[x], b@[y]", {"a@[x]", "b@[y]"}},
    };
    static const struct invalid_case bad[] = {
        BAD("a@[192.0.2.1"), BAD("a@[]"),    BAD("a@[ ]"),
        BAD("a@[a\\]b]"),    BAD("a@[a[b]"), BAD("a@[1].x"),
    };

    (void)state;
    run_valid(cases, COUNT(cases));
    run_invalid(bad, COUNT(bad));
}

static void test_obs_route(void **state)
{
    static const struct valid_case cases[] = {
        {"<@route1,@route2:user@host>", {"user@host"}},
        {"Name <@r1:u@h>", {"u@h"}},
        {"< @r1 , @r2 : u@h >", {"u@h"}},
        {"<,@r1,,@r2:u@h>", {"u@h"}},
        {"<@[192.0.2.1]:u@h>", {"u@h"}},
        {"<@r1.example (c):u@h>, x@y", {"u@h", "x@y"}},
    };
    static const struct invalid_case bad[] = {
        BAD("<@r1 u@h>"), BAD("<,:u@h>"),   BAD("<@:u@h>"), BAD("<@r1:>"),
        BAD("<@r1:u@h"),  BAD("<@r1,@r2>"), BAD("<@r1:u>"), BAD("<@(x:u@h>"),
    };

    (void)state;
    run_valid(cases, COUNT(cases));
    run_invalid(bad, COUNT(bad));
}

static void test_obs_local_part(void **state)
{
    static const struct valid_case cases[] = {
        {"a . b@c", {"a.b@c"}},
        {"a (x) . (y) b@c", {"a.b@c"}},
        {"\"a\".\"b\"@c", {"a.b@c"}},
        {"\"a b\".c@d", {"\"a b.c\"@d"}},
        {"a.\"b c\".d@e", {"\"a.b c.d\"@e"}},
        {"a\r\n .b@c", {"a.b@c"}},
        {"a@b . c . d", {"a@b.c.d"}},
    };
    static const struct invalid_case bad[] = {
        BAD("a b@c"),  BAD(".a@c"), BAD("a.@c"), BAD("a..b@c"), BAD("a\"b\"@c"),
        BAD("a@b..c"), BAD("a@.b"), BAD("a@b."), BAD("a@b c"),
    };

    (void)state;
    run_valid(cases, COUNT(cases));
    run_invalid(bad, COUNT(bad));
}

static void test_empty_elements(void **state)
{
    static const struct valid_case cases[] = {
        {"", {NULL}},
        {"   ", {NULL}},
        {",", {NULL}},
        {",,,", {NULL}},
        {", a@b", {"a@b"}},
        {"a@b ,", {"a@b"}},
        {"a@b,,c@d", {"a@b", "c@d"}},
        {" , (c) , a@b , (c) ,, ", {"a@b"}},
        {"<>", {NULL}},
        {"< >, a@b", {"a@b"}},
        {"Nobody <>", {NULL}},
        {"<(c)>", {NULL}},
    };

    (void)state;
    run_valid(cases, COUNT(cases));
}

static void test_utf8(void **state)
{
    static const struct valid_case cases[] = {
        {"jörg@example.com", {"jörg@example.com"}},
        {"用户@例子.广告", {"用户@例子.广告"}},
        {"Имя <почта@пример.рф>", {"почта@пример.рф"}},
        {"\"jörg müller\"@d", {"\"jörg müller\"@d"}},
        {"\"jörg\"@d", {"jörg@d"}},
        {"a@[ü]", {"a@[ü]"}},
        {"\xf0\x9f\x98\x80@d", {"\xf0\x9f\x98\x80@d"}},
        {"\xf4\x8f\xbf\xbf@d", {"\xf4\x8f\xbf\xbf@d"}},
        {"\xed\x9f\xbf@d", {"\xed\x9f\xbf@d"}},
        {"\xc2\xa0@d", {"\xc2\xa0@d"}},
        {"\"\\é\"@d", {"é@d"}},
    };
    static const struct invalid_case bad[] = {
        BAD("j\xf6rg@example.com"), /* Latin-1 */
        BAD("a@\xc3"),              /* truncated */
        BAD("\xc3(@d"),             /* bad continuation */
        BAD("\xc0\xaf@d"),          /* overlong */
        BAD("\xe0\x80\xaf@d"),      /* overlong */
        BAD("\xf0\x80\x80\xaf@d"),  /* overlong */
        BAD("\xed\xa0\x80@d"),      /* surrogate */
        BAD("\xf4\x90\x80\x80@d"),  /* above U+10FFFF */
        BAD("\xf5\x80\x80\x80@d"),  /* invalid lead */
        BAD("\x80@d"),              /* lone continuation */
        BAD("\xe2\x82@d"),          /* truncated */
        BAD("\xf0\x9f\x98@d"),      /* truncated */
        BAD("\xc2\x85@d"),          /* C1 control NEL */
        BAD("Name \xff <a@d>"),     /* in a display name */
        BAD("a@d (\xfe)"),          /* in a comment */
        BAD("\"\xc3\\\xa9\"@d"),    /* split by a quoted pair */
    };

    (void)state;
    run_valid(cases, COUNT(cases));
    run_invalid(bad, COUNT(bad));
}

static void test_missing_at(void **state)
{
    static const struct invalid_case bad[] = {
        BAD("postmaster"),   BAD("postmaster, a@b"), BAD("a@b, postmaster"),
        BAD("John Doe"),     BAD("\"quoted\""),      BAD("Doe, John <j@d>"),
        BAD("<postmaster>"), BAD("Name <local>"),    BAD("team: postmaster;"),
        BAD("@example.com"), BAD("<@example.com>"),  BAD("a@"),
        BAD("a@ (c)"),       BAD("a@,b@c"),
    };

    (void)state;
    run_invalid(bad, COUNT(bad));
}

static void test_unbalanced(void **state)
{
    static const struct invalid_case bad[] = {
        BAD("\"a b@c"),
        BAD("\"a\\\"@c"),
        BAD("\"a\\"),
        BAD("Name \" <a@b>"),
        BAD("(a@b"),
        BAD("a@b (c"),
        BAD("a@b (c (d)"),
        BAD("a@b (c \\)"),
        BAD("a@b (c \\"),
        BAD("a (c"),
        BAD("a@b.(c"),
        BAD("a@b . c (d"),
        BAD("<(c"),
        BAD("< a (c"),
        BAD("<@r (c"),
        BAD("<@r,(c"),
        BAD("team: (c"),
        BAD("a@b )"),
        BAD(")a@b"),
        BAD("<a@b"),
        BAD("Name <a@b"),
        BAD("a@b>"),
        BAD("<<a@b>>"),
        BAD("<a@b> <c@d>"),
        BAD("Name <a@b> trailing"),
        BAD("a@b;"),
        BAD("team: a@b;;"),
        BAD("team: a@b; c"),
        BAD("team: a@b c;"),
        BAD("outer: inner: a@b;;"),
        BAD(": a@b;"),
        BAD("a@b c@d"),
        BAD("a@b@c"),
        BAD("[a]@b"),
        BAD("a\\b@c"),
        BAD("a@b\\c"),
        BAD("\"a\\\r\n b\"@c"),
        BAD("a@b (x\\\r\n y)"),
        BAD("a@\"b\""),
        BAD("<a@b\">"),
    };

    (void)state;
    run_invalid(bad, COUNT(bad));
}

static void test_controls(void **state)
{
    static const struct invalid_case bad[] = {
        BAD("a\0b@c"),  BAD("a@b\0"),       BAD("a\x01@b"),
        BAD("a@b\x7f"), BAD("\"a\x1f\"@b"), BAD("a@b (\x1b)"),
        BAD("\x0b"),    BAD("a@[1\x0c]"),   BAD("Name\x08 <a@b>"),
    };

    (void)state;
    run_invalid(bad, COUNT(bad));
}

/* A parse appends after what the list holds; an empty result leaves it. */
static void test_appends(void **state)
{
    static const char *const want[] = {"a@b", "c@d", "e@f", "g@h"};
    asmtp__address_list list;

    (void)state;
    asmtp__address_list_init(&list, NULL);
    assert_int_equal(parse_guarded(&list, "a@b", 3), 0);
    assert_int_equal(parse_guarded(&list, "undisclosed:;", 13), 0);
    assert_int_equal(parse_guarded(&list, "c@d, e@f", 8), 0);
    assert_int_equal(parse_guarded(&list, "", 0), 0);
    assert_int_equal(parse_guarded(&list, "g@h", 3), 0);
    check_list("appends", &list, want, COUNT(want));
    asmtp__address_list_free(&list);
    assert_null(list.addresses);
    assert_int_equal(list.count, 0);

    /* Freed, the list can be used again; freeing twice is harmless. */
    assert_int_equal(parse_guarded(&list, "x@y", 3), 0);
    assert_int_equal(list.count, 1);
    asmtp__address_list_free(&list);
    asmtp__address_list_free(&list);

    /* NULL text of length 0 is an empty list. */
    assert_int_equal(asmtp__address_list_parse(&list, NULL, 0), 0);
    assert_int_equal(list.count, 0);
}

/* More addresses than the first allocation of the array holds. */
static void test_many(void **state)
{
    char text[4096];
    size_t len = 0;
    asmtp__address_list list;

    (void)state;
    for (int i = 0; i < 100; i++)
        len += (size_t)snprintf(text + len, sizeof text - len,
                                "%sUser %d <u%d@example.com>", i ? ", " : "", i,
                                i);
    asmtp__address_list_init(&list, NULL);
    assert_int_equal(parse_guarded(&list, text, len), 0);
    assert_int_equal(list.count, 100);
    for (int i = 0; i < 100; i++) {
        char want[32];

        snprintf(want, sizeof want, "u%d@example.com", i);
        assert_string_equal(list.addresses[i], want);
    }
    asmtp__address_list_free(&list);
}

/* Every address given, parsed again as a list of its own, gives itself. */
static void test_results_reparse(void **state)
{
    static const char *const texts[] = {
        "\"a b\"@c, \"ab\"@c, \"a\\\"b\"@c, \"a\\\\b\"@c, \"\"@c",
        "\"a..b\"@c, \".a\"@c, \"a.\"@c, \"a@b\"@c, \"(x)\"@c",
        "a . b@c, \"a b\".c@d, a@[ 1.2.3.4 ], a@b . c",
        "jörg@d, \"jörg müller\"@d, <@r:u@h>, \"a,b;c<d>\"@e",
    };

    (void)state;
    for (size_t i = 0; i < COUNT(texts); i++) {
        asmtp__address_list list;

        asmtp__address_list_init(&list, NULL);
        assert_int_equal(parse_guarded(&list, texts[i], strlen(texts[i])), 0);
        for (size_t j = 0; j < list.count; j++) {
            asmtp__address_list again;
            const char *want[1];

            want[0] = list.addresses[j];
            asmtp__address_list_init(&again, NULL);
            assert_int_equal(parse_guarded(&again, want[0], strlen(want[0])),
                             0);
            check_list(want[0], &again, want, 1);
            asmtp__address_list_free(&again);
        }
        asmtp__address_list_free(&list);
    }
}

/* A domain longer than the first allocation of a buffer. */
#define LABEL       "a-label-of-sixty-octets-to-make-the-domain-long-0123456789"
#define LONG_DOMAIN LABEL "." LABEL "." LABEL "." LABEL "." LABEL

/* Fail each allocation in turn, on an empty list and on one that holds an
 * address: NOMEM, the list as it was, nothing leaked. */
static void test_nomem(void **state)
{
    static const char text[] =
        "\"quoted local\"@example.com, Name <@route:a@[192.0.2.1]>, "
        "team: b@c, d@e, f@g;, h . i@j, k@l, m@" LONG_DOMAIN " (end)";
    static const char *const want[] = {
        "\"quoted local\"@example.com",
        "a@[192.0.2.1]",
        "b@c",
        "d@e",
        "f@g",
        "h.i@j",
        "k@l",
        "m@" LONG_DOMAIN,
    };

    (void)state;
    for (int preset = 0; preset < 2; preset++) {
        for (size_t fail_at = 1;; fail_at++) {
            asmtp__address_list list;
            failmem fm;
            int rv;

            failmem_init(&fm, 0);
            asmtp__address_list_init(&list, &fm.mem);
            if (preset)
                assert_int_equal(parse_guarded(&list, "first@x", 7), 0);
            fm.count = 0;
            fm.fail_at = fail_at;
            rv = parse_guarded(&list, text, sizeof text - 1);
            if (rv == 0) {
                assert_int_equal(fm.failed, 0);
                assert_int_equal(list.count, COUNT(want) + (size_t)preset);
                for (size_t i = 0; i < COUNT(want); i++)
                    assert_string_equal(list.addresses[i + (size_t)preset],
                                        want[i]);
                asmtp__address_list_free(&list);
                assert_int_equal(fm.live, 0);
                assert_true(fail_at > 3);
                break;
            }
            assert_int_equal(rv, ASMTP_ERR_NOMEM);
            assert_int_equal(list.count, (size_t)preset);
            if (preset)
                assert_string_equal(list.addresses[0], "first@x");
            asmtp__address_list_free(&list);
            assert_int_equal(fm.live, 0);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_display_names),
        cmocka_unit_test(test_comments),
        cmocka_unit_test(test_groups),
        cmocka_unit_test(test_folding),
        cmocka_unit_test(test_encoded_words),
        cmocka_unit_test(test_quoted_local_parts),
        cmocka_unit_test(test_domain_literals),
        cmocka_unit_test(test_obs_route),
        cmocka_unit_test(test_obs_local_part),
        cmocka_unit_test(test_empty_elements),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_missing_at),
        cmocka_unit_test(test_unbalanced),
        cmocka_unit_test(test_controls),
        cmocka_unit_test(test_appends),
        cmocka_unit_test(test_many),
        cmocka_unit_test(test_results_reparse),
        cmocka_unit_test(test_nomem),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
