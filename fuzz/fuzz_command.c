/*
 * libFuzzer target for the command encoder (src/command.c). The input is
 * a 13-byte header (flags, parameter values, an allocation to fail) and
 * NUL-separated arguments; every encoder is called and its output checked:
 * one line ending in CRLF with no other control byte, within the limit,
 * no '>' or space escaping a path, or nothing appended at all.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asmtp/error.h"
#include "command.h"

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__,   \
                    #cond);                                                    \
            abort();                                                           \
        }                                                                      \
    } while (0)

#define HEADER_LEN 13
#define ARG_COUNT  5
#define AUTH_MAX   12288u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An allocator that fails allocation number fail_at and every later one. */
typedef struct fuzz_mem {
    asmtp_mem mem;
    unsigned count;
    unsigned fail_at; /* 0: never */
} fuzz_mem;

static bool fuzz_mem_fails(fuzz_mem *fm)
{
    fm->count++;
    return fm->fail_at && fm->count >= fm->fail_at;
}

static void *fuzz_malloc(size_t size, void *user_data)
{
    return fuzz_mem_fails(user_data) ? NULL : malloc(size);
}

static void *fuzz_realloc(void *ptr, size_t size, void *user_data)
{
    return fuzz_mem_fails(user_data) ? NULL : realloc(ptr, size);
}

static void fuzz_free(void *ptr, void *user_data)
{
    (void)user_data;
    free(ptr);
}

/* What was in the buffer before a call, to compare with after it. */
typedef struct snapshot {
    unsigned char *bytes;
    size_t len;
} snapshot;

static void snapshot_take(snapshot *snap, const asmtp__buf *buf)
{
    snap->len = asmtp__buf_size(buf);
    snap->bytes = malloc(snap->len + 1);
    CHECK(snap->bytes);
    if (snap->len)
        memcpy(snap->bytes, asmtp__buf_head(buf), snap->len);
}

/* The line appended since the snapshot; NULL when the call failed. */
static const unsigned char *check_call(int rv, const asmtp__buf *buf,
                                       snapshot *snap, size_t limit,
                                       size_t *line_len)
{
    size_t size = asmtp__buf_size(buf);
    const unsigned char *line = asmtp__buf_head(buf) + snap->len;

    CHECK(size >= snap->len);
    CHECK(snap->len == 0 ||
          memcmp(asmtp__buf_head(buf), snap->bytes, snap->len) == 0);
    free(snap->bytes);
    if (rv != 0) {
        CHECK(rv == ASMTP_ERR_BAD_ARGUMENT ||
              rv == ASMTP_ERR_COMMAND_TOO_LONG || rv == ASMTP_ERR_NOMEM);
        CHECK(size == snap->len);
        return NULL;
    }
    *line_len = size - snap->len;
    CHECK(*line_len >= 3 && *line_len <= limit);
    CHECK(line[*line_len - 2] == '\r' && line[*line_len - 1] == '\n');
    for (size_t i = 0; i < *line_len - 2; i++)
        CHECK(line[i] >= 0x20 && line[i] != 0x7f);
    return line;
}

/* After "<": a local part (quoted or not), then '>' ending the path, then
 * only " KEYWORD=value" parameters without spaces inside. */
static void check_path(const unsigned char *line, size_t len, size_t start)
{
    size_t i = start;
    bool quoted = false;

    CHECK(line[i] == '<');
    for (i++; i < len && (quoted || line[i] != '>'); i++) {
        if (quoted && line[i] == '\\') {
            i++;
        } else if (line[i] == '"') {
            quoted = !quoted;
            CHECK(quoted || line[i + 1] == '@');
        } else {
            CHECK(quoted || (line[i] != ' ' && line[i] != '<'));
        }
    }
    CHECK(i < len - 2 && (line[i + 1] == ' ' || line[i + 1] == '\r'));
    for (i++; i < len - 2; i++)
        CHECK(line[i] != ' ' || (line[i - 1] != ' ' && line[i + 1] != '\r'));
    CHECK(line[start - 1] == ':');
}

typedef struct input {
    unsigned char header[HEADER_LEN];
    char *args[ARG_COUNT];     /* NUL-terminated copies */
    const unsigned char *rest; /* everything after the header */
    size_t rest_len;
} input;

static void input_parse(input *in, const uint8_t *data, size_t size)
{
    size_t head = size < HEADER_LEN ? size : HEADER_LEN;
    size_t pos = head;

    static const uint8_t empty[1];

    if (size == 0)
        data = empty;
    memset(in->header, 0, sizeof in->header);
    memcpy(in->header, data, head);
    in->rest = data + head;
    in->rest_len = size - head;
    for (size_t i = 0; i < ARG_COUNT; i++) {
        const unsigned char *end = memchr(data + pos, 0, size - pos);
        size_t len = end ? (size_t)(end - (data + pos)) : size - pos;

        /* Exactly the string's size, so ASan sees any over-read. */
        in->args[i] = malloc(len + 1);
        CHECK(in->args[i]);
        if (len)
            memcpy(in->args[i], data + pos, len);
        in->args[i][len] = '\0';
        pos = end ? pos + len + 1 : size;
    }
}

static void input_free(input *in)
{
    for (size_t i = 0; i < ARG_COUNT; i++)
        free(in->args[i]);
}

static uint64_t header_size(const input *in)
{
    uint64_t value = 0;

    for (size_t i = 0; i < 8; i++)
        value |= (uint64_t)in->header[5 + i] << (8 * i);
    return value;
}

static void fuzz_path_commands(asmtp__buf *buf, const input *in)
{
    unsigned flags = in->header[0];
    asmtp__mail_params mail = {
        .has_size = flags & 1,
        .size = header_size(in),
        .body = in->header[1] % 6 - 1,
        .smtputf8 = flags & 2,
        .ret = in->header[2] % 5 - 1,
        .envid = flags & 4 ? in->args[2] : NULL,
    };
    asmtp__rcpt_params rcpt = {in->header[3], flags & 8 ? in->args[2] : NULL};
    const unsigned char *line;
    size_t len;
    snapshot snap;
    int rv;

    snapshot_take(&snap, buf);
    rv = asmtp__command_mail(buf, in->args[1], flags & 64 ? NULL : &mail);
    line = check_call(rv, buf, &snap, ASMTP__COMMAND_LINE_MAX, &len);
    if (line) {
        CHECK(memcmp(line, "MAIL FROM:<", 11) == 0);
        check_path(line, len, 10);
    }

    snapshot_take(&snap, buf);
    rv = asmtp__command_rcpt(buf, in->args[1], flags & 128 ? NULL : &rcpt);
    line = check_call(rv, buf, &snap, ASMTP__COMMAND_LINE_MAX, &len);
    if (line) {
        CHECK(memcmp(line, "RCPT TO:<", 9) == 0);
        check_path(line, len, 8);
    }
    CHECK(asmtp__address_needs_smtputf8(in->args[1]) ==
          asmtp__has_8bit(in->args[1], strlen(in->args[1])));
}

/* A command with a text argument must carry it unchanged. */
static void fuzz_text(asmtp__buf *buf, const char *verb, const char *arg,
                      int (*encode)(asmtp__buf *, const char *))
{
    size_t verb_len = strlen(verb), arg_len = arg ? strlen(arg) : 0;
    const unsigned char *line;
    size_t len;
    snapshot snap;

    snapshot_take(&snap, buf);
    line =
        check_call(encode(buf, arg), buf, &snap, ASMTP__COMMAND_LINE_MAX, &len);
    if (!line)
        return;
    CHECK(memcmp(line, verb, verb_len) == 0);
    if (arg_len == 0) {
        CHECK(len == verb_len + 2);
        return;
    }
    CHECK(len == verb_len + 1 + arg_len + 2 && line[verb_len] == ' ');
    CHECK(memcmp(line + verb_len + 1, arg, arg_len) == 0);
}

static void fuzz_fixed(asmtp__buf *buf, const char *expected, int rv,
                       snapshot *snap)
{
    const unsigned char *line;
    size_t len;

    line = check_call(rv, buf, snap, ASMTP__COMMAND_LINE_MAX, &len);
    if (line)
        CHECK(len == strlen(expected) && memcmp(line, expected, len) == 0);
}

static void fuzz_simple_commands(asmtp__buf *buf, const input *in)
{
    const char *arg = in->args[0];
    snapshot snap;

    fuzz_text(buf, "EHLO", arg, asmtp__command_ehlo);
    fuzz_text(buf, "HELO", arg, asmtp__command_helo);
    fuzz_text(buf, "NOOP", arg, asmtp__command_noop);
    fuzz_text(buf, "NOOP", NULL, asmtp__command_noop);
    fuzz_text(buf, "VRFY", arg, asmtp__command_vrfy);
    fuzz_text(buf, "EXPN", arg, asmtp__command_expn);
    fuzz_text(buf, "HELP", arg, asmtp__command_help);
    snapshot_take(&snap, buf);
    fuzz_fixed(buf, "DATA\r\n", asmtp__command_data(buf), &snap);
    snapshot_take(&snap, buf);
    fuzz_fixed(buf, "RSET\r\n", asmtp__command_rset(buf), &snap);
    snapshot_take(&snap, buf);
    fuzz_fixed(buf, "STARTTLS\r\n", asmtp__command_starttls(buf), &snap);
    snapshot_take(&snap, buf);
    fuzz_fixed(buf, "QUIT\r\n", asmtp__command_quit(buf), &snap);
    snapshot_take(&snap, buf);
    check_call(asmtp__command_bdat(buf, header_size(in), in->header[0] & 32),
               buf, &snap, ASMTP__COMMAND_LINE_MAX, &(size_t){0});
}

static void fuzz_raw(asmtp__buf *buf, const void *line, size_t line_len)
{
    const unsigned char *out;
    size_t len;
    snapshot snap;

    snapshot_take(&snap, buf);
    out = check_call(asmtp__command_raw(buf, line, line_len), buf, &snap,
                     ASMTP__COMMAND_LINE_MAX, &len);
    if (out)
        CHECK(len == line_len + 2 && memcmp(out, line, line_len) == 0);
}

static void fuzz_auth(asmtp__buf *buf, const input *in)
{
    const char *response = NULL;
    size_t response_len = 0;
    const unsigned char *line;
    size_t len;
    snapshot snap;

    if (in->header[0] & 16) {
        response = in->args[4];
        response_len = strlen(response);
    } else if (in->rest_len > 0 && in->rest[0] == '=') {
        response = (const char *)in->rest;
        response_len = in->rest_len;
    }
    snapshot_take(&snap, buf);
    line = check_call(
        asmtp__command_auth(buf, in->args[3], response, response_len), buf,
        &snap, AUTH_MAX, &len);
    if (line)
        CHECK(memcmp(line, "AUTH ", 5) == 0);
}

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    CHECK(c >= 'A' && c <= 'F');
    return c - 'A' + 10;
}

/* xtext decodes back to the input. */
static void fuzz_xtext(asmtp__buf *buf, const unsigned char *data, size_t len)
{
    snapshot snap;
    const unsigned char *out;
    size_t out_len, j = 0;
    int rv;

    snapshot_take(&snap, buf);
    rv = asmtp__xtext_append(buf, data, len);
    CHECK(memcmp(asmtp__buf_head(buf), snap.bytes, snap.len) == 0);
    out = asmtp__buf_head(buf) + snap.len;
    out_len = asmtp__buf_size(buf) - snap.len;
    free(snap.bytes);
    if (rv != 0) {
        CHECK(rv == ASMTP_ERR_NOMEM && out_len == 0);
        return;
    }
    for (size_t i = 0; i < out_len; i++, j++) {
        CHECK(j < len && out[i] >= '!' && out[i] <= '~' && out[i] != '=');
        if (out[i] != '+') {
            CHECK(out[i] == data[j]);
            continue;
        }
        CHECK(i + 2 < out_len);
        CHECK(hex_value(out[i + 1]) * 16 + hex_value(out[i + 2]) == data[j]);
        i += 2;
    }
    CHECK(j == len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_mem fm = {{NULL, fuzz_malloc, fuzz_realloc, fuzz_free}, 0, 0};
    asmtp__buf buf;
    input in;

    fm.mem.user_data = &fm;
    input_parse(&in, data, size);
    asmtp__buf_init(&buf, &fm.mem);
    CHECK(asmtp__buf_append_str(&buf, "xx250 ok\r\n") == 0);
    asmtp__buf_consume(&buf, 2);
    fm.fail_at = in.header[4] ? fm.count + in.header[4] : 0;

    fuzz_path_commands(&buf, &in);
    fuzz_simple_commands(&buf, &in);
    fuzz_raw(&buf, in.args[0], strlen(in.args[0]));
    fuzz_raw(&buf, in.rest, in.rest_len);
    fuzz_auth(&buf, &in);
    fuzz_xtext(&buf, in.rest, in.rest_len);

    asmtp__buf_free(&buf);
    input_free(&in);
    return 0;
}
