/*
 * Unit tests for the reply codec (src/reply.c): the incremental parser fed
 * whole, split at every point and byte by byte, its limits and allocation
 * failures, the reply constructors, and the renderers. Every input sits
 * against a guard page, so that reading one byte too far crashes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asmtp/error.h"
#include "reply.h"
#include "support.h"

#define MAX_REPLIES  16
#define DESCRIBE_MAX 4096

/* What one parse run produced. */
typedef struct parse_result {
    asmtp_reply *replies[MAX_REPLIES];
    size_t count;
    int error;
} parse_result;

/* The shape every reply must have: spans joined by LF make up the text. */
static void check_reply_shape(const asmtp_reply *reply)
{
    size_t offset = 0;

    assert_true(reply->line_count >= 1);
    assert_true(strlen(reply->enhanced) < sizeof reply->enhanced);
    for (size_t i = 0; i < reply->line_count; i++) {
        if (i > 0) {
            assert_int_equal(reply->text[offset], '\n');
            offset++;
        }
        assert_ptr_equal(reply->lines[i].data, reply->text + offset);
        offset += reply->lines[i].len;
    }
    assert_int_equal(offset, reply->text_len);
}

/* Feed one piece of input, copied against a guard page, until it is used
 * up or the parser fails; collect the replies. */
static void feed_guarded(asmtp__reply_parser *parser, const void *data,
                         size_t len, parse_result *result)
{
    unsigned char *copy = guard_copy(data, len);
    size_t off = 0;

    do {
        size_t used = SIZE_MAX;
        asmtp_reply *reply = NULL;
        int rv = asmtp__reply_parser_feed(parser, copy + off, len - off, &used,
                                          &reply);

        assert_true(used <= len - off);
        off += used;
        if (rv == ASMTP__REPLY_DONE) {
            assert_non_null(reply);
            check_reply_shape(reply);
            assert_true(result->count < MAX_REPLIES);
            result->replies[result->count++] = reply;
        } else {
            assert_null(reply);
            assert_true(rv <= 0);
            if (rv < 0)
                result->error = rv;
            else
                assert_int_equal(off, len);
        }
    } while (result->error == 0 && off < len);
    guard_free(copy);
}

static void result_free(parse_result *result, const asmtp_mem *mem)
{
    for (size_t i = 0; i < result->count; i++)
        asmtp__reply_free(mem, result->replies[i]);
    result->count = 0;
}

static void append(char *out, const char *s)
{
    size_t used = strlen(out);

    snprintf(out + used, DESCRIBE_MAX - used, "%s", s);
}

/*
 * Describe a run for comparison: each reply as code, [enhanced] when set,
 * and ":text" per line (rendered); then "..." when a reply is unfinished
 * and "!NAME" on error; items joined by " | ".
 */
static void describe(const parse_result *result, bool mid_reply, char *out)
{
    char item[DESCRIBE_MAX];

    out[0] = '\0';
    for (size_t i = 0; i < result->count; i++) {
        const asmtp_reply *reply = result->replies[i];

        snprintf(item, sizeof item, "%s%d", i > 0 ? " | " : "", reply->code);
        append(out, item);
        if (reply->enhanced[0]) {
            snprintf(item, sizeof item, "[%s]", reply->enhanced);
            append(out, item);
        }
        for (size_t j = 0; j < reply->line_count; j++) {
            append(out, ":");
            asmtp_render_text(reply->lines[j].data, reply->lines[j].len, item,
                              sizeof item);
            append(out, item);
        }
    }
    if (result->error == 0 && mid_reply)
        append(out, result->count > 0 ? " | ..." : "...");
    if (result->error != 0) {
        append(out, result->count > 0 ? " | !" : "!");
        append(out, asmtp_error_name(result->error));
    }
}

/* Parse input cut at the given offsets (ascending) and describe it. */
static void parse_cut(const char *input, size_t len, const size_t *cuts,
                      size_t ncuts, bool enhanced, char *out)
{
    asmtp__reply_parser parser;
    parse_result result = {0};
    size_t start = 0;

    asmtp__reply_parser_init(&parser, NULL);
    asmtp__reply_parser_expect_enhanced(&parser, enhanced);
    for (size_t i = 0; i <= ncuts && result.error == 0; i++) {
        size_t end = i < ncuts ? cuts[i] : len;

        feed_guarded(&parser, input + start, end - start, &result);
        start = end;
    }
    describe(&result, asmtp__reply_parser_mid_reply(&parser), out);
    result_free(&result, NULL);
    asmtp__reply_parser_free(&parser);
}

static void expect_cut(const char *input, size_t len, const size_t *cuts,
                       size_t ncuts, bool enhanced, const char *expected)
{
    char out[DESCRIBE_MAX];

    parse_cut(input, len, cuts, ncuts, enhanced, out);
    if (strcmp(out, expected) != 0)
        print_error("input cut at %zu points (first %zu)\n", ncuts,
                    ncuts ? cuts[0] : 0);
    assert_string_equal(out, expected);
}

/*
 * The input must parse as expected whole, cut at any one point, cut at
 * any two points (short inputs) and fed one byte at a time.
 */
static void expect_parse(const char *input, size_t len, bool enhanced,
                         const char *expected)
{
    size_t cuts[2];
    size_t *bytes = malloc((len + 1) * sizeof *bytes);

    assert_non_null(bytes);
    expect_cut(input, len, NULL, 0, enhanced, expected);
    for (size_t i = 0; i <= len; i++) {
        cuts[0] = i;
        expect_cut(input, len, cuts, 1, enhanced, expected);
        for (size_t j = i; len <= 128 && j <= len; j++) {
            cuts[1] = j;
            expect_cut(input, len, cuts, 2, enhanced, expected);
        }
    }
    for (size_t i = 0; i + 1 < len; i++)
        bytes[i] = i + 1;
    expect_cut(input, len, bytes, len > 0 ? len - 1 : 0, enhanced, expected);
    free(bytes);
}

#define EXPECT(input, enhanced, expected)                                      \
    expect_parse(input, sizeof input - 1, enhanced, expected)

static void test_single_line(void **state)
{
    (void)state;
    EXPECT("250 OK\r\n", true, "250:OK");
    EXPECT("220 mx.example.org ESMTP ready\r\n", false,
           "220:mx.example.org ESMTP ready");
    EXPECT("554 no\r\n", true, "554:no");
    EXPECT("250 OK\r", true, "...");
    EXPECT("", true, "");
}

static void test_multi_line(void **state)
{
    (void)state;
    EXPECT("250-mx.example.org Hello\r\n250-PIPELINING\r\n"
           "250-SIZE 10240000\r\n250 8BITMIME\r\n",
           false, "250:mx.example.org Hello:PIPELINING:SIZE 10240000:8BITMIME");
    EXPECT("250-a\r\n250-b\r\n", true, "...");
    EXPECT("220 hi\r\n250-a\r\n250 b\r\n221 bye\r\n", true,
           "220:hi | 250:a:b | 221:bye");
}

static void test_bare_code(void **state)
{
    (void)state;
    EXPECT("250\r\n", true, "250:");
    EXPECT("250 \r\n", true, "250:");
    EXPECT("250-\r\n250 x\r\n", true, "250::x");
    EXPECT("250-\r\n250\r\n", true, "250::");
    EXPECT("250  two\r\n", true, "250: two");
}

static void test_line_ends(void **state)
{
    (void)state;
    EXPECT("250 a\n", true, "250:a");
    EXPECT("250-a\n250-b\r\n250 c\n", true, "250:a:b:c");
    EXPECT("250 a\rb\r\n", true, "250:a\\x0db");
    EXPECT("250 a\r\r\n", true, "250:a\\x0d");
    EXPECT("250 \r\r\r\n", true, "250:\\x0d\\x0d");
    EXPECT("250-\r\n250 \rx\n", true, "250::\\x0dx");
    EXPECT("250 a\r250 b\r\n", true, "250:a\\x0d250 b");
    EXPECT("250 a\n\r\n", true, "250:a | !ASMTP_ERR_MALFORMED_REPLY");
    EXPECT("250\rx\r\n", true, "!ASMTP_ERR_MALFORMED_REPLY");
    EXPECT("250 a\r", true, "...");
}

static void test_malformed_code(void **state)
{
    static const char *const inputs[] = {
        "150 x\r\n", "650 x\r\n", "050 x\r\n", "350x\r\n", "260 x\r\n",
        "2a0 x\r\n", "25a x\r\n", "25\r\n",    "25 x\r\n", "2\r\n",
        "\r\n",      "\n",        " 250 x\n",  "250x\r\n", "250\tx\r\n",
        "2500 x\n",  "250_x\n",   "x250 a\n",  "\xff\n",   "250\0\n",
    };

    (void)state;
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        size_t len = strlen(inputs[i]);

        if (i == sizeof inputs / sizeof inputs[0] - 1)
            len = 5;
        expect_parse(inputs[i], len, true, "!ASMTP_ERR_MALFORMED_REPLY");
    }
    EXPECT("354 go ahead\r\n", true, "354:go ahead");
    EXPECT("559 x\r\n", true, "559:x");
    EXPECT("599 x\r\n", true, "!ASMTP_ERR_MALFORMED_REPLY");
    EXPECT("200 x\r\n", true, "200:x");
}

static void test_mismatched_codes(void **state)
{
    (void)state;
    EXPECT("250-a\r\n251 b\r\n", true, "!ASMTP_ERR_MALFORMED_REPLY");
    EXPECT("250-a\r\n250-b\r\n550 c\r\n", true, "!ASMTP_ERR_MALFORMED_REPLY");
    EXPECT("250-a\r\n\r\n", true, "!ASMTP_ERR_MALFORMED_REPLY");
    EXPECT("250 ok\r\n999 x\r\n", true, "250:ok | !ASMTP_ERR_MALFORMED_REPLY");
    EXPECT("250 ok\r\n251-a\r\n251 b\r\n", true, "250:ok | 251:a:b");
}

static void test_enhanced(void **state)
{
    (void)state;
    EXPECT("550-5.1.1 first\r\n550-5.1.2 second\r\n550 third\r\n", true,
           "550[5.1.1]:first:second:third");
    EXPECT("250-first\r\n250 2.0.0 second\r\n", true, "250:first:second");
    EXPECT("250 2.0.0\r\n", true, "250[2.0.0]:");
    EXPECT("250 2.0.0 \r\n", true, "250[2.0.0]:");
    EXPECT("250 2.0.0  x\r\n", true, "250[2.0.0]: x");
    EXPECT("550 5.123.456 x\r\n", true, "550[5.123.456]:x");
    EXPECT("451 4.7.1 later\n", true, "451[4.7.1]:later");
    EXPECT("250-2.1.0 a\r\n250 2.1.5 b\r\n", true, "250[2.1.0]:a:b");
}

static void test_enhanced_not_stripped(void **state)
{
    static const char *const texts[] = {
        "5.1.1 x", "2.1234.0 x", "2.0.1234 x", "2..0 x", "2.0 x",
        "2.0. x",  "2.0.0x",     "2.0.0-x",    ".0.0 x", "22.0.0 x",
        "2.a.0 x", "2.0.a x",    "2.",         "2",      "2.0.0\rx",
    };
    char input[64], expected[64];

    (void)state;
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        snprintf(input, sizeof input, "250 %s\r\n", texts[i]);
        snprintf(expected, sizeof expected, "250:%s", texts[i]);
        if (strchr(texts[i], '\r'))
            snprintf(expected, sizeof expected, "250:2.0.0\\x0dx");
        expect_parse(input, strlen(input), true, expected);
    }
    EXPECT("354 3.0.0 go\r\n", true, "354:3.0.0 go");
    EXPECT("550 4.0.0 x\r\n", true, "550:4.0.0 x");
    EXPECT("250-2.0.0 a\r\n250 2.0.0 b\r\n", false, "250:2.0.0 a:2.0.0 b");
    EXPECT("220 2.0.0 ready\r\n", false, "220:2.0.0 ready");
}

/* Several replies in one feed stop after each, so that expect_enhanced
 * can change in between. */
static void test_consumed_counts(void **state)
{
    static const char input[] = "220 2.0.0 hi\r\n250-2.1.0 a\r\n250 b\n"
                                "221 2.0.0 bye\r\n";
    asmtp__reply_parser parser;
    unsigned char *copy = guard_copy(input, sizeof input - 1);
    size_t len = sizeof input - 1, used;
    asmtp_reply *reply;

    (void)state;
    asmtp__reply_parser_init(&parser, NULL);
    asmtp__reply_parser_expect_enhanced(&parser, false);
    assert_int_equal(
        asmtp__reply_parser_feed(&parser, copy, len, &used, &reply),
        ASMTP__REPLY_DONE);
    assert_int_equal(used, 14);
    assert_string_equal(reply->enhanced, "");
    assert_memory_equal(reply->text, "2.0.0 hi", 8);
    asmtp__reply_free(NULL, reply);

    asmtp__reply_parser_expect_enhanced(&parser, true);
    assert_int_equal(
        asmtp__reply_parser_feed(&parser, copy + 14, len - 14, &used, &reply),
        ASMTP__REPLY_DONE);
    assert_int_equal(used, 19);
    assert_string_equal(reply->enhanced, "2.1.0");
    assert_int_equal(reply->text_len, 3);
    assert_memory_equal(reply->text, "a\nb", 3);
    asmtp__reply_free(NULL, reply);

    assert_int_equal(
        asmtp__reply_parser_feed(&parser, copy + 33, len - 33, &used, &reply),
        ASMTP__REPLY_DONE);
    assert_int_equal(used, len - 33);
    assert_int_equal(reply->code, 221);
    assert_int_equal(asmtp__reply_class(reply), 2);
    assert_string_equal(reply->enhanced, "2.0.0");
    assert_false(asmtp__reply_parser_mid_reply(&parser));
    asmtp__reply_free(NULL, reply);

    asmtp__reply_parser_free(&parser);
    guard_free(copy);
}

/* expect_enhanced changed mid-reply applies to the whole reply. */
static void test_enhanced_mid_reply(void **state)
{
    asmtp__reply_parser parser;
    parse_result result = {0};
    char out[DESCRIBE_MAX];

    (void)state;
    asmtp__reply_parser_init(&parser, NULL);
    feed_guarded(&parser, "250-2.0.0 a\r\n", 13, &result);
    asmtp__reply_parser_expect_enhanced(&parser, false);
    feed_guarded(&parser, "250 2.0.0 b\r\n", 13, &result);
    describe(&result, false, out);
    assert_string_equal(out, "250:2.0.0 a:2.0.0 b");
    result_free(&result, NULL);
    asmtp__reply_parser_free(&parser);
}

static void test_mid_reply(void **state)
{
    asmtp__reply_parser parser;
    parse_result result = {0};

    (void)state;
    asmtp__reply_parser_init(&parser, NULL);
    assert_false(asmtp__reply_parser_mid_reply(&parser));
    feed_guarded(&parser, "", 0, &result);
    assert_false(asmtp__reply_parser_mid_reply(&parser));
    feed_guarded(&parser, "2", 1, &result);
    assert_true(asmtp__reply_parser_mid_reply(&parser));
    feed_guarded(&parser, "50-a\r", 5, &result);
    assert_true(asmtp__reply_parser_mid_reply(&parser));
    feed_guarded(&parser, "\n", 1, &result);
    assert_true(asmtp__reply_parser_mid_reply(&parser));
    feed_guarded(&parser, "250 b\r\n", 7, &result);
    assert_int_equal(result.count, 1);
    assert_false(asmtp__reply_parser_mid_reply(&parser));
    feed_guarded(&parser, "\r", 1, &result);
    assert_true(asmtp__reply_parser_mid_reply(&parser));
    assert_int_equal(result.error, 0);
    result_free(&result, NULL);
    asmtp__reply_parser_free(&parser);
}

/* After an error every feed fails the same way and consumes nothing. */
static void test_error_is_sticky(void **state)
{
    asmtp__reply_parser parser;
    parse_result result = {0};
    unsigned char *copy = guard_copy("250 ok\r\n", 8);
    size_t used = 99;
    asmtp_reply *reply = NULL;

    (void)state;
    asmtp__reply_parser_init(&parser, NULL);
    feed_guarded(&parser, "25x\r\n", 5, &result);
    assert_int_equal(result.error, ASMTP_ERR_MALFORMED_REPLY);
    assert_int_equal(asmtp__reply_parser_feed(&parser, copy, 8, &used, &reply),
                     ASMTP_ERR_MALFORMED_REPLY);
    assert_int_equal(used, 0);
    assert_null(reply);
    asmtp__reply_parser_free(&parser);
    guard_free(copy);
}

/* Text is bytes: NUL, 8-bit and invalid UTF-8 come through unchanged. */
static void test_bytes_preserved(void **state)
{
    static const char input[] = "250-a\0b\xff\xc3\xa9\x01\r\n250 \x80\r\n";
    asmtp__reply_parser parser;
    parse_result result = {0};

    (void)state;
    asmtp__reply_parser_init(&parser, NULL);
    feed_guarded(&parser, input, sizeof input - 1, &result);
    assert_int_equal(result.count, 1);
    assert_int_equal(result.replies[0]->lines[0].len, 7);
    assert_memory_equal(result.replies[0]->lines[0].data,
                        "a\0b\xff\xc3\xa9\x01", 7);
    assert_int_equal(result.replies[0]->lines[1].len, 1);
    assert_memory_equal(result.replies[0]->lines[1].data, "\x80", 1);
    assert_memory_equal(result.replies[0]->text, "a\0b\xff\xc3\xa9\x01\n\x80",
                        9);
    result_free(&result, NULL);
    asmtp__reply_parser_free(&parser);
    expect_parse(input, sizeof input - 1, true,
                 "250:a\\x00b\\xff\xc3\xa9\\x01:\\x80");
}

/* A reply of line_count lines and total octets, CRLF-terminated, with the
 * octets spread evenly; the caller frees it. */
static char *make_reply(size_t line_count, size_t total, bool crlf)
{
    char *input = malloc(total);
    size_t pos = 0;

    assert_non_null(input);
    for (size_t i = 0; i < line_count; i++) {
        size_t line_len = total / line_count + (i < total % line_count);
        size_t end_len = crlf ? 2 : 1;

        memcpy(input + pos, i + 1 < line_count ? "250-" : "250 ", 4);
        memset(input + pos + 4, 'x', line_len - 4 - end_len);
        memcpy(input + pos + line_len - end_len, &"\r\n"[2 - end_len], end_len);
        pos += line_len;
    }
    assert_int_equal(pos, total);
    return input;
}

/* Parse a big input whole and byte by byte; both must give the same. */
static void expect_big(const char *input, size_t len, const char *expected)
{
    size_t *cuts = malloc(len * sizeof *cuts);
    char out[DESCRIBE_MAX];

    assert_non_null(cuts);
    parse_cut(input, len, NULL, 0, true, out);
    assert_string_equal(out, expected);
    for (size_t i = 0; i + 1 < len; i++)
        cuts[i] = i + 1;
    parse_cut(input, len, cuts, len - 1, true, out);
    assert_string_equal(out, expected);
    free(cuts);
}

/* Parse input whole and return its only reply, for limits tests. */
static asmtp_reply *parse_one(const char *input, size_t len)
{
    asmtp__reply_parser parser;
    parse_result result = {0};

    asmtp__reply_parser_init(&parser, NULL);
    feed_guarded(&parser, input, len, &result);
    asmtp__reply_parser_free(&parser);
    assert_int_equal(result.error, 0);
    assert_int_equal(result.count, 1);
    return result.replies[0];
}

static void test_line_limit(void **state)
{
    size_t max = ASMTP__REPLY_LINE_MAX;
    char *input;
    asmtp_reply *reply;

    (void)state;
    input = make_reply(1, max, true);
    reply = parse_one(input, max);
    assert_int_equal(reply->text_len, max - 6);
    asmtp__reply_free(NULL, reply);
    expect_big(input, max - 1, "...");
    free(input);

    input = make_reply(1, max, false);
    reply = parse_one(input, max);
    assert_int_equal(reply->text_len, max - 5);
    asmtp__reply_free(NULL, reply);
    free(input);

    input = make_reply(1, max + 1, true);
    expect_big(input, max + 1, "!ASMTP_ERR_REPLY_TOO_LONG");
    /* Found as soon as the line passes the limit, before any LF. */
    expect_big(input, max, "...");
    input[max - 1] = 'x';
    expect_big(input, max, "...");
    expect_big(input, max + 1, "!ASMTP_ERR_REPLY_TOO_LONG");
    free(input);
}

static void test_reply_limit(void **state)
{
    size_t max = ASMTP__REPLY_MAX;
    char *input;
    asmtp_reply *reply;

    (void)state;
    input = make_reply(8, max, true);
    reply = parse_one(input, max);
    assert_int_equal(reply->line_count, 8);
    assert_int_equal(reply->text_len, max - 8 * 6 + 7);
    asmtp__reply_free(NULL, reply);
    free(input);

    input = make_reply(9, max + 1, true);
    expect_big(input, max + 1, "!ASMTP_ERR_REPLY_TOO_LONG");
    /* Found at the first octet past the limit. */
    expect_big(input, max, "...");
    free(input);
}

static void test_lines_limit(void **state)
{
    size_t max = ASMTP__REPLY_LINES_MAX;
    char *input;
    asmtp_reply *reply;

    (void)state;
    input = make_reply(max, max * 7, true);
    reply = parse_one(input, max * 7);
    assert_int_equal(reply->line_count, max);
    asmtp__reply_free(NULL, reply);
    free(input);

    /* One line more: refused when the last allowed line is a
     * continuation, which promises one more. */
    input = make_reply(max + 1, (max + 1) * 7, true);
    expect_big(input, max * 7, "!ASMTP_ERR_REPLY_TOO_LONG");
    expect_big(input, max * 7 - 1, "...");
    free(input);
}

/* Fail each allocation of a parse run in turn: each must report NOMEM and
 * leave nothing behind once the parser is freed. */
static void parse_failing(size_t piece)
{
    char input[1200];
    char out[DESCRIBE_MAX], expected[DESCRIBE_MAX];
    size_t len, fail_at;

    memset(input, 'y', sizeof input);
    memcpy(input, "550-5.1.1 ", 10);
    memcpy(input + 700, "\r\n550-a\r\n550 b\n250 ok\r\n", 23);
    len = 723;
    snprintf(expected, sizeof expected, "550[5.1.1]:%.*s:a:b | 250:ok", 690,
             input + 10);

    for (fail_at = 1;; fail_at++) {
        failmem fm;
        asmtp__reply_parser parser;
        parse_result result = {0};

        failmem_init(&fm, fail_at);
        asmtp__reply_parser_init(&parser, &fm.mem);
        for (size_t pos = 0; pos < len && result.error == 0; pos += piece)
            feed_guarded(&parser, input + pos,
                         piece < len - pos ? piece : len - pos, &result);
        describe(&result, asmtp__reply_parser_mid_reply(&parser), out);
        result_free(&result, &fm.mem);
        asmtp__reply_parser_free(&parser);
        assert_int_equal(fm.live, 0);
        if (fm.failed == 0) {
            assert_string_equal(out, expected);
            break;
        }
        assert_int_equal(result.error, ASMTP_ERR_NOMEM);
    }
    assert_true(fail_at > 4);
}

static void test_allocation_failures(void **state)
{
    (void)state;
    parse_failing(1000000);
    parse_failing(1);
    parse_failing(7);
}

static void test_reply_new(void **state)
{
    asmtp_bytes lines[2] = {{(const unsigned char *)"a\0b", 3},
                            {(const unsigned char *)"", 0}};
    asmtp_reply *reply, *copy;

    (void)state;
    reply = asmtp__reply_new(NULL, 550, "5.1.1", lines, 2);
    assert_non_null(reply);
    check_reply_shape(reply);
    assert_int_equal(reply->code, 550);
    assert_string_equal(reply->enhanced, "5.1.1");
    assert_int_equal(reply->text_len, 4);
    assert_memory_equal(reply->text, "a\0b\n", 4);

    copy = asmtp__reply_copy(NULL, reply);
    assert_non_null(copy);
    check_reply_shape(copy);
    assert_ptr_not_equal(copy->text, reply->text);
    assert_int_equal(copy->code, 550);
    assert_string_equal(copy->enhanced, "5.1.1");
    assert_int_equal(copy->line_count, 2);
    assert_memory_equal(copy->text, "a\0b\n", 4);
    asmtp__reply_free(NULL, copy);
    asmtp__reply_free(NULL, reply);

    reply = asmtp__reply_new(NULL, 250, NULL, NULL, 0);
    assert_non_null(reply);
    check_reply_shape(reply);
    assert_int_equal(reply->line_count, 1);
    assert_int_equal(reply->text_len, 0);
    assert_string_equal(reply->enhanced, "");
    asmtp__reply_free(NULL, reply);

    reply = asmtp__reply_new(NULL, 250, "", lines + 1, 1);
    assert_string_equal(reply->enhanced, "");
    asmtp__reply_free(NULL, reply);
    reply = asmtp__reply_new(NULL, 250, "2.123.456789xyz", lines, 1);
    assert_string_equal(reply->enhanced, "2.123.45678");
    asmtp__reply_free(NULL, reply);

    assert_null(asmtp__reply_copy(NULL, NULL));
    asmtp__reply_free(NULL, NULL);
}

static void test_reply_new_limits(void **state)
{
    asmtp_bytes huge[2] = {{(const unsigned char *)"", SIZE_MAX / 2},
                           {(const unsigned char *)"", SIZE_MAX / 2}};
    failmem fm;

    (void)state;
    assert_null(asmtp__reply_new(NULL, 250, NULL, huge, 2));

    failmem_init(&fm, 1);
    assert_null(asmtp__reply_new(&fm.mem, 250, "2.0.0", huge + 1, 0));
    assert_int_equal(fm.failed, 1);
    assert_int_equal(fm.live, 0);
}

static void test_reply_copy_fails(void **state)
{
    asmtp_reply *reply = asmtp__reply_new(NULL, 250, NULL, NULL, 0);
    failmem fm;

    (void)state;
    failmem_init(&fm, 1);
    assert_null(asmtp__reply_copy(&fm.mem, reply));
    assert_int_equal(fm.live, 0);
    asmtp__reply_free(NULL, reply);
}

/*
 * Render into output buffers of every size, each against a guard page, and
 * check the snprintf contract: the full length returned, a NUL-terminated
 * prefix written, nothing written past size. With render_reply, reply is
 * rendered (NULL included); otherwise input is.
 */
static void expect_sizes(const char *expected, const void *input,
                         size_t input_len, const asmtp_reply *reply,
                         bool render_reply)
{
    static char filler[DESCRIBE_MAX];
    size_t need = strlen(expected);

    assert_true(need + 2 < sizeof filler);
    memset(filler, 'z', sizeof filler);
    for (size_t size = 0; size <= need + 2; size++) {
        char *out = (char *)guard_copy(filler, size);
        size_t got = render_reply
                         ? asmtp_reply_render(reply, out, size)
                         : asmtp_render_text(input, input_len, out, size);

        assert_int_equal(got, need);
        if (size > 0) {
            size_t kept = need < size - 1 ? need : size - 1;

            assert_int_equal(strlen(out), kept);
            assert_memory_equal(out, expected, kept);
        }
        guard_free((unsigned char *)out);
    }
}

static void expect_render(const void *input, size_t len, const char *expected)
{
    unsigned char *copy = guard_copy(input, len);

    expect_sizes(expected, copy, len, NULL, false);
    assert_int_equal(asmtp_render_text(copy, len, NULL, 0), strlen(expected));
    guard_free(copy);
}

#define RENDER(input, expected) expect_render(input, sizeof input - 1, expected)

static void test_render_ascii(void **state)
{
    (void)state;
    RENDER("", "");
    RENDER("hello, world ~!", "hello, world ~!");
    RENDER("a\\b", "a\\\\b");
    RENDER("\\", "\\\\");
    RENDER("\t\r\n\0\x1f\x7f", "\\x09\\x0d\\x0a\\x00\\x1f\\x7f");
    RENDER("\x1b[31m", "\\x1b[31m");
}

static void test_render_utf8(void **state)
{
    (void)state;
    RENDER("\xc2\xa0", "\xc2\xa0");
    RENDER("caf\xc3\xa9", "caf\xc3\xa9");
    RENDER("\xdf\xbf", "\xdf\xbf");
    RENDER("\xe0\xa0\x80", "\xe0\xa0\x80");
    RENDER("\xe2\x82\xac", "\xe2\x82\xac");
    RENDER("\xed\x9f\xbf", "\xed\x9f\xbf");
    RENDER("\xee\x80\x80", "\xee\x80\x80");
    RENDER("\xef\xbf\xbf", "\xef\xbf\xbf");
    RENDER("\xf0\x90\x80\x80", "\xf0\x90\x80\x80");
    RENDER("\xf0\x9d\x84\x9e", "\xf0\x9d\x84\x9e");
    RENDER("\xf3\xbf\xbf\xbf", "\xf3\xbf\xbf\xbf");
    RENDER("\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf");
}

static void test_render_invalid_utf8(void **state)
{
    (void)state;
    /* C1 controls are valid UTF-8 but act on terminals: escaped. */
    RENDER("\xc2\x80", "\\xc2\\x80");
    RENDER("\xc2\x9b[2J", "\\xc2\\x9b[2J");
    RENDER("\xc2\x9f", "\\xc2\\x9f");
    RENDER("\xc0\x80", "\\xc0\\x80");
    RENDER("\xc1\xbf", "\\xc1\\xbf");
    RENDER("\xe0\x80\x80", "\\xe0\\x80\\x80");
    RENDER("\xe0\x9f\xbf", "\\xe0\\x9f\\xbf");
    RENDER("\xf0\x80\x80\x80", "\\xf0\\x80\\x80\\x80");
    RENDER("\xf0\x8f\xbf\xbf", "\\xf0\\x8f\\xbf\\xbf");
    RENDER("\xed\xa0\x80", "\\xed\\xa0\\x80");
    RENDER("\xed\xbf\xbf", "\\xed\\xbf\\xbf");
    RENDER("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80");
    RENDER("\xf5\x80\x80\x80", "\\xf5\\x80\\x80\\x80");
    RENDER("\xff\xfe", "\\xff\\xfe");
    RENDER("\x80", "\\x80");
    RENDER("a\xbf"
           "b",
           "a\\xbfb");
    RENDER("\xc3", "\\xc3");
    RENDER("\xe2\x82", "\\xe2\\x82");
    RENDER("\xf0\x9d\x84", "\\xf0\\x9d\\x84");
    RENDER("\xc3"
           "A",
           "\\xc3A");
    RENDER("\xe2\x82"
           "A",
           "\\xe2\\x82A");
    RENDER("\xe2"
           "A\xac",
           "\\xe2A\\xac");
    RENDER("\xf0\x9d\x84"
           "A",
           "\\xf0\\x9d\\x84A");
    RENDER("\xc3\xc3\xa9", "\\xc3\xc3\xa9");
}

static void test_render_truncation(void **state)
{
    char buf[4] = "zzz";

    (void)state;
    assert_int_equal(asmtp_render_text("abc", 3, buf, 2), 3);
    assert_string_equal(buf, "a");
    assert_int_equal(asmtp_render_text("\x01", 1, buf, 3), 4);
    assert_string_equal(buf, "\\x");
    assert_int_equal(asmtp_render_text("abc", 3, buf, 1), 3);
    assert_string_equal(buf, "");
    memcpy(buf, "zzz", 4);
    assert_int_equal(asmtp_render_text("abc", 3, buf, 0), 3);
    assert_string_equal(buf, "zzz");
}

static void test_reply_render(void **state)
{
    asmtp_bytes lines[3] = {{(const unsigned char *)"first", 5},
                            {(const unsigned char *)"", 0},
                            {(const unsigned char *)"a\\\x01\xc3\xa9", 5}};
    asmtp_reply *reply;

    (void)state;
    expect_sizes("", NULL, 0, NULL, true);
    assert_int_equal(asmtp_reply_render(NULL, NULL, 0), 0);

    reply = asmtp__reply_new(NULL, 550, "5.1.1", lines, 3);
    expect_sizes("550 5.1.1 first\n550 5.1.1\n550 5.1.1 a\\\\\\x01\xc3\xa9",
                 NULL, 0, reply, true);
    asmtp__reply_free(NULL, reply);

    reply = asmtp__reply_new(NULL, 220, NULL, lines, 1);
    expect_sizes("220 first", NULL, 0, reply, true);
    asmtp__reply_free(NULL, reply);

    reply = asmtp__reply_new(NULL, 250, "", NULL, 0);
    expect_sizes("250", NULL, 0, reply, true);
    asmtp__reply_free(NULL, reply);

    reply = asmtp__reply_new(NULL, 250, "2.0.0", NULL, 0);
    expect_sizes("250 2.0.0", NULL, 0, reply, true);
    asmtp__reply_free(NULL, reply);
}

static void test_reply_render_parsed(void **state)
{
    static const char input[] = "550-5.1.1 <a@example.org>\r\n"
                                "550 5.1.1 no such user\xff\r\n";
    asmtp__reply_parser parser;
    parse_result result = {0};

    (void)state;
    asmtp__reply_parser_init(&parser, NULL);
    feed_guarded(&parser, input, sizeof input - 1, &result);
    assert_int_equal(result.count, 1);
    expect_sizes("550 5.1.1 <a@example.org>\n550 5.1.1 no such user\\xff", NULL,
                 0, result.replies[0], true);
    result_free(&result, NULL);
    asmtp__reply_parser_free(&parser);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_line),
        cmocka_unit_test(test_multi_line),
        cmocka_unit_test(test_bare_code),
        cmocka_unit_test(test_line_ends),
        cmocka_unit_test(test_malformed_code),
        cmocka_unit_test(test_mismatched_codes),
        cmocka_unit_test(test_enhanced),
        cmocka_unit_test(test_enhanced_not_stripped),
        cmocka_unit_test(test_consumed_counts),
        cmocka_unit_test(test_enhanced_mid_reply),
        cmocka_unit_test(test_mid_reply),
        cmocka_unit_test(test_error_is_sticky),
        cmocka_unit_test(test_bytes_preserved),
        cmocka_unit_test(test_line_limit),
        cmocka_unit_test(test_reply_limit),
        cmocka_unit_test(test_lines_limit),
        cmocka_unit_test(test_allocation_failures),
        cmocka_unit_test(test_reply_new),
        cmocka_unit_test(test_reply_new_limits),
        cmocka_unit_test(test_reply_copy_fails),
        cmocka_unit_test(test_render_ascii),
        cmocka_unit_test(test_render_utf8),
        cmocka_unit_test(test_render_invalid_utf8),
        cmocka_unit_test(test_render_truncation),
        cmocka_unit_test(test_reply_render),
        cmocka_unit_test(test_reply_render_parsed),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
