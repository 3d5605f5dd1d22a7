/*
 * libFuzzer target for the reply parser and the renderers. The input after
 * its first byte is parsed whole, cut in two where the first byte says,
 * and sometimes byte by byte or with a failing allocator; every way must
 * agree. Each reply is checked, rendered, copied and freed.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "asmtp/error.h"
#include "reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What one parse run produced: its replies serialised, and its error. */
typedef struct run {
    asmtp__buf out;
    int error;
    bool enhanced;      /* toggled after every reply */
    size_t since_reply; /* octets fed since the last reply completed */
} run;

/* An allocator that fails from allocation number fail_at on. */
typedef struct failing_mem {
    asmtp_mem mem;
    size_t count;
    size_t fail_at;
} failing_mem;

static void *failing_malloc(size_t size, void *user_data)
{
    failing_mem *fm = user_data;

    return ++fm->count >= fm->fail_at ? NULL : malloc(size);
}

static void *failing_realloc(void *ptr, size_t size, void *user_data)
{
    failing_mem *fm = user_data;

    return ++fm->count >= fm->fail_at ? NULL : realloc(ptr, size);
}

static void failing_free(void *ptr, void *user_data)
{
    (void)user_data;
    free(ptr);
}

static void check(bool condition)
{
    if (!condition)
        abort();
}

/* The reply's lines must be contiguous spans of its text, joined by LF. */
static void check_shape(const asmtp_reply *reply, bool enhanced)
{
    size_t offset = 0;

    check(reply->line_count >= 1);
    check(reply->code >= 200 && reply->code <= 559);
    check(enhanced || reply->enhanced[0] == '\0');
    check(strlen(reply->enhanced) <= 9);
    for (size_t i = 0; i < reply->line_count; i++) {
        if (i > 0)
            check(reply->text[offset++] == '\n');
        check(reply->lines[i].data == reply->text + offset);
        check(memchr(reply->lines[i].data, '\n', reply->lines[i].len) == NULL);
        offset += reply->lines[i].len;
    }
    check(offset == reply->text_len);
}

/* Render whole and truncated; the snprintf contract must hold. */
static void check_render(const asmtp_reply *reply)
{
    size_t need = asmtp_reply_render(reply, NULL, 0);
    char *text = malloc(need + 1);
    char small[7];

    check(text != NULL);
    check(asmtp_reply_render(reply, text, need + 1) == need);
    check(strlen(text) == need);
    check(asmtp_reply_render(reply, small, sizeof small) == need);
    check(strlen(small) == (need < sizeof small ? need : sizeof small - 1));
    check(memcmp(small, text, strlen(small)) == 0);
    free(text);
}

/* A copy must render the same as the original. */
static void check_copy(const asmtp_reply *reply)
{
    asmtp_reply *copy = asmtp__reply_copy(NULL, reply);
    size_t need = asmtp_reply_render(reply, NULL, 0);
    char *a = malloc(need + 1), *b = malloc(need + 1);

    check(copy != NULL && a != NULL && b != NULL);
    check_shape(copy, true);
    check(copy->text_len == reply->text_len);
    check(memcmp(copy->text, reply->text, reply->text_len) == 0);
    asmtp_reply_render(reply, a, need + 1);
    check(asmtp_reply_render(copy, b, need + 1) == need);
    check(strcmp(a, b) == 0);
    asmtp__reply_free(NULL, copy);
    free(a);
    free(b);
}

static void record(run *r, const asmtp_reply *reply)
{
    int rv = asmtp__buf_append_uint(&r->out, (unsigned long long)reply->code);

    rv |= asmtp__buf_append_str(&r->out, reply->enhanced);
    rv |= asmtp__buf_append_byte(&r->out, '|');
    rv |= asmtp__buf_append_uint(&r->out, reply->text_len);
    rv |= asmtp__buf_append_byte(&r->out, '|');
    rv |= asmtp__buf_append(&r->out, reply->text, reply->text_len);
    check(rv == 0);
}

static void take_reply(asmtp__reply_parser *parser, run *r, asmtp_reply *reply,
                       const asmtp_mem *mem)
{
    check(reply != NULL);
    check_shape(reply, r->enhanced);
    check_render(reply);
    check_copy(reply);
    record(r, reply);
    asmtp__reply_free(mem, reply);
    r->enhanced = !r->enhanced;
    asmtp__reply_parser_expect_enhanced(parser, r->enhanced);
}

/* Feed one piece from its own exact-size copy, so over-reads are seen. */
static void feed_piece(asmtp__reply_parser *parser, run *r, const uint8_t *data,
                       size_t len, const asmtp_mem *mem)
{
    uint8_t *copy = malloc(len ? len : 1);
    size_t off = 0, used;
    asmtp_reply *reply;
    int rv;

    check(copy != NULL);
    if (len > 0)
        memcpy(copy, data, len);
    do {
        rv = asmtp__reply_parser_feed(parser, copy + off, len - off, &used,
                                      &reply);
        check(used <= len - off);
        off += used;
        r->since_reply += used;
        if (rv == ASMTP__REPLY_DONE) {
            take_reply(parser, r, reply, mem);
            r->since_reply = 0;
        } else if (rv < 0) {
            r->error = rv;
        } else {
            check(rv == 0 && off == len && reply == NULL);
        }
    } while (r->error == 0 && off < len);
    free(copy);
}

/* Parse data cut into a first piece of first_len octets (maybe empty), then
 * pieces of piece octets (at least 1). */
static void parse(run *r, const uint8_t *data, size_t len, size_t first_len,
                  size_t piece, bool enhanced, const asmtp_mem *mem)
{
    asmtp__reply_parser parser;
    size_t pos, n;

    asmtp__buf_init(&r->out, NULL);
    r->error = 0;
    r->enhanced = enhanced;
    r->since_reply = 0;
    asmtp__reply_parser_init(&parser, mem);
    asmtp__reply_parser_expect_enhanced(&parser, enhanced);
    first_len = first_len < len ? first_len : len;
    feed_piece(&parser, r, data, first_len, mem);
    for (pos = first_len; pos < len && r->error == 0; pos += n) {
        n = piece < len - pos ? piece : len - pos;
        feed_piece(&parser, r, data + pos, n, mem);
    }
    if (r->error == 0)
        check(asmtp__reply_parser_mid_reply(&parser) == (r->since_reply > 0));
    asmtp__reply_parser_free(&parser);
}

static bool same_run(const run *a, const run *b)
{
    return a->error == b->error && a->out.len == b->out.len &&
           (a->out.len == 0 ||
            memcmp(a->out.data, b->out.data, a->out.len) == 0);
}

/* With allocations failing, the replies must be a prefix of the real ones
 * and the error NOMEM (or none, if no allocation failed). */
static void check_failing(const run *whole, const uint8_t *data, size_t len,
                          bool enhanced, size_t fail_at)
{
    failing_mem fm = {
        {NULL, failing_malloc, failing_realloc, failing_free}, 0, fail_at};
    run r;

    fm.mem.user_data = &fm;
    parse(&r, data, len, len, len, enhanced, &fm.mem);
    check(r.out.len <= whole->out.len);
    check(r.out.len == 0 ||
          memcmp(r.out.data, whole->out.data, r.out.len) == 0);
    check(r.error == ASMTP_ERR_NOMEM || same_run(&r, whole));
    asmtp__buf_free(&r.out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    run whole, cut, bytes;
    size_t len, first;
    bool enhanced;

    if (size < 1)
        return 0;
    enhanced = data[0] & 1;
    len = size - 1;
    first = (size_t)(data[0] >> 3) * len / 31;

    parse(&whole, data + 1, len, len, len, enhanced, NULL);
    parse(&cut, data + 1, len, first, len, enhanced, NULL);
    check(same_run(&whole, &cut));
    if (data[0] & 2) {
        parse(&bytes, data + 1, len, 1, 1, enhanced, NULL);
        check(same_run(&whole, &bytes));
        asmtp__buf_free(&bytes.out);
    }
    if (data[0] & 4)
        check_failing(&whole, data + 1, len, enhanced, (data[0] >> 3) + 1u);

    asmtp__buf_free(&cut.out);
    asmtp__buf_free(&whole.out);
    return 0;
}
