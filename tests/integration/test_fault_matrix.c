/*
 * The fault matrix (docs/RELIABILITY.md, "The fault matrix"): every
 * protocol step, from the TCP connect to QUIT, against every fault a
 * server can commit there. fault_matrix.sh starts one fault server
 * (tests/servers/fault-server.py --matrix) that gives each cell a port of
 * its own and plays that cell's generated script there; `fault-server.py
 * --print-script --step STEP --fault FAULT` prints it.
 *
 * Each cell runs in a child process, first with the libuv client (every
 * operation queued at once), then with the blocking API (one call after
 * the other), so that its file descriptors and allocations are counted
 * alone. The expected outcome of a cell is derived here from the
 * documented behaviour (docs/session.md, docs/client.md, asmtp/error.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "it_support.h"

#define EHLO_NAME     "matrix.test"
#define PARALLEL      12    /* cells running at once (2 under a wrapper) */
#define SHORT_MS      400   /* the timeout the silence column waits for */
#define WRAPPED_MS    4000  /* the same under a wrapper (valgrind) */
#define LONG_MS       15000 /* every other timeout: never reached */
#define GUARD_MS      30000 /* an async run still going: a hang */
#define SYNC_GUARD_S  30    /* the same for the blocking run */
#define KILL_AFTER_S  100   /* a child still running: killed */
#define BIG_BODY_SIZE (16u * 1024u * 1024u)

/* Run under valgrind (`make valgrind`): ASMTP_TEST_WRAPPER set and not
 * empty, as the shell wrappers read it. */
static bool under_wrapper(void)
{
    const char *w = getenv("ASMTP_TEST_WRAPPER");

    return w && *w;
}

/* Under a wrapper the name lookup and the TCP connect alone can take
 * longer than SHORT_MS, and the silent server would never see the
 * connection its script waits for. */
static uint64_t short_ms(void)
{
    return under_wrapper() ? WRAPPED_MS : SHORT_MS;
}

/* ---- The matrix ---------------------------------------------------------- */

enum step {
    S_CONNECT,
    S_GREETING,
    S_EHLO,
    S_STARTTLS,
    S_TLS,
    S_AUTH,
    S_MAIL,
    S_RCPT1,
    S_RCPT2,
    S_DATA,
    S_CONTENT,
    S_DOT,
    S_RSET,
    S_QUIT,
    STEP_COUNT
};

enum fault {
    F_4XX,
    F_5XX,
    F_421,
    F_CLOSE,
    F_CLOSE_MID,
    F_SILENCE,
    F_GARBAGE,
    F_OVERSIZED,
    F_UNSOLICITED,
    F_TRICKLE,
    FAULT_COUNT
};

/* The names fault-server.py uses for them. */
static const char *const step_names[STEP_COUNT] = {
    "connect", "greeting", "ehlo", "starttls", "tls", "auth", "mail",
    "rcpt1",   "rcpt2",    "data", "content",  "dot", "rset", "quit"};
static const char *const fault_names[FAULT_COUNT] = {
    "4xx",     "5xx",     "421",       "close",       "close-mid",
    "silence", "garbage", "oversized", "unsolicited", "trickle"};

/*
 * The cells that cannot exist, and why. The same reasons are in
 * fault-server.py, which lists them in DIR/cells as n/a.
 *
 * What each fault is at each step, in short (the scripts say it exactly):
 * 4xx and 5xx answer the step's command with a refusal; 421 answers it
 * with 421 and closes; close closes instead of answering; close-mid sends
 * the first octets of the answer and closes; silence never answers (the
 * timeout that covers the step, connect or command, is 400 ms in that
 * column, 4 s under valgrind, every other one 15 s); garbage answers with
 * binary octets; an oversized answer is 70 lines of 1000 octets (the limit
 * is 64 KiB); an unsolicited reply rides in the same write right behind
 * the step's answer; trickle sends the answer one octet per 100 ms. The
 * connect row: close is a port that refuses the connection, silence one
 * whose SYNs are dropped. The tls row happens after the 220 to STARTTLS,
 * in place of the server's side of the handshake. The content row happens
 * after 64 KiB of a streamed 16 MiB message, the server no longer reading:
 * close is a full close, which resets the connection under the client's
 * writes (EPIPE); 421 and close-mid end with a half-close, so that what
 * the server sent first is read before the end of the connection, as it
 * would be elsewhere.
 */
static const char *not_applicable(int step, int fault)
{
    if (step == S_CONNECT && fault != F_CLOSE && fault != F_SILENCE)
        return "no reply exists before the TCP connection does; the "
               "greeting row sends each reply fault";
    if (step == S_TLS && (fault == F_4XX || fault == F_5XX))
        return "a TLS handshake carries no reply code";
    if (step == S_TLS && fault == F_TRICKLE)
        return "a handshake of about 1 KB at one octet per 100 ms takes "
               "minutes; the starttls row trickles the 220";
    if (step == S_CONTENT && fault == F_TRICKLE)
        return "no reply is due in the middle of the content; a server "
               "that stops reading is the silence cell";
    return NULL;
}

/*
 * Cells where the library does not do what its documentation says: the
 * test asserts the documented behaviour, and reports these as skipped
 * with the reason until they are fixed (then it fails, to have the mark
 * removed).
 */
static const struct known_bug {
    int step, fault;
    const char *what;
} known_bugs[] = {
    /* None now. The last two (a 421 to QUIT reported as COMMAND_REFUSED;
     * an operation after an idle spell timing out at once) were fixed. */
    {-1, -1, NULL},
};

static const char *known_bug(int step, int fault)
{
    for (size_t i = 0; i < sizeof known_bugs / sizeof *known_bugs; i++)
        if (known_bugs[i].step == step && known_bugs[i].fault == fault)
            return known_bugs[i].what;
    return NULL;
}

typedef struct cell {
    int step, fault;
    char name[48]; /* "mail/4xx", "smtp-sink -r MAIL" */
    const char *skip;
    const char *bug;
    uint16_t port;
    /* Of the reply the fault sends: the code (0 for none; -4 or -5 for
     * any of that class), its enhanced code ("" for none). */
    int code;
    char enhanced[12];
    /* Postfix's smtp-sink instead of the fault server: its socket. */
    bool sink;
    char unix_path[512];
    /* The run. */
    bool ran, passed;
    char verdict[8192]; /* what went wrong, "" when nothing did */
    double seconds;
} cell;

static cell cells[STEP_COUNT][FAULT_COUNT];
static double matrix_seconds;

/*
 * The same cells once more where Postfix's smtp-sink can play them with
 * its own fault options (-r: 4xx, -f: 5xx, -Q: 421 and disconnect, -q:
 * disconnect without a reply, after the command named), always with -p
 * (no PIPELINING, as the fault server). fault_matrix.sh starts one
 * smtp-sink per cell on a Unix socket, DIR/sink.COMMAND.FAULT/sock. Where
 * smtp-sink differs from the fault server's scripts, the outcome follows
 * it: it refuses every RCPT (all recipients refused), and refuses only
 * EHLO, not HELO, for -f EHLO (the HELO fallback succeeds).
 */
#define SINK_COMMANDS 8
#define SINK_FAULTS   4
static const struct {
    const char *command, *dir;
    int step;
} sink_commands[SINK_COMMANDS] = {
    {"CONNECT", "connect", S_GREETING}, {"EHLO", "ehlo", S_EHLO},
    {"MAIL", "mail", S_MAIL},           {"RCPT", "rcpt", S_RCPT1},
    {"DATA", "data", S_DATA},           {".", "dot", S_DOT},
    {"RSET", "rset", S_RSET},           {"QUIT", "quit", S_QUIT},
};
static const struct {
    const char *option, *dir;
    int fault;
} sink_faults[SINK_FAULTS] = {{"-r", "4xx", F_4XX},
                              {"-f", "5xx", F_5XX},
                              {"-Q", "421", F_421},
                              {"-q", "close", F_CLOSE}};
static cell sink_cells[SINK_COMMANDS][SINK_FAULTS];

/* ---- What must happen ---------------------------------------------------- */

enum op { OP_CONNECT, OP_AUTH, OP_SEND, OP_RSET, OP_NOOP, OP_QUIT };
static const char *const op_names[] = {"connect", "auth", "send",
                                       "rset",    "noop", "quit"};

/* The operations of a cell, in submission order: the step's own and one
 * or more behind it, so that "nothing pending is lost" shows. */
static size_t ops_of(int step, int *ops)
{
    size_t n = 0;

    ops[n++] = OP_CONNECT;
    if (step == S_AUTH)
        ops[n++] = OP_AUTH;
    ops[n++] = OP_SEND;
    if (step == S_RSET)
        ops[n++] = OP_RSET;
    if (step != S_QUIT)
        ops[n++] = OP_NOOP;
    ops[n++] = OP_QUIT;
    return n;
}

/* The operation the step belongs to. */
static int target_of(int step)
{
    switch (step) {
    case S_CONNECT:
    case S_GREETING:
    case S_EHLO:
    case S_STARTTLS:
    case S_TLS:
        return OP_CONNECT;
    case S_AUTH:
        return OP_AUTH;
    case S_RSET:
        return OP_RSET;
    case S_QUIT:
        return OP_QUIT;
    default:
        return OP_SEND;
    }
}

enum fate {
    FATE_OK,      /* every operation succeeds */
    FATE_REFUSED, /* the step's operation fails, the connection lives on */
    FATE_FATAL,   /* it and everything after it fail; the connection ends */
    FATE_POLITE,  /* the same, after a QUIT (RFC 5321 3.1) */
    FATE_AFTER,   /* it succeeds; everything after it fails; it ends */
};

typedef struct outcome {
    int fate;
    int error;        /* of the step's operation */
    bool with_reply;  /* that error carries the fault's reply */
    bool maybe;       /* the send is maybe_delivered */
    int refused_rcpt; /* -1, or the recipient refused (the send succeeds) */
} outcome;

/* Faults that leave no verdict on a message whose final dot went out. */
static bool no_verdict(int fault)
{
    return fault == F_CLOSE || fault == F_CLOSE_MID || fault == F_SILENCE ||
           fault == F_GARBAGE || fault == F_OVERSIZED;
}

static void decide_refusal(int step, outcome *o)
{
    static const struct {
        int fate, error;
    } by_step[STEP_COUNT] = {
        [S_GREETING] = {FATE_POLITE, ASMTP_ERR_GREETING},
        [S_EHLO] = {FATE_POLITE, ASMTP_ERR_HELO}, /* 5xx: after HELO's */
        [S_STARTTLS] = {FATE_POLITE, ASMTP_ERR_TLS},
        [S_AUTH] = {FATE_REFUSED, ASMTP_ERR_AUTH},
        [S_MAIL] = {FATE_REFUSED, ASMTP_ERR_SENDER_REFUSED},
        [S_DATA] = {FATE_REFUSED, ASMTP_ERR_DATA_REFUSED},
        /* A reply in the middle of the content answers nothing sent. */
        [S_CONTENT] = {FATE_FATAL, ASMTP_ERR_UNEXPECTED_REPLY},
        [S_DOT] = {FATE_REFUSED, ASMTP_ERR_DATA_REFUSED},
        [S_RSET] = {FATE_REFUSED, ASMTP_ERR_COMMAND_REFUSED},
        [S_QUIT] = {FATE_REFUSED, ASMTP_ERR_COMMAND_REFUSED},
    };

    o->with_reply = true;
    if (step == S_RCPT1 || step == S_RCPT2) {
        /* Some recipients refused is a success. */
        o->fate = FATE_OK;
        o->refused_rcpt = step == S_RCPT1 ? 0 : 1;
        return;
    }
    o->fate = by_step[step].fate;
    o->error = by_step[step].error;
}

static void decide_unsolicited(int step, outcome *o)
{
    o->with_reply = true;
    o->error = ASMTP_ERR_UNEXPECTED_REPLY;
    switch (step) {
    case S_STARTTLS: /* plaintext behind the 220 is discarded */
    case S_QUIT:     /* after the 221 nothing is read */
        o->fate = FATE_OK;
        break;
    case S_AUTH: /* the reply completed the operation: the next ones fail */
    case S_DOT:
    case S_RSET:
        o->fate = FATE_AFTER;
        break;
    case S_TLS:
        o->error = ASMTP_ERR_TLS;
        o->with_reply = false;
        break;
    default:
        break;
    }
}

static outcome decide(int step, int fault)
{
    outcome o = {FATE_FATAL, 0, false, false, -1};
    bool tls = step == S_TLS;

    switch (fault) {
    case F_4XX:
    case F_5XX:
        decide_refusal(step, &o);
        break;
    case F_421:
        /* "A 421 at any point ... fails every pending operation" */
        o.error = tls ? ASMTP_ERR_TLS : ASMTP_ERR_SHUTDOWN;
        o.with_reply = !tls;
        break;
    case F_CLOSE:
    case F_CLOSE_MID:
        if (step == S_QUIT) {
            o.fate = FATE_OK; /* a server that drops after QUIT has quit */
            break;
        }
        o.error = step == S_CONNECT ? ASMTP_ERR_CONNECT
                  : tls             ? ASMTP_ERR_TLS
                                    : ASMTP_ERR_DISCONNECTED;
        break;
    case F_SILENCE:
        o.error =
            step <= S_GREETING ? ASMTP_ERR_CONNECT_TIMEOUT : ASMTP_ERR_TIMEOUT;
        break;
    case F_GARBAGE:
        o.error = tls ? ASMTP_ERR_TLS : ASMTP_ERR_MALFORMED_REPLY;
        break;
    case F_OVERSIZED:
        o.error = tls ? ASMTP_ERR_TLS : ASMTP_ERR_REPLY_TOO_LONG;
        break;
    case F_UNSOLICITED:
        decide_unsolicited(step, &o);
        break;
    default: /* F_TRICKLE: slow is not wrong */
        o.fate = FATE_OK;
        break;
    }
    o.maybe = step == S_DOT && o.fate == FATE_FATAL && no_verdict(fault);
    return o;
}

static outcome decide_cell(const cell *c)
{
    outcome o = decide(c->step, c->fault);
    bool refusal = c->fault == F_4XX || c->fault == F_5XX;

    if (!c->sink)
        return o;
    if (c->step == S_EHLO && c->fault == F_5XX)
        o.fate = FATE_OK; /* HELO is not refused: the fallback works */
    if (c->step == S_RCPT1 && refusal) {
        o.fate = FATE_REFUSED;
        o.error = ASMTP_ERR_RECIPIENTS_REFUSED;
        o.refused_rcpt = -1;
    }
    return o;
}

/* What one operation must report. */
typedef struct expect {
    int error;
    int code; /* of result->reply: 0 none, -4 or -5 any of that class,
               * -1 not checked */
    const char *enhanced; /* NULL: not checked */
    int connected;        /* asmtp_client_is_connected() after it: 1, 0,
                           * or -1 for not checked */
} expect;

static int success_code(int op)
{
    static const int codes[] = {250, 235, 250, 250, 250, 221};

    return codes[op];
}

/* Greeting, EHLO and HELO replies carry no enhanced codes (RFC 2034). */
static bool splits_enhanced(int step)
{
    return step != S_GREETING && step != S_EHLO;
}

static expect expect_success(int op)
{
    expect e = {0, success_code(op), NULL, op == OP_QUIT ? 0 : 1};

    return e;
}

static expect expect_failure(const cell *c, const outcome *o, int connected)
{
    expect e = {o->error, 0, NULL, connected};

    if (o->with_reply) {
        e.code = c->code;
        e.enhanced =
            splits_enhanced(c->step) || o->error == ASMTP_ERR_UNEXPECTED_REPLY
                ? c->enhanced
                : "";
        if (c->sink)
            e.enhanced = NULL; /* smtp-sink's own */
    }
    return e;
}

/* index is the operation's place, target the place of the step's. */
static expect expect_op(const cell *c, const outcome *o, int op, size_t index,
                        size_t target, bool blocking)
{
    expect e = expect_success(op);

    if (index < target)
        return e;
    if (index == target) {
        switch (o->fate) {
        case FATE_OK:
            if (op == OP_QUIT && c->fault != F_UNSOLICITED &&
                c->fault != F_TRICKLE)
                e.code = 0; /* closed instead of answering */
            return e;
        case FATE_REFUSED:
            return expect_failure(c, o, op == OP_QUIT ? 0 : 1);
        case FATE_POLITE:
            return expect_failure(c, o, -1);
        case FATE_AFTER:
            e.connected = 0;
            return e;
        default:
            return expect_failure(c, o, 0);
        }
    }
    switch (o->fate) {
    case FATE_FATAL:
    case FATE_AFTER:
        if (blocking) {
            /* Called after the connection ended: refused on the spot. */
            expect refused = {ASMTP_ERR_STATE, 0, NULL, 0};
            return refused;
        }
        if (o->fate == FATE_AFTER) {
            expect after = {ASMTP_ERR_UNEXPECTED_REPLY, c->code, c->enhanced,
                            0};
            return after;
        }
        return expect_failure(c, o, 0);
    case FATE_POLITE:
        if (blocking) {
            /* The session's error is sticky while its QUIT is answered. */
            expect sticky = {o->error, 0, NULL, op == OP_QUIT ? 0 : -1};
            return sticky;
        }
        if (op == OP_QUIT)
            return e; /* the queued QUIT is the one that goes out */
        return expect_failure(c, o, -1);
    default:
        return e;
    }
}

/* ---- Recording what happened --------------------------------------------- */

typedef struct seen_reply {
    bool present;
    int code;
    char enhanced[12];
} seen_reply;

typedef struct seen {
    int calls, seq, error, connected;
    char message[400];
    seen_reply reply, mail, data, final, rcpt[2];
    bool accepted[2];
    size_t recipient_count, refused_count;
    bool maybe;
} seen;

static void copy_reply(seen_reply *to, const asmtp_reply *from)
{
    memset(to, 0, sizeof *to);
    if (!from)
        return;
    to->present = true;
    to->code = from->code;
    snprintf(to->enhanced, sizeof to->enhanced, "%s", from->enhanced);
}

static int sequence;

static void copy_result(seen *s, const asmtp_result *r)
{
    s->calls++;
    s->seq = ++sequence;
    s->error = r->error;
    snprintf(s->message, sizeof s->message, "%s",
             r->message ? r->message : "(NULL message)");
    copy_reply(&s->reply, r->reply);
    copy_reply(&s->mail, r->mail_reply);
    copy_reply(&s->data, r->data_reply);
    copy_reply(&s->final, r->final_reply);
    s->recipient_count = r->recipient_count;
    s->refused_count = r->refused_count;
    for (size_t i = 0; i < 2 && i < r->recipient_count; i++) {
        s->accepted[i] = r->recipients[i].accepted;
        copy_reply(&s->rcpt[i], r->recipients[i].reply);
    }
    s->maybe = r->maybe_delivered;
}

/* A verdict collects every mismatch of a cell. */
typedef struct verdict {
    char text[8192];
    size_t len;
    const char *api; /* "async" or "blocking" */
} verdict;

static void failf(verdict *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void failf(verdict *v, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (v->len + 2 >= sizeof v->text)
        return;
    n = snprintf(v->text + v->len, sizeof v->text - v->len, "%s: ", v->api);
    if (n > 0)
        v->len += (size_t)n;
    va_start(ap, fmt);
    n = vsnprintf(v->text + v->len, sizeof v->text - v->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        v->len += (size_t)n;
    if (v->len >= sizeof v->text - 1)
        v->len = sizeof v->text - 2;
    v->text[v->len++] = '\n';
    v->text[v->len] = '\0';
}

static const char *error_name(int error)
{
    return error ? asmtp_error_name(error) : "OK";
}

static void check_reply(verdict *v, const char *what, const seen_reply *r,
                        int code, const char *enhanced)
{
    if (code == -4 || code == -5) {
        if (!r->present || r->code / 100 != -code)
            failf(v, "%s: reply %d, expected a %dxx one", what,
                  r->present ? r->code : 0, -code);
        return;
    }
    if (code < 0)
        return;
    if (code == 0 && r->present)
        failf(v, "%s: a reply (%d) where none was expected", what, r->code);
    else if (code > 0 && !r->present)
        failf(v, "%s: no reply, expected %d", what, code);
    else if (code > 0 && r->code != code)
        failf(v, "%s: reply %d, expected %d", what, r->code, code);
    else if (code > 0 && enhanced && strcmp(r->enhanced, enhanced) != 0)
        failf(v, "%s: enhanced code \"%s\", expected \"%s\"", what, r->enhanced,
              enhanced);
}

static void check_op(verdict *v, int op, const seen *s, const expect *e)
{
    char what[64];

    snprintf(what, sizeof what, "%s", op_names[op]);
    if (s->calls != 1) {
        failf(v, "%s: callback ran %d times, expected once", what, s->calls);
        if (s->calls == 0)
            return;
    }
    if (s->error != e->error) {
        failf(v, "%s: %s, expected %s (%s)", what, error_name(s->error),
              error_name(e->error), s->message);
        return;
    }
    check_reply(v, what, &s->reply, e->code, e->enhanced);
    if (e->connected >= 0 && s->connected != e->connected)
        failf(v, "%s: the client is %s afterwards, expected %s", what,
              s->connected ? "connected" : "not connected",
              e->connected ? "connected" : "not connected");
}

/* The send's own replies, beyond the one that decided it. */
static void check_send(verdict *v, const cell *c, const outcome *o,
                       const seen *s, bool is_target)
{
    bool refusal = c->fault == F_4XX || c->fault == F_5XX;
    const char *enhanced = c->sink ? NULL : c->enhanced; /* sink: its own */
    int code = c->code;

    if (s->calls == 0)
        return;
    if (s->maybe != (is_target && o->maybe))
        failf(v, "send: maybe_delivered %s, expected %s",
              s->maybe ? "set" : "not set",
              is_target && o->maybe ? "set" : "not set");
    if (s->error == 0 && o->refused_rcpt < 0 &&
        (s->recipient_count != 2 || s->refused_count != 0))
        failf(v, "send: %zu recipients, %zu refused; expected 2, 0",
              s->recipient_count, s->refused_count);
    if (!is_target || s->error == ASMTP_ERR_STATE)
        return;
    if (s->error == 0 && o->refused_rcpt < 0) {
        check_reply(v, "send's data_reply", &s->data, 354, NULL);
        check_reply(v, "send's final_reply", &s->final, 250, NULL);
        return;
    }
    switch (c->step) {
    case S_MAIL:
        if (refusal || c->fault == F_421)
            check_reply(v, "send's mail_reply", &s->mail, code, enhanced);
        check_reply(v, "send's data_reply", &s->data, 0, NULL);
        break;
    case S_RCPT1:
    case S_RCPT2: {
        size_t i = c->step == S_RCPT1 ? 0 : 1;

        if (refusal && c->sink) { /* every RCPT refused */
            if (s->recipient_count != 2 || s->refused_count != 2)
                failf(v, "send: %zu recipients, %zu refused; expected 2, 2",
                      s->recipient_count, s->refused_count);
            check_reply(v, "send's first recipient", &s->rcpt[0], code, NULL);
            check_reply(v, "send's second recipient", &s->rcpt[1], code, NULL);
            check_reply(v, "send's data_reply", &s->data, 0, NULL);
        } else if (refusal) {
            if (s->recipient_count != 2 || s->refused_count != 1 ||
                s->accepted[i] || !s->accepted[1 - i])
                failf(v,
                      "send: recipient %zu should be the one refused "
                      "(%zu recipients, %zu refused)",
                      i + 1, s->recipient_count, s->refused_count);
            check_reply(v, "send's refused recipient", &s->rcpt[i], code,
                        enhanced);
            check_reply(v, "send's final_reply", &s->final, 250, NULL);
        } else if (c->fault == F_421) {
            check_reply(v, "send's recipient reply", &s->rcpt[i], 421, NULL);
        }
        break;
    }
    case S_DATA:
        if (refusal || c->fault == F_421)
            check_reply(v, "send's data_reply", &s->data, code, enhanced);
        check_reply(v, "send's final_reply", &s->final, 0, NULL);
        break;
    case S_CONTENT:
        check_reply(v, "send's data_reply", &s->data, 354, NULL);
        check_reply(v, "send's final_reply", &s->final, 0, NULL);
        break;
    case S_DOT:
        check_reply(v, "send's data_reply", &s->data, 354, NULL);
        check_reply(v, "send's final_reply", &s->final,
                    refusal || c->fault == F_421 ? code
                    : o->fate == FATE_FATAL      ? 0
                                                 : 250,
                    NULL);
        if (c->fault == F_SILENCE && !strstr(s->message, "may have accepted"))
            failf(v,
                  "send: the timeout's message does not warn that the "
                  "message may have been accepted: %s",
                  s->message);
        break;
    default:
        break;
    }
}

/* Every operation once, in submission order, as expected. */
static void check_ops(verdict *v, const cell *c, const int *ops, size_t n,
                      const seen *got, bool blocking)
{
    outcome o = decide_cell(c);
    size_t target = 0;

    while (ops[target] != target_of(c->step))
        target++;
    for (size_t i = 0; i < n; i++) {
        expect e = expect_op(c, &o, ops[i], i, target, blocking);

        check_op(v, ops[i], &got[i], &e);
        if (ops[i] == OP_SEND)
            check_send(v, c, &o, &got[i], i == target);
        if (i > 0 && got[i].calls && got[i - 1].calls &&
            got[i].seq < got[i - 1].seq)
            failf(v, "%s completed before %s", op_names[ops[i]],
                  op_names[ops[i - 1]]);
        if (o.fate == FATE_FATAL && c->fault == F_SILENCE && i == target &&
            got[i].error == o.error) {
            char said[64];

            /* The short timeout fired, not the long one. */
            snprintf(said, sizeof said, "timed out after %llu ms",
                     (unsigned long long)short_ms());
            if (!strstr(got[i].message, said))
                failf(v, "%s: the message does not say \"%s\": %s",
                      op_names[ops[i]], said, got[i].message);
        }
    }
}

/* ---- Resources --------------------------------------------------------- */

/* The open file descriptors of this process, from /proc/self/fd. */
typedef struct fd_list {
    int count;
    int fds[256];
} fd_list;

static void list_fds(fd_list *l)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int self = d ? dirfd(d) : -1;

    l->count = 0;
    if (!d)
        return;
    while ((e = readdir(d))) {
        int fd = (int)strtol(e->d_name, NULL, 10);

        if (e->d_name[0] != '.' && fd != self && l->count < 256)
            l->fds[l->count++] = fd;
    }
    closedir(d);
}

static bool fd_listed(const fd_list *l, int fd)
{
    for (int i = 0; i < l->count; i++)
        if (l->fds[i] == fd)
            return true;
    return false;
}

/* ---- Running one cell ---------------------------------------------------- */

static const char small_body[] = "Subject: fault matrix\r\n\r\nHello.\r\n";
static asmtp_recipient recipients[2] = {{"bob@example.net", 0, NULL},
                                        {"carol@example.net", 0, NULL}};
static asmtp_envelope envelope = {
    "alice@example.org", recipients, 2, 0, 0, NULL, 0};
static const asmtp_credentials credentials = {
    {(const unsigned char *)"alice", 5},
    {(const unsigned char *)"secret", 6},
    {NULL, 0},
    {NULL, 0}};

/* The content row's message: 16 MiB of 78-octet lines, streamed (read as
 * the socket drains), so that nothing measures it before MAIL. */
static size_t big_offset;

static long read_big(void *ud, unsigned char *buf, size_t cap)
{
    size_t n = 0;

    (void)ud;
    while (n < cap && big_offset < BIG_BODY_SIZE) {
        size_t col = big_offset % 80;

        buf[n++] = col == 78 ? '\r' : col == 79 ? '\n' : 'x';
        big_offset++;
    }
    return (long)n;
}

static asmtp_content content_for(const cell *c)
{
    asmtp_content content;

    memset(&content, 0, sizeof content);
    big_offset = 0;
    if (c->step == S_CONTENT) {
        content.read = read_big;
        return content;
    }
    content.data = small_body;
    content.len = strlen(small_body);
    return content;
}

static asmtp_client_config config_for(const cell *c)
{
    static char ca[1024];
    asmtp_client_config config;
    bool silence = c->fault == F_SILENCE;
    bool in_connect = c->step == S_CONNECT || c->step == S_GREETING;

    snprintf(ca, sizeof ca, "%s/certs/ca.pem", it_work);
    memset(&config, 0, sizeof config);
    if (c->sink) {
        config.unix_path = c->unix_path;
    } else {
        config.host = "127.0.0.1";
        config.port = c->port;
    }
    config.local_hostname = EHLO_NAME;
    config.tls_config.ca_file = ca;
    /* Only the timeout that covers the silent step is short, so that the
     * steps before it finish however slowly the cell runs (valgrind). */
    config.connect_timeout_ms = silence && in_connect ? short_ms() : LONG_MS;
    config.timeout_ms = silence && !in_connect ? short_ms() : LONG_MS;
    return config;
}

static void on_op(asmtp_client *client, const asmtp_result *r, void *ud)
{
    seen *s = ud;

    copy_result(s, r);
    s->connected = asmtp_client_is_connected(client) ? 1 : 0;
}

static void on_guard(uv_timer_t *timer)
{
    *(bool *)timer->data = true;
}

static int submit(asmtp_client *client, int op, const asmtp_content *content,
                  seen *s)
{
    switch (op) {
    case OP_CONNECT:
        return asmtp_client_connect(client, on_op, s);
    case OP_AUTH:
        return asmtp_client_auth(client, &credentials, ASMTP_AUTH_PLAIN, on_op,
                                 s);
    case OP_SEND:
        return asmtp_client_send(client, &envelope, content, on_op, s);
    case OP_RSET:
        return asmtp_client_rset(client, on_op, s);
    case OP_NOOP:
        return asmtp_client_noop(client, on_op, s);
    default:
        return asmtp_client_quit(client, on_op, s);
    }
}

static bool all_called(const seen *got, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (got[i].calls == 0)
            return false;
    return true;
}

static void list_missing(verdict *v, const int *ops, const seen *got, size_t n,
                         const char *why)
{
    for (size_t i = 0; i < n; i++)
        if (got[i].calls == 0)
            failf(v, "%s: never completed (%s)", op_names[ops[i]], why);
}

static void check_resources(verdict *v, const fd_list *before,
                            const it_counting_mem *m)
{
    fd_list after;

    list_fds(&after);
    for (int i = 0; i < after.count; i++) {
        char link[64], target[256];
        ssize_t n;

        if (fd_listed(before, after.fds[i]))
            continue;
        snprintf(link, sizeof link, "/proc/self/fd/%d", after.fds[i]);
        n = readlink(link, target, sizeof target - 1);
        target[n > 0 ? n : 0] = '\0';
        failf(v, "file descriptor %d (%s) left open", after.fds[i], target);
    }
    if (after.count < before->count)
        failf(v, "%d file descriptors closed that were not ours",
              before->count - after.count);
    if (m->live != 0)
        failf(v, "%ld blocks still allocated after the free", m->live);
}

/* The libuv client: every operation queued at once. */
static void run_async(const cell *c, verdict *v)
{
    asmtp_client_config config = config_for(c);
    asmtp_content content = content_for(c);
    int ops[8];
    size_t n = ops_of(c->step, ops);
    seen got[8], after[8];
    fd_list fds;
    asmtp_client *client = NULL;
    bool guard_fired = false;
    it_counting_mem mem;
    uv_timer_t guard;
    uv_loop_t loop;
    int rv;

    v->api = "async";
    list_fds(&fds);
    memset(got, 0, sizeof got);
    it_counting_mem_init(&mem);
    uv_loop_init(&loop);
    rv = asmtp_client_new(&client, &loop, &config, &mem.mem);
    if (rv) {
        failf(v, "asmtp_client_new: %s", error_name(rv));
        uv_loop_close(&loop);
        return;
    }
    for (size_t i = 0; i < n; i++)
        if ((rv = submit(client, ops[i], &content, &got[i])) != 0)
            failf(v, "%s refused on submission: %s", op_names[ops[i]],
                  error_name(rv));
    uv_timer_init(&loop, &guard);
    guard.data = &guard_fired;
    uv_timer_start(&guard, on_guard, GUARD_MS, 0);
    uv_unref((uv_handle_t *)&guard); /* a client with nothing to do: lost */
    while (!all_called(got, n) && !guard_fired)
        if (uv_run(&loop, UV_RUN_ONCE) == 0)
            break;
    uv_close((uv_handle_t *)&guard, NULL);
    if (!all_called(got, n))
        list_missing(v, ops, got, n,
                     guard_fired ? "still pending after 30 s: a hang"
                                 : "the loop ran out of work: lost");
    memcpy(after, got, sizeof got);
    asmtp_client_free(client);
    uv_run(&loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&loop) != 0)
        failf(v, "libuv handles left open after asmtp_client_free()");
    for (size_t i = 0; i < n; i++)
        if (after[i].calls && got[i].calls != after[i].calls)
            failf(v, "%s: completed again after asmtp_client_free() (%s)",
                  op_names[ops[i]], error_name(got[i].error));
    check_ops(v, c, ops, n, got, false);
    check_resources(v, &fds, &mem);
}

static volatile sig_atomic_t sync_phase;
static int report_fd = -1;

static void on_sync_alarm(int sig)
{
    static const char text[] = "blocking: a call did not return within "
                               "30 s: a hang (operation index ";
    char digit = (char)('0' + sync_phase);
    ssize_t rv;

    (void)sig;
    rv = write(report_fd, text, sizeof text - 1);
    rv = write(report_fd, &digit, 1);
    rv = write(report_fd, ")\n", 2);
    (void)rv;
    _exit(5);
}

static int call_sync(asmtp_sync *s, int op, const asmtp_content *content)
{
    switch (op) {
    case OP_CONNECT:
        return asmtp_sync_connect(s);
    case OP_AUTH:
        return asmtp_sync_auth(s, &credentials, ASMTP_AUTH_PLAIN);
    case OP_SEND:
        return asmtp_sync_send(s, &envelope, content);
    case OP_RSET:
        return asmtp_sync_rset(s);
    case OP_NOOP:
        return asmtp_sync_noop(s);
    default:
        return asmtp_sync_quit(s);
    }
}

/* The blocking API: one call after the other. */
static void run_blocking(const cell *c, verdict *v)
{
    asmtp_client_config config = config_for(c);
    asmtp_content content = content_for(c);
    int ops[8];
    size_t n = ops_of(c->step, ops);
    it_counting_mem mem;
    fd_list fds;
    asmtp_sync *s = NULL;
    seen got[8];
    int rv;

    v->api = "blocking";
    list_fds(&fds);
    memset(got, 0, sizeof got);
    it_counting_mem_init(&mem);
    rv = asmtp_sync_new(&s, &config, &mem.mem);
    if (rv) {
        failf(v, "asmtp_sync_new: %s", error_name(rv));
        return;
    }
    signal(SIGALRM, on_sync_alarm);
    for (size_t i = 0; i < n; i++) {
        sync_phase = (sig_atomic_t)i;
        alarm(SYNC_GUARD_S);
        rv = call_sync(s, ops[i], &content);
        alarm(0);
        copy_result(&got[i], asmtp_sync_result(s));
        got[i].connected =
            asmtp_client_is_connected(asmtp_sync_client(s)) ? 1 : 0;
        if (rv != got[i].error)
            failf(v, "%s returned %s but its result says %s", op_names[ops[i]],
                  error_name(rv), error_name(got[i].error));
    }
    asmtp_sync_free(s);
    check_ops(v, c, ops, n, got, true);
    check_resources(v, &fds, &mem);
}

/* ---- The server's side --------------------------------------------------- */

static const char *cell_path(const cell *c, const char *file)
{
    static char path[1024];

    snprintf(path, sizeof path, "%s/matrix/%s.%s/%s", it_work,
             step_names[c->step], fault_names[c->fault], file);
    return path;
}

/* The whole of a file the server writes in one go (a line ending in LF),
 * waiting at most seconds for it; NULL when it did not come. */
static char *wait_for_line(const char *path, int seconds)
{
    struct timespec ts = {0, 10 * 1000 * 1000};
    size_t len = 0;
    char *text;

    for (int i = 0; i <= seconds * 100; i++) {
        text = it_read_file(path, &len);
        if (text && len > 0 && text[len - 1] == '\n')
            return text;
        free(text);
        nanosleep(&ts, NULL);
    }
    return NULL;
}

/* The fault server's verdict on connection n of the cell: its script ran
 * to the end, so the client sent exactly what it says, and nothing more. */
static void check_server(verdict *v, const cell *c, int n)
{
    char name[32], *done, *log;
    size_t len = 0;

    if (c->step == S_CONNECT || c->sink)
        return; /* no connection was made, or no script was played */
    snprintf(name, sizeof name, "conn-%d.done", n);
    done = wait_for_line(cell_path(c, name), 15);
    if (!done) {
        failf(v, "server: connection %d never ended its script", n);
        return;
    }
    if (strncmp(done, "ok", 2) != 0) {
        snprintf(name, sizeof name, "conn-%d.log", n);
        log = it_read_file(cell_path(c, name), &len);
        failf(v, "server: %.*s; the end of its log:\n%s",
              (int)strcspn(done, "\n"), done,
              !log         ? "(none)"
              : len > 2000 ? log + len - 2000
                           : log);
        free(log);
    }
    free(done);
}

/* In the child: run the cell both ways, write the verdict, exit. */
static void child_main(const cell *c, int fd)
{
    verdict v;
    size_t off = 0;

    report_fd = fd;
    memset(&v, 0, sizeof v);
    /* libuv opens a pipe for its signal handling once per process, at the
     * first uv_loop_init(), and keeps it: not ours to count. */
    {
        uv_loop_t warm_up;

        uv_loop_init(&warm_up);
        uv_loop_close(&warm_up);
    }
    run_async(c, &v);
    check_server(&v, c, 1);
    run_blocking(c, &v);
    check_server(&v, c, 2);
    while (off < v.len) {
        ssize_t w = write(fd, v.text + off, v.len - off);

        if (w <= 0)
            break;
        off += (size_t)w;
    }
    close(fd);
    exit(0); /* not _exit: LeakSanitizer looks at the child too */
}

/* ---- Running every cell -------------------------------------------------- */

typedef struct child {
    pid_t pid;
    int fd;
    cell *cell;
    struct timespec start;
    size_t len;
} child;

static double since(const struct timespec *start)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) +
           (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

static bool start_child(child *k, cell *c)
{
    int fds[2];

    if (pipe(fds) != 0)
        return false;
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    fflush(stdout);
    fflush(stderr);
    k->pid = fork();
    if (k->pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return false;
    }
    if (k->pid == 0) {
        close(fds[0]);
        child_main(c, fds[1]);
    }
    close(fds[1]);
    k->fd = fds[0];
    k->cell = c;
    k->len = 0;
    c->verdict[0] = '\0';
    clock_gettime(CLOCK_MONOTONIC, &k->start);
    return true;
}

static void finish_child(child *k, bool killed)
{
    cell *c = k->cell;
    int status = 0;
    size_t room = sizeof c->verdict - k->len;

    close(k->fd);
    if (killed)
        kill(k->pid, SIGKILL);
    waitpid(k->pid, &status, 0);
    c->ran = true;
    c->seconds = since(&k->start);
    if (killed)
        snprintf(c->verdict + k->len, room,
                 "the cell was still running after %d s: killed\n",
                 KILL_AFTER_S);
    else if (WIFSIGNALED(status))
        snprintf(c->verdict + k->len, room,
                 "the cell's process died of signal %d (%s)\n",
                 WTERMSIG(status), strsignal(WTERMSIG(status)));
    else if (WEXITSTATUS(status) != 0)
        snprintf(c->verdict + k->len, room,
                 "the cell's process exited with status %d\n",
                 WEXITSTATUS(status));
    c->passed = c->verdict[0] == '\0';
    k->pid = 0;
}

/* Read what a child wrote; true at its end of file. */
static bool drain_child(child *k)
{
    cell *c = k->cell;
    ssize_t n;

    if (k->len + 1 >= sizeof c->verdict) {
        char scratch[256];

        n = read(k->fd, scratch, sizeof scratch);
    } else {
        n = read(k->fd, c->verdict + k->len, sizeof c->verdict - 1 - k->len);
        if (n > 0) {
            k->len += (size_t)n;
            c->verdict[k->len] = '\0';
        }
    }
    return n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN);
}

/* Under a wrapper (valgrind) every cell runs many times slower: fewer at
 * once, so that the one fault server keeps up with them. */
static size_t parallel(void)
{
    return under_wrapper() ? 2 : PARALLEL;
}

static void run_all(cell **todo, size_t count)
{
    child kids[PARALLEL];
    struct pollfd pfd[PARALLEL];
    size_t next = 0, running = 0, width = parallel();
    struct timespec start;

    memset(kids, 0, sizeof kids);
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (next < count || running > 0) {
        for (size_t i = 0; i < width && next < count; i++)
            if (kids[i].pid == 0) {
                if (!start_child(&kids[i], todo[next])) {
                    snprintf(todo[next]->verdict, sizeof todo[next]->verdict,
                             "could not start a child process: %s\n",
                             strerror(errno));
                    todo[next]->ran = true;
                } else {
                    running++;
                }
                next++;
            }
        for (size_t i = 0; i < PARALLEL; i++) {
            pfd[i].fd = kids[i].pid ? kids[i].fd : -1;
            pfd[i].events = POLLIN;
            pfd[i].revents = 0;
        }
        poll(pfd, PARALLEL, 200);
        for (size_t i = 0; i < PARALLEL; i++) {
            if (!kids[i].pid)
                continue;
            if (pfd[i].revents && drain_child(&kids[i])) {
                finish_child(&kids[i], false);
                running--;
            } else if (since(&kids[i].start) > KILL_AFTER_S) {
                finish_child(&kids[i], true);
                running--;
            }
        }
    }
    matrix_seconds = since(&start);
}

/* DIR/matrix/cells: "STEP FAULT PORT CODE ENHANCED" or "STEP FAULT n/a
 * REASON", one line per cell. */
static bool read_cells(void)
{
    char path[1024], *text, *line;

    snprintf(path, sizeof path, "%s/matrix/cells", it_work);
    text = it_read_file(path, NULL);
    if (!text)
        return false;
    for (line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char step[32], fault[32], port[32], enhanced[12] = "-";
        int code = 0;

        if (sscanf(line, "%31s %31s %31s %d %11s", step, fault, port, &code,
                   enhanced) < 3)
            continue;
        for (int s = 0; s < STEP_COUNT; s++)
            for (int f = 0; f < FAULT_COUNT; f++) {
                cell *c = &cells[s][f];

                if (strcmp(step, step_names[s]) != 0 ||
                    strcmp(fault, fault_names[f]) != 0 ||
                    strcmp(port, "n/a") == 0)
                    continue;
                c->port = (uint16_t)strtoul(port, NULL, 10);
                c->code = code;
                snprintf(c->enhanced, sizeof c->enhanced, "%s",
                         strcmp(enhanced, "-") == 0 ? "" : enhanced);
            }
    }
    free(text);
    return true;
}

/* The smtp-sink cells to run; none, with the reason, when fault_matrix.sh
 * could not start smtp-sink (DIR/sink.skip says why). */
static size_t queue_sink_cells(cell **todo)
{
    static char reason[256];
    char path[1024], *why;
    size_t count = 0;

    snprintf(path, sizeof path, "%s/sink.skip", it_work);
    why = it_read_file(path, NULL);
    if (why) {
        snprintf(reason, sizeof reason, "%.*s", (int)strcspn(why, "\n"), why);
        free(why);
    }
    for (int k = 0; k < SINK_COMMANDS; k++)
        for (int f = 0; f < SINK_FAULTS; f++) {
            cell *c = &sink_cells[k][f];

            if (why) {
                c->skip = reason;
                continue;
            }
            if (access(c->unix_path, F_OK) != 0) {
                snprintf(c->verdict, sizeof c->verdict,
                         "no smtp-sink listens on %s\n", c->unix_path);
                c->ran = true;
                continue;
            }
            todo[count++] = c;
        }
    return count;
}

static int run_matrix(void **state)
{
    static cell *todo[STEP_COUNT * FAULT_COUNT + SINK_COMMANDS * SINK_FAULTS];
    size_t count = 0;

    (void)state;
    if (!getenv("MATRIX_KEEP_SIGPIPE"))
        signal(SIGPIPE, SIG_IGN);
    if (!read_cells()) {
        fprintf(stderr, "no %s/matrix/cells: did the fault server start?\n",
                it_work);
        return -1;
    }
    for (int s = 0; s < STEP_COUNT; s++)
        for (int f = 0; f < FAULT_COUNT; f++) {
            cell *c = &cells[s][f];

            if (c->skip)
                continue;
            if (!c->port) {
                snprintf(c->verdict, sizeof c->verdict,
                         "the fault server has no port for this cell\n");
                c->ran = true;
                continue;
            }
            todo[count++] = c;
        }
    count += queue_sink_cells(todo + count);
    run_all(todo, count);
    return 0;
}

/* ---- Reporting ------------------------------------------------------------
 */

static void test_cell(void **state)
{
    cell *c = *state;

    if (c->skip) {
        print_message("[  N/A     ] %s: %s\n", c->name, c->skip);
        skip();
    }
    if (c->bug) {
        if (c->passed)
            fail_msg("%s is marked KNOWN BUG (%s) but now passes: remove "
                     "the mark",
                     c->name, c->bug);
        print_message("[ KNOWN BUG] %s: %s\n%s", c->name, c->bug, c->verdict);
        skip();
    }
    if (!c->ran)
        fail_msg("%s did not run", c->name);
    if (!c->passed)
        fail_msg("%s:\n%s", c->name, c->verdict);
}

static const char *mark_of(const cell *c)
{
    if (c->skip)
        return "n/a";
    if (c->bug)
        return c->passed ? "FIXED?" : "KNOWN BUG";
    return c->passed ? "pass" : "FAIL";
}

static void print_sink_table(void)
{
    print_message("\nThe same against Postfix's smtp-sink -p (its fault "
                  "options after the command):\n\n%-10s",
                  "");
    for (int f = 0; f < SINK_FAULTS; f++)
        print_message(" %-3s %-7s", sink_faults[f].option,
                      fault_names[sink_faults[f].fault]);
    print_message("\n");
    for (int k = 0; k < SINK_COMMANDS; k++) {
        print_message("%-10s", sink_commands[k].command);
        for (int f = 0; f < SINK_FAULTS; f++)
            print_message(" %-11s", mark_of(&sink_cells[k][f]));
        print_message("\n");
    }
    if (sink_cells[0][0].skip)
        print_message("(%s)\n", sink_cells[0][0].skip);
}

typedef struct tally {
    int pass, fail, bugs, na;
} tally;

static void count_cell(tally *t, const cell *c)
{
    const char *mark = mark_of(c);

    if (strcmp(mark, "pass") == 0)
        t->pass++;
    else if (strcmp(mark, "n/a") == 0)
        t->na++;
    else if (strcmp(mark, "KNOWN BUG") == 0)
        t->bugs++;
    else
        t->fail++;
}

static int print_table(void **state)
{
    tally t = {0, 0, 0, 0};

    (void)state;
    print_message("\nThe fault matrix (async client, then blocking API, "
                  "each cell in a process of its own):\n\n%-10s",
                  "");
    for (int f = 0; f < FAULT_COUNT; f++)
        print_message(" %-11s", fault_names[f]);
    print_message("\n");
    for (int s = 0; s < STEP_COUNT; s++) {
        print_message("%-10s", step_names[s]);
        for (int f = 0; f < FAULT_COUNT; f++) {
            count_cell(&t, &cells[s][f]);
            print_message(" %-11s", mark_of(&cells[s][f]));
        }
        print_message("\n");
    }
    print_sink_table();
    for (int k = 0; k < SINK_COMMANDS; k++)
        for (int f = 0; f < SINK_FAULTS; f++)
            count_cell(&t, &sink_cells[k][f]);
    print_message("\n%d pass, %d fail, %d known bugs, %d not applicable; "
                  "%.1f s for all cells\n",
                  t.pass, t.fail, t.bugs, t.na, matrix_seconds);
    return 0;
}

/* ---- A caller that pauses ------------------------------------------------ */

/*
 * A timeout measures the server's silence, not the caller's: an operation
 * submitted after the caller has been away from the loop for longer than
 * timeout_ms must still get its reply (faults/stale-clock.script answers
 * at once): the client brings the loop's cached time up to date before it
 * starts a wait.
 */
static void pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

static void on_pause_op(asmtp_client *client, const asmtp_result *r, void *ud)
{
    (void)client;
    copy_result(ud, r);
}

static void paused_async(const asmtp_client_config *config, verdict *v)
{
    seen conn, noop, quit;
    asmtp_client *client;
    uv_loop_t loop;

    v->api = "async";
    memset(&conn, 0, sizeof conn);
    memset(&noop, 0, sizeof noop);
    memset(&quit, 0, sizeof quit);
    uv_loop_init(&loop);
    assert_int_equal(asmtp_client_new(&client, &loop, config, NULL), 0);
    assert_int_equal(asmtp_client_connect(client, on_pause_op, &conn), 0);
    while (!conn.calls && uv_run(&loop, UV_RUN_ONCE))
        ;
    /* The program does something else, away from the loop. */
    pause_ms((long)(config->timeout_ms * 3 / 2));
    assert_int_equal(asmtp_client_noop(client, on_pause_op, &noop), 0);
    assert_int_equal(asmtp_client_quit(client, on_pause_op, &quit), 0);
    while (!quit.calls && uv_run(&loop, UV_RUN_ONCE))
        ;
    asmtp_client_free(client);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    if (conn.error || noop.error || quit.error)
        failf(v,
              "connect %s, then after a pause of 1.5 timeouts: NOOP %s "
              "(%s), QUIT %s",
              error_name(conn.error), error_name(noop.error), noop.message,
              error_name(quit.error));
}

static void paused_blocking(const asmtp_client_config *config, verdict *v)
{
    int connected, noop, quit;
    char message[300];
    asmtp_sync *s;

    v->api = "blocking";
    assert_int_equal(asmtp_sync_new(&s, config, NULL), 0);
    connected = asmtp_sync_connect(s);
    pause_ms((long)(config->timeout_ms * 3 / 2));
    noop = asmtp_sync_noop(s);
    snprintf(message, sizeof message, "%s", asmtp_sync_result(s)->message);
    quit = asmtp_sync_quit(s);
    asmtp_sync_free(s);
    if (connected || noop || quit)
        failf(v,
              "connect %s, then after a pause of 1.5 timeouts: NOOP %s "
              "(%s), QUIT %s",
              error_name(connected), error_name(noop), message,
              error_name(quit));
}

static void test_operation_after_a_pause(void **state)
{
    asmtp_client_config config = it_config("stale-clock", EHLO_NAME);
    verdict v;

    (void)state;
    memset(&v, 0, sizeof v);
    /* Long enough for the connect, also under a wrapper; the pause is
     * longer still. */
    config.timeout_ms = under_wrapper() ? 4000 : 1000;
    config.connect_timeout_ms = config.timeout_ms;
    paused_async(&config, &v);
    paused_blocking(&config, &v);
    if (v.len)
        fail_msg("%s", v.text);
}

int main(int argc, char **argv)
{
    static struct CMUnitTest
        tests[STEP_COUNT * FAULT_COUNT + SINK_COMMANDS * SINK_FAULTS + 1];
    size_t n = 0;

    it_init(argc, argv);
    for (int s = 0; s < STEP_COUNT; s++)
        for (int f = 0; f < FAULT_COUNT; f++) {
            cell *c = &cells[s][f];

            c->step = s;
            c->fault = f;
            snprintf(c->name, sizeof c->name, "%s/%s", step_names[s],
                     fault_names[f]);
            c->skip = not_applicable(s, f);
            c->bug = known_bug(s, f);
            tests[n].name = c->name;
            tests[n].test_func = test_cell;
            tests[n].initial_state = c;
            n++;
        }
    for (int k = 0; k < SINK_COMMANDS; k++)
        for (int f = 0; f < SINK_FAULTS; f++) {
            cell *c = &sink_cells[k][f];

            c->step = sink_commands[k].step;
            c->fault = sink_faults[f].fault;
            c->sink = true;
            c->code = c->fault == F_4XX   ? -4
                      : c->fault == F_5XX ? -5
                      : c->fault == F_421 ? 421
                                          : 0;
            snprintf(c->name, sizeof c->name, "smtp-sink %s %s",
                     sink_faults[f].option, sink_commands[k].command);
            snprintf(c->unix_path, sizeof c->unix_path, "%s/sink.%s.%s/sock",
                     it_work, sink_commands[k].dir, sink_faults[f].dir);
            c->bug = known_bug(c->step, c->fault);
            tests[n].name = c->name;
            tests[n].test_func = test_cell;
            tests[n].initial_state = c;
            n++;
        }
    tests[n].name = "operation_after_a_pause";
    tests[n].test_func = test_operation_after_a_pause;
    tests[n].initial_state = NULL;
    n++;
    return _cmocka_run_group_tests("fault_matrix", tests, n, run_matrix,
                                   print_table);
}
