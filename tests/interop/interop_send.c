/*
 * The interop driver: sends every message of a corpus written by
 * gen-corpus.py to one real server, through the public API only, and
 * writes one line per message saying what the client was told.
 *
 * Without --pool, the corpus is cut into one run of messages per AUTH
 * mechanism given (one run when there is none), and each run goes over one
 * connection: connect, AUTH with that mechanism, every send submitted at
 * once (the session pipelines them when the server allows), QUIT. With
 * --pool N the whole corpus goes through an asmtp_pool of N connections.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "asmtp.h"

#define MAX_MECHANISMS 4

typedef struct message {
    char id[16];
    unsigned char *data;
    size_t len;
    char *env_text; /* the .env file; the envelope points into it */
    asmtp_envelope envelope;
    asmtp_recipient *recipients;
    bool done;
    int error;
    char outcome[600];
} message;

typedef struct options {
    const char *host;
    uint16_t port;
    const char *mode; /* plain, starttls, tls */
    const char *ca_file;
    const char *user;
    const char *password;
    const char *token;
    unsigned mechanisms[MAX_MECHANISMS];
    size_t mechanism_count;
    size_t pool;
    bool no_chunking;
    const char *corpus;
    const char *results;
} options;

/* How one connection went. */
typedef struct run {
    bool quit_done;
    int connect_error;
    char connect_message[512];
    int auth_error;
    char auth_message[512];
} run;

static void usage(void)
{
    fprintf(stderr,
            "usage: interop_send --host ADDR --port N --mode "
            "plain|starttls|tls\n"
            "    [--ca FILE] [--user NAME --password PW] [--token TOKEN]\n"
            "    [--auth MECH,...] [--pool N] [--no-chunking] CORPUS "
            "RESULTS\n");
    exit(2);
}

/* ---- Loading the corpus ----------------------------------------------- */

static unsigned char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *data = NULL;
    size_t cap = 0, used = 0;

    if (f == NULL) {
        fprintf(stderr, "interop_send: cannot open %s: %s\n", path,
                strerror(errno));
        exit(1);
    }
    for (;;) {
        if (used == cap) {
            cap = cap ? cap * 2 : 65536;
            data = realloc(data, cap + 1);
            if (data == NULL) {
                fprintf(stderr, "interop_send: out of memory\n");
                exit(1);
            }
        }
        size_t n = fread(data + used, 1, cap - used, f);
        used += n;
        if (n == 0)
            break;
    }
    if (ferror(f)) {
        fprintf(stderr, "interop_send: cannot read %s\n", path);
        exit(1);
    }
    fclose(f);
    data[used] = '\0';
    *len = used;
    return data;
}

static const char *corpus_path(const options *opts, const char *id,
                               const char *suffix)
{
    static char path[4096];

    snprintf(path, sizeof path, "%s/%s%s", opts->corpus, id, suffix);
    return path;
}

/* A recipient line: "rcpt", ADDRESS, then notify=LIST and orcpt=VALUE. */
static void parse_recipient(char *fields, asmtp_recipient *rcpt)
{
    char *field = strtok(fields, "\t");

    memset(rcpt, 0, sizeof *rcpt);
    rcpt->address = field ? field : "";
    while ((field = strtok(NULL, "\t")) != NULL) {
        if (strncmp(field, "notify=", 7) == 0) {
            if (strstr(field, "NEVER"))
                rcpt->notify |= ASMTP_NOTIFY_NEVER;
            if (strstr(field, "SUCCESS"))
                rcpt->notify |= ASMTP_NOTIFY_SUCCESS;
            if (strstr(field, "FAILURE"))
                rcpt->notify |= ASMTP_NOTIFY_FAILURE;
            if (strstr(field, "DELAY"))
                rcpt->notify |= ASMTP_NOTIFY_DELAY;
        } else if (strncmp(field, "orcpt=", 6) == 0) {
            rcpt->orcpt = field + 6;
        }
    }
}

static void load_envelope(const options *opts, message *m)
{
    size_t len, lines = 0, n = 0;
    char *text, *line, *next;

    text = (char *)read_file(corpus_path(opts, m->id, ".env"), &len);
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    m->env_text = text;
    m->recipients = calloc(lines + 1, sizeof *m->recipients);
    if (m->recipients == NULL) {
        fprintf(stderr, "interop_send: out of memory\n");
        exit(1);
    }
    m->envelope.sender = NULL;
    for (line = text; *line; line = next) {
        next = strchr(line, '\n');
        if (next == NULL)
            next = line + strlen(line);
        else
            *next++ = '\0';
        if (strncmp(line, "sender\t", 7) == 0)
            m->envelope.sender = line + 7;
        else if (strncmp(line, "rcpt\t", 5) == 0)
            parse_recipient(line + 5, &m->recipients[n++]);
        else if (strcmp(line, "ret\tHDRS") == 0)
            m->envelope.ret = ASMTP_RET_HDRS;
        else if (strcmp(line, "ret\tFULL") == 0)
            m->envelope.ret = ASMTP_RET_FULL;
        else if (strncmp(line, "envid\t", 6) == 0)
            m->envelope.envid = line + 6;
    }
    if (m->envelope.sender == NULL || n == 0) {
        fprintf(stderr, "interop_send: %s.env lacks a sender or recipient\n",
                m->id);
        exit(1);
    }
    m->envelope.recipients = m->recipients;
    m->envelope.recipient_count = n;
}

static message *load_corpus(const options *opts, size_t *count)
{
    size_t len, n = 0, cap = 0;
    char *index = (char *)read_file(corpus_path(opts, "index", ""), &len);
    message *messages = NULL;

    for (char *line = strtok(index, "\n"); line; line = strtok(NULL, "\n")) {
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            messages = realloc(messages, cap * sizeof *messages);
            if (messages == NULL) {
                fprintf(stderr, "interop_send: out of memory\n");
                exit(1);
            }
        }
        message *m = &messages[n++];
        memset(m, 0, sizeof *m);
        size_t id_len = strcspn(line, "\t");
        if (id_len == 0 || id_len >= sizeof m->id) {
            fprintf(stderr, "interop_send: bad index line: %s\n", line);
            exit(1);
        }
        memcpy(m->id, line, id_len);
        m->id[id_len] = '\0';
    }
    free(index);
    for (size_t i = 0; i < n; i++) {
        messages[i].data = read_file(corpus_path(opts, messages[i].id, ".msg"),
                                     &messages[i].len);
        load_envelope(opts, &messages[i]);
    }
    *count = n;
    return messages;
}

/* ---- Results ------------------------------------------------------------ */

static void describe(const asmtp_result *result, char *buf, size_t size)
{
    char reply[400];

    if (result->error == 0) {
        asmtp_reply_render(result->final_reply ? result->final_reply
                                               : result->reply,
                           reply, sizeof reply);
        if (result->refused_count > 0)
            snprintf(buf, size, "%s (%zu recipients refused)", reply,
                     result->refused_count);
        else
            snprintf(buf, size, "%s", reply);
    } else {
        snprintf(buf, size, "%s: %s", asmtp_error_name(result->error),
                 result->message);
    }
    for (char *p = buf; *p; p++)
        if (*p == '\n' || *p == '\t')
            *p = ' ';
}

static void record(message *m, const asmtp_result *result)
{
    m->done = true;
    m->error = result->error;
    if (result->error == 0 && result->refused_count > 0)
        m->error = ASMTP_ERR_RECIPIENTS_REFUSED;
    describe(result, m->outcome, sizeof m->outcome);
}

static void on_sent(asmtp_client *client, const asmtp_result *result,
                    void *user_data)
{
    (void)client;
    record(user_data, result);
}

static void on_connected(asmtp_client *client, const asmtp_result *result,
                         void *user_data)
{
    run *r = user_data;

    (void)client;
    r->connect_error = result->error;
    describe(result, r->connect_message, sizeof r->connect_message);
}

static void on_auth(asmtp_client *client, const asmtp_result *result,
                    void *user_data)
{
    run *r = user_data;

    (void)client;
    r->auth_error = result->error;
    describe(result, r->auth_message, sizeof r->auth_message);
}

static void on_quit(asmtp_client *client, const asmtp_result *result,
                    void *user_data)
{
    run *r = user_data;

    (void)client;
    (void)result;
    r->quit_done = true;
}

static void log_cb(void *user_data, int level, const char *text)
{
    (void)user_data;
    if (level >= ASMTP_LOG_WARNING)
        fprintf(stderr, "interop_send: asmtp: %s\n", text);
}

/* ---- Sending ------------------------------------------------------------ */

/* The username with the password, or for XOAUTH2 with the token. */
static asmtp_credentials credentials_of(const options *opts, unsigned mechanism)
{
    asmtp_credentials cred;

    memset(&cred, 0, sizeof cred);
    if (opts->user) {
        cred.username.data = (const unsigned char *)opts->user;
        cred.username.len = strlen(opts->user);
    }
    if (opts->password && mechanism != ASMTP_AUTH_XOAUTH2) {
        cred.password.data = (const unsigned char *)opts->password;
        cred.password.len = strlen(opts->password);
    }
    if (opts->token && mechanism == ASMTP_AUTH_XOAUTH2) {
        cred.token.data = (const unsigned char *)opts->token;
        cred.token.len = strlen(opts->token);
    }
    return cred;
}

static asmtp_client_config config_of(const options *opts)
{
    asmtp_client_config config;

    memset(&config, 0, sizeof config);
    config.host = opts->host;
    config.port = opts->port;
    config.local_hostname = "interop.asmtp.test";
    config.tls = strcmp(opts->mode, "tls") == 0;
    if (strcmp(opts->mode, "plain") == 0)
        config.starttls = ASMTP_STARTTLS_NEVER;
    else if (strcmp(opts->mode, "starttls") == 0)
        config.starttls = ASMTP_STARTTLS_REQUIRED;
    else
        config.starttls = ASMTP_STARTTLS_NEVER;
    config.tls_config.ca_file = opts->ca_file;
    config.connect_timeout_ms = 30000;
    config.timeout_ms = 60000;
    config.disable_chunking = opts->no_chunking;
    config.log = log_cb;
    return config;
}

static asmtp_content content_of(const message *m)
{
    asmtp_content content;

    memset(&content, 0, sizeof content);
    content.data = m->data;
    content.len = m->len;
    return content;
}

/* One connection: connect, AUTH (mechanism 0 for none), the messages,
 * QUIT. */
static void send_run(const options *opts, unsigned mechanism, message *messages,
                     size_t count)
{
    asmtp_client_config config = config_of(opts);
    asmtp_credentials cred = credentials_of(opts, mechanism);
    run r;
    uv_loop_t loop;
    asmtp_client *client;
    int rc;

    memset(&r, 0, sizeof r);
    uv_loop_init(&loop);
    rc = asmtp_client_new(&client, &loop, &config, NULL);
    if (rc != 0) {
        fprintf(stderr, "interop_send: asmtp_client_new: %s\n",
                asmtp_strerror(rc));
        exit(1);
    }
    if (asmtp_client_connect(client, on_connected, &r) != 0 ||
        (mechanism != 0 &&
         asmtp_client_auth(client, &cred, mechanism, on_auth, &r) != 0)) {
        fprintf(stderr, "interop_send: could not submit connect or AUTH\n");
        exit(1);
    }
    for (size_t i = 0; i < count; i++) {
        asmtp_content content = content_of(&messages[i]);
        rc = asmtp_client_send(client, &messages[i].envelope, &content, on_sent,
                               &messages[i]);
        if (rc != 0) {
            messages[i].done = true;
            messages[i].error = rc;
            snprintf(messages[i].outcome, sizeof messages[i].outcome,
                     "not submitted: %s", asmtp_strerror(rc));
        }
    }
    if (asmtp_client_quit(client, on_quit, &r) != 0)
        r.quit_done = true;
    while (!r.quit_done)
        uv_run(&loop, UV_RUN_ONCE);
    asmtp_client_free(client);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);

    if (r.connect_error != 0)
        fprintf(stderr, "interop_send: connect: %s\n", r.connect_message);
    if (r.auth_error != 0) {
        /* A message the server took without the AUTH asked for does not
         * count as delivered in that mode. */
        fprintf(stderr, "interop_send: AUTH: %s\n", r.auth_message);
        for (size_t i = 0; i < count; i++) {
            messages[i].error = r.auth_error;
            snprintf(messages[i].outcome, sizeof messages[i].outcome,
                     "AUTH failed: %s", r.auth_message);
        }
    }
}

static void on_pool_sent(asmtp_pool *pool, const asmtp_result *result,
                         void *user_data)
{
    (void)pool;
    record(user_data, result);
}

static void send_pool(const options *opts, message *messages, size_t count)
{
    asmtp_pool_config config;
    asmtp_credentials cred =
        credentials_of(opts, opts->mechanism_count ? opts->mechanisms[0] : 0);
    asmtp_pool_stats stats;
    asmtp_pool *pool;
    int rc;

    memset(&config, 0, sizeof config);
    config.client = config_of(opts);
    if (opts->mechanism_count > 0) {
        config.credentials = &cred;
        config.auth_allowed = opts->mechanisms[0];
    }
    config.max_connections = opts->pool;
    config.max_messages = SIZE_MAX;
    rc = asmtp_pool_new(&pool, NULL, &config, NULL);
    if (rc != 0) {
        fprintf(stderr, "interop_send: asmtp_pool_new: %s\n",
                asmtp_strerror(rc));
        exit(1);
    }
    for (size_t i = 0; i < count; i++) {
        asmtp_content content = content_of(&messages[i]);
        rc = asmtp_pool_send(pool, &messages[i].envelope, &content,
                             on_pool_sent, &messages[i]);
        if (rc != 0) {
            messages[i].done = true;
            messages[i].error = rc;
            snprintf(messages[i].outcome, sizeof messages[i].outcome,
                     "not submitted: %s", asmtp_strerror(rc));
        }
    }
    asmtp_pool_wait(pool);
    asmtp_pool_close(pool);
    asmtp_pool_wait(pool);
    asmtp_pool_get_stats(pool, &stats);
    printf("pool: %llu connections, %llu resumed TLS sessions\n",
           (unsigned long long)stats.connections,
           (unsigned long long)stats.tls_resumed);
    asmtp_pool_free(pool);
}

/* ---- Command line ------------------------------------------------------- */

static unsigned mechanism_of(const char *name)
{
    static const struct {
        const char *name;
        unsigned bit;
    } table[] = {{"PLAIN", ASMTP_AUTH_PLAIN},
                 {"LOGIN", ASMTP_AUTH_LOGIN},
                 {"CRAM-MD5", ASMTP_AUTH_CRAM_MD5},
                 {"XOAUTH2", ASMTP_AUTH_XOAUTH2}};

    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(table[i].name, name) == 0)
            return table[i].bit;
    fprintf(stderr, "interop_send: unknown mechanism %s\n", name);
    exit(2);
}

static const char *mechanism_name(unsigned bit)
{
    switch (bit) {
    case ASMTP_AUTH_PLAIN:
        return "PLAIN";
    case ASMTP_AUTH_LOGIN:
        return "LOGIN";
    case ASMTP_AUTH_CRAM_MD5:
        return "CRAM-MD5";
    case ASMTP_AUTH_XOAUTH2:
        return "XOAUTH2";
    default:
        return "none";
    }
}

static void parse_mechanisms(options *opts, char *list)
{
    for (char *name = strtok(list, ","); name; name = strtok(NULL, ",")) {
        if (opts->mechanism_count == MAX_MECHANISMS)
            usage();
        opts->mechanisms[opts->mechanism_count++] = mechanism_of(name);
    }
}

static unsigned long number(const char *text, unsigned long max)
{
    char *end;
    unsigned long value;

    errno = 0;
    value = strtoul(text, &end, 10);
    if (errno != 0 || *text == '\0' || *end != '\0' || value > max)
        usage();
    return value;
}

static void parse_options(int argc, char **argv, options *opts)
{
    int i;

    memset(opts, 0, sizeof *opts);
    opts->host = "127.0.0.1";
    opts->mode = "plain";
    for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        const char *name = argv[i];
        if (strcmp(name, "--no-chunking") == 0) {
            opts->no_chunking = true;
            continue;
        }
        if (i + 1 >= argc)
            usage();
        char *value = argv[++i];
        if (strcmp(name, "--host") == 0)
            opts->host = value;
        else if (strcmp(name, "--port") == 0)
            opts->port = (uint16_t)number(value, 65535);
        else if (strcmp(name, "--mode") == 0)
            opts->mode = value;
        else if (strcmp(name, "--ca") == 0)
            opts->ca_file = value;
        else if (strcmp(name, "--user") == 0)
            opts->user = value;
        else if (strcmp(name, "--password") == 0)
            opts->password = value;
        else if (strcmp(name, "--token") == 0)
            opts->token = value;
        else if (strcmp(name, "--auth") == 0)
            parse_mechanisms(opts, value);
        else if (strcmp(name, "--pool") == 0)
            opts->pool = number(value, 64);
        else
            usage();
    }
    if (argc - i != 2 || opts->port == 0 ||
        (strcmp(opts->mode, "plain") != 0 &&
         strcmp(opts->mode, "starttls") != 0 && strcmp(opts->mode, "tls") != 0))
        usage();
    opts->corpus = argv[i];
    opts->results = argv[i + 1];
}

int main(int argc, char **argv)
{
    options opts;
    message *messages;
    size_t count, failed = 0, runs;
    FILE *out;

    parse_options(argc, argv, &opts);
    messages = load_corpus(&opts, &count);
    if (count == 0) {
        fprintf(stderr, "interop_send: the corpus index lists nothing\n");
        return 1;
    }

    if (opts.pool > 0) {
        send_pool(&opts, messages, count);
    } else {
        runs = opts.mechanism_count ? opts.mechanism_count : 1;
        for (size_t k = 0; k < runs; k++) {
            size_t first = count * k / runs, last = count * (k + 1) / runs;
            unsigned mech = opts.mechanism_count ? opts.mechanisms[k] : 0;
            printf("connection %zu: messages %s to %s, AUTH %s\n", k + 1,
                   messages[first].id, messages[last - 1].id,
                   mechanism_name(mech));
            send_run(&opts, mech, messages + first, last - first);
        }
    }

    out = fopen(opts.results, "w");
    if (out == NULL) {
        fprintf(stderr, "interop_send: cannot write %s: %s\n", opts.results,
                strerror(errno));
        return 1;
    }
    for (size_t i = 0; i < count; i++) {
        message *m = &messages[i];
        if (!m->done) {
            m->error = ASMTP_ERR_STATE;
            snprintf(m->outcome, sizeof m->outcome, "never completed");
        }
        if (m->error != 0) {
            failed++;
            fprintf(stderr, "interop_send: %s: %s\n", m->id, m->outcome);
        }
        fprintf(out, "%s\t%s\t%s\n", m->id, m->error == 0 ? "ok" : "fail",
                m->outcome);
    }
    fclose(out);
    printf("%zu messages sent, %zu accepted, %zu failed\n", count,
           count - failed, failed);

    for (size_t i = 0; i < count; i++) {
        free(messages[i].data);
        free(messages[i].env_text);
        free(messages[i].recipients);
    }
    free(messages);
    return failed == 0 ? 0 : 1;
}
