/*
 * The reply codec: an incremental parser that turns the server's bytes into
 * asmtp_reply values, the constructors for replies, and their rendering for
 * people. Pure code: no I/O, every allocation through the caller's
 * asmtp_mem, and each reply one block so that it is freed with one call.
 */
#include "reply.h"

#include <stdio.h>
#include <string.h>

#include "asmtp/error.h"

/*
 * Parser state between feeds. parser->line holds the line being received
 * without its terminator; a CR is held back in saw_cr until the next byte
 * shows whether it ends the line. parser->lines holds the text of every
 * completed line of the reply (after the code and separator) joined by LF,
 * which cannot occur inside a line. Enhanced codes are split out only when
 * the reply is complete, so that expect_enhanced applies to all its lines.
 * After an error, parser->code holds the (negative) error, and every later
 * feed returns it again.
 */

void asmtp__reply_parser_init(asmtp__reply_parser *parser, const asmtp_mem *mem)
{
    memset(parser, 0, sizeof *parser);
    parser->mem = mem;
    asmtp__buf_init(&parser->line, mem);
    asmtp__buf_init(&parser->lines, mem);
    parser->enhanced = true;
}

void asmtp__reply_parser_free(asmtp__reply_parser *parser)
{
    asmtp__buf_free(&parser->line);
    asmtp__buf_free(&parser->lines);
}

void asmtp__reply_parser_expect_enhanced(asmtp__reply_parser *parser,
                                         bool enhanced)
{
    parser->enhanced = enhanced;
}

bool asmtp__reply_parser_mid_reply(const asmtp__reply_parser *parser)
{
    return parser->reply_bytes > 0;
}

/* Make the parser unusable: every later feed returns error. */
static int parser_fail(asmtp__reply_parser *parser, int error)
{
    parser->code = error;
    return error;
}

/* The bytes a buffer holds. Never NULL: asmtp__buf_head() of a buffer
 * that never allocated would add an offset to a null pointer. */
static const unsigned char *held_bytes(const asmtp__buf *buf)
{
    return buf->data ? asmtp__buf_head(buf) : (const unsigned char *)"";
}

/* Forget the reply just returned, keeping the buffers' memory. */
static void parser_reset(asmtp__reply_parser *parser)
{
    asmtp__buf_clear(&parser->line);
    asmtp__buf_clear(&parser->lines);
    parser->line_count = 0;
    parser->reply_bytes = 0;
    parser->code = 0;
    parser->saw_cr = false;
}

/* A reply being assembled in its one block: the struct, the array of line
 * spans after it, then the text the spans point into. */
typedef struct reply_builder {
    asmtp_reply *reply;
    asmtp_bytes *lines;
    unsigned char *text;
} reply_builder;

/* Allocate room for line_count lines and text_cap octets of text (the LF
 * between lines included). False on allocation failure or overflow. */
static bool builder_alloc(reply_builder *builder, const asmtp_mem *mem,
                          size_t line_count, size_t text_cap)
{
    size_t align = _Alignof(asmtp_bytes);
    size_t head = (sizeof(asmtp_reply) + align - 1) / align * align;
    unsigned char *block;

    if (text_cap > SIZE_MAX / 2 ||
        line_count > (SIZE_MAX / 2 - head) / sizeof(asmtp_bytes))
        return false;
    block =
        asmtp__malloc(mem, head + line_count * sizeof(asmtp_bytes) + text_cap);
    if (!block)
        return false;

    builder->reply = (asmtp_reply *)(void *)block;
    builder->lines = (asmtp_bytes *)(void *)(block + head);
    builder->text = block + head + line_count * sizeof(asmtp_bytes);
    memset(builder->reply, 0, sizeof *builder->reply);
    builder->reply->lines = builder->lines;
    builder->reply->text = builder->text;
    return true;
}

/* Append a line to the text (after an LF unless it is the first) and
 * record its span. */
static void builder_add_line(reply_builder *builder, const void *data,
                             size_t len)
{
    asmtp_reply *reply = builder->reply;
    unsigned char *start;

    if (reply->line_count > 0)
        builder->text[reply->text_len++] = '\n';
    start = builder->text + reply->text_len;
    if (len > 0)
        memcpy(start, data, len);
    builder->lines[reply->line_count].data = start;
    builder->lines[reply->line_count].len = len;
    reply->line_count++;
    reply->text_len += len;
}

static void builder_set_enhanced(reply_builder *builder, const char *enhanced,
                                 size_t len)
{
    char *dst = builder->reply->enhanced;

    if (len > sizeof builder->reply->enhanced - 1)
        len = sizeof builder->reply->enhanced - 1;
    if (len > 0)
        memcpy(dst, enhanced, len);
    dst[len] = '\0';
}

asmtp_reply *asmtp__reply_new(const asmtp_mem *mem, int code,
                              const char *enhanced, const asmtp_bytes *lines,
                              size_t line_count)
{
    static const asmtp_bytes empty_line = {NULL, 0};
    reply_builder builder;
    size_t text_cap = 0;

    /* A reply has at least one line; none given means one empty line. */
    if (line_count == 0) {
        lines = &empty_line;
        line_count = 1;
    }
    for (size_t i = 0; i < line_count; i++) {
        if (lines[i].len > SIZE_MAX / 2 - text_cap - 1)
            return NULL;
        text_cap += lines[i].len + 1;
    }
    if (!builder_alloc(&builder, mem, line_count, text_cap))
        return NULL;

    builder.reply->code = code;
    if (enhanced)
        builder_set_enhanced(&builder, enhanced,
                             strnlen(enhanced, sizeof builder.reply->enhanced));
    for (size_t i = 0; i < line_count; i++)
        builder_add_line(&builder, lines[i].data, lines[i].len);
    return builder.reply;
}

asmtp_reply *asmtp__reply_copy(const asmtp_mem *mem, const asmtp_reply *reply)
{
    if (!reply)
        return NULL;
    return asmtp__reply_new(mem, reply->code, reply->enhanced, reply->lines,
                            reply->line_count);
}

void asmtp__reply_free(const asmtp_mem *mem, asmtp_reply *reply)
{
    asmtp__free(mem, reply);
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* The number of digits (at most max + 1) at the start of data[0, len). */
static size_t count_digits(const unsigned char *data, size_t len, size_t max)
{
    size_t n = 0;

    while (n < len && n <= max && is_digit(data[n]))
        n++;
    return n;
}

/*
 * The length of the RFC 3463 code class.subject.detail at the start of
 * text, or 0 when there is none. The class must be the reply's class, and
 * the code must be followed by SP or the end of the line.
 */
static size_t enhanced_code_len(const unsigned char *text, size_t len,
                                int reply_class)
{
    size_t pos, n;

    if (reply_class != 2 && reply_class != 4 && reply_class != 5)
        return 0;
    if (len < 5 || text[0] != '0' + reply_class || text[1] != '.')
        return 0;
    pos = 2;
    for (int part = 0; part < 2; part++) {
        n = count_digits(text + pos, len - pos, 3);
        if (n < 1 || n > 3)
            return 0;
        pos += n;
        if (part == 0 && (pos == len || text[pos++] != '.'))
            return 0;
    }
    if (pos < len && text[pos] != ' ')
        return 0;
    return pos;
}

/* Split the enhanced code, and the space after it, off a line's text. */
static size_t strip_enhanced(asmtp_bytes *text, int reply_class)
{
    size_t code_len = enhanced_code_len(text->data, text->len, reply_class);
    size_t strip = code_len;

    if (code_len > 0 && code_len < text->len)
        strip++;
    text->data += strip;
    text->len -= strip;
    return code_len;
}

/* Build the reply from the lines gathered; 0 or ASMTP_ERR_NOMEM. */
static int parser_build(asmtp__reply_parser *parser, asmtp_reply **reply)
{
    const unsigned char *text = held_bytes(&parser->lines);
    size_t text_len = asmtp__buf_size(&parser->lines);
    reply_builder builder;
    asmtp_bytes line;
    const unsigned char *end;

    if (!builder_alloc(&builder, parser->mem, parser->line_count, text_len))
        return ASMTP_ERR_NOMEM;
    builder.reply->code = parser->code;

    for (size_t i = 0; i < parser->line_count; i++) {
        end = memchr(text, '\n', text_len);
        line.data = text;
        line.len = end ? (size_t)(end - text) : text_len;
        text += line.len + (end ? 1 : 0);
        text_len -= line.len + (end ? 1 : 0);
        if (parser->enhanced) {
            const unsigned char *code = line.data;
            size_t code_len = strip_enhanced(&line, parser->code / 100);

            if (i == 0)
                builder_set_enhanced(&builder, (const char *)code, code_len);
        }
        builder_add_line(&builder, line.data, line.len);
    }
    *reply = builder.reply;
    return 0;
}

/*
 * Read the code and separator of a complete line. Sets *code, *final and
 * *text_off (where the text starts). 0 or ASMTP_ERR_MALFORMED_REPLY.
 */
static int parse_line_head(const unsigned char *line, size_t len, int *code,
                           bool *final, size_t *text_off)
{
    if (len < 3 || line[0] < '2' || line[0] > '5' || line[1] < '0' ||
        line[1] > '5' || !is_digit(line[2]))
        return ASMTP_ERR_MALFORMED_REPLY;
    if (len > 3 && line[3] != ' ' && line[3] != '-')
        return ASMTP_ERR_MALFORMED_REPLY;

    *code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    *final = len == 3 || line[3] == ' ';
    *text_off = len > 3 ? 4 : 3;
    return 0;
}

/* A line is complete in parser->line: check it, keep its text, and build
 * the reply when it was the last line. 0, ASMTP__REPLY_DONE or an error. */
static int parser_end_line(asmtp__reply_parser *parser, asmtp_reply **reply)
{
    const unsigned char *line = held_bytes(&parser->line);
    size_t len = asmtp__buf_size(&parser->line);
    size_t text_off;
    bool final;
    int code, rv;

    rv = parse_line_head(line, len, &code, &final, &text_off);
    if (rv == 0 && parser->code != 0 && code != parser->code)
        rv = ASMTP_ERR_MALFORMED_REPLY;
    if (rv == 0 && !final && parser->line_count + 1 >= ASMTP__REPLY_LINES_MAX)
        rv = ASMTP_ERR_REPLY_TOO_LONG;
    if (rv == 0 && parser->line_count > 0)
        rv = asmtp__buf_append_byte(&parser->lines, '\n');
    if (rv == 0)
        rv = asmtp__buf_append(&parser->lines, line + text_off, len - text_off);
    if (rv != 0)
        return parser_fail(parser, rv);

    parser->code = code;
    parser->line_count++;
    asmtp__buf_clear(&parser->line);
    if (!final)
        return 0;

    rv = parser_build(parser, reply);
    if (rv != 0)
        return parser_fail(parser, rv);
    parser_reset(parser);
    return ASMTP__REPLY_DONE;
}

/* Account for n more octets of the current line (terminator included) and
 * fail as soon as the line or the reply is over its limit. */
static int parser_count(asmtp__reply_parser *parser, size_t n)
{
    size_t held = asmtp__buf_size(&parser->line) + (parser->saw_cr ? 1 : 0);

    if (n > ASMTP__REPLY_LINE_MAX || held > ASMTP__REPLY_LINE_MAX - n ||
        n > ASMTP__REPLY_MAX - parser->reply_bytes)
        return parser_fail(parser, ASMTP_ERR_REPLY_TOO_LONG);
    parser->reply_bytes += n;
    return 0;
}

/* Resolve a CR held from the previous byte: the LF in data[0] completes
 * the line, any other byte makes the CR part of the text. */
static int parser_take_cr(asmtp__reply_parser *parser,
                          const unsigned char *data, size_t *used,
                          asmtp_reply **reply)
{
    int rv;

    if (data[0] == '\n') {
        rv = parser_count(parser, 1);
        if (rv != 0)
            return rv;
        parser->saw_cr = false;
        *used = 1;
        return parser_end_line(parser, reply);
    }
    parser->saw_cr = false;
    *used = 0;
    rv = asmtp__buf_append_byte(&parser->line, '\r');
    return rv != 0 ? parser_fail(parser, rv) : 0;
}

/* Take the bytes of data up to and including the first CR or LF. */
static int parser_take(asmtp__reply_parser *parser, const unsigned char *data,
                       size_t len, size_t *used, asmtp_reply **reply)
{
    size_t n = 0;
    bool stop;
    int rv;

    if (parser->saw_cr)
        return parser_take_cr(parser, data, used, reply);

    while (n < len && data[n] != '\r' && data[n] != '\n')
        n++;
    stop = n < len;
    rv = parser_count(parser, n + (stop ? 1 : 0));
    if (rv == 0)
        rv = asmtp__buf_append(&parser->line, data, n);
    if (rv != 0)
        return parser_fail(parser, rv);

    *used = n + (stop ? 1 : 0);
    if (!stop)
        return 0;
    if (data[n] == '\r') {
        parser->saw_cr = true;
        return 0;
    }
    return parser_end_line(parser, reply);
}

int asmtp__reply_parser_feed(asmtp__reply_parser *parser,
                             const unsigned char *data, size_t len,
                             size_t *consumed, asmtp_reply **reply)
{
    size_t pos = 0, used;
    int rv = 0;

    *consumed = 0;
    *reply = NULL;
    if (parser->code < 0)
        return parser->code;

    while (pos < len && rv == 0) {
        used = 0;
        rv = parser_take(parser, data + pos, len - pos, &used, reply);
        pos += used;
    }
    *consumed = pos;
    return rv;
}

/* Output for the renderers: snprintf-style, counting what does not fit. */
typedef struct render_out {
    char *buf;
    size_t size;
    size_t len;
} render_out;

static void out_bytes(render_out *out, const void *data, size_t len)
{
    size_t room = out->len + 1 < out->size ? out->size - 1 - out->len : 0;
    size_t n = len < room ? len : room;

    if (n > 0)
        memcpy(out->buf + out->len, data, n);
    out->len += len;
}

static void out_str(render_out *out, const char *s)
{
    out_bytes(out, s, strlen(s));
}

/* NUL-terminate what fits and return the full length. */
static size_t out_finish(render_out *out)
{
    if (out->size > 0)
        out->buf[out->len < out->size ? out->len : out->size - 1] = '\0';
    return out->len;
}

/*
 * The length of the valid UTF-8 multibyte sequence at the start of
 * data[0, len), or 0. Overlong forms, surrogates (U+D800-U+DFFF) and code
 * points over U+10FFFF are not valid. The bounds on the second byte are
 * what excludes them; later bytes are any continuation byte.
 */
static size_t utf8_sequence_len(const unsigned char *data, size_t len)
{
    unsigned char lead = data[0];
    unsigned char low = 0x80, high = 0xbf;
    size_t need;

    if (lead >= 0xc2 && lead <= 0xdf)
        need = 2;
    else if (lead >= 0xe0 && lead <= 0xef)
        need = 3;
    else if (lead >= 0xf0 && lead <= 0xf4)
        need = 4;
    else
        return 0;
    if (lead == 0xe0)
        low = 0xa0;
    else if (lead == 0xed)
        high = 0x9f;
    else if (lead == 0xf0)
        low = 0x90;
    else if (lead == 0xf4)
        high = 0x8f;

    if (len < need || data[1] < low || data[1] > high)
        return 0;
    if (lead == 0xc2 && data[1] <= 0x9f)
        return 0; /* C1 controls: terminals act on them, so escape them */
    for (size_t i = 2; i < need; i++)
        if (data[i] < 0x80 || data[i] > 0xbf)
            return 0;
    return need;
}

static void render_bytes(render_out *out, const unsigned char *data, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t pos = 0, n;

    while (pos < len) {
        unsigned char c = data[pos];
        char escape[4] = {'\\', 'x', hex[c >> 4], hex[c & 0xf]};

        if (c == '\\') {
            out_bytes(out, "\\\\", 2);
            n = 1;
        } else if (c >= 0x20 && c <= 0x7e) {
            out_bytes(out, &c, 1);
            n = 1;
        } else if ((n = utf8_sequence_len(data + pos, len - pos)) > 0) {
            out_bytes(out, data + pos, n);
        } else {
            out_bytes(out, escape, sizeof escape);
            n = 1;
        }
        pos += n;
    }
}

size_t asmtp_render_text(const void *data, size_t len, char *buf, size_t size)
{
    render_out out = {buf, size, 0};

    render_bytes(&out, data, len);
    return out_finish(&out);
}

/* One reply line: the code, the enhanced code if any, then the text. */
static void render_reply_line(render_out *out, const asmtp_reply *reply,
                              const asmtp_bytes *line)
{
    char code[16];
    size_t enhanced_len = strnlen(reply->enhanced, sizeof reply->enhanced);

    snprintf(code, sizeof code, "%d", reply->code);
    out_str(out, code);
    if (enhanced_len > 0) {
        out_bytes(out, " ", 1);
        render_bytes(out, (const unsigned char *)reply->enhanced, enhanced_len);
    }
    if (line->len > 0) {
        out_bytes(out, " ", 1);
        render_bytes(out, line->data, line->len);
    }
}

size_t asmtp_reply_render(const asmtp_reply *reply, char *buf, size_t size)
{
    render_out out = {buf, size, 0};

    if (!reply)
        return out_finish(&out);
    for (size_t i = 0; i < reply->line_count; i++) {
        if (i > 0)
            out_bytes(&out, "\n", 1);
        render_reply_line(&out, reply, &reply->lines[i]);
    }
    return out_finish(&out);
}
