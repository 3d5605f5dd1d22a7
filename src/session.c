/*
 * The sans-I/O SMTP client session (see include/asmtp/session.h).
 *
 * Operations queue in submission order; pump() turns them into command
 * lines as the protocol allows, each line recorded in the in-flight ring so
 * that its reply can be routed back; on_reply() routes every reply to the
 * handler of the command it answers, and session_fail() ends the session.
 * Completed operations are handed to their callbacks in order by
 * retire().
 */
#include "session_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "command.h"

/* ---- Small helpers ---------------------------------------------------- */

static bool pipelining(const asmtp_session *s)
{
    return s->esmtp && !s->config.disable_pipelining &&
           asmtp__extensions_has(&s->ext, ASMTP__EXT_PIPELINING);
}

static bool chunking(const asmtp_session *s)
{
    return s->esmtp && !s->config.disable_chunking &&
           asmtp__extensions_has(&s->ext, ASMTP__EXT_CHUNKING);
}

static void logf_(asmtp_session *s, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void logf_(asmtp_session *s, int level, const char *fmt, ...)
{
    char line[256];
    va_list ap;

    if (!s->config.log)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    s->config.log(s->config.user_data, level, line);
}

static void transcript(asmtp_session *s, int direction, const void *line,
                       size_t len)
{
    if (s->config.transcript)
        s->config.transcript(s->config.user_data, direction, line, len);
}

static void transcript_str(asmtp_session *s, int direction, const char *line)
{
    transcript(s, direction, line, strlen(line));
}

/* One transcript line per reply line, rebuilt as the server sent it. */
static void transcript_reply(asmtp_session *s, const asmtp_reply *reply)
{
    asmtp__buf line;

    if (!s->config.transcript)
        return;
    asmtp__buf_init(&line, s->mem);
    for (size_t i = 0; i < reply->line_count; i++) {
        bool last = i + 1 == reply->line_count;
        int rv;

        asmtp__buf_clear(&line);
        rv = asmtp__buf_append_uint(&line, (unsigned)reply->code);
        rv = rv ? rv : asmtp__buf_append_byte(&line, last ? ' ' : '-');
        if (!rv && reply->enhanced[0]) {
            rv = asmtp__buf_append_str(&line, reply->enhanced);
            rv = rv ? rv : asmtp__buf_append_byte(&line, ' ');
        }
        rv = rv ? rv
                : asmtp__buf_append(&line, reply->lines[i].data,
                                    reply->lines[i].len);
        if (rv)
            break;
        transcript(s, ASMTP_RECEIVED, asmtp__buf_head(&line),
                   asmtp__buf_size(&line));
    }
    asmtp__buf_free(&line);
}

static void set_message(char *dst, size_t size, const char *fmt, va_list ap)
{
    vsnprintf(dst, size, fmt, ap);
}

/* ---- The in-flight ring ----------------------------------------------- */

static int inflight_push(asmtp_session *s, int kind, op *o, size_t index,
                         size_t bytes)
{
    cmd *slot;

    if (s->inflight_count == s->inflight_cap) {
        size_t cap = s->inflight_cap ? s->inflight_cap * 2 : 16;
        cmd *ring = asmtp__calloc(s->mem, cap, sizeof *ring);

        if (!ring)
            return ASMTP_ERR_NOMEM;
        for (size_t i = 0; i < s->inflight_count; i++)
            ring[i] = s->inflight[(s->inflight_head + i) % s->inflight_cap];
        asmtp__free(s->mem, s->inflight);
        s->inflight = ring;
        s->inflight_cap = cap;
        s->inflight_head = 0;
    }
    slot =
        &s->inflight[(s->inflight_head + s->inflight_count) % s->inflight_cap];
    slot->kind = kind;
    slot->op = o;
    slot->index = index;
    slot->bytes = bytes;
    s->inflight_count++;
    s->inflight_bytes += bytes;
    if (o)
        o->pending++;
    return 0;
}

/* Octets that ride with the command queued last (BDAT content), counted
 * against the in-flight bound until its reply. */
static void inflight_add_to_last(asmtp_session *s, size_t bytes)
{
    size_t last = (s->inflight_head + s->inflight_count - 1) % s->inflight_cap;

    s->inflight[last].bytes += bytes;
    s->inflight_bytes += bytes;
}

static const cmd *inflight_peek(const asmtp_session *s)
{
    return s->inflight_count ? &s->inflight[s->inflight_head] : NULL;
}

static cmd inflight_pop(asmtp_session *s)
{
    cmd c = s->inflight[s->inflight_head];

    s->inflight_head = (s->inflight_head + 1) % s->inflight_cap;
    s->inflight_count--;
    s->inflight_bytes -= c.bytes;
    if (c.op)
        c.op->pending--;
    if (s->inflight_count == 0)
        s->barrier = false;
    return c;
}

/* Forget every command in flight: their replies will never be routed. */
static void inflight_drop(asmtp_session *s)
{
    while (s->inflight_count)
        inflight_pop(s);
}

/* ---- Operations and their outcome -------------------------------------- */

static void txn_free(const asmtp_mem *mem, txn *t)
{
    if (!t)
        return;
    asmtp__free(mem, t->sender);
    for (size_t i = 0; i < t->rcpt_count; i++) {
        if (t->addresses)
            asmtp__free(mem, t->addresses[i]);
        if (t->orcpt)
            asmtp__free(mem, t->orcpt[i]);
        if (t->rcpt_replies)
            asmtp__reply_free(mem, t->rcpt_replies[i]);
    }
    asmtp__free(mem, t->addresses);
    asmtp__free(mem, t->orcpt);
    asmtp__free(mem, t->notify);
    asmtp__free(mem, t->rcpt_replies);
    asmtp__free(mem, t->results);
    asmtp__free(mem, t->envid);
    asmtp__reply_free(mem, t->mail_reply);
    asmtp__reply_free(mem, t->data_reply);
    asmtp__reply_free(mem, t->final_reply);
    asmtp__free(mem, t->parts);
    asmtp__free(mem, t);
}

static void op_free(asmtp_session *s, op *o)
{
    asmtp__reply_free(s->mem, o->reply);
    asmtp__free(s->mem, o->arg);
    asmtp__buf_free_secure(&o->username);
    asmtp__buf_free_secure(&o->secret);
    asmtp__buf_free_secure(&o->authzid);
    if (o->sasl_started)
        asmtp__sasl_free(&o->sasl);
    txn_free(s->mem, o->txn);
    asmtp__free(s->mem, o);
}

static op *op_new(asmtp_session *s, int kind, asmtp_done_cb cb, void *user_data)
{
    op *o = asmtp__calloc(s->mem, 1, sizeof *o);

    if (!o)
        return NULL;
    o->kind = kind;
    o->cb = cb;
    o->user_data = user_data;
    asmtp__buf_init(&o->username, s->mem);
    asmtp__buf_init(&o->secret, s->mem);
    asmtp__buf_init(&o->authzid, s->mem);
    return o;
}

/* Decide an operation's outcome; reply (may be NULL) becomes the op's. */
static void op_finish(asmtp_session *s, op *o, int error, asmtp_reply *reply,
                      const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void op_finish(asmtp_session *s, op *o, int error, asmtp_reply *reply,
                      const char *fmt, ...)
{
    va_list ap;

    if (o->done) {
        asmtp__reply_free(s->mem, reply);
        return;
    }
    o->done = true;
    o->emitted = true;
    o->error = error;
    if (reply) {
        o->reply = reply;
    }
    if (fmt) {
        va_start(ap, fmt);
        set_message(o->message, sizeof o->message, fmt, ap);
        va_end(ap);
    }
}

/* The first of two ops in the queue (either may be NULL). */
static op *earlier(const asmtp_session *s, op *a, op *b)
{
    if (!a || !b)
        return a ? a : b;
    for (op *o = s->ops_head; o; o = o->next)
        if (o == a || o == b)
            return o;
    return a;
}

/* The op stops queueing commands; the emit pointer moves past it. */
static void emit_advance(asmtp_session *s)
{
    while (s->emit && s->emit->emitted)
        s->emit = s->emit->next;
}

static int send_quit(asmtp_session *s, op *o);

/* Stop talking: nothing in flight, nothing more written, every operation
 * not yet decided fails with error. */
static void close_now(asmtp_session *s, int error)
{
    inflight_drop(s);
    for (op *o = s->ops_head; o; o = o->next) {
        if (!o->done) {
            op_finish(s, o, error, NULL, "%s", s->fatal_message);
            o->borrowed_reply = s->fatal_reply;
        }
    }
    s->emit = NULL;
    s->resend = NULL;
    s->content_op = NULL;
    asmtp__buf_clear(&s->out);
    s->state = STATE_CLOSED;
    s->want_close = true;
}

/*
 * Fail the whole session: every operation not yet decided gets error, the
 * commands in flight are forgotten, and nothing more is sent but, when
 * polite, one QUIT (RFC 5321 3.1 asks for it after a refused greeting).
 * A QUIT operation already queued stays, to be sent and answered.
 */
static void session_fail(asmtp_session *s, int error, asmtp_reply *reply,
                         bool polite, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void session_fail(asmtp_session *s, int error, asmtp_reply *reply,
                         bool polite, const char *fmt, ...)
{
    op *quit = NULL;
    va_list ap;

    if (s->error) {
        /* The polite QUIT after the first failure failed too: close now
         * and complete what waited for it. */
        asmtp__reply_free(s->mem, reply);
        if (s->state != STATE_CLOSED)
            close_now(s, error);
        return;
    }
    s->error = error;
    s->fatal_reply = reply;
    va_start(ap, fmt);
    set_message(s->fatal_message, sizeof s->fatal_message, fmt, ap);
    va_end(ap);
    logf_(s, ASMTP_LOG_ERROR, "%s", s->fatal_message);

    s->need_rset = false;
    s->quit_queued = true;
    /* A QUIT can only be paired with its reply when nothing else is in
     * flight; otherwise just close. */
    if (!polite || s->quit_sent || s->inflight_count) {
        close_now(s, error);
        return;
    }
    s->content_op = NULL;
    for (op *o = s->ops_head; o; o = o->next) {
        if (o->kind == ASMTP_OP_QUIT && !o->done && !quit) {
            quit = o;
            continue;
        }
        if (!o->done) {
            op_finish(s, o, error, NULL, "%s", s->fatal_message);
            o->borrowed_reply = s->fatal_reply;
        }
    }
    s->emit = quit;
    if (!quit && send_quit(s, NULL) < 0)
        close_now(s, error);
}

/* ---- Queueing command lines ------------------------------------------- */

/*
 * Output positions are counted from the first unconsumed byte: appending
 * may move the bytes (the buffer compacts), so absolute offsets would not
 * survive it.
 */
static size_t out_mark(const asmtp_session *s)
{
    return asmtp__buf_size(&s->out);
}

static void out_rewind(asmtp_session *s, size_t mark)
{
    asmtp__buf_truncate(&s->out, s->out.off + mark);
}

/*
 * Record the command just appended to out (from mark) as in flight. A
 * barrier command must be answered before anything else goes. shown, when
 * not NULL, replaces the line in the transcript (AUTH payloads).
 */
static int queue_command(asmtp_session *s, size_t mark, int kind, op *o,
                         size_t index, bool barrier, const char *shown)
{
    size_t len = out_mark(s) - mark;
    int rv = inflight_push(s, kind, o, index, len);

    if (rv) {
        out_rewind(s, mark);
        return rv;
    }
    s->out_appended += len;
    if (barrier || !pipelining(s))
        s->barrier = true;
    if (kind == CMD_AUTH) {
        /* A SASL line is a secret until it has been written. */
        s->out.secure = true;
        s->secret_end = s->out_appended;
    }
    if (shown)
        transcript_str(s, ASMTP_SENT, shown);
    else
        transcript(s, ASMTP_SENT, asmtp__buf_head(&s->out) + mark, len - 2);
    return 0;
}

/* Whether another command may join the group in flight now. */
static bool room_for(const asmtp_session *s, size_t bytes)
{
    if (s->inflight_count == 0)
        return true;
    if (s->barrier)
        return false;
    return s->inflight_bytes + bytes <= s->config.max_inflight;
}

/*
 * Append a command with the encoder's result rv (the line is at start..).
 * Returns 1 when queued, 0 when it must wait for replies first (nothing
 * appended), or a negative error.
 */
static int commit_command(asmtp_session *s, int rv, size_t mark, int kind,
                          op *o, size_t index, bool barrier)
{
    if (rv)
        return rv;
    if (!room_for(s, out_mark(s) - mark)) {
        out_rewind(s, mark);
        return 0;
    }
    rv = queue_command(s, mark, kind, o, index, barrier, NULL);
    return rv ? rv : 1;
}

static int send_ehlo(asmtp_session *s)
{
    size_t mark = out_mark(s);
    int rv = asmtp__command_ehlo(&s->out, s->local_hostname);

    return commit_command(s, rv, mark, CMD_EHLO, NULL, 0, true);
}

static int send_helo(asmtp_session *s)
{
    size_t mark = out_mark(s);
    int rv = asmtp__command_helo(&s->out, s->local_hostname);

    return commit_command(s, rv, mark, CMD_HELO, NULL, 0, true);
}

static int send_starttls(asmtp_session *s)
{
    size_t mark = out_mark(s);
    int rv = asmtp__command_starttls(&s->out);

    rv = commit_command(s, rv, mark, CMD_STARTTLS, NULL, 0, true);
    if (rv > 0) {
        /* Nothing but the reply may come before the handshake. */
        s->starttls_pending = false;
        s->starttls_sent = true;
    }
    return rv;
}

static int send_rset(asmtp_session *s, op *o)
{
    size_t mark = out_mark(s);
    int rv = asmtp__command_rset(&s->out);

    rv = commit_command(s, rv, mark, CMD_RSET, o, 0, false);
    if (rv > 0)
        s->rset_at = s->out_appended;
    return rv;
}

static int send_quit(asmtp_session *s, op *o)
{
    size_t mark = out_mark(s);
    int rv = asmtp__command_quit(&s->out);

    rv = commit_command(s, rv, mark, CMD_QUIT, o, 0, true);
    if (rv > 0)
        s->quit_sent = true;
    return rv;
}

/* ---- Emitting each operation ------------------------------------------ */

/* Every operation but QUIT needs the greeting, EHLO and the STARTTLS
 * decision first. Returns 1 when they are done. */
static int prepare_connection(asmtp_session *s)
{
    int rv;

    if (s->starttls_sent)
        return 0;
    if (s->starttls_pending) {
        rv = send_starttls(s);
        return rv < 0 ? rv : 0;
    }
    if (!s->ehlo_done) {
        rv = s->inflight_count ? 0 : send_ehlo(s);
        return rv < 0 ? rv : 0;
    }
    return 1;
}

static int emit_start(asmtp_session *s, op *o)
{
    asmtp_reply *copy;

    if (o->kind == ASMTP_OP_EHLO && o->step == 0) {
        o->step = 1;
        s->ehlo_done = false;
        return 1;
    }
    copy = s->ehlo_reply ? asmtp__reply_copy(s->mem, s->ehlo_reply) : NULL;
    if (s->ehlo_reply && !copy)
        op_finish(s, o, ASMTP_ERR_NOMEM, NULL, "out of memory");
    else
        op_finish(s, o, 0, copy, "connection ready");
    return 1;
}

static int emit_simple(asmtp_session *s, op *o)
{
    size_t mark = out_mark(s);
    int rv;

    switch (o->kind) {
    case ASMTP_OP_RSET:
        rv = send_rset(s, o);
        break;
    case ASMTP_OP_NOOP:
        rv = asmtp__command_noop(&s->out, o->arg);
        rv = commit_command(s, rv, mark, CMD_SIMPLE, o, 0, true);
        break;
    case ASMTP_OP_VRFY:
        rv = asmtp__command_vrfy(&s->out, o->arg);
        rv = commit_command(s, rv, mark, CMD_SIMPLE, o, 0, true);
        break;
    case ASMTP_OP_EXPN:
        rv = asmtp__command_expn(&s->out, o->arg);
        rv = commit_command(s, rv, mark, CMD_SIMPLE, o, 0, true);
        break;
    case ASMTP_OP_HELP:
        rv = asmtp__command_help(&s->out, o->arg);
        rv = commit_command(s, rv, mark, CMD_SIMPLE, o, 0, true);
        break;
    case ASMTP_OP_RAW:
        rv = asmtp__command_raw(&s->out, o->arg, strlen(o->arg));
        rv = commit_command(s, rv, mark, CMD_SIMPLE, o, 0, true);
        break;
    default:
        rv = send_quit(s, o);
        break;
    }
    if (rv > 0)
        o->emitted = true;
    return rv;
}

static void creds_view(const op *o, asmtp_credentials *creds)
{
    memset(creds, 0, sizeof *creds);
    creds->username.data = asmtp__buf_head(&o->username);
    creds->username.len = asmtp__buf_size(&o->username);
    creds->authzid.data = asmtp__buf_head(&o->authzid);
    creds->authzid.len = asmtp__buf_size(&o->authzid);
    if (o->has_token) {
        creds->token.data = asmtp__buf_head(&o->secret);
        creds->token.len = asmtp__buf_size(&o->secret);
    } else {
        /* An empty password is still a password. */
        creds->password.data = o->secret.data ? asmtp__buf_head(&o->secret)
                                              : (const unsigned char *)"";
        creds->password.len = asmtp__buf_size(&o->secret);
    }
}

static int emit_auth(asmtp_session *s, op *o)
{
    asmtp_credentials creds;
    asmtp__buf initial;
    unsigned mechanism;
    const char *name;
    char shown[64];
    bool has_initial = false;
    size_t mark = out_mark(s);
    int rv;

    creds_view(o, &creds);
    mechanism = asmtp__sasl_choose(s->ext.auth, o->allowed, &creds);
    if (mechanism && mechanism != ASMTP_AUTH_CRAM_MD5 &&
        s->config.auth_requires_tls && !s->tls_active) {
        op_finish(s, o, ASMTP_ERR_TLS, NULL,
                  "not sending %s credentials over an unencrypted "
                  "connection; use TLS, or allow insecure AUTH if this "
                  "network is trusted",
                  asmtp__sasl_name(mechanism));
        return 1;
    }
    if (!mechanism) {
        op_finish(s, o, ASMTP_ERR_NOT_SUPPORTED, NULL, "%s",
                  s->ext.auth ? "the server offers no SASL mechanism that "
                                "is allowed and fits the credentials"
                              : "the server does not offer AUTH");
        return 1;
    }
    if (s->inflight_count)
        return 0; /* AUTH goes alone: it may be long, and it is a barrier */
    name = asmtp__sasl_name(mechanism);
    asmtp__buf_init(&initial, s->mem);
    rv = asmtp__sasl_start(&o->sasl, s->mem, mechanism, &creds, &initial,
                           &has_initial);
    if (rv == 0) {
        o->sasl_started = true;
        rv = asmtp__command_auth(
            &s->out, name,
            has_initial ? (const char *)asmtp__buf_head(&initial) : NULL,
            has_initial ? asmtp__buf_size(&initial) : 0);
    }
    asmtp__buf_free_secure(&initial);
    snprintf(shown, sizeof shown, "AUTH %s%s", name,
             has_initial ? " <redacted>" : "");
    if (rv == 0)
        rv = queue_command(s, mark, CMD_AUTH, o, 0, true, shown);
    if (rv == ASMTP_ERR_NOMEM)
        return rv;
    if (rv) {
        op_finish(s, o, rv, NULL, "the credentials cannot be sent with %s",
                  name);
        return 1;
    }
    logf_(s, ASMTP_LOG_DEBUG, "authenticating with %s", name);
    o->emitted = true;
    return 1;
}

/* Decide, from what the server offers, how the transaction goes: refuse
 * it before MAIL when it cannot, choose BDAT or DATA and the BODY value. */
static int plan_transaction(asmtp_session *s, op *o)
{
    txn *t = o->txn;
    bool has_8bitmime = asmtp__extensions_has(&s->ext, ASMTP__EXT_8BITMIME);

    if (t->smtputf8 && !asmtp__extensions_has(&s->ext, ASMTP__EXT_SMTPUTF8)) {
        op_finish(s, o, ASMTP_ERR_NOT_SUPPORTED, NULL,
                  "an address is not ASCII and the server does not offer "
                  "SMTPUTF8");
        return 1;
    }
    if (s->ext.size_max && t->size > s->ext.size_max) {
        op_finish(s, o, ASMTP_ERR_NOT_SUPPORTED, NULL,
                  "the message is %llu octets and the server accepts at "
                  "most %llu",
                  (unsigned long long)t->size,
                  (unsigned long long)s->ext.size_max);
        return 1;
    }
    t->bdat = chunking(s);
    switch (t->body) {
    case ASMTP_BODY_BINARYMIME:
        if (!t->bdat ||
            !asmtp__extensions_has(&s->ext, ASMTP__EXT_BINARYMIME)) {
            op_finish(s, o, ASMTP_ERR_NOT_SUPPORTED, NULL,
                      "BINARYMIME needs a server that offers BINARYMIME "
                      "and CHUNKING");
            return 1;
        }
        t->body_param = ASMTP_BODY_BINARYMIME;
        break;
    case ASMTP_BODY_7BIT:
        t->body_param = has_8bitmime ? ASMTP_BODY_7BIT : ASMTP_BODY_AUTO;
        break;
    default:
        if (t->body == ASMTP_BODY_8BITMIME || t->eight_bit)
            t->body_param =
                has_8bitmime ? ASMTP_BODY_8BITMIME : ASMTP_BODY_AUTO;
        if (t->eight_bit && !has_8bitmime) {
            t->warned = true;
            logf_(s, ASMTP_LOG_WARNING,
                  "the message has 8-bit content and the server does not "
                  "offer 8BITMIME; sending it anyway");
        }
        break;
    }
    o->step = 1;
    return 1;
}

static bool dsn(const asmtp_session *s)
{
    return asmtp__extensions_has(&s->ext, ASMTP__EXT_DSN);
}

/* The MAIL parameters the server allows for this transaction. */
static void mail_params(const asmtp_session *s, const txn *t,
                        asmtp__mail_params *params)
{
    memset(params, 0, sizeof *params);
    params->has_size =
        asmtp__extensions_has(&s->ext, ASMTP__EXT_SIZE) && t->size > 0;
    params->size = t->size;
    params->body = t->body_param;
    params->smtputf8 = t->smtputf8;
    if (dsn(s)) {
        params->ret = t->ret;
        params->envid = t->envid;
    }
}

/*
 * Whether a BDAT transaction may start behind what is in flight: its
 * content from memory counts against the in-flight bound, so that a
 * dropped connection leaves a bounded amount "maybe delivered"; streamed
 * content goes only on an empty pipeline (it cannot be sent twice, so it
 * must not follow a transaction that may leave the server confused).
 */
static bool bdat_may_start(const asmtp_session *s, const txn *t)
{
    if (!t->bdat || s->inflight_count == 0)
        return true;
    if (t->content.read)
        return false;
    return s->inflight_bytes + (size_t)t->size <= s->config.max_inflight;
}

static int send_mail(asmtp_session *s, op *o)
{
    asmtp__mail_params params;
    size_t mark = out_mark(s);
    bool behind = s->inflight_count > 0;
    int rv;

    if (!bdat_may_start(s, o->txn))
        return 0;
    mail_params(s, o->txn, &params);
    rv = asmtp__command_mail(&s->out, o->txn->sender, &params);
    rv = commit_command(s, rv, mark, CMD_MAIL, o, 0, false);
    if (rv > 0) {
        o->txn->behind = behind;
        o->txn->mail_at = s->out_appended;
    }
    return rv;
}

static int send_rcpt(asmtp_session *s, op *o)
{
    txn *t = o->txn;
    size_t i = t->next_rcpt;
    asmtp__rcpt_params params = {0, NULL};
    size_t mark = out_mark(s);
    int rv;

    if (dsn(s)) {
        params.notify = t->notify[i];
        params.orcpt = t->orcpt[i];
    }
    rv = asmtp__command_rcpt(&s->out, t->addresses[i], &params);
    return commit_command(s, rv, mark, CMD_RCPT, o, i, false);
}

static void start_content(asmtp_session *s, op *o, int mode)
{
    asmtp__body_encoder_init(&o->txn->encoder, mode);
    s->content_op = o;
    o->emitted = true;
}

static void txn_settle(asmtp_session *s, op *o);

static int send_data(asmtp_session *s, op *o)
{
    txn *t = o->txn;
    size_t mark = out_mark(s);
    int rv;

    if (!room_for(s, 1))
        return 0;
    if (!pipelining(s) && t->accepted == 0) {
        /* Every RCPT has been answered, and refused: send no content. */
        o->emitted = true;
        txn_settle(s, o);
        return 1;
    }
    if (t->bdat && t->content.read) {
        start_content(s, o, ASMTP__BODY_BDAT);
        return 1;
    }
    if (t->bdat) {
        /* The whole content is in memory and its size is known: the next
         * transaction may follow it at once (the server reads exactly
         * t->size octets whatever it answers). */
        rv = asmtp__command_bdat(&s->out, t->size, true);
        rv = commit_command(s, rv, mark, CMD_BDAT_LAST, o, 0, false);
        if (rv > 0) {
            inflight_add_to_last(s, (size_t)t->size);
            start_content(s, o, ASMTP__BODY_BDAT);
        }
        return rv;
    }
    rv = asmtp__command_data(&s->out);
    rv = commit_command(s, rv, mark, CMD_DATA, o, 0, true);
    if (rv > 0)
        o->emitted = true;
    return rv;
}

static int emit_send(asmtp_session *s, op *o)
{
    txn *t = o->txn;
    int rv;

    if (t->mail_refused) {
        /* The group was split and MAIL already failed: send no more. */
        o->emitted = true;
        txn_settle(s, o);
        return 1;
    }
    switch (o->step) {
    case 0:
        return plan_transaction(s, o);
    case 1:
        rv = send_mail(s, o);
        if (rv > 0)
            o->step = t->rcpt_count ? 2 : 3;
        break;
    case 2:
        rv = send_rcpt(s, o);
        if (rv > 0 && ++t->next_rcpt == t->rcpt_count)
            o->step = 3;
        break;
    default:
        return send_data(s, o);
    }
    if (rv == ASMTP_ERR_BAD_ARGUMENT || rv == ASMTP_ERR_COMMAND_TOO_LONG) {
        /* Checked at submission; only reachable if the checks and the
         * encoder disagree. Whatever of this op went out is followed by
         * RSET. */
        s->need_rset = o->step > 1;
        op_finish(s, o, rv, NULL, "%s", asmtp_strerror(rv));
        return 1;
    }
    return rv;
}

static int emit_op(asmtp_session *s, op *o)
{
    switch (o->kind) {
    case ASMTP_OP_START:
    case ASMTP_OP_EHLO:
        return emit_start(s, o);
    case ASMTP_OP_AUTH:
        return emit_auth(s, o);
    case ASMTP_OP_SEND:
        return emit_send(s, o);
    default:
        return emit_simple(s, o);
    }
}

/* ---- Message content -------------------------------------------------- */

enum content_step {
    CONTENT_MORE = 0, /* progress; call again */
    CONTENT_DONE,     /* the terminator is queued */
    CONTENT_BLOCKED,  /* a BDAT chunk waits for replies */
};

/* Count what an append to out added. */
static void out_account(asmtp_session *s, size_t before)
{
    s->out_appended += out_mark(s) - before;
}

/* BINARYMIME content goes as it is (RFC 3030 3): no line ends are
 * touched. Everything else is normalised by the body encoder. */
static int encode_content(txn *t, const void *data, size_t n, asmtp__buf *into)
{
    if (t->body != ASMTP_BODY_BINARYMIME)
        return asmtp__body_encode(&t->encoder, data, n, into);
    t->encoder.size += n;
    return asmtp__buf_append(into, data, n);
}

static int end_content(asmtp_session *s, op *o, asmtp__buf *into)
{
    txn *t = o->txn;
    size_t before = out_mark(s);
    int rv = t->body == ASMTP_BODY_BINARYMIME
                 ? 0
                 : asmtp__body_finish(&t->encoder, into);

    if (rv)
        return rv;
    if (into == &s->out)
        out_account(s, before);
    if (t->encoder.mode == ASMTP__BODY_DATA) {
        rv = inflight_push(s, CMD_DOT, o, 0, 0);
        if (rv)
            return rv;
        if (!pipelining(s))
            s->barrier = true;
    }
    if (s->config.transcript) {
        char line[64];

        snprintf(line, sizeof line, "<message content: %llu octets>",
                 (unsigned long long)t->encoder.size);
        transcript_str(s, ASMTP_SENT, line);
        if (t->encoder.mode == ASMTP__BODY_DATA)
            transcript_str(s, ASMTP_SENT, ".");
    }
    return 0;
}

static void note_terminator(asmtp_session *s, txn *t)
{
    t->end_offset = s->out_appended;
    t->end_queued = true;
}

static void check_long_lines(asmtp_session *s, txn *t)
{
    if (t->warned || t->body == ASMTP_BODY_BINARYMIME ||
        t->encoder.longest_line <= ASMTP__BODY_LINE_MAX)
        return;
    t->warned = true;
    logf_(s, ASMTP_LOG_WARNING,
          "the message has a line of more than %u octets; many servers "
          "refuse it",
          ASMTP__BODY_LINE_MAX);
}

static int content_from_memory(asmtp_session *s, op *o)
{
    txn *t = o->txn;
    const asmtp_bytes *part = &t->parts[t->part_index];
    size_t n = part->len - t->content_off;
    size_t before = out_mark(s);
    int rv;

    if (n > ASMTP__CONTENT_SLICE)
        n = ASMTP__CONTENT_SLICE;
    rv = encode_content(t, part->data + t->content_off, n, &s->out);
    if (rv)
        return rv;
    if (t->bdat && t->encoder.size > t->size) {
        /* The content changed under us: never write past the chunk. */
        out_rewind(s, before);
        return ASMTP_ERR_SOURCE;
    }
    out_account(s, before);
    t->content_off += n;
    if (t->content_off == part->len) {
        t->part_index++;
        t->content_off = 0;
    }
    if (t->part_index < t->part_count)
        return CONTENT_MORE;
    rv = end_content(s, o, &s->out);
    if (rv)
        return rv;
    if (t->encoder.mode == ASMTP__BODY_BDAT && t->encoder.size != t->size)
        return ASMTP_ERR_SOURCE; /* the content changed under us */
    note_terminator(s, t);
    return CONTENT_DONE;
}

/* Read the next piece of a streamed message; 0 at its end. */
static long read_source(asmtp_session *s, txn *t)
{
    long n;

    if (!s->read_buf) {
        s->read_buf = asmtp__malloc(s->mem, ASMTP__CONTENT_SLICE);
        if (!s->read_buf)
            return ASMTP_ERR_NOMEM;
    }
    n = t->content.read(t->content.read_user_data, s->read_buf,
                        ASMTP__CONTENT_SLICE);
    if (n < 0 || (unsigned long)n > ASMTP__CONTENT_SLICE)
        return ASMTP_ERR_SOURCE;
    return n;
}

static int content_streamed_data(asmtp_session *s, op *o)
{
    txn *t = o->txn;
    size_t before = out_mark(s);
    long n = read_source(s, t);
    int rv;

    if (n < 0)
        return (int)n;
    if (n == 0) {
        rv = end_content(s, o, &s->out);
        if (rv)
            return rv;
        note_terminator(s, t);
        return CONTENT_DONE;
    }
    rv = encode_content(t, s->read_buf, (size_t)n, &s->out);
    if (rv)
        return rv;
    out_account(s, before);
    check_long_lines(s, t);
    return CONTENT_MORE;
}

/* Frame the chunk built so far as one BDAT command and its data. */
static int flush_chunk(asmtp_session *s, op *o)
{
    txn *t = o->txn;
    bool last = t->source_done;
    size_t mark = out_mark(s);
    size_t size = asmtp__buf_size(&s->chunk);
    int rv;

    rv = asmtp__command_bdat(&s->out, size, last);
    rv = commit_command(s, rv, mark, last ? CMD_BDAT_LAST : CMD_BDAT, o, 0,
                        last);
    if (rv <= 0)
        return rv < 0 ? rv : CONTENT_BLOCKED;
    mark = out_mark(s);
    rv = asmtp__buf_append(&s->out, asmtp__buf_head(&s->chunk), size);
    if (rv)
        return rv;
    out_account(s, mark);
    asmtp__buf_clear(&s->chunk);
    if (!last)
        return CONTENT_MORE;
    note_terminator(s, t);
    return CONTENT_DONE;
}

static int content_streamed_bdat(asmtp_session *s, op *o)
{
    txn *t = o->txn;
    long n;
    int rv;

    if (t->source_done || asmtp__buf_size(&s->chunk) >= ASMTP__BDAT_CHUNK)
        return flush_chunk(s, o);
    n = read_source(s, t);
    if (n < 0)
        return (int)n;
    if (n == 0) {
        t->source_done = true;
        return end_content(s, o, &s->chunk);
    }
    rv = encode_content(t, s->read_buf, (size_t)n, &s->chunk);
    if (rv == 0)
        check_long_lines(s, t);
    return rv;
}

/*
 * Produce content into out up to the high-water mark, so the source is
 * read only as the socket drains. Returns 1 when the content is complete,
 * 0 when it paused, or a negative error.
 */
static int produce_content(asmtp_session *s)
{
    op *o = s->content_op;
    txn *t = o->txn;
    int rv = CONTENT_MORE;

    while (rv == CONTENT_MORE &&
           asmtp__buf_size(&s->out) < ASMTP__OUTPUT_HIGH_WATER) {
        if (!t->content.read)
            rv = content_from_memory(s, o);
        else if (t->encoder.mode == ASMTP__BODY_BDAT)
            rv = content_streamed_bdat(s, o);
        else
            rv = content_streamed_data(s, o);
    }
    if (rv == CONTENT_DONE) {
        s->content_op = NULL;
        return 1;
    }
    return rv < 0 ? rv : 0;
}

/* The source failed or changed mid-transfer: the message must not be
 * completed, so the connection is dropped with the content unfinished. */
static void content_failed(asmtp_session *s, int error)
{
    op *o = s->content_op;

    op_finish(s, o, error, NULL, "%s",
              error == ASMTP_ERR_SOURCE
                  ? "the message source failed or changed while it was "
                    "being sent; the connection was closed so that no "
                    "partial message is delivered"
                  : "out of memory while sending the message; the "
                    "connection was closed so that no partial message is "
                    "delivered");
    session_fail(s, ASMTP_ERR_CANCELLED, NULL, false,
                 "cancelled: the connection was closed because a message "
                 "could not be completed");
}

/* ---- The pump ---------------------------------------------------------- */

/* Whether the op being emitted has sent MAIL but not yet all of its
 * commands: nothing may come between them. */
static bool mid_transaction(const asmtp_session *s)
{
    const op *o = s->emit;

    return o && o->kind == ASMTP_OP_SEND && !o->emitted && o->step >= 2;
}

/* Queue whatever may be sent now. */
static void pump(asmtp_session *s)
{
    int rv = 0;

    while (s->state == STATE_OPEN && !s->want_close) {
        op *o;

        if (s->content_op) {
            rv = produce_content(s);
            if (rv < 0) {
                content_failed(s, rv);
                return;
            }
            if (rv == 0)
                break;
            continue;
        }
        if (s->inflight_count == 0 && (s->need_rset || s->emit) &&
            asmtp__reply_parser_mid_reply(&s->parser)) {
            /* Part of a reply no command asked for must not become the
             * answer to the next one. */
            session_fail(s, ASMTP_ERR_UNEXPECTED_REPLY, NULL, false, "%s",
                         "the server sent part of a reply no command asked "
                         "for; the connection is closed");
            return;
        }
        if (s->need_rset && !s->error && !mid_transaction(s)) {
            rv = send_rset(s, NULL);
            if (rv <= 0)
                break;
            s->need_rset = false;
            continue;
        }
        if (s->resend && !s->need_rset && !mid_transaction(s)) {
            /* Right behind its RSET; what follows it went out already. */
            s->emit = earlier(s, s->resend, s->emit);
            s->resend = NULL;
        }
        emit_advance(s); /* past ops decided before they were sent */
        o = s->emit;
        if (!o)
            break;
        if (o->kind != ASMTP_OP_QUIT && !s->error) {
            rv = prepare_connection(s);
            if (rv <= 0)
                break;
        }
        rv = emit_op(s, o);
        if (rv <= 0)
            break;
        emit_advance(s);
    }
    if (rv < 0)
        session_fail(s, rv, NULL, false, "%s while queueing a command",
                     asmtp_strerror(rv));
}

/* ---- Replies ------------------------------------------------------------ */

/* A reply rendered for a message, into a caller's buffer. */
static const char *render_reply(const asmtp_reply *reply, char *buf,
                                size_t size)
{
    asmtp_reply_render(reply, buf, size);
    return buf;
}

static bool positive(const asmtp_reply *reply)
{
    return asmtp__reply_class(reply) == 2;
}

/* After EHLO or HELO: upgrade, insist, or carry on, as the policy says. */
static void decide_starttls(asmtp_session *s)
{
    if (s->tls_active || s->config.starttls == ASMTP_STARTTLS_NEVER)
        return;
    if (asmtp__extensions_has(&s->ext, ASMTP__EXT_STARTTLS)) {
        s->starttls_pending = true;
        return;
    }
    if (s->config.starttls == ASMTP_STARTTLS_REQUIRED)
        session_fail(s, ASMTP_ERR_TLS, NULL, true, "%s",
                     "TLS is required but the server does not offer "
                     "STARTTLS; nothing was sent in plaintext");
}

static void on_greeting(asmtp_session *s, asmtp_reply *reply)
{
    char text[160];

    if (reply->code == 220) {
        asmtp__reply_free(s->mem, reply);
        return;
    }
    session_fail(s, ASMTP_ERR_GREETING, reply, true,
                 "the server refused the connection: %s",
                 render_reply(reply, text, sizeof text));
}

static void set_ehlo_reply(asmtp_session *s, asmtp_reply *reply, bool esmtp)
{
    asmtp__reply_free(s->mem, s->ehlo_reply);
    s->ehlo_reply = reply;
    s->ehlo_done = true;
    s->esmtp = esmtp;
}

static void on_ehlo(asmtp_session *s, asmtp_reply *reply)
{
    char text[160];
    int rv;

    if (positive(reply)) {
        rv = asmtp__extensions_parse(&s->ext, reply);
        if (rv) {
            session_fail(s, rv, reply, false, "%s",
                         "out of memory reading the EHLO reply");
            return;
        }
        set_ehlo_reply(s, reply, true);
        decide_starttls(s);
        return;
    }
    if (asmtp__reply_class(reply) == 5) {
        logf_(s, ASMTP_LOG_INFO, "EHLO refused (%s); trying HELO",
              render_reply(reply, text, sizeof text));
        asmtp__reply_free(s->mem, reply);
        rv = send_helo(s);
        if (rv < 0)
            session_fail(s, rv, NULL, false, "%s", asmtp_strerror(rv));
        return;
    }
    session_fail(s, ASMTP_ERR_HELO, reply, true, "the server refused EHLO: %s",
                 render_reply(reply, text, sizeof text));
}

static void on_helo(asmtp_session *s, asmtp_reply *reply)
{
    char text[160];

    if (positive(reply)) {
        asmtp__extensions_clear(&s->ext);
        set_ehlo_reply(s, reply, false);
        decide_starttls(s);
        return;
    }
    session_fail(s, ASMTP_ERR_HELO, reply, true,
                 "the server refused both EHLO and HELO: %s",
                 render_reply(reply, text, sizeof text));
}

static void on_starttls(asmtp_session *s, asmtp_reply *reply)
{
    char text[160];

    s->starttls_sent = false;
    if (reply->code == 220) {
        asmtp__reply_free(s->mem, reply);
        asmtp__extensions_clear(&s->ext);
        s->ehlo_done = false;
        s->esmtp = false;
        s->state = STATE_TLS;
        s->tls_notified = false;
        return;
    }
    session_fail(s, ASMTP_ERR_TLS, reply, true,
                 "the server refused STARTTLS: %s; nothing was sent in "
                 "plaintext",
                 render_reply(reply, text, sizeof text));
}

/* Append one SASL response line and expect the server's answer. */
static int send_sasl_line(asmtp_session *s, op *o, const asmtp__buf *line,
                          int kind)
{
    size_t mark = out_mark(s);
    int rv = asmtp__buf_append(&s->out, asmtp__buf_head(line),
                               asmtp__buf_size(line));

    rv = rv ? rv : asmtp__buf_append(&s->out, "\r\n", 2);
    if (rv) {
        out_rewind(s, mark);
        return rv;
    }
    return queue_command(s, mark, kind, o, 0, true,
                         kind == CMD_AUTH ? "<redacted>" : "*");
}

static void on_challenge(asmtp_session *s, op *o, asmtp_reply *reply)
{
    asmtp__buf line;
    int rv;

    asmtp__buf_init(&line, s->mem);
    rv = asmtp__sasl_step(&o->sasl, reply->text, reply->text_len, &line);
    asmtp__reply_free(s->mem, reply);
    if (rv == ASMTP_ERR_PROTOCOL || rv == ASMTP_ERR_NOT_SUPPORTED) {
        /* Cancel the exchange rather than drop the connection. */
        asmtp__buf_clear(&line);
        rv = asmtp__buf_append_byte(&line, '*');
        rv = rv ? rv : send_sasl_line(s, o, &line, CMD_AUTH_CANCEL);
    } else if (rv == 0) {
        rv = send_sasl_line(s, o, &line, CMD_AUTH);
    }
    asmtp__buf_free_secure(&line);
    if (rv)
        session_fail(s, rv, NULL, false, "%s during AUTH", asmtp_strerror(rv));
}

static void on_auth(asmtp_session *s, const cmd *c, asmtp_reply *reply)
{
    op *o = c->op;
    char text[160];

    if (c->kind == CMD_AUTH_CANCEL) {
        op_finish(s, o, ASMTP_ERR_AUTH, reply,
                  "authentication cancelled: the server's challenge was "
                  "not valid for %s",
                  asmtp__sasl_name(o->sasl.mechanism));
        return;
    }
    if (asmtp__reply_class(reply) == 3) {
        on_challenge(s, o, reply);
        return;
    }
    if (positive(reply)) {
        op_finish(s, o, 0, reply, "authenticated");
        return;
    }
    op_finish(s, o, ASMTP_ERR_AUTH, reply, "the server refused %s: %s",
              asmtp__sasl_name(o->sasl.mechanism),
              render_reply(reply, text, sizeof text));
}

/*
 * A MAIL sent behind a failed BDAT transaction (with no RSET between) and
 * answered 503 (bad sequence) found the server still inside that
 * transaction: RFC 3030 leaves the state undefined after a failed BDAT,
 * and some servers keep it. When nothing of this transaction was
 * accepted it is not its own fault, so it goes once more, after RSET.
 * Streamed content never rides behind a BDAT transaction (it cannot be
 * read twice), and nothing is sent again once QUIT is on its way.
 */
static bool may_send_again(const asmtp_session *s, const txn *t)
{
    if (!t->bdat || !t->mail_refused || !t->behind || t->redone ||
        t->content.read || s->quit_sent)
        return false;
    if (!t->mail_reply || t->mail_reply->code != 503)
        return false;
    if (!s->failed_bdat_end || s->failed_bdat_end >= t->mail_at ||
        (s->rset_at > s->failed_bdat_end && s->rset_at < t->mail_at))
        return false;
    return t->accepted == 0 && !(t->final_reply && positive(t->final_reply));
}

/* Reset the transaction to be sent again, after a fresh RSET, once no
 * other transaction is half way out (see pump()). */
static void send_again(asmtp_session *s, op *o)
{
    txn *t = o->txn;

    logf_(s, ASMTP_LOG_INFO,
          "MAIL was refused with 503 behind a failed transaction; sending "
          "the message again after RSET");
    for (size_t i = 0; i < t->rcpt_count; i++) {
        asmtp__reply_free(s->mem, t->rcpt_replies[i]);
        t->rcpt_replies[i] = NULL;
    }
    asmtp__reply_free(s->mem, t->mail_reply);
    asmtp__reply_free(s->mem, t->data_reply);
    asmtp__reply_free(s->mem, t->final_reply);
    t->mail_reply = t->data_reply = t->final_reply = NULL;
    t->refusal = NULL;
    t->mail_refused = false;
    t->accepted = t->next_rcpt = 0;
    t->part_index = t->content_off = 0;
    t->end_queued = false;
    t->behind = false;
    t->redone = true;
    o->step = 1; /* the plan still holds: the extensions are the same */
    o->emitted = false;
    s->need_rset = true;
    s->resend = earlier(s, s->resend, o);
}

/*
 * Decide a transaction once every reply it expects is in: the sender, the
 * recipients, then DATA, the content or BDAT, in that order of blame.
 * A failed transaction is followed by RSET, unless the next transaction
 * already rides behind the final dot or BDAT LAST (whose reply ended
 * this one).
 */
static void txn_settle(asmtp_session *s, op *o)
{
    txn *t = o->txn;
    const asmtp_reply *why = NULL;
    char text[160];
    int error = 0;

    if (o->done || !o->emitted || o->pending || s->content_op == o)
        return;
    if (may_send_again(s, t)) {
        send_again(s, o);
        return;
    }
    if (t->mail_refused && t->bdat && t->final_reply &&
        positive(t->final_reply)) {
        /* Recipients joined some other transaction's sender. */
        t->confused = true;
        op_finish(s, o, ASMTP_ERR_PROTOCOL, NULL,
                  "the server refused MAIL yet accepted the message (%s); "
                  "it may have been delivered with another sender",
                  render_reply(t->final_reply, text, sizeof text));
        o->borrowed_reply = t->final_reply;
        session_fail(s, ASMTP_ERR_PROTOCOL, NULL, false, "%s",
                     "the server accepted a message whose MAIL it refused; "
                     "the connection is closed");
        return;
    }
    if (t->mail_refused) {
        error = ASMTP_ERR_SENDER_REFUSED;
        why = t->mail_reply;
    } else if (t->accepted == 0) {
        error = ASMTP_ERR_RECIPIENTS_REFUSED;
        for (size_t i = 0; i < t->rcpt_count && !why; i++)
            why = t->rcpt_replies[t->rcpt_count - 1 - i];
    } else if (t->refusal) {
        error = ASMTP_ERR_DATA_REFUSED;
        why = t->refusal;
    }
    if (!error) {
        op_finish(s, o, 0, NULL, "message accepted for %zu of %zu recipients",
                  t->accepted, t->rcpt_count);
        o->borrowed_reply = t->final_reply;
        return;
    }
    op_finish(s, o, error, NULL, "%s%s%s", asmtp_strerror(error),
              why ? ": " : "", why ? render_reply(why, text, sizeof text) : "");
    o->borrowed_reply = why;
    /* After a failed BDAT the server's state is undefined (RFC 3030), even
     * with the next transaction already behind it. */
    if (t->bdat && t->end_queued && t->end_offset > s->failed_bdat_end)
        s->failed_bdat_end = t->end_offset;
    if (s->inflight_count == 0 || t->bdat)
        s->need_rset = true;
}

static void on_mail(asmtp_session *s, op *o, asmtp_reply *reply)
{
    txn *t = o->txn;

    t->mail_reply = reply;
    if (positive(reply))
        return;
    t->mail_refused = true;
    if (!pipelining(s)) {
        o->emitted = true; /* no RCPT follows a refused MAIL */
        txn_settle(s, o);
    }
}

static void on_rcpt(asmtp_session *s, op *o, size_t index, asmtp_reply *reply)
{
    txn *t = o->txn;

    t->rcpt_replies[index] = reply;
    if (positive(reply))
        t->accepted++;
    txn_settle(s, o); /* the last reply when a split group stopped early */
}

/* A lone dot ends a DATA the server accepted with nobody to deliver to. */
static void send_lone_dot(asmtp_session *s, op *o)
{
    size_t mark = out_mark(s);
    int rv = asmtp__buf_append(&s->out, ".\r\n", 3);

    rv = rv ? rv : queue_command(s, mark, CMD_LONE_DOT, o, 0, true, NULL);
    if (rv)
        session_fail(s, rv, NULL, false, "%s", asmtp_strerror(rv));
}

static void on_data(asmtp_session *s, op *o, asmtp_reply *reply)
{
    txn *t = o->txn;

    t->data_reply = reply;
    if (asmtp__reply_class(reply) != 3) {
        t->refusal = reply;
        txn_settle(s, o);
        return;
    }
    if (t->mail_refused || t->accepted == 0)
        send_lone_dot(s, o);
    else
        start_content(s, o, ASMTP__BODY_DATA);
}

static void on_data_end(asmtp_session *s, const cmd *c, asmtp_reply *reply)
{
    op *o = c->op;
    txn *t = o->txn;

    if (c->kind == CMD_BDAT && positive(reply)) {
        asmtp__reply_free(s->mem, reply);
        return;
    }
    if (t->final_reply) {
        /* A chunk already failed; later replies only confirm it. */
        asmtp__reply_free(s->mem, reply);
    } else {
        t->final_reply = reply;
        if (!positive(reply))
            t->refusal = reply;
    }
    if (t->refusal && s->content_op == o) {
        /* RFC 3030: no more chunks after a failed one. */
        s->content_op = NULL;
        asmtp__buf_clear(&s->chunk);
    }
    txn_settle(s, o);
}

static void on_rset(asmtp_session *s, op *o, asmtp_reply *reply)
{
    char text[160];

    if (o) {
        op_finish(s, o, positive(reply) ? 0 : ASMTP_ERR_COMMAND_REFUSED, reply,
                  "RSET: %s", render_reply(reply, text, sizeof text));
        return;
    }
    if (positive(reply)) {
        asmtp__reply_free(s->mem, reply);
        return;
    }
    /* The server's transaction state is unknown: start over elsewhere. */
    session_fail(s, ASMTP_ERR_PROTOCOL, reply, false,
                 "the server refused RSET after a failed transaction: %s",
                 render_reply(reply, text, sizeof text));
}

static void on_simple(asmtp_session *s, op *o, asmtp_reply *reply)
{
    char text[160];
    int error = 0;

    (void)s;
    if (o->kind != ASMTP_OP_RAW && !positive(reply))
        error = ASMTP_ERR_COMMAND_REFUSED;
    op_finish(s, o, error, reply, "%s", render_reply(reply, text, sizeof text));
}

static void on_quit(asmtp_session *s, op *o, asmtp_reply *reply)
{
    char text[160];

    s->state = STATE_CLOSED;
    s->want_close = true;
    if (!o) {
        asmtp__reply_free(s->mem, reply);
        return;
    }
    /* A 421 ends the session as QUIT would, but says the server closed
     * it: reported as everywhere else. */
    op_finish(s, o,
              positive(reply)      ? 0
              : reply->code == 421 ? ASMTP_ERR_SHUTDOWN
                                   : ASMTP_ERR_COMMAND_REFUSED,
              reply, "QUIT: %s", render_reply(reply, text, sizeof text));
}

/* A 421 that answers a transaction's command is that command's reply too
 * (the session keeps the original as the reason it failed). */
static void keep_shutdown_reply(asmtp_session *s, const cmd *c,
                                const asmtp_reply *reply)
{
    txn *t = c->op ? c->op->txn : NULL;

    if (!t)
        return;
    switch (c->kind) {
    case CMD_MAIL:
        t->mail_reply = asmtp__reply_copy(s->mem, reply);
        break;
    case CMD_RCPT:
        t->rcpt_replies[c->index] = asmtp__reply_copy(s->mem, reply);
        break;
    case CMD_DATA:
        t->data_reply = asmtp__reply_copy(s->mem, reply);
        break;
    case CMD_DOT:
    case CMD_LONE_DOT:
    case CMD_BDAT:
    case CMD_BDAT_LAST:
        t->end_shutdown = true; /* answered, not lost */
        break;
    default:
        break;
    }
}

/* Route one reply to what it answers. Takes ownership of reply. */
static void on_reply(asmtp_session *s, cmd c, asmtp_reply *reply)
{
    char text[160];

    transcript_reply(s, reply);
    if (reply->code == 421 && c.kind != CMD_QUIT) {
        /* Nothing after the command it answers was taken in: no message
         * behind it may have been delivered. */
        s->closed_by_reply = true;
        keep_shutdown_reply(s, &c, reply);
        session_fail(s, ASMTP_ERR_SHUTDOWN, reply, false,
                     "the server is closing the connection: %s",
                     render_reply(reply, text, sizeof text));
        return;
    }
    switch (c.kind) {
    case CMD_GREETING:
        on_greeting(s, reply);
        break;
    case CMD_EHLO:
        on_ehlo(s, reply);
        break;
    case CMD_HELO:
        on_helo(s, reply);
        break;
    case CMD_STARTTLS:
        on_starttls(s, reply);
        break;
    case CMD_AUTH:
    case CMD_AUTH_CANCEL:
        on_auth(s, &c, reply);
        break;
    case CMD_MAIL:
        on_mail(s, c.op, reply);
        break;
    case CMD_RCPT:
        on_rcpt(s, c.op, c.index, reply);
        break;
    case CMD_DATA:
        on_data(s, c.op, reply);
        break;
    case CMD_RSET:
        on_rset(s, c.op, reply);
        break;
    case CMD_SIMPLE:
        on_simple(s, c.op, reply);
        break;
    case CMD_QUIT:
        on_quit(s, c.op, reply);
        break;
    default: /* CMD_DOT, CMD_LONE_DOT, CMD_BDAT, CMD_BDAT_LAST */
        on_data_end(s, &c, reply);
        break;
    }
}

static bool expects_enhanced(const cmd *c)
{
    return !c || (c->kind != CMD_GREETING && c->kind != CMD_EHLO &&
                  c->kind != CMD_HELO);
}

static void on_unexpected(asmtp_session *s, asmtp_reply *reply)
{
    char text[160];

    transcript_reply(s, reply);
    if (reply->code == 421) {
        session_fail(s, ASMTP_ERR_SHUTDOWN, reply, false,
                     "the server is closing the connection: %s",
                     render_reply(reply, text, sizeof text));
        return;
    }
    session_fail(s, ASMTP_ERR_UNEXPECTED_REPLY, reply, false,
                 "the server sent a reply no command asked for (%s); the "
                 "connection is closed so that it cannot be taken for the "
                 "answer to a later command",
                 render_reply(reply, text, sizeof text));
}

static void parse_failed(asmtp_session *s, int rv)
{
    const char *why = "out of memory while reading a reply";

    if (rv == ASMTP_ERR_MALFORMED_REPLY)
        why = "the server sent a malformed reply; the connection is closed";
    else if (rv == ASMTP_ERR_REPLY_TOO_LONG)
        why = "the server sent a reply over the size limit; the connection "
              "is closed";
    session_fail(s, rv, NULL, false, "%s", why);
}

static void feed_bytes(asmtp_session *s, const unsigned char *p, size_t len)
{
    while (len > 0 && s->state == STATE_OPEN) {
        const cmd *head = inflight_peek(s);
        asmtp_reply *reply = NULL;
        size_t used = 0;
        int rv;

        asmtp__reply_parser_expect_enhanced(&s->parser, expects_enhanced(head));
        rv = asmtp__reply_parser_feed(&s->parser, p, len, &used, &reply);
        p += used;
        len -= used;
        if (rv < 0) {
            parse_failed(s, rv);
            return;
        }
        if (rv != ASMTP__REPLY_DONE)
            break;
        if (!head)
            on_unexpected(s, reply);
        else
            on_reply(s, inflight_pop(s), reply);
    }
    if (len > 0 && s->state == STATE_TLS)
        logf_(s, ASMTP_LOG_WARNING,
              "discarded %zu octets of plaintext that came after the 220 "
              "to STARTTLS",
              len);
}

/* ---- Completion --------------------------------------------------------- */

static void fill_send_result(const asmtp_session *s, const op *o,
                             asmtp_result *r)
{
    txn *t = o->txn;

    for (size_t i = 0; i < t->rcpt_count; i++) {
        t->results[i].address = t->addresses[i];
        t->results[i].reply = t->rcpt_replies[i];
        t->results[i].accepted =
            t->rcpt_replies[i] && positive(t->rcpt_replies[i]);
    }
    r->sender = t->sender;
    r->mail_reply = t->mail_reply;
    r->recipients = t->results;
    r->recipient_count = t->rcpt_count;
    r->refused_count = t->rcpt_count - t->accepted;
    r->data_reply = t->data_reply;
    r->final_reply = t->end_shutdown ? s->fatal_reply : t->final_reply;
    r->maybe_delivered =
        t->confused || (o->error && t->end_queued && !r->final_reply &&
                        s->out_written >= t->end_offset && !s->closed_by_reply);
    r->warned = t->warned;
}

static void deliver(asmtp_session *s, op *o)
{
    asmtp_result r;

    memset(&r, 0, sizeof r);
    r.op = o->kind;
    r.error = o->error;
    r.message = o->message[0] ? o->message : asmtp_strerror(o->error);
    r.reply = o->reply ? o->reply : o->borrowed_reply;
    if (o->txn)
        fill_send_result(s, o, &r);
    if (o->cb)
        o->cb(s, &r, o->user_data);
}

static op *pop_op(asmtp_session *s)
{
    op *o = s->ops_head;

    s->ops_head = o->next;
    if (!s->ops_head)
        s->ops_tail = NULL;
    if (s->emit == o)
        s->emit = o->next;
    if (s->resend == o)
        s->resend = NULL;
    return o;
}

/* Hand completed operations to their callbacks, oldest first. Returns how
 * many completed. */
static int retire(asmtp_session *s)
{
    int count = 0;

    while (s->ops_head && s->ops_head->done && s->ops_head->pending == 0) {
        op *o = pop_op(s);

        deliver(s, o);
        op_free(s, o);
        count++;
    }
    return count;
}

static void destroy(asmtp_session *s)
{
    const asmtp_mem *mem = s->mem;

    s->freeing = true;
    s->depth = 1;
    inflight_drop(s);
    while (s->ops_head) {
        op *o = pop_op(s);

        op_finish(s, o, ASMTP_ERR_CANCELLED, NULL, "%s",
                  "cancelled: the session was freed before the operation "
                  "completed");
        deliver(s, o);
        op_free(s, o);
    }
    asmtp__reply_parser_free(&s->parser);
    asmtp__extensions_clear(&s->ext);
    asmtp__reply_free(mem, s->ehlo_reply);
    asmtp__reply_free(mem, s->fatal_reply);
    asmtp__buf_free(&s->out);
    asmtp__buf_free(&s->chunk);
    asmtp__free(mem, s->read_buf);
    asmtp__free(mem, s->inflight);
    asmtp__free(mem, s->local_hostname);
    asmtp__free(mem, s);
}

/* Calls that may complete operations are bracketed by enter and leave. */
static int enter(asmtp_session *s, uint64_t now)
{
    if (!s || s->depth > 0)
        return s ? ASMTP_ERR_STATE : ASMTP_ERR_BAD_ARGUMENT;
    s->depth++;
    if (s->clock_stale) {
        s->activity = now;
        s->clock_stale = false;
    }
    return 0;
}

static void notify_tls(asmtp_session *s)
{
    if (s->state != STATE_TLS || s->tls_notified)
        return;
    s->tls_notified = true;
    if (s->config.start_tls)
        s->config.start_tls(s->config.user_data);
}

static int leave(asmtp_session *s)
{
    int rv;

    do {
        pump(s);
        notify_tls(s);
    } while (retire(s) > 0 && !s->free_pending);
    rv = s->error;
    s->depth--;
    if (s->free_pending)
        destroy(s);
    return rv;
}

/* ---- Creating and driving ----------------------------------------------- */

int asmtp_session_new(asmtp_session **out, const asmtp_session_config *config,
                      const asmtp_mem *mem)
{
    asmtp_session *s;
    asmtp__buf probe;
    int rv;

    if (!out || !config || !config->local_hostname)
        return ASMTP_ERR_BAD_ARGUMENT;
    *out = NULL;
    asmtp__buf_init(&probe, mem);
    rv = asmtp__command_ehlo(&probe, config->local_hostname);
    asmtp__buf_free(&probe);
    if (rv)
        return rv;
    if (config->starttls < ASMTP_STARTTLS_AUTO ||
        config->starttls > ASMTP_STARTTLS_NEVER)
        return ASMTP_ERR_BAD_ARGUMENT;

    s = asmtp__calloc(mem, 1, sizeof *s);
    if (!s)
        return ASMTP_ERR_NOMEM;
    s->mem = mem;
    s->config = *config;
    s->local_hostname = asmtp__strndup(mem, config->local_hostname,
                                       strlen(config->local_hostname));
    if (!s->local_hostname) {
        asmtp__free(mem, s);
        return ASMTP_ERR_NOMEM;
    }
    s->config.local_hostname = s->local_hostname;
    if (!s->config.max_inflight)
        s->config.max_inflight = ASMTP__DEFAULT_MAX_INFLIGHT;
    for (size_t i = 0; i < ASMTP_WAIT__COUNT; i++)
        if (!s->config.timeout_ms[i])
            s->config.timeout_ms[i] = ASMTP__DEFAULT_TIMEOUT_MS;
    s->tls_active = config->tls;
    s->clock_stale = true;
    asmtp__reply_parser_init(&s->parser, mem);
    asmtp__extensions_init(&s->ext, mem);
    asmtp__buf_init(&s->out, mem);
    asmtp__buf_init(&s->chunk, mem);

    rv = inflight_push(s, CMD_GREETING, NULL, 0, 0);
    if (rv) {
        destroy(s);
        return rv;
    }
    s->barrier = true;
    *out = s;
    return 0;
}

void asmtp_session_free(asmtp_session *s)
{
    if (!s || s->freeing)
        return;
    if (s->depth > 0) {
        s->free_pending = true;
        return;
    }
    destroy(s);
}

int asmtp_session_feed(asmtp_session *s, const void *data, size_t len,
                       uint64_t now)
{
    int rv = enter(s, now);

    if (rv)
        return rv;
    if (len)
        s->activity = now;
    feed_bytes(s, data, len);
    return leave(s);
}

const unsigned char *asmtp_session_output(asmtp_session *s, size_t *len)
{
    size_t size = s ? asmtp__buf_size(&s->out) : 0;

    if (len)
        *len = size;
    return size ? asmtp__buf_head(&s->out) : NULL;
}

int asmtp_session_output_done(asmtp_session *s, size_t n, uint64_t now)
{
    int rv = enter(s, now);

    if (rv)
        return rv;
    if (n > asmtp__buf_size(&s->out)) {
        s->depth--;
        return ASMTP_ERR_BAD_ARGUMENT;
    }
    if (n) {
        asmtp__buf_consume(&s->out, n);
        s->out_written += n;
        s->activity = now;
        if (s->out_written >= s->secret_end)
            s->out.secure = false; /* the secret has been wiped */
    }
    return leave(s);
}

bool asmtp__session_output_secret(const asmtp_session *s)
{
    return s->out.secure;
}

static bool any_undecided(const asmtp_session *s)
{
    for (const op *o = s->ops_head; o; o = o->next)
        if (!o->done)
            return true;
    return false;
}

int asmtp_session_eof(asmtp_session *s, uint64_t now)
{
    int rv = enter(s, now);

    if (rv)
        return rv;
    if (s->quit_sent) {
        /* A server that drops the connection after QUIT has still quit. */
        for (op *o = s->ops_head; o; o = o->next)
            if (o->kind == ASMTP_OP_QUIT)
                op_finish(s, o, 0, NULL, "%s",
                          "the server closed the connection after QUIT");
        inflight_drop(s);
    }
    if (any_undecided(s) || (s->state != STATE_CLOSED && !s->quit_sent))
        session_fail(s, ASMTP_ERR_DISCONNECTED, NULL, false, "%s",
                     asmtp__reply_parser_mid_reply(&s->parser)
                         ? "the server closed the connection in the middle "
                           "of a reply"
                         : "the server closed the connection unexpectedly");
    s->state = STATE_CLOSED;
    s->want_close = true;
    return leave(s);
}

static const char *waiting_what(const asmtp_session *s, int wait)
{
    static const char *const names[] = {
        [CMD_GREETING] = "the server's greeting",
        [CMD_EHLO] = "the reply to EHLO",
        [CMD_HELO] = "the reply to HELO",
        [CMD_STARTTLS] = "the reply to STARTTLS",
        [CMD_AUTH] = "the reply to AUTH",
        [CMD_AUTH_CANCEL] = "the reply to AUTH",
        [CMD_MAIL] = "the reply to MAIL FROM",
        [CMD_RCPT] = "the reply to RCPT TO",
        [CMD_DATA] = "the reply to DATA",
        [CMD_DOT] = "the reply to the end of the message",
        [CMD_LONE_DOT] = "the reply to the end of DATA",
        [CMD_BDAT] = "the reply to BDAT",
        [CMD_BDAT_LAST] = "the reply to the end of the message",
        [CMD_RSET] = "the reply to RSET",
        [CMD_SIMPLE] = "the reply to a command",
        [CMD_QUIT] = "the reply to QUIT",
    };
    const cmd *head = inflight_peek(s);

    if (wait == ASMTP_WAIT_TLS)
        return "the TLS handshake";
    if (wait == ASMTP_WAIT_DATA_BLOCK || !head)
        return "the server to take the message content";
    return names[head->kind];
}

static uint64_t timeout_at(const asmtp_session *s);

static void expire(asmtp_session *s, int wait)
{
    unsigned long long ms = s->config.timeout_ms[wait];
    int error = wait == ASMTP_WAIT_GREETING ? ASMTP_ERR_CONNECT_TIMEOUT
                                            : ASMTP_ERR_TIMEOUT;
    const char *what = waiting_what(s, wait);

    if (wait == ASMTP_WAIT_DATA_END)
        session_fail(s, error, NULL, false,
                     "timed out after %llu ms waiting for %s: the server "
                     "may have accepted the message, so do not resend it "
                     "blindly",
                     ms, what);
    else
        session_fail(s, error, NULL, false,
                     "timed out after %llu ms waiting for %s", ms, what);
}

int asmtp_session_tick(asmtp_session *s, uint64_t now)
{
    int rv = enter(s, now);
    int wait;

    if (rv)
        return rv;
    wait = asmtp_session_waiting_for(s);
    if (wait != ASMTP_WAIT_NONE && now >= timeout_at(s))
        expire(s, wait);
    return leave(s);
}

int asmtp_session_waiting_for(const asmtp_session *s)
{
    const cmd *head = inflight_peek(s);
    bool writing = asmtp__buf_size(&s->out) > 0;

    if (s->state == STATE_CLOSED)
        return ASMTP_WAIT_NONE;
    if (s->state == STATE_TLS)
        return ASMTP_WAIT_TLS;
    if (s->content_op)
        return ASMTP_WAIT_DATA_BLOCK;
    if (!head)
        return writing ? ASMTP_WAIT_COMMAND : ASMTP_WAIT_NONE;
    switch (head->kind) {
    case CMD_GREETING:
        return ASMTP_WAIT_GREETING;
    case CMD_DATA:
        return ASMTP_WAIT_DATA_INIT;
    case CMD_BDAT:
        return ASMTP_WAIT_DATA_BLOCK;
    case CMD_DOT:
    case CMD_LONE_DOT:
    case CMD_BDAT_LAST:
        return writing ? ASMTP_WAIT_DATA_BLOCK : ASMTP_WAIT_DATA_END;
    default:
        return ASMTP_WAIT_COMMAND;
    }
}

/* When the current wait times out; UINT64_MAX when none runs. */
static uint64_t timeout_at(const asmtp_session *s)
{
    int wait = asmtp_session_waiting_for(s);
    uint64_t timeout;

    if (wait == ASMTP_WAIT_NONE || s->clock_stale)
        return UINT64_MAX;
    timeout = s->config.timeout_ms[wait];
    return s->activity > UINT64_MAX - timeout ? UINT64_MAX
                                              : s->activity + timeout;
}

uint64_t asmtp_session_deadline(const asmtp_session *s)
{
    if (s->ops_head && s->ops_head->done && s->ops_head->pending == 0)
        return 0; /* a completion waits for the next driving call */
    return timeout_at(s);
}

int asmtp_session_want_tls(const asmtp_session *s)
{
    return s->state == STATE_TLS;
}

int asmtp_session_tls_done(asmtp_session *s, int status, uint64_t now)
{
    int rv = enter(s, now);

    if (rv)
        return rv;
    if (s->state != STATE_TLS) {
        s->depth--;
        return ASMTP_ERR_STATE;
    }
    s->activity = now;
    if (status == 0) {
        s->state = STATE_OPEN;
        s->tls_active = true;
        logf_(s, ASMTP_LOG_DEBUG, "TLS established; sending EHLO again");
    } else {
        session_fail(s, ASMTP_ERR_TLS, NULL, false, "%s",
                     "the TLS handshake after STARTTLS failed; the "
                     "connection is closed and nothing is sent in plaintext");
    }
    return leave(s);
}

int asmtp_session_want_close(const asmtp_session *s)
{
    return s->want_close;
}

int asmtp_session_error(const asmtp_session *s)
{
    return s->error;
}

int asmtp_session_extension(const asmtp_session *s, const char *keyword,
                            const char **params)
{
    const char *found = s->ehlo_done && keyword
                            ? asmtp__extensions_find(&s->ext, keyword)
                            : NULL;

    if (params)
        *params = found;
    return found != NULL;
}

uint64_t asmtp_session_size_limit(const asmtp_session *s)
{
    return s->ehlo_done ? s->ext.size_max : 0;
}

unsigned asmtp_session_auth_mechanisms(const asmtp_session *s)
{
    return s->ehlo_done ? s->ext.auth : 0;
}

int asmtp_session_is_tls(const asmtp_session *s)
{
    return s->tls_active;
}

/* ---- Submitting operations ---------------------------------------------- */

static int check_open(const asmtp_session *s)
{
    if (!s)
        return ASMTP_ERR_BAD_ARGUMENT;
    if (s->freeing)
        return ASMTP_ERR_STATE;
    if (s->error)
        return s->error;
    if (s->quit_queued || s->state == STATE_CLOSED)
        return ASMTP_ERR_STATE;
    return 0;
}

static int submit(asmtp_session *s, op *o)
{
    if (asmtp_session_waiting_for(s) == ASMTP_WAIT_NONE)
        s->clock_stale = true; /* a wait starts with the next time given */
    if (s->ops_tail)
        s->ops_tail->next = o;
    else
        s->ops_head = o;
    s->ops_tail = o;
    if (!s->emit)
        s->emit = o;
    if (o->kind == ASMTP_OP_QUIT)
        s->quit_queued = true;
    if (s->depth == 0) {
        /* The log, transcript and read callbacks reached from here get the
         * protection they have inside a driving call. */
        s->depth++;
        pump(s);
        s->depth--;
        if (s->free_pending)
            destroy(s);
    }
    return 0;
}

static int submit_plain(asmtp_session *s, int kind, asmtp_done_cb cb,
                        void *user_data)
{
    int rv = check_open(s);
    op *o;

    if (rv)
        return rv;
    o = op_new(s, kind, cb, user_data);
    return o ? submit(s, o) : ASMTP_ERR_NOMEM;
}

int asmtp_session_start(asmtp_session *s, asmtp_done_cb cb, void *user_data)
{
    return submit_plain(s, ASMTP_OP_START, cb, user_data);
}

int asmtp_session_ehlo(asmtp_session *s, asmtp_done_cb cb, void *user_data)
{
    return submit_plain(s, ASMTP_OP_EHLO, cb, user_data);
}

int asmtp_session_rset(asmtp_session *s, asmtp_done_cb cb, void *user_data)
{
    return submit_plain(s, ASMTP_OP_RSET, cb, user_data);
}

int asmtp_session_quit(asmtp_session *s, asmtp_done_cb cb, void *user_data)
{
    return submit_plain(s, ASMTP_OP_QUIT, cb, user_data);
}

/* Check an argument by encoding its command into a scratch buffer. */
static int probe_command(asmtp_session *s, int kind, const char *arg)
{
    asmtp__buf probe;
    int rv;

    asmtp__buf_init(&probe, s->mem);
    switch (kind) {
    case ASMTP_OP_NOOP:
        rv = asmtp__command_noop(&probe, arg);
        break;
    case ASMTP_OP_VRFY:
        rv = asmtp__command_vrfy(&probe, arg);
        break;
    case ASMTP_OP_EXPN:
        rv = asmtp__command_expn(&probe, arg);
        break;
    case ASMTP_OP_HELP:
        rv = asmtp__command_help(&probe, arg);
        break;
    default:
        rv = asmtp__command_raw(&probe, arg, arg ? strlen(arg) : 0);
        break;
    }
    asmtp__buf_free(&probe);
    return rv;
}

static int submit_with_arg(asmtp_session *s, int kind, const char *arg,
                           asmtp_done_cb cb, void *user_data)
{
    int rv = check_open(s);
    op *o;

    if (rv)
        return rv;
    if (kind == ASMTP_OP_RAW && !arg)
        return ASMTP_ERR_BAD_ARGUMENT;
    rv = probe_command(s, kind, arg);
    if (rv)
        return rv;
    o = op_new(s, kind, cb, user_data);
    if (!o)
        return ASMTP_ERR_NOMEM;
    if (arg) {
        o->arg = asmtp__strndup(s->mem, arg, strlen(arg));
        if (!o->arg) {
            op_free(s, o);
            return ASMTP_ERR_NOMEM;
        }
    }
    return submit(s, o);
}

int asmtp_session_noop(asmtp_session *s, asmtp_done_cb cb, void *user_data)
{
    return submit_with_arg(s, ASMTP_OP_NOOP, NULL, cb, user_data);
}

int asmtp_session_vrfy(asmtp_session *s, const char *arg, asmtp_done_cb cb,
                       void *user_data)
{
    return submit_with_arg(s, ASMTP_OP_VRFY, arg, cb, user_data);
}

int asmtp_session_expn(asmtp_session *s, const char *arg, asmtp_done_cb cb,
                       void *user_data)
{
    return submit_with_arg(s, ASMTP_OP_EXPN, arg, cb, user_data);
}

int asmtp_session_help(asmtp_session *s, const char *arg, asmtp_done_cb cb,
                       void *user_data)
{
    return submit_with_arg(s, ASMTP_OP_HELP, arg, cb, user_data);
}

int asmtp_session_raw(asmtp_session *s, const char *line, asmtp_done_cb cb,
                      void *user_data)
{
    return submit_with_arg(s, ASMTP_OP_RAW, line, cb, user_data);
}

static int copy_bytes(asmtp__buf *dst, asmtp_bytes src)
{
    if (src.len && !src.data)
        return ASMTP_ERR_BAD_ARGUMENT;
    return asmtp__buf_append(dst, src.data, src.len);
}

int asmtp_session_auth(asmtp_session *s, const asmtp_credentials *creds,
                       unsigned allowed, asmtp_done_cb cb, void *user_data)
{
    int rv = check_open(s);
    op *o;

    if (rv)
        return rv;
    if (!creds || (allowed & ~(unsigned)ASMTP_AUTH_ANY) ||
        !creds->username.len || (!creds->token.len && !creds->password.data))
        return ASMTP_ERR_BAD_ARGUMENT;
    o = op_new(s, ASMTP_OP_AUTH, cb, user_data);
    if (!o)
        return ASMTP_ERR_NOMEM;
    o->allowed = allowed ? allowed : ASMTP_AUTH_ANY;
    o->has_token = creds->token.len > 0;
    rv = copy_bytes(&o->username, creds->username);
    rv = rv ? rv : copy_bytes(&o->authzid, creds->authzid);
    rv = rv ? rv
            : copy_bytes(&o->secret,
                         o->has_token ? creds->token : creds->password);
    if (rv) {
        op_free(s, o);
        return rv;
    }
    return submit(s, o);
}

/* Encode every command of the envelope into a scratch buffer, with the
 * longest parameters the server could make us send, so that a bad address
 * or an over-long line is refused now rather than mid-transaction. */
static int probe_envelope(asmtp_session *s, const asmtp_envelope *env)
{
    asmtp__mail_params mail = {true, UINT64_MAX,     ASMTP_BODY_BINARYMIME,
                               true, ASMTP_RET_HDRS, env->envid};
    asmtp__buf probe;
    int rv;

    if (env->ret)
        mail.ret = env->ret;
    asmtp__buf_init(&probe, s->mem);
    rv = asmtp__command_mail(&probe, env->sender, &mail);
    for (size_t i = 0; !rv && i < env->recipient_count; i++) {
        const asmtp_recipient *r = &env->recipients[i];
        asmtp__rcpt_params rcpt = {r->notify, r->orcpt};

        rv = r->address ? asmtp__command_rcpt(&probe, r->address, &rcpt)
                        : ASMTP_ERR_BAD_ARGUMENT;
        asmtp__buf_clear(&probe);
    }
    asmtp__buf_free(&probe);
    return rv;
}

static int check_send(asmtp_session *s, const asmtp_envelope *env,
                      const asmtp_content *content)
{
    if (!env || !content || !env->sender || !env->recipients ||
        env->recipient_count == 0)
        return ASMTP_ERR_BAD_ARGUMENT;
    if (env->body < ASMTP_BODY_AUTO || env->body > ASMTP_BODY_BINARYMIME ||
        env->ret < ASMTP_RET_DEFAULT || env->ret > ASMTP_RET_HDRS)
        return ASMTP_ERR_BAD_ARGUMENT;
    if (!content->read && content->len && !content->data)
        return ASMTP_ERR_BAD_ARGUMENT;
    for (size_t i = 0; !content->read && i < content->part_count; i++)
        if (content->parts[i].len && !content->parts[i].data)
            return ASMTP_ERR_BAD_ARGUMENT;
    if (content->part_count && !content->parts)
        return ASMTP_ERR_BAD_ARGUMENT;
    return probe_envelope(s, env);
}

static char *copy_string(asmtp_session *s, const char *str, int *rv)
{
    char *copy;

    if (!str || *rv)
        return NULL;
    copy = asmtp__strndup(s->mem, str, strlen(str));
    if (!copy)
        *rv = ASMTP_ERR_NOMEM;
    return copy;
}

static int copy_recipients(asmtp_session *s, txn *t, const asmtp_envelope *env)
{
    size_t n = env->recipient_count;
    int rv = 0;

    t->addresses = asmtp__calloc(s->mem, n, sizeof *t->addresses);
    t->orcpt = asmtp__calloc(s->mem, n, sizeof *t->orcpt);
    t->notify = asmtp__calloc(s->mem, n, sizeof *t->notify);
    t->rcpt_replies = asmtp__calloc(s->mem, n, sizeof *t->rcpt_replies);
    t->results = asmtp__calloc(s->mem, n, sizeof *t->results);
    if (!t->addresses || !t->orcpt || !t->notify || !t->rcpt_replies ||
        !t->results)
        return ASMTP_ERR_NOMEM;
    t->rcpt_count = n;
    for (size_t i = 0; i < n && !rv; i++) {
        const asmtp_recipient *r = &env->recipients[i];

        t->addresses[i] = copy_string(s, r->address, &rv);
        t->orcpt[i] = copy_string(s, r->orcpt, &rv);
        t->notify[i] = r->notify;
        if (asmtp__address_needs_smtputf8(r->address))
            t->smtputf8 = true;
    }
    return rv;
}

/* The in-memory content as a list of parts (one when given as data/len),
 * so that headers and a body can go without being joined first. */
static int copy_parts(asmtp_session *s, txn *t, const asmtp_content *content)
{
    size_t n = content->part_count ? content->part_count : 1;

    t->parts = asmtp__calloc(s->mem, n, sizeof *t->parts);
    if (!t->parts)
        return ASMTP_ERR_NOMEM;
    if (content->part_count)
        memcpy(t->parts, content->parts, n * sizeof *t->parts);
    else
        t->parts[0] = (asmtp_bytes){content->data, content->len};
    t->part_count = n;
    return 0;
}

/* Size, 8-bit and line length of the content, known before MAIL. */
static int measure_content(txn *t)
{
    asmtp__body_encoder measure;

    if (t->content.read) {
        t->size = t->content.size;
        t->eight_bit = t->content.eight_bit;
        return 0;
    }
    asmtp__body_encoder_init(&measure, ASMTP__BODY_DATA);
    for (size_t i = 0; i < t->part_count; i++) {
        if (t->body == ASMTP_BODY_BINARYMIME)
            t->size += t->parts[i].len; /* sent as it is */
        else
            asmtp__body_encode(&measure, t->parts[i].data, t->parts[i].len,
                               NULL);
    }
    if (t->body == ASMTP_BODY_BINARYMIME)
        return 0;
    asmtp__body_finish(&measure, NULL);
    t->size = measure.size;
    t->eight_bit = measure.eight_bit;
    if (measure.longest_line > ASMTP__BODY_LINE_MAX)
        return ASMTP_ERR_LINE_TOO_LONG;
    return 0;
}

int asmtp_session_send(asmtp_session *s, const asmtp_envelope *env,
                       const asmtp_content *content, asmtp_done_cb cb,
                       void *user_data)
{
    int rv = check_open(s);
    op *o;
    txn *t;

    rv = rv ? rv : check_send(s, env, content);
    if (rv)
        return rv;
    o = op_new(s, ASMTP_OP_SEND, cb, user_data);
    t = o ? asmtp__calloc(s->mem, 1, sizeof *t) : NULL;
    if (!t) {
        asmtp__free(s->mem, o);
        return ASMTP_ERR_NOMEM;
    }
    o->txn = t;
    t->body = env->body;
    t->ret = env->ret;
    t->content = *content;
    t->sender = copy_string(s, env->sender, &rv);
    t->envid = copy_string(s, env->envid, &rv);
    t->smtputf8 = asmtp__address_needs_smtputf8(env->sender);
    rv = rv ? rv : copy_recipients(s, t, env);
    rv = rv || content->read ? rv : copy_parts(s, t, content);
    rv = rv ? rv : measure_content(t);
    if (rv) {
        op_free(s, o);
        return rv;
    }
    return submit(s, o);
}

/* ---- For the I/O layer ------------------------------------------------- */

int asmtp_session_abort(asmtp_session *s, int error, const char *message,
                        uint64_t now)
{
    int rv = enter(s, now);

    if (rv)
        return rv;
    if (error >= 0)
        error = ASMTP_ERR_DISCONNECTED;
    session_fail(s, error, NULL, false, "%s",
                 message ? message : asmtp_strerror(error));
    s->state = STATE_CLOSED;
    s->want_close = true;
    return leave(s);
}

static bool ehlo_sent(const asmtp_session *s)
{
    return s->ehlo_done || s->ehlo_reply ||
           (s->inflight_count && inflight_peek(s)->kind != CMD_GREETING);
}

int asmtp_session_set_local_hostname(asmtp_session *s, const char *name)
{
    asmtp__buf probe;
    char *copy;
    int rv;

    if (!s || !name)
        return ASMTP_ERR_BAD_ARGUMENT;
    if (ehlo_sent(s))
        return ASMTP_ERR_STATE;
    asmtp__buf_init(&probe, s->mem);
    rv = asmtp__command_ehlo(&probe, name);
    asmtp__buf_free(&probe);
    if (rv)
        return rv;
    copy = asmtp__strndup(s->mem, name, strlen(name));
    if (!copy)
        return ASMTP_ERR_NOMEM;
    asmtp__free(s->mem, s->local_hostname);
    s->local_hostname = copy;
    s->config.local_hostname = copy;
    return 0;
}

int asmtp_session_set_auth_requires_tls(asmtp_session *s, bool required)
{
    if (!s)
        return ASMTP_ERR_BAD_ARGUMENT;
    if (ehlo_sent(s))
        return ASMTP_ERR_STATE;
    s->config.auth_requires_tls = required;
    return 0;
}

int asmtp__session_submit_failed(asmtp_session *s, int kind, int error,
                                 const char *message, asmtp_done_cb cb,
                                 void *user_data)
{
    int rv = check_open(s);
    op *o;

    if (rv)
        return rv;
    o = op_new(s, kind, cb, user_data);
    if (!o)
        return ASMTP_ERR_NOMEM;
    op_finish(s, o, error, NULL, "%s", message);
    return submit(s, o);
}
