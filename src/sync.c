/*
 * The blocking facade (see include/asmtp/sync.h): a client on a private
 * loop, run until the one operation asked for completes. The result is
 * copied so that it outlives the callback.
 */
#include "asmtp/sync.h"

#include <string.h>

#include "buf.h"
#include "client_internal.h"
#include "reply.h"

struct asmtp_sync {
    const asmtp_mem *mem;
    uv_loop_t loop;
    asmtp_client *client;
    bool done;
    asmtp_result result; /* a deep copy; the fields below own it */
    char *message;
    char *sender;
    asmtp_reply *reply, *mail_reply, *data_reply, *final_reply;
    asmtp_recipient_result *recipients;
    size_t recipient_count;
};

static void clear_result(asmtp_sync *s)
{
    const asmtp_mem *mem = s->mem;

    for (size_t i = 0; i < s->recipient_count; i++) {
        asmtp__free(mem, (char *)s->recipients[i].address);
        asmtp__reply_free(mem, (asmtp_reply *)s->recipients[i].reply);
    }
    asmtp__free(mem, s->recipients);
    asmtp__free(mem, s->message);
    asmtp__free(mem, s->sender);
    asmtp__reply_free(mem, s->reply);
    asmtp__reply_free(mem, s->mail_reply);
    asmtp__reply_free(mem, s->data_reply);
    asmtp__reply_free(mem, s->final_reply);
    s->recipients = NULL;
    s->recipient_count = 0;
    s->message = s->sender = NULL;
    s->reply = s->mail_reply = s->data_reply = s->final_reply = NULL;
    memset(&s->result, 0, sizeof s->result);
    s->result.message = asmtp_strerror(0);
}

/* Copies that fail for want of memory turn the result into NOMEM. */
static asmtp_reply *copy_reply(asmtp_sync *s, const asmtp_reply *r, bool *ok)
{
    asmtp_reply *copy;

    if (!r)
        return NULL;
    copy = asmtp__reply_copy(s->mem, r);
    if (!copy)
        *ok = false;
    return copy;
}

static void copy_recipients(asmtp_sync *s, const asmtp_result *r, bool *ok)
{
    s->recipients =
        asmtp__calloc(s->mem, r->recipient_count, sizeof *s->recipients);
    if (!s->recipients) {
        *ok = false;
        return;
    }
    s->recipient_count = r->recipient_count;
    for (size_t i = 0; i < r->recipient_count; i++) {
        const asmtp_recipient_result *from = &r->recipients[i];
        asmtp_recipient_result *to = &s->recipients[i];

        to->accepted = from->accepted;
        to->address =
            asmtp__strndup(s->mem, from->address, strlen(from->address));
        to->reply = copy_reply(s, from->reply, ok);
        if (!to->address)
            *ok = false;
    }
}

static void keep_result(asmtp_sync *s, const asmtp_result *r)
{
    bool ok = true;

    clear_result(s);
    s->result = *r;
    s->message = asmtp__strndup(s->mem, r->message, strlen(r->message));
    s->reply = copy_reply(s, r->reply, &ok);
    s->mail_reply = copy_reply(s, r->mail_reply, &ok);
    s->data_reply = copy_reply(s, r->data_reply, &ok);
    s->final_reply = copy_reply(s, r->final_reply, &ok);
    if (r->recipient_count)
        copy_recipients(s, r, &ok);
    if (r->sender) {
        s->sender = asmtp__strndup(s->mem, r->sender, strlen(r->sender));
        ok = ok && s->sender;
    }
    s->result.sender = s->sender;
    s->result.message = s->message ? s->message : asmtp_strerror(r->error);
    s->result.reply = s->reply;
    s->result.mail_reply = s->mail_reply;
    s->result.data_reply = s->data_reply;
    s->result.final_reply = s->final_reply;
    s->result.recipients = s->recipients;
    s->result.recipient_count = s->recipient_count;
    /* A copy that ran out of memory loses details (those replies read as
     * NULL), never the outcome: a delivered message must not look failed
     * and be sent again. */
    (void)ok;
}

static void on_done(asmtp_client *c, const asmtp_result *r, void *user_data)
{
    asmtp_sync *s = user_data;

    (void)c;
    keep_result(s, r);
    s->done = true;
    /* The loop would otherwise go on to wait for I/O nobody needs. */
    uv_stop(&s->loop);
}

/* Run the loop until the operation submitted (rv 0) completes. */
static int wait_for(asmtp_sync *s, int rv)
{
    if (rv) {
        clear_result(s);
        s->result.error = rv;
        s->result.message = asmtp_strerror(rv);
        return rv;
    }
    while (!s->done)
        uv_run(&s->loop, UV_RUN_ONCE);
    return s->result.error;
}

#define BLOCK(s, call)                                                         \
    do {                                                                       \
        if (!(s))                                                              \
            return ASMTP_ERR_BAD_ARGUMENT;                                     \
        (s)->done = false;                                                     \
        return wait_for((s), (call));                                          \
    } while (0)

int asmtp_sync_new(asmtp_sync **out, const asmtp_client_config *config,
                   const asmtp_mem *mem)
{
    asmtp_sync *s;
    int rv;

    if (!out)
        return ASMTP_ERR_BAD_ARGUMENT;
    *out = NULL;
    s = asmtp__calloc(mem, 1, sizeof *s);
    if (!s)
        return ASMTP_ERR_NOMEM;
    s->mem = mem;
    if (uv_loop_init(&s->loop) != 0) {
        asmtp__free(mem, s);
        return ASMTP_ERR_NOMEM;
    }
    rv = asmtp_client_new(&s->client, &s->loop, config, mem);
    if (rv) {
        uv_loop_close(&s->loop);
        asmtp__free(mem, s);
        return rv;
    }
    clear_result(s);
    *out = s;
    return 0;
}

void asmtp_sync_free(asmtp_sync *s)
{
    if (!s)
        return;
    asmtp_client_free(s->client);
    /* Let libuv close the handles, then the loop. */
    uv_run(&s->loop, UV_RUN_DEFAULT);
    uv_loop_close(&s->loop);
    clear_result(s);
    asmtp__free(s->mem, s);
}

int asmtp_sync_connect(asmtp_sync *s)
{
    BLOCK(s, asmtp_client_connect(s->client, on_done, s));
}

int asmtp_sync_adopt(asmtp_sync *s, int fd)
{
    BLOCK(s, asmtp_client_adopt(s->client, fd, on_done, s));
}

int asmtp_sync_ehlo(asmtp_sync *s)
{
    BLOCK(s, asmtp_client_ehlo(s->client, on_done, s));
}

int asmtp_sync_auth(asmtp_sync *s, const asmtp_credentials *credentials,
                    unsigned allowed)
{
    BLOCK(s, asmtp_client_auth(s->client, credentials, allowed, on_done, s));
}

int asmtp_sync_send(asmtp_sync *s, const asmtp_envelope *envelope,
                    const asmtp_content *content)
{
    BLOCK(s, asmtp_client_send(s->client, envelope, content, on_done, s));
}

int asmtp_sync_send_message(asmtp_sync *s, const asmtp_envelope *envelope,
                            const asmtp_content *content)
{
    BLOCK(s,
          asmtp_client_send_message(s->client, envelope, content, on_done, s));
}

int asmtp_sync_rset(asmtp_sync *s)
{
    BLOCK(s, asmtp_client_rset(s->client, on_done, s));
}

int asmtp_sync_noop(asmtp_sync *s)
{
    BLOCK(s, asmtp_client_noop(s->client, on_done, s));
}

int asmtp_sync_vrfy(asmtp_sync *s, const char *arg)
{
    BLOCK(s, asmtp_client_vrfy(s->client, arg, on_done, s));
}

int asmtp_sync_expn(asmtp_sync *s, const char *arg)
{
    BLOCK(s, asmtp_client_expn(s->client, arg, on_done, s));
}

int asmtp_sync_help(asmtp_sync *s, const char *arg)
{
    BLOCK(s, asmtp_client_help(s->client, arg, on_done, s));
}

int asmtp_sync_raw(asmtp_sync *s, const char *line)
{
    BLOCK(s, asmtp_client_raw(s->client, line, on_done, s));
}

int asmtp_sync_quit(asmtp_sync *s)
{
    int rv;

    if (!s)
        return ASMTP_ERR_BAD_ARGUMENT;
    s->done = false;
    rv = wait_for(s, asmtp_client_quit(s->client, on_done, s));
    /* Return once the connection has closed, so that a reconnect finds
     * the client idle. */
    while (s->client->state != CLIENT_IDLE)
        uv_run(&s->loop, UV_RUN_ONCE);
    return rv;
}

void asmtp_sync_close(asmtp_sync *s)
{
    if (!s)
        return;
    asmtp_client_close(s->client);
    while (s->client->state != CLIENT_IDLE)
        uv_run(&s->loop, UV_RUN_ONCE);
}

const asmtp_result *asmtp_sync_result(const asmtp_sync *s)
{
    return s ? &s->result : NULL;
}

asmtp_client *asmtp_sync_client(asmtp_sync *s)
{
    return s ? s->client : NULL;
}
