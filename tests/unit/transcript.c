/*
 * The transcript runner (see transcript.h and tests/transcripts/README.md).
 * It plays the server's side of a scripted conversation against a real
 * session and checks every byte the client writes and every result the
 * caller receives.
 */
#include "transcript.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asmtp.h"

#define MAX_OPS   512
#define MAX_RCPTS 64
#define MAX_ARGS  32

/* A growable byte string, on the C allocator (never the tested one). */
typedef struct bytes {
    unsigned char *data;
    size_t len, cap;
} bytes;

static void bytes_add(bytes *b, const void *data, size_t len)
{
    if (b->len + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;

        while (cap < b->len + len + 1)
            cap *= 2;
        b->data = realloc(b->data, cap);
        if (!b->data)
            abort();
        b->cap = cap;
    }
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

static void bytes_drop_front(bytes *b, size_t n)
{
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
    b->data[b->len] = '\0';
}

/* What a callback saw, copied so that it outlives the callback. */
typedef struct result_rec {
    size_t op_id;
    int op;
    int error;
    int code; /* 0: no reply */
    char enhanced[12];
    bytes text;
    char message[256];
    size_t refused, rcpt_count;
    int mail_code, data_code, final_code;
    int rcpt_codes[MAX_RCPTS];
    bool maybe, warned;
} result_rec;

typedef struct runner runner;

typedef struct op_ctx {
    runner *r;
    size_t id;
    int calls;
    /* send */
    char *from;
    char *to[MAX_RCPTS];
    char *orcpt;
    char *envid;
    asmtp_recipient rcpts[MAX_RCPTS];
    size_t rcpt_count;
    bytes data;
    size_t stream_piece; /* 0: in memory */
    size_t split;        /* in memory as parts of this many octets */
    asmtp_bytes parts[64];
    size_t stream_pos;
    long fail_at; /* -1: never */
    /* auth */
    bytes user, pass, token, authzid;
} op_ctx;

struct runner {
    const char *path;
    int line;
    bool strict;
    bool failed;
    const asmtp_mem *mem;
    asmtp_session_config config;
    char hostname[256];
    asmtp_session *s;
    bool freed;
    bool hold;
    uint64_t now;
    bytes written;
    bytes transcript;
    bytes log;
    result_rec results[MAX_OPS];
    size_t result_count, results_checked;
    op_ctx *ops[MAX_OPS];
    size_t op_count;
    transcript_stats *stats;
};

static void fail(runner *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void fail(runner *r, const char *fmt, ...)
{
    va_list ap;

    if (r->failed)
        return;
    r->failed = true;
    if (!r->strict)
        return;
    fprintf(stderr, "%s:%d: ", r->path, r->line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* ---- Escapes and arguments ---------------------------------------------- */

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decode \r \n \t \0 \\ \" \xNN into out. */
static void unescape(const char *in, size_t len, bytes *out)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];

        if (c == '\\' && i + 1 < len) {
            char e = in[++i];

            if (e == 'r')
                c = '\r';
            else if (e == 'n')
                c = '\n';
            else if (e == 't')
                c = '\t';
            else if (e == '0')
                c = '\0';
            else if (e == 'x' && i + 2 < len && hexval(in[i + 1]) >= 0 &&
                     hexval(in[i + 2]) >= 0) {
                c = (unsigned char)(hexval(in[i + 1]) * 16 + hexval(in[i + 2]));
                i += 2;
            } else
                c = (unsigned char)e;
        }
        bytes_add(out, &c, 1);
    }
}

typedef struct arg {
    char key[32];
    bytes value;
    bool has_value;
} arg;

/* Split "word key=value key="quoted value"" into args. */
static size_t split_args(const char *p, arg *args, size_t max)
{
    size_t n = 0;

    while (*p && n < max) {
        arg *a = &args[n];
        size_t k = 0;

        while (*p == ' ')
            p++;
        if (!*p)
            break;
        memset(a, 0, sizeof *a);
        while (*p && *p != ' ' && *p != '=' && *p != '~') {
            if (k + 1 < sizeof a->key)
                a->key[k++] = *p;
            p++;
        }
        if (*p == '=' || *p == '~') {
            const char *start;

            if (*p == '~' && k + 1 < sizeof a->key)
                a->key[k++] = '~';
            p++;
            a->has_value = true;
            if (*p == '"') {
                start = ++p;
                while (*p && !(*p == '"' && p[-1] != '\\'))
                    p++;
                unescape(start, (size_t)(p - start), &a->value);
                if (*p)
                    p++;
            } else {
                start = p;
                while (*p && *p != ' ')
                    p++;
                unescape(start, (size_t)(p - start), &a->value);
            }
        }
        if (!a->value.data)
            bytes_add(&a->value, "", 0);
        n++;
    }
    return n;
}

static void free_args(arg *args, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(args[i].value.data);
}

static const char *argval(arg *a)
{
    return (const char *)a->value.data;
}

/* ---- Names ----------------------------------------------------------------
 */

static const char *const op_names[] = {
    [ASMTP_OP_START] = "start", [ASMTP_OP_EHLO] = "ehlo",
    [ASMTP_OP_AUTH] = "auth",   [ASMTP_OP_SEND] = "send",
    [ASMTP_OP_RSET] = "rset",   [ASMTP_OP_NOOP] = "noop",
    [ASMTP_OP_VRFY] = "vrfy",   [ASMTP_OP_EXPN] = "expn",
    [ASMTP_OP_HELP] = "help",   [ASMTP_OP_RAW] = "raw",
    [ASMTP_OP_QUIT] = "quit",
};

static int op_by_name(const char *name)
{
    for (int i = ASMTP_OP_START; i <= ASMTP_OP_QUIT; i++)
        if (strcmp(op_names[i], name) == 0)
            return i;
    return 0;
}

static const char *error_short(int code)
{
    const char *name = asmtp_error_name(code);

    if (code == 0)
        return "OK";
    return strncmp(name, "ASMTP_ERR_", 10) == 0 ? name + 10 : name;
}

static const char *const wait_names[] = {
    "none", "greeting", "command", "tls", "data-init", "data-block", "data-end",
};

/* ---- The fake socket ------------------------------------------------------
 */

/* Take everything the session wants to write, as a socket would. */
static void collect(runner *r)
{
    size_t len;
    const unsigned char *out;

    if (r->freed || r->hold)
        return;
    while ((out = asmtp_session_output(r->s, &len)) && len) {
        bytes_add(&r->written, out, len);
        asmtp_session_output_done(r->s, len, r->now);
    }
}

static void on_log(void *user_data, int level, const char *message)
{
    runner *r = user_data;
    static const char *const levels[] = {"debug", "info", "warning", "error"};

    bytes_add(&r->log, levels[level], strlen(levels[level]));
    bytes_add(&r->log, ": ", 2);
    bytes_add(&r->log, message, strlen(message));
    bytes_add(&r->log, "\n", 1);
}

static void on_transcript(void *user_data, int direction,
                          const unsigned char *line, size_t len)
{
    runner *r = user_data;

    bytes_add(&r->transcript, direction == ASMTP_SENT ? "C: " : "S: ", 3);
    bytes_add(&r->transcript, line, len);
    bytes_add(&r->transcript, "\n", 1);
}

static void copy_result(result_rec *rec, const asmtp_result *res)
{
    rec->op = res->op;
    rec->error = res->error;
    snprintf(rec->message, sizeof rec->message, "%s", res->message);
    if (res->reply) {
        rec->code = res->reply->code;
        memcpy(rec->enhanced, res->reply->enhanced, sizeof rec->enhanced);
        bytes_add(&rec->text, res->reply->text, res->reply->text_len);
    }
    rec->refused = res->refused_count;
    rec->rcpt_count = res->recipient_count;
    rec->mail_code = res->mail_reply ? res->mail_reply->code : 0;
    rec->data_code = res->data_reply ? res->data_reply->code : 0;
    rec->final_code = res->final_reply ? res->final_reply->code : 0;
    for (size_t i = 0; i < res->recipient_count && i < MAX_RCPTS; i++) {
        const asmtp_reply *reply = res->recipients[i].reply;

        rec->rcpt_codes[i] = reply ? reply->code : 0;
        if (res->recipients[i].accepted != (reply && reply->code / 100 == 2))
            rec->rcpt_codes[i] = -1; /* inconsistent: always a mismatch */
    }
    rec->maybe = res->maybe_delivered;
    rec->warned = res->warned;
}

static void on_done(asmtp_session *s, const asmtp_result *res, void *user_data)
{
    op_ctx *ctx = user_data;
    runner *r = ctx->r;

    (void)s;
    ctx->calls++;
    if (ctx->calls > 1) {
        r->stats->duplicates++;
        fail(r, "operation %zu completed twice", ctx->id);
        return;
    }
    r->stats->completed++;
    if (r->result_count < MAX_OPS) {
        result_rec *rec = &r->results[r->result_count++];

        memset(rec, 0, sizeof *rec);
        rec->op_id = ctx->id;
        copy_result(rec, res);
    }
}

static long read_piece(void *user_data, unsigned char *buf, size_t cap)
{
    op_ctx *ctx = user_data;
    size_t n = ctx->data.len - ctx->stream_pos;

    if (ctx->fail_at >= 0 && ctx->stream_pos >= (size_t)ctx->fail_at)
        return -1;
    if (n > ctx->stream_piece)
        n = ctx->stream_piece;
    if (n > cap)
        n = cap;
    if (ctx->fail_at >= 0 && ctx->stream_pos + n > (size_t)ctx->fail_at)
        n = (size_t)ctx->fail_at - ctx->stream_pos;
    memcpy(buf, ctx->data.data + ctx->stream_pos, n);
    ctx->stream_pos += n;
    return (long)n;
}

/* ---- Operations ------------------------------------------------------------
 */

static op_ctx *new_ctx(runner *r)
{
    op_ctx *ctx;

    if (r->op_count == MAX_OPS)
        abort();
    ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        abort();
    ctx->r = r;
    ctx->id = r->op_count;
    ctx->fail_at = -1;
    r->ops[r->op_count++] = ctx;
    return ctx;
}

static void free_ctx(op_ctx *ctx)
{
    free(ctx->from);
    for (size_t i = 0; i < ctx->rcpt_count; i++)
        free(ctx->to[i]);
    free(ctx->orcpt);
    free(ctx->envid);
    free(ctx->data.data);
    free(ctx->user.data);
    free(ctx->pass.data);
    free(ctx->token.data);
    free(ctx->authzid.data);
    free(ctx);
}

static unsigned parse_notify(const char *v)
{
    unsigned bits = 0;

    if (strstr(v, "success"))
        bits |= ASMTP_NOTIFY_SUCCESS;
    if (strstr(v, "failure"))
        bits |= ASMTP_NOTIFY_FAILURE;
    if (strstr(v, "delay"))
        bits |= ASMTP_NOTIFY_DELAY;
    if (strstr(v, "never"))
        bits |= ASMTP_NOTIFY_NEVER;
    return bits;
}

static int parse_body(const char *v)
{
    if (strcmp(v, "7bit") == 0)
        return ASMTP_BODY_7BIT;
    if (strcmp(v, "8bitmime") == 0)
        return ASMTP_BODY_8BITMIME;
    if (strcmp(v, "binarymime") == 0)
        return ASMTP_BODY_BINARYMIME;
    return ASMTP_BODY_AUTO;
}

static void add_recipients(op_ctx *ctx, const char *list)
{
    const char *p = list;

    while (*p && ctx->rcpt_count < MAX_RCPTS) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);

        ctx->to[ctx->rcpt_count] = strndup(p, len);
        ctx->rcpts[ctx->rcpt_count].address = ctx->to[ctx->rcpt_count];
        ctx->rcpt_count++;
        p += len + (comma ? 1 : 0);
    }
}

static int submit_send(runner *r, op_ctx *ctx, arg *args, size_t n)
{
    asmtp_envelope env;
    asmtp_content content;
    unsigned notify = 0;
    uint64_t size = 0;
    bool eight_bit = false;

    memset(&env, 0, sizeof env);
    memset(&content, 0, sizeof content);
    bytes_add(&ctx->data, "", 0);
    for (size_t i = 0; i < n; i++) {
        const char *v = argval(&args[i]);

        if (strcmp(args[i].key, "from") == 0)
            ctx->from = strdup(v);
        else if (strcmp(args[i].key, "to") == 0)
            add_recipients(ctx, v);
        else if (strcmp(args[i].key, "notify") == 0)
            notify = parse_notify(v);
        else if (strcmp(args[i].key, "orcpt") == 0)
            ctx->orcpt = strdup(v);
        else if (strcmp(args[i].key, "envid") == 0)
            ctx->envid = strdup(v);
        else if (strcmp(args[i].key, "ret") == 0)
            env.ret = strcmp(v, "full") == 0 ? ASMTP_RET_FULL : ASMTP_RET_HDRS;
        else if (strcmp(args[i].key, "body") == 0)
            env.body = parse_body(v);
        else if (strcmp(args[i].key, "data") == 0)
            bytes_add(&ctx->data, args[i].value.data, args[i].value.len);
        else if (strcmp(args[i].key, "repeat") == 0) {
            /* data repeated: repeat=N multiplies what data= gave. */
            bytes once = {0};
            long times = strtol(v, NULL, 10);

            bytes_add(&once, ctx->data.data, ctx->data.len);
            for (long t = 1; t < times; t++)
                bytes_add(&ctx->data, once.data, once.len);
            free(once.data);
        } else if (strcmp(args[i].key, "stream") == 0)
            ctx->stream_piece = (size_t)strtoul(v, NULL, 10);
        else if (strcmp(args[i].key, "size") == 0)
            size = strtoull(v, NULL, 10);
        else if (strcmp(args[i].key, "eightbit") == 0)
            eight_bit = true;
        else if (strcmp(args[i].key, "fail_at") == 0)
            ctx->fail_at = strtol(v, NULL, 10);
        else if (strcmp(args[i].key, "split") == 0)
            ctx->split = (size_t)strtoul(v, NULL, 10);
        else
            fail(r, "unknown send argument %s", args[i].key);
    }
    for (size_t i = 0; i < ctx->rcpt_count; i++) {
        ctx->rcpts[i].notify = notify;
        ctx->rcpts[i].orcpt = ctx->orcpt;
    }
    env.sender = ctx->from;
    env.recipients = ctx->rcpts;
    env.recipient_count = ctx->rcpt_count;
    env.envid = ctx->envid;
    if (ctx->stream_piece) {
        content.read = read_piece;
        content.read_user_data = ctx;
        content.size = size;
        content.eight_bit = eight_bit;
    } else if (ctx->split) {
        size_t count = 0;

        for (size_t off = 0; off < ctx->data.len && count < 64;
             off += ctx->split)
            ctx->parts[count++] = (asmtp_bytes){ctx->data.data + off,
                                                ctx->data.len - off < ctx->split
                                                    ? ctx->data.len - off
                                                    : ctx->split};
        if (count * ctx->split < ctx->data.len)
            fail(r, "split=%zu makes more than 64 parts", ctx->split);
        content.parts = ctx->parts;
        content.part_count = count;
    } else {
        content.data = ctx->data.data;
        content.len = ctx->data.len;
    }
    return asmtp_session_send(r->s, &env, &content, on_done, ctx);
}

static unsigned parse_mechanisms(const char *v)
{
    unsigned bits = 0;

    if (strstr(v, "PLAIN"))
        bits |= ASMTP_AUTH_PLAIN;
    if (strstr(v, "LOGIN"))
        bits |= ASMTP_AUTH_LOGIN;
    if (strstr(v, "CRAM-MD5"))
        bits |= ASMTP_AUTH_CRAM_MD5;
    if (strstr(v, "XOAUTH2"))
        bits |= ASMTP_AUTH_XOAUTH2;
    return bits;
}

static int submit_auth(runner *r, op_ctx *ctx, arg *args, size_t n)
{
    asmtp_credentials creds;
    unsigned allowed = 0;

    memset(&creds, 0, sizeof creds);
    for (size_t i = 0; i < n; i++) {
        bytes *dst = NULL;

        if (strcmp(args[i].key, "user") == 0)
            dst = &ctx->user;
        else if (strcmp(args[i].key, "pass") == 0)
            dst = &ctx->pass;
        else if (strcmp(args[i].key, "token") == 0)
            dst = &ctx->token;
        else if (strcmp(args[i].key, "authzid") == 0)
            dst = &ctx->authzid;
        else if (strcmp(args[i].key, "mech") == 0)
            allowed = parse_mechanisms(argval(&args[i]));
        else
            fail(r, "unknown auth argument %s", args[i].key);
        if (dst)
            bytes_add(dst, args[i].value.data, args[i].value.len);
    }
    creds.username.data = ctx->user.data;
    creds.username.len = ctx->user.len;
    creds.password.data = ctx->pass.data;
    creds.password.len = ctx->pass.len;
    creds.token.data = ctx->token.data;
    creds.token.len = ctx->token.len;
    creds.authzid.data = ctx->authzid.data;
    creds.authzid.len = ctx->authzid.len;
    return asmtp_session_auth(r->s, &creds, allowed, on_done, ctx);
}

/* The rest of the line after the operation name, unescaped, or NULL. */
static char *rest_of(const char *p, bool *present)
{
    bytes b = {0};

    while (*p == ' ')
        p++;
    *present = *p != '\0';
    unescape(p, strlen(p), &b);
    bytes_add(&b, "", 0);
    return (char *)b.data;
}

static int submit_op(runner *r, const char *spec)
{
    char name[16] = {0};
    size_t k = 0;
    op_ctx *ctx;
    arg args[MAX_ARGS];
    size_t n;
    char *rest;
    bool present;
    int kind, rv;

    while (*spec == ' ')
        spec++;
    while (*spec && *spec != ' ' && k + 1 < sizeof name)
        name[k++] = *spec++;
    kind = op_by_name(name);
    if (!kind) {
        fail(r, "unknown operation %s", name);
        return ASMTP_ERR_BAD_ARGUMENT;
    }
    ctx = new_ctx(r);
    switch (kind) {
    case ASMTP_OP_SEND:
    case ASMTP_OP_AUTH:
        n = split_args(spec, args, MAX_ARGS);
        rv = kind == ASMTP_OP_SEND ? submit_send(r, ctx, args, n)
                                   : submit_auth(r, ctx, args, n);
        free_args(args, n);
        break;
    case ASMTP_OP_VRFY:
    case ASMTP_OP_EXPN:
    case ASMTP_OP_HELP:
    case ASMTP_OP_RAW:
        rest = rest_of(spec, &present);
        rv = kind == ASMTP_OP_VRFY
                 ? asmtp_session_vrfy(r->s, rest, on_done, ctx)
             : kind == ASMTP_OP_EXPN
                 ? asmtp_session_expn(r->s, rest, on_done, ctx)
             : kind == ASMTP_OP_HELP
                 ? asmtp_session_help(r->s, present ? rest : NULL, on_done, ctx)
                 : asmtp_session_raw(r->s, rest, on_done, ctx);
        free(rest);
        break;
    case ASMTP_OP_START:
        rv = asmtp_session_start(r->s, on_done, ctx);
        break;
    case ASMTP_OP_EHLO:
        rv = asmtp_session_ehlo(r->s, on_done, ctx);
        break;
    case ASMTP_OP_RSET:
        rv = asmtp_session_rset(r->s, on_done, ctx);
        break;
    case ASMTP_OP_NOOP:
        rv = asmtp_session_noop(r->s, on_done, ctx);
        break;
    default:
        rv = asmtp_session_quit(r->s, on_done, ctx);
        break;
    }
    if (rv == 0)
        r->stats->submitted++;
    else {
        r->stats->refused++;
        ctx->calls = -1; /* never to be called */
    }
    return rv;
}

/* ---- Checks
 * ------------------------------------------------------------------ */

static void check_written(runner *r, const char *spec, bool crlf)
{
    bytes want = {0};

    unescape(spec, strlen(spec), &want);
    if (crlf)
        bytes_add(&want, "\r\n", 2);
    collect(r);
    if (r->written.len < want.len ||
        memcmp(r->written.data, want.data, want.len) != 0) {
        size_t show = r->written.len < 200 ? r->written.len : 200;

        fail(r, "client wrote \"%.*s\"%s, expected \"%.*s\"", (int)show,
             r->written.data ? (const char *)r->written.data : "",
             r->written.len > show ? "..." : "", (int)want.len,
             (const char *)want.data);
    } else {
        bytes_drop_front(&r->written, want.len);
    }
    free(want.data);
}

static bool int_attr_ok(const char *v, int got)
{
    if (strcmp(v, "none") == 0)
        return got == 0;
    return strtol(v, NULL, 10) == got;
}

static bool known_attr(const char *key)
{
    static const char *const keys[] = {
        "code",  "enh",  "text",  "refused",   "mail",   "data",
        "final", "rcpt", "maybe", "delivered", "warned", "msg~",
    };

    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strcmp(key, keys[i]) == 0)
            return true;
    return false;
}

static void check_result_attr(runner *r, const result_rec *rec, arg *a)
{
    const char *v = argval(a);

    if (strcmp(a->key, "code") == 0 && !int_attr_ok(v, rec->code))
        fail(r, "reply code %d, expected %s", rec->code, v);
    else if (strcmp(a->key, "enh") == 0 &&
             strcmp(strcmp(v, "none") == 0 ? "" : v, rec->enhanced) != 0)
        fail(r, "enhanced code \"%s\", expected %s", rec->enhanced, v);
    else if (strcmp(a->key, "text") == 0 &&
             (rec->text.len != a->value.len ||
              (a->value.len &&
               memcmp(rec->text.data, a->value.data, a->value.len) != 0)))
        fail(r, "reply text \"%.*s\", expected \"%s\"", (int)rec->text.len,
             rec->text.data ? (const char *)rec->text.data : "", v);
    else if (strcmp(a->key, "refused") == 0 &&
             rec->refused != strtoul(v, NULL, 10))
        fail(r, "%zu refused, expected %s", rec->refused, v);
    else if (strcmp(a->key, "mail") == 0 && !int_attr_ok(v, rec->mail_code))
        fail(r, "MAIL reply %d, expected %s", rec->mail_code, v);
    else if (strcmp(a->key, "data") == 0 && !int_attr_ok(v, rec->data_code))
        fail(r, "DATA reply %d, expected %s", rec->data_code, v);
    else if (strcmp(a->key, "final") == 0 && !int_attr_ok(v, rec->final_code))
        fail(r, "final reply %d, expected %s", rec->final_code, v);
    else if (strcmp(a->key, "rcpt") == 0) {
        const char *p = v;

        for (size_t i = 0; *p; i++) {
            char *end;
            long code = strtol(p, &end, 10);

            if (strncmp(p, "none", 4) == 0) {
                code = 0;
                end = (char *)p + 4;
            }
            if (i >= rec->rcpt_count || rec->rcpt_codes[i] != code) {
                fail(r, "recipient %zu reply %d, expected %ld", i,
                     i < rec->rcpt_count ? rec->rcpt_codes[i] : -2, code);
                break;
            }
            p = *end == ',' ? end + 1 : end;
        }
    } else if (strcmp(a->key, "maybe") == 0 && !rec->maybe)
        fail(r, "maybe_delivered is not set");
    else if (strcmp(a->key, "delivered") == 0 && rec->maybe)
        fail(r, "maybe_delivered is set");
    else if (strcmp(a->key, "warned") == 0 && !rec->warned)
        fail(r, "warned is not set");
    else if (strcmp(a->key, "msg~") == 0 && !strstr(rec->message, v))
        fail(r, "message \"%s\" lacks \"%s\"", rec->message, v);
    else if (!known_attr(a->key))
        fail(r, "unknown result attribute %s", a->key);
}

static void check_result(runner *r, const char *spec)
{
    arg args[MAX_ARGS];
    size_t n = split_args(spec, args, MAX_ARGS);
    const result_rec *rec;

    collect(r);
    if (n < 2) {
        fail(r, "R: needs an operation and an error name");
    } else if (r->results_checked == r->result_count) {
        fail(r, "no %s result arrived", args[0].key);
    } else {
        rec = &r->results[r->results_checked++];
        if (strcmp(op_names[rec->op], args[0].key) != 0)
            fail(r, "result of %s, expected %s", op_names[rec->op],
                 args[0].key);
        else if (strcmp(error_short(rec->error), args[1].key) != 0)
            fail(r, "%s ended with %s (%s), expected %s", args[0].key,
                 error_short(rec->error), rec->message, args[1].key);
        for (size_t i = 2; i < n; i++)
            check_result_attr(r, rec, &args[i]);
    }
    free_args(args, n);
}

static void check_contains(runner *r, const bytes *haystack, const char *what,
                           const char *spec, bool want)
{
    bytes needle = {0};
    bool found;

    unescape(spec, strlen(spec), &needle);
    bytes_add(&needle, "", 0);
    found = haystack->data &&
            strstr((const char *)haystack->data, (const char *)needle.data);
    if (found != want)
        fail(r, "%s %s \"%s\"", what, want ? "lacks" : "contains",
             (const char *)needle.data);
    free(needle.data);
}

/* "KEYWORD" or "KEYWORD the parameters, spaces and all". */
static void check_extension(runner *r, const char *spec, bool want)
{
    char keyword[64] = {0};
    const char *params = NULL, *want_params;
    size_t k = 0;
    int has;

    while (*spec && *spec != ' ' && k + 1 < sizeof keyword)
        keyword[k++] = *spec++;
    want_params = *spec == ' ' ? spec + 1 : NULL;
    has = asmtp_session_extension(r->s, keyword, &params);
    if (has != want)
        fail(r, "extension %s %s", keyword,
             want ? "not announced" : "announced");
    else if (want && want_params && strcmp(params, want_params) != 0)
        fail(r, "extension %s has params \"%s\", expected \"%s\"", keyword,
             params, want_params);
}

static bool yes(const char *v)
{
    while (*v == ' ')
        v++;
    return strncmp(v, "yes", 3) == 0;
}

/* ---- Configuration
 * ----------------------------------------------------------- */

static void configure(runner *r, const char *spec)
{
    arg args[MAX_ARGS];
    size_t n = split_args(spec, args, MAX_ARGS);
    static const char *const starttls[] = {"auto", "required", "never"};

    for (size_t i = 0; i < n; i++) {
        const char *k = args[i].key, *v = argval(&args[i]);

        if (strcmp(k, "hostname") == 0)
            snprintf(r->hostname, sizeof r->hostname, "%s", v);
        else if (strcmp(k, "starttls") == 0) {
            for (int j = 0; j < 3; j++)
                if (strcmp(v, starttls[j]) == 0)
                    r->config.starttls = j;
        } else if (strcmp(k, "tls") == 0)
            r->config.tls = true;
        else if (strcmp(k, "no_pipelining") == 0)
            r->config.disable_pipelining = true;
        else if (strcmp(k, "no_chunking") == 0)
            r->config.disable_chunking = true;
        else if (strcmp(k, "auth_requires_tls") == 0)
            r->config.auth_requires_tls = true;
        else if (strcmp(k, "max_inflight") == 0)
            r->config.max_inflight = strtoul(v, NULL, 10);
        else if (strncmp(k, "timeout.", 8) == 0) {
            int w = 1;

            while (w < ASMTP_WAIT__COUNT && strcmp(k + 8, wait_names[w]) != 0)
                w++;
            if (w == ASMTP_WAIT__COUNT)
                fail(r, "unknown timeout class %s", k + 8);
            else
                r->config.timeout_ms[w] = strtoull(v, NULL, 10);
        } else
            fail(r, "unknown CONFIG key %s", k);
    }
    free_args(args, n);
}

static bool ensure_session(runner *r)
{
    int rv;

    if (r->s || r->freed)
        return r->s != NULL;
    r->config.local_hostname = r->hostname;
    r->config.log = on_log;
    r->config.transcript = on_transcript;
    r->config.user_data = r;
    rv = asmtp_session_new(&r->s, &r->config, r->mem);
    if (rv) {
        fail(r, "asmtp_session_new: %s", asmtp_strerror(rv));
        return false;
    }
    asmtp_session_tick(r->s, r->now);
    return true;
}

/* ---- Directives
 * ---------------------------------------------------------------- */

static void do_refuse(runner *r, const char *spec)
{
    char want[40] = {0};
    size_t k = 0;
    int rv;

    while (*spec == ' ')
        spec++;
    while (*spec && *spec != ' ' && k + 1 < sizeof want)
        want[k++] = *spec++;
    rv = submit_op(r, spec);
    if (strcmp(error_short(rv), want) != 0)
        fail(r, "submission returned %s, expected %s", error_short(rv), want);
}

static void do_feed(runner *r, const char *spec, bool crlf)
{
    bytes data = {0};

    unescape(spec, strlen(spec), &data);
    if (crlf)
        bytes_add(&data, "\r\n", 2);
    collect(r);
    asmtp_session_feed(r->s, data.data, data.len, r->now);
    collect(r);
    free(data.data);
}

static void do_free(runner *r)
{
    collect(r);
    asmtp_session_free(r->s);
    r->s = NULL;
    r->freed = true;
}

static void check_state(runner *r, const char *word, const char *rest)
{
    collect(r);
    if (strcmp(word, "CLOSED") == 0) {
        if (asmtp_session_want_close(r->s) != yes(rest))
            fail(r, "want_close is %d", asmtp_session_want_close(r->s));
    } else if (strcmp(word, "WANT_TLS") == 0) {
        if (asmtp_session_want_tls(r->s) != yes(rest))
            fail(r, "want_tls is %d", asmtp_session_want_tls(r->s));
    } else if (strcmp(word, "ERROR") == 0) {
        while (*rest == ' ')
            rest++;
        if (strcmp(error_short(asmtp_session_error(r->s)), rest) != 0)
            fail(r, "session error is %s",
                 error_short(asmtp_session_error(r->s)));
    } else if (strcmp(word, "WAIT") == 0) {
        int w = asmtp_session_waiting_for(r->s);

        while (*rest == ' ')
            rest++;
        if (strcmp(wait_names[w], rest) != 0)
            fail(r, "waiting for %s, expected %s", wait_names[w], rest);
    } else if (strcmp(word, "DEADLINE") == 0) {
        uint64_t d = asmtp_session_deadline(r->s);
        uint64_t want = yes(rest) ? 0 : strtoull(rest, NULL, 10);

        if (strstr(rest, "none") ? d != UINT64_MAX : d != want)
            fail(r, "deadline is %llu, expected %s", (unsigned long long)d,
                 rest);
    } else if (strcmp(word, "TLS_ACTIVE") == 0) {
        if (asmtp_session_is_tls(r->s) != yes(rest))
            fail(r, "is_tls is %d", asmtp_session_is_tls(r->s));
    }
}

static void run_line(runner *r, const char *line)
{
    char word[24] = {0};
    size_t k = 0;
    const char *rest;

    while (line[k] && line[k] != ' ' && k + 1 < sizeof word) {
        word[k] = line[k];
        k++;
    }
    rest = line + k;
    if (*rest == ' ')
        rest++;
    if (strcmp(word, "CONFIG") == 0) {
        if (r->s)
            fail(r, "CONFIG after the session started");
        configure(r, rest);
        return;
    }
    if (!ensure_session(r) && strcmp(word, "R:") != 0 &&
        strcmp(word, "NO_RESULT") != 0)
        return;
    if (strcmp(word, "S:") == 0 || strcmp(word, "S<") == 0)
        do_feed(r, rest, word[1] == ':');
    else if (strcmp(word, "C:") == 0 || strcmp(word, "C<") == 0)
        check_written(r, rest, word[1] == ':');
    else if (strcmp(word, "OP") == 0) {
        int rv = submit_op(r, rest);

        if (rv)
            fail(r, "submission refused: %s", asmtp_strerror(rv));
        collect(r);
    } else if (strcmp(word, "REFUSE") == 0)
        do_refuse(r, rest);
    else if (strcmp(word, "R:") == 0)
        check_result(r, rest);
    else if (strcmp(word, "NO_RESULT") == 0) {
        collect(r);
        if (r->results_checked != r->result_count)
            fail(r, "unchecked %s result",
                 op_names[r->results[r->results_checked].op]);
    } else if (strcmp(word, "NOTHING") == 0) {
        collect(r);
        if (r->written.len)
            fail(r, "client wrote \"%.*s\", expected nothing",
                 (int)r->written.len, (const char *)r->written.data);
    } else if (strcmp(word, "EOF") == 0) {
        asmtp_session_eof(r->s, r->now);
        collect(r);
    } else if (strcmp(word, "TICK") == 0) {
        r->now += strtoull(rest, NULL, 10);
        asmtp_session_tick(r->s, r->now);
        collect(r);
    } else if (strcmp(word, "TLS") == 0) {
        asmtp_session_tls_done(r->s, yes(rest) ? 0 : ASMTP_ERR_TLS, r->now);
        collect(r);
    } else if (strcmp(word, "HOLD") == 0)
        r->hold = true;
    else if (strcmp(word, "FLUSH") == 0) {
        r->hold = false;
        collect(r);
    } else if (strcmp(word, "EXT") == 0)
        check_extension(r, rest, true);
    else if (strcmp(word, "NOEXT") == 0)
        check_extension(r, rest, false);
    else if (strcmp(word, "TRANSCRIPT~") == 0)
        check_contains(r, &r->transcript, "transcript", rest, true);
    else if (strcmp(word, "TRANSCRIPT!") == 0)
        check_contains(r, &r->transcript, "transcript", rest, false);
    else if (strcmp(word, "LOG~") == 0)
        check_contains(r, &r->log, "log", rest, true);
    else if (strcmp(word, "FREE") == 0)
        do_free(r);
    else if (strcmp(word, "CLOSED") == 0 || strcmp(word, "WANT_TLS") == 0 ||
             strcmp(word, "ERROR") == 0 || strcmp(word, "WAIT") == 0 ||
             strcmp(word, "DEADLINE") == 0 || strcmp(word, "TLS_ACTIVE") == 0)
        check_state(r, word, rest);
    else
        fail(r, "unknown directive %s", word);
}

/* ---- The run
 * -------------------------------------------------------------------- */

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    bytes b = {0};
    char chunk[4096];
    size_t n;

    if (!f) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return NULL;
    }
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        bytes_add(&b, chunk, n);
    fclose(f);
    bytes_add(&b, "", 0);
    return (char *)b.data;
}

static void finish_run(runner *r)
{
    collect(r);
    if (r->written.len)
        fail(r, "client wrote unchecked bytes: \"%.*s\"",
             (int)(r->written.len < 200 ? r->written.len : 200),
             (const char *)r->written.data);
    if (r->results_checked != r->result_count)
        fail(r, "unchecked %s result (%s)",
             op_names[r->results[r->results_checked].op],
             error_short(r->results[r->results_checked].error));
    if (r->s) {
        size_t before = r->result_count;

        do_free(r);
        if (r->result_count != before)
            fail(r, "%zu operations were still pending at the end",
                 r->result_count - before);
    }
    for (size_t i = 0; i < r->op_count; i++) {
        if (r->ops[i]->calls == 0) {
            fail(r, "operation %zu never completed", i);
            r->stats->completed = SIZE_MAX;
        }
    }
}

int transcript_run(const char *path, const asmtp_mem *mem, bool strict,
                   transcript_stats *stats)
{
    runner *r = calloc(1, sizeof *r);
    transcript_stats local;
    char *text = read_file(path);
    char *line, *next;
    bool promise_broken;

    if (!r || !text)
        abort();
    memset(stats ? stats : &local, 0, sizeof local);
    r->stats = stats ? stats : &local;
    r->path = path;
    r->strict = strict;
    r->mem = mem;
    snprintf(r->hostname, sizeof r->hostname, "client.example");
    for (line = text; line && !r->failed; line = next) {
        size_t len;

        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        r->line++;
        len = strlen(line);
        if (len && line[len - 1] == '\r')
            line[--len] = '\0';
        if (len == 0 || line[0] == '#')
            continue;
        run_line(r, line);
    }
    r->line++;
    if (!r->failed)
        finish_run(r);
    if (r->failed && strict)
        fprintf(stderr, "--- session transcript\n%s--- log\n%s",
                r->transcript.data ? (char *)r->transcript.data : "",
                r->log.data ? (char *)r->log.data : "");
    else if (r->s)
        do_free(r);
    promise_broken = r->stats->duplicates > 0;
    for (size_t i = 0; i < r->op_count; i++) {
        promise_broken = promise_broken || r->ops[i]->calls == 0;
        free_ctx(r->ops[i]);
    }
    for (size_t i = 0; i < r->result_count; i++)
        free(r->results[i].text.data);
    free(r->written.data);
    free(r->transcript.data);
    free(r->log.data);
    free(text);
    {
        bool failed = r->failed;

        free(r);
        return strict ? (failed || promise_broken) : promise_broken;
    }
}
