/*
 * The pool (see include/asmtp/pool.h): a queue of messages fed to up to N
 * clients. The clients are made once and reconnect as needed; a repeating
 * housekeeping timer runs retries, the rate limit, idle and lifetime
 * closes. The pool adds no protocol logic: each attempt is one
 * asmtp_client_send().
 */
#include "asmtp/pool.h"

#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "buf.h"
#include "reply.h"

#define TICK_MS 50u

typedef struct pool_msg {
    struct pool_msg *next;
    asmtp_pool *pool;
    asmtp_pool_cb cb;
    void *user_data;
    struct pool_conn *conn; /* while in flight */
    asmtp_envelope env;     /* owns its strings and arrays */
    asmtp_content content;
    unsigned attempts; /* made so far */
    uint64_t not_before;
    /* Recipients decided by earlier transactions of this message (a 452
     * "too many recipients" moves the rest to a follow-up). */
    asmtp_recipient_result *decided;
    size_t decided_count;
} pool_msg;

typedef struct pool_conn {
    asmtp_pool *pool;
    asmtp_client *client;
    size_t sent;     /* messages given to this connection */
    size_t inflight; /* of them, not completed */
    uint64_t opened_at, last_used;
    bool quitting; /* takes no more messages */
} pool_conn;

struct asmtp_pool {
    uv_loop_t *loop;
    uv_loop_t private_loop;
    bool own_loop;
    const asmtp_mem *mem;
    asmtp_pool_config config;
    asmtp_credentials creds;
    asmtp__buf user, secret, authzid;
    bool token;
    /* Shared by the connections (unless the caller gave one), so that each
     * one after the first resumes the TLS session of an earlier one. They
     * all connect with the one configuration above, so every session in
     * it suits every one of them. */
    asmtp_tls_session_cache *sessions;

    pool_msg *queue_head, *queue_tail; /* ready to go, in order */
    pool_msg *retry;                   /* waiting for not_before */
    pool_conn *conns;
    uv_timer_t timer;
    bool timer_running;
    double tokens;
    uint64_t refilled_at;
    asmtp_pool_stats stats;

    bool closing;
    bool freeing;
    int depth;
    bool free_pending;
};

/* ---- Messages ------------------------------------------------------------ */

static void free_decided(asmtp_pool *p, pool_msg *m)
{
    for (size_t i = 0; i < m->decided_count; i++) {
        asmtp__free(p->mem, (char *)m->decided[i].address);
        asmtp__reply_free(p->mem, (asmtp_reply *)m->decided[i].reply);
    }
    asmtp__free(p->mem, m->decided);
}

static void free_msg(asmtp_pool *p, pool_msg *m)
{
    free_decided(p, m);
    for (size_t i = 0; i < m->env.recipient_count; i++) {
        asmtp__free(p->mem, (char *)m->env.recipients[i].address);
        asmtp__free(p->mem, (char *)m->env.recipients[i].orcpt);
    }
    asmtp__free(p->mem, (asmtp_recipient *)m->env.recipients);
    asmtp__free(p->mem, (char *)m->env.sender);
    asmtp__free(p->mem, (char *)m->env.envid);
    asmtp__free(p->mem, m);
}

static char *dup_or_null(const asmtp_mem *mem, const char *s, bool *ok)
{
    char *copy;

    if (!s)
        return NULL;
    copy = asmtp__strndup(mem, s, strlen(s));
    *ok = *ok && copy;
    return copy;
}

static pool_msg *copy_msg(asmtp_pool *p, const asmtp_envelope *env,
                          const asmtp_content *content)
{
    pool_msg *m = asmtp__calloc(p->mem, 1, sizeof *m);
    asmtp_recipient *r;
    bool ok = true;

    if (!m)
        return NULL;
    m->env = *env;
    m->content = *content;
    m->env.recipients = NULL;
    m->env.recipient_count = 0;
    m->env.sender = dup_or_null(p->mem, env->sender, &ok);
    m->env.envid = dup_or_null(p->mem, env->envid, &ok);
    r = asmtp__calloc(p->mem, env->recipient_count, sizeof *r);
    if (r) {
        m->env.recipients = r;
        m->env.recipient_count = env->recipient_count;
        for (size_t i = 0; i < env->recipient_count; i++) {
            r[i] = env->recipients[i];
            r[i].address = dup_or_null(p->mem, r[i].address, &ok);
            r[i].orcpt = dup_or_null(p->mem, r[i].orcpt, &ok);
        }
    }
    if (!r || !ok) {
        free_msg(p, m);
        return NULL;
    }
    return m;
}

static void enqueue(asmtp_pool *p, pool_msg *m)
{
    m->next = NULL;
    if (p->queue_tail)
        p->queue_tail->next = m;
    else
        p->queue_head = m;
    p->queue_tail = m;
    p->stats.queued++;
}

static pool_msg *dequeue(asmtp_pool *p)
{
    pool_msg *m = p->queue_head;

    if (!m)
        return NULL;
    p->queue_head = m->next;
    if (!p->queue_head)
        p->queue_tail = NULL;
    p->stats.queued--;
    return m;
}

/* The last attempt's result with the recipients of earlier transactions
 * in front; NULL (use r as it is) when there were none or memory ran
 * out. */
static asmtp_recipient_result *merge_recipients(asmtp_pool *p, pool_msg *m,
                                                const asmtp_result *r,
                                                asmtp_result *merged)
{
    size_t n = m->decided_count + r->recipient_count;
    asmtp_recipient_result *all;

    if (!m->decided_count)
        return NULL;
    all = asmtp__calloc(p->mem, n, sizeof *all);
    if (!all)
        return NULL;
    memcpy(all, m->decided, m->decided_count * sizeof *all);
    memcpy(all + m->decided_count, r->recipients,
           r->recipient_count * sizeof *all);
    *merged = *r;
    merged->recipients = all;
    merged->recipient_count = n;
    merged->refused_count = 0;
    for (size_t i = 0; i < n; i++)
        merged->refused_count += !all[i].accepted;
    return all;
}

/* Hand a message's last result to its callback. */
static void complete(asmtp_pool *p, pool_msg *m, const asmtp_result *r)
{
    asmtp_result merged;
    asmtp_recipient_result *all = merge_recipients(p, m, r, &merged);

    if (all)
        r = &merged;
    if (r->error)
        p->stats.failed++;
    else
        p->stats.delivered++;
    p->depth++;
    if (m->cb)
        m->cb(p, r, m->user_data);
    p->depth--;
    asmtp__free(p->mem, all);
    free_msg(p, m);
}

static bool too_many(const asmtp_recipient_result *rr)
{
    return !rr->accepted && rr->reply && rr->reply->code == 452;
}

/*
 * After a transaction that delivered to some recipients and answered 452
 * ("too many recipients") to others, keep the decided ones and send the
 * message again to the rest at once. Returns false when that does not
 * apply (no 452, or no recipient accepted, so no progress was made).
 */
static bool follow_up(asmtp_pool *p, pool_msg *m, const asmtp_result *r)
{
    asmtp_recipient *rcpts = (asmtp_recipient *)m->env.recipients;
    size_t rest = 0, accepted = 0, n = r->recipient_count, d;
    asmtp_recipient_result *decided;

    if (r->error || m->content.read || n != m->env.recipient_count)
        return false;
    for (size_t i = 0; i < n; i++) {
        rest += too_many(&r->recipients[i]);
        accepted += r->recipients[i].accepted;
    }
    if (!rest || !accepted)
        return false;
    decided = asmtp__realloc(p->mem, m->decided,
                             (m->decided_count + n - rest) * sizeof *decided);
    if (!decided)
        return false;
    m->decided = decided;
    d = m->decided_count;
    for (size_t i = 0, kept = 0; i < n; i++) {
        if (too_many(&r->recipients[i])) {
            rcpts[kept++] = rcpts[i];
            continue;
        }
        decided[d].accepted = r->recipients[i].accepted;
        decided[d].address = rcpts[i].address; /* moves the string */
        decided[d].reply =
            r->recipients[i].reply
                ? asmtp__reply_copy(p->mem, r->recipients[i].reply)
                : NULL;
        asmtp__free(p->mem, (char *)rcpts[i].orcpt);
        d++;
    }
    m->decided_count = d;
    m->env.recipient_count = rest;
    m->attempts--; /* a follow-up is not a retry */
    m->next = p->queue_head;
    p->queue_head = m;
    if (!p->queue_tail)
        p->queue_tail = m;
    p->stats.queued++;
    return true;
}

static void complete_with(asmtp_pool *p, pool_msg *m, int error,
                          const char *message)
{
    asmtp_result r;

    memset(&r, 0, sizeof r);
    r.op = ASMTP_OP_SEND;
    r.error = error;
    r.message = message;
    complete(p, m, &r);
}

/* ---- Retries ---------------------------------------------------------------
 */

/* A failure that a later attempt may not meet. */
static bool temporary(const asmtp_result *r)
{
    if (r->maybe_delivered)
        return false; /* never a blind retry after the end of data */
    if (r->error == ASMTP_ERR_CANCELLED || r->error == ASMTP_ERR_SHUTDOWN ||
        asmtp_error_is(r->error, ASMTP_CLASS_CONNECT |
                                     ASMTP_CLASS_DISCONNECTED |
                                     ASMTP_CLASS_TIMEOUT))
        return r->error != ASMTP_ERR_GREETING || !r->reply ||
               r->reply->code / 100 == 4;
    return asmtp_error_is(r->error, ASMTP_CLASS_REFUSED) && r->reply &&
           r->reply->code / 100 == 4;
}

static uint64_t backoff_ms(const asmtp_pool *p, unsigned attempt)
{
    uint64_t wait = p->config.retry_base_ms;

    for (unsigned i = 1; i < attempt && wait < p->config.retry_max_ms; i++)
        wait *= 2;
    if (wait > p->config.retry_max_ms)
        wait = p->config.retry_max_ms;
    /* Jitter so that many failed messages do not return at once. */
    return wait + (uint64_t)((double)wait / 2 * ((double)rand() / RAND_MAX));
}

static bool try_again(asmtp_pool *p, pool_msg *m, const asmtp_result *r)
{
    if (p->freeing || m->attempts > p->config.max_retries || m->content.read ||
        !temporary(r))
        return false;
    m->not_before = uv_now(p->loop) + backoff_ms(p, m->attempts);
    m->next = p->retry;
    p->retry = m;
    p->stats.queued++;
    p->stats.retries++;
    return true;
}

/* Move retries whose time has come to the front of the queue. */
static void release_retries(asmtp_pool *p, uint64_t now)
{
    pool_msg **link = &p->retry;

    while (*link) {
        pool_msg *m = *link;

        if (m->not_before > now) {
            link = &m->next;
            continue;
        }
        *link = m->next;
        m->next = p->queue_head;
        p->queue_head = m;
        if (!p->queue_tail)
            p->queue_tail = m;
    }
}

/* ---- Connections ------------------------------------------------------------
 */

static void dispatch(asmtp_pool *p);
static void arm(asmtp_pool *p);

static void on_sent(asmtp_client *c, const asmtp_result *r, void *user_data)
{
    pool_msg *m = user_data;
    asmtp_pool *p = m->pool;
    pool_conn *conn = m->conn;

    (void)c;
    conn->inflight--;
    conn->last_used = uv_now(p->loop);
    p->stats.in_flight--;
    m->conn = NULL;
    if (!follow_up(p, m, r) && !try_again(p, m, r))
        complete(p, m, r);
    if (p->depth == 0)
        dispatch(p);
}

static void on_quit(asmtp_client *c, const asmtp_result *r, void *user_data)
{
    (void)c;
    (void)r;
    (void)user_data;
}

/* The connection is up (after STARTTLS, when there was one). */
static void on_connected(asmtp_client *c, const asmtp_result *r,
                         void *user_data)
{
    pool_conn *conn = user_data;

    if (r->error == 0 && asmtp_client_tls_resumed(c))
        conn->pool->stats.tls_resumed++;
}

static void retire(pool_conn *conn)
{
    if (conn->quitting)
        return;
    conn->quitting = true;
    if (asmtp_client_quit(conn->client, on_quit, conn) != 0)
        asmtp_client_close(conn->client);
}

static bool is_open(const pool_conn *conn)
{
    return asmtp_client_is_connected(conn->client);
}

/* Open the connection, with AUTH when the pool has credentials. */
static int open_conn(asmtp_pool *p, pool_conn *conn)
{
    int rv = asmtp_client_connect(conn->client, on_connected, conn);

    if (rv)
        return rv;
    if (p->config.credentials)
        asmtp_client_auth(conn->client, &p->creds, p->config.auth_allowed,
                          on_quit, conn);
    conn->sent = 0;
    conn->quitting = false;
    conn->opened_at = conn->last_used = uv_now(p->loop);
    p->stats.connections++;
    return 0;
}

/*
 * Where the next message goes: an open connection with nothing in
 * flight, else a new connection while there is room for one, else the
 * open one with the fewest messages in flight (pipelined behind them);
 * NULL when none can take it now. So a backlog spreads over every
 * connection allowed, and large messages do not queue behind each other
 * while a connection could carry them.
 */
static pool_conn *pick(asmtp_pool *p)
{
    pool_conn *closed = NULL, *least = NULL;

    for (size_t i = 0; i < p->config.max_connections; i++) {
        pool_conn *conn = &p->conns[i];

        if (!is_open(conn)) {
            if (!closed && conn->inflight == 0)
                closed = conn;
            continue;
        }
        if (conn->quitting || conn->inflight >= p->config.max_inflight ||
            conn->sent >= p->config.max_messages)
            continue;
        if (conn->inflight == 0)
            return conn;
        if (!least || conn->inflight < least->inflight)
            least = conn;
    }
    if (closed && open_conn(p, closed) == 0)
        return closed;
    return least;
}

/* Take a rate-limit token if one is there. */
static bool take_token(asmtp_pool *p, uint64_t now)
{
    double rate = p->config.rate_limit;
    double burst = rate < 1 ? 1 : rate * TICK_MS / 1000.0 + 1;

    if (rate <= 0)
        return true;
    p->tokens += (double)(now - p->refilled_at) * rate / 1000.0;
    p->refilled_at = now;
    if (p->tokens > burst)
        p->tokens = burst;
    if (p->tokens < 1)
        return false;
    p->tokens -= 1;
    return true;
}

static void send_on(asmtp_pool *p, pool_conn *conn, pool_msg *m)
{
    asmtp_result r;
    int rv;

    m->conn = conn;
    m->attempts++;
    conn->inflight++;
    conn->sent++;
    p->stats.in_flight++;
    p->depth++;
    rv = asmtp_client_send(conn->client, &m->env, &m->content, on_sent, m);
    p->depth--;
    if (rv) {
        /* Refused on the spot (a bad argument, or the connection just
         * ended): that is this attempt's result. */
        conn->inflight--;
        p->stats.in_flight--;
        m->conn = NULL;
        memset(&r, 0, sizeof r);
        r.op = ASMTP_OP_SEND;
        r.error = rv;
        r.message = asmtp_strerror(rv);
        if (!try_again(p, m, &r))
            complete(p, m, &r);
    }
    if (conn->sent >= p->config.max_messages)
        retire(conn);
}

static void dispatch(asmtp_pool *p)
{
    uint64_t now = uv_now(p->loop);

    if (p->freeing || p->free_pending)
        return;
    release_retries(p, now);
    while (p->queue_head) {
        pool_conn *conn = pick(p);

        if (!conn || !take_token(p, now))
            break;
        send_on(p, conn, dequeue(p));
    }
    arm(p);
}

/* Idle and old connections are closed; a closing pool quits once empty. */
static void housekeeping(asmtp_pool *p, uint64_t now)
{
    bool drained =
        p->closing && !p->queue_head && !p->retry && p->stats.in_flight == 0;

    for (size_t i = 0; i < p->config.max_connections; i++) {
        pool_conn *conn = &p->conns[i];

        if (!is_open(conn) || conn->quitting)
            continue;
        if (p->config.max_lifetime_ms &&
            now - conn->opened_at >= p->config.max_lifetime_ms)
            conn->sent = p->config.max_messages; /* no more on this one */
        if (conn->inflight)
            continue;
        if (drained || conn->sent >= p->config.max_messages ||
            now - conn->last_used >= p->config.idle_timeout_ms)
            retire(conn);
    }
}

static bool busy(const asmtp_pool *p)
{
    if (p->queue_head || p->retry || p->stats.in_flight)
        return true;
    for (size_t i = 0; i < p->config.max_connections; i++)
        if (is_open(&p->conns[i]))
            return true;
    return false;
}

static void do_free(asmtp_pool *p);

static void on_tick(uv_timer_t *timer)
{
    asmtp_pool *p = timer->data;

    if (p->free_pending) {
        do_free(p);
        return;
    }
    housekeeping(p, uv_now(p->loop));
    dispatch(p);
}

/* The timer runs while there is anything to look after. */
static void arm(asmtp_pool *p)
{
    bool want = busy(p) && !p->freeing && !p->free_pending;

    if (want && !p->timer_running)
        uv_timer_start(&p->timer, on_tick, TICK_MS, TICK_MS);
    else if (!want && p->timer_running)
        uv_timer_stop(&p->timer);
    p->timer_running = want;
}

/* ---- The API
 * ----------------------------------------------------------------- */

static int copy_creds(asmtp_pool *p, const asmtp_credentials *c)
{
    int rv;

    asmtp__buf_init(&p->user, p->mem);
    asmtp__buf_init(&p->secret, p->mem);
    asmtp__buf_init(&p->authzid, p->mem);
    if (!c)
        return 0;
    p->token = c->token.len > 0;
    rv = asmtp__buf_append(&p->user, c->username.data, c->username.len);
    rv = rv ? rv
            : asmtp__buf_append(&p->secret,
                                p->token ? c->token.data : c->password.data,
                                p->token ? c->token.len : c->password.len);
    rv = rv ? rv
            : asmtp__buf_append(&p->authzid, c->authzid.data, c->authzid.len);
    memset(&p->creds, 0, sizeof p->creds);
    p->creds.username =
        (asmtp_bytes){asmtp__buf_head(&p->user), asmtp__buf_size(&p->user)};
    p->creds.authzid = (asmtp_bytes){asmtp__buf_head(&p->authzid),
                                     asmtp__buf_size(&p->authzid)};
    if (p->token)
        p->creds.token = (asmtp_bytes){asmtp__buf_head(&p->secret),
                                       asmtp__buf_size(&p->secret)};
    else
        p->creds.password = (asmtp_bytes){asmtp__buf_head(&p->secret),
                                          asmtp__buf_size(&p->secret)};
    return rv;
}

static void set_defaults(asmtp_pool_config *c)
{
    if (!c->max_connections)
        c->max_connections = 4;
    if (!c->max_messages)
        c->max_messages = 100;
    if (!c->max_inflight)
        c->max_inflight = 8;
    if (!c->idle_timeout_ms)
        c->idle_timeout_ms = 30000;
    if (!c->retry_base_ms)
        c->retry_base_ms = 1000;
    if (!c->retry_max_ms)
        c->retry_max_ms = 60000;
}

static void release_pool(asmtp_pool *p)
{
    const asmtp_mem *mem = p->mem;

    asmtp__buf_free_secure(&p->user);
    asmtp__buf_free_secure(&p->secret);
    asmtp__buf_free_secure(&p->authzid);
    asmtp_tls_session_cache_free(p->sessions);
    asmtp__free(mem, p->conns);
    asmtp__free(mem, p);
}

/* The caller's cache when the configuration names one (several pools to
 * one server may share it; the clients hold references of their own),
 * else one of the pool's own. */
static int share_sessions(asmtp_pool *p)
{
    asmtp_tls_config *tls = &p->config.client.tls_config;
    int rv = 0;

    if (!tls->session_cache) {
        rv = asmtp_tls_session_cache_new(&p->sessions, p->mem);
        tls->session_cache = p->sessions;
    }
    return rv;
}

int asmtp_pool_new(asmtp_pool **out, struct uv_loop_s *loop,
                   const asmtp_pool_config *config, const asmtp_mem *mem)
{
    asmtp_pool *p;
    int rv;

    if (!out || !config || config->rate_limit < 0)
        return ASMTP_ERR_BAD_ARGUMENT;
    *out = NULL;
    p = asmtp__calloc(mem, 1, sizeof *p);
    if (!p)
        return ASMTP_ERR_NOMEM;
    p->mem = mem;
    p->config = *config;
    set_defaults(&p->config);
    rv = copy_creds(p, config->credentials);
    p->config.credentials = config->credentials ? &p->creds : NULL;
    rv = rv ? rv : share_sessions(p);
    p->conns =
        rv ? NULL
           : asmtp__calloc(mem, p->config.max_connections, sizeof *p->conns);
    if (!p->conns) {
        release_pool(p);
        return rv ? rv : ASMTP_ERR_NOMEM;
    }
    p->own_loop = loop == NULL;
    if (p->own_loop)
        uv_loop_init(&p->private_loop);
    p->loop = p->own_loop ? &p->private_loop : loop;
    for (size_t i = 0; i < p->config.max_connections && !rv; i++) {
        p->conns[i].pool = p;
        rv = asmtp_client_new(&p->conns[i].client, p->loop, &p->config.client,
                              mem);
    }
    uv_timer_init(p->loop, &p->timer);
    p->timer.data = p;
    p->refilled_at = uv_now(p->loop);
    p->tokens = 1;
    *out = p;
    if (rv) {
        asmtp_pool_free(p);
        *out = NULL;
    }
    return rv;
}

int asmtp_pool_send(asmtp_pool *p, const asmtp_envelope *env,
                    const asmtp_content *content, asmtp_pool_cb cb,
                    void *user_data)
{
    pool_msg *m;

    if (!p || !env || !content || !env->recipients ||
        env->recipient_count == 0 || !env->sender)
        return p ? ASMTP_ERR_BAD_ARGUMENT : ASMTP_ERR_STATE;
    if (p->closing || p->freeing)
        return ASMTP_ERR_STATE;
    m = copy_msg(p, env, content);
    if (!m)
        return ASMTP_ERR_NOMEM;
    m->pool = p;
    m->cb = cb;
    m->user_data = user_data;
    enqueue(p, m);
    p->stats.submitted++;
    if (p->depth == 0)
        dispatch(p);
    else
        arm(p);
    return 0;
}

int asmtp_pool_wait(asmtp_pool *p)
{
    if (!p || !p->own_loop)
        return ASMTP_ERR_STATE;
    while (p->queue_head || p->retry || p->stats.in_flight)
        uv_run(p->loop, UV_RUN_ONCE);
    return 0;
}

void asmtp_pool_close(asmtp_pool *p)
{
    if (!p)
        return;
    p->closing = true;
    housekeeping(p, uv_now(p->loop));
    arm(p);
}

static void on_timer_closed(uv_handle_t *handle)
{
    asmtp_pool *p = handle->data;

    if (!p->own_loop)
        release_pool(p);
}

/* Complete everything with CANCELLED, free the clients, close the timer. */
static void do_free(asmtp_pool *p)
{
    pool_msg *m;
    uv_loop_t *loop = p->loop;
    bool own = p->own_loop;

    p->freeing = true;
    while ((m = dequeue(p)))
        complete_with(p, m, ASMTP_ERR_CANCELLED,
                      "cancelled: the pool was freed first");
    while ((m = p->retry)) {
        p->retry = m->next;
        p->stats.queued--;
        complete_with(p, m, ASMTP_ERR_CANCELLED,
                      "cancelled: the pool was freed before the retry");
    }
    /* Freeing the clients completes what is in flight (CANCELLED). */
    for (size_t i = 0; i < p->config.max_connections; i++)
        asmtp_client_free(p->conns[i].client);
    uv_close((uv_handle_t *)&p->timer, on_timer_closed);
    if (own) {
        uv_run(loop, UV_RUN_DEFAULT);
        uv_loop_close(loop);
        release_pool(p);
    }
}

void asmtp_pool_free(asmtp_pool *p)
{
    if (!p || p->freeing || p->free_pending)
        return;
    if (p->depth > 0 && !p->own_loop) {
        /* Inside a callback: free from the loop once it has returned. */
        p->free_pending = true;
        uv_timer_start(&p->timer, on_tick, 0, 0);
        return;
    }
    do_free(p);
}

void asmtp_pool_get_stats(const asmtp_pool *p, asmtp_pool_stats *stats)
{
    memset(stats, 0, sizeof *stats);
    if (!p)
        return;
    *stats = p->stats;
    for (size_t i = 0; i < p->config.max_connections; i++) {
        stats->open += is_open(&p->conns[i]);
        stats->reads += asmtp_client_reads(p->conns[i].client);
    }
}
