/*
 * Helpers shared by the integration programs: paths into the scratch
 * directory the wrapper made, the records the servers wrote, and a result
 * recorder for client callbacks (see it_support.h).
 */
#include "it_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

const char *it_work;
int it_sequence;

void it_init(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s WORKDIR (see tests/integration/it-lib.sh)\n",
                argv[0]);
        exit(2);
    }
    it_work = argv[1];
}

const char *it_path(const char *server, const char *file)
{
    static char bufs[8][1024];
    static unsigned next;
    char *buf = bufs[next++ % 8];

    snprintf(buf, sizeof bufs[0], "%s/%s/%s", it_work, server, file);
    return buf;
}

const char *it_cert(const char *file)
{
    return it_path("certs", file);
}

char *it_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *data = NULL;
    size_t size = 0, cap = 0, n;

    if (!f)
        return NULL;
    do {
        if (cap - size < 65536) {
            cap = cap ? cap * 2 : 65536;
            data = realloc(data, cap + 1);
            assert_non_null(data);
        }
        n = fread(data + size, 1, cap - size, f);
        size += n;
    } while (n > 0);
    fclose(f);
    data[size] = '\0';
    if (len)
        *len = size;
    return data;
}

bool it_exists(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

void it_wait_for(const char *path)
{
    for (int i = 0; i < 2000 && !it_exists(path); i++)
        sleep_ms(10);
    if (!it_exists(path))
        fail_msg("%s did not appear within 20 s", path);
}

uint16_t it_port(const char *server)
{
    char *text = it_read_file(it_path(server, "port"), NULL);
    unsigned long port;

    if (!text)
        fail_msg("no port file for server %s", server);
    port = strtoul(text, NULL, 10);
    free(text);
    assert_true(port > 0 && port < 65536);
    return (uint16_t)port;
}

asmtp_client_config it_config(const char *server, const char *ehlo)
{
    asmtp_client_config config;

    memset(&config, 0, sizeof config);
    config.host = "127.0.0.1";
    config.port = server ? it_port(server) : 0;
    config.local_hostname = ehlo;
    config.connect_timeout_ms = 10000;
    config.timeout_ms = 10000;
    return config;
}

static void copy_reply(it_reply *to, const asmtp_reply *from)
{
    memset(to, 0, sizeof *to);
    if (!from)
        return;
    to->present = true;
    to->code = from->code;
    snprintf(to->enhanced, sizeof to->enhanced, "%s", from->enhanced);
    asmtp_render_text(from->text, from->text_len, to->text, sizeof to->text);
}

void it_copy_result(it_record *rec, const asmtp_result *r)
{
    rec->calls++;
    rec->seq = ++it_sequence;
    rec->op = r->op;
    rec->error = r->error;
    assert_non_null(r->message);
    snprintf(rec->message, sizeof rec->message, "%s", r->message);
    copy_reply(&rec->reply, r->reply);
    copy_reply(&rec->mail_reply, r->mail_reply);
    copy_reply(&rec->data_reply, r->data_reply);
    copy_reply(&rec->final_reply, r->final_reply);
    rec->recipient_count = r->recipient_count;
    rec->refused_count = r->refused_count;
    for (size_t i = 0; i < r->recipient_count && i < IT_MAX_RCPT; i++) {
        rec->accepted[i] = r->recipients[i].accepted;
        snprintf(rec->address[i], sizeof rec->address[i], "%s",
                 r->recipients[i].address);
        copy_reply(&rec->rcpt_reply[i], r->recipients[i].reply);
    }
    rec->maybe_delivered = r->maybe_delivered;
    rec->warned = r->warned;
}

void it_on_done(asmtp_client *client, const asmtp_result *result, void *ud)
{
    it_record *rec = ud;

    it_copy_result(rec, result);
    rec->had_session = asmtp_client_session(client) != NULL;
    if (rec->connect_again)
        assert_int_equal(
            asmtp_client_connect(client, it_on_done, rec->connect_again), 0);
}

void it_run_until(uv_loop_t *loop, const it_record *rec)
{
    while (rec->calls == 0)
        if (uv_run(loop, UV_RUN_ONCE) == 0 && rec->calls == 0)
            fail_msg("the loop ran out of work before the callback ran");
}

void it_finish(uv_loop_t *loop, asmtp_client *client)
{
    asmtp_client_free(client);
    assert_int_equal(uv_run(loop, UV_RUN_DEFAULT), 0);
}

const char it_default_body[] = "From: Alice <alice@example.org>\r\n"
                               "To: Bob <bob@example.net>\r\n"
                               "Subject: integration\r\n"
                               "\r\n"
                               "Hello, Bob.\r\n";

void it_connect_send_quit(const asmtp_client_config *config, it_record *conn,
                          it_record *sent, it_record *quit,
                          const asmtp_envelope *envelope,
                          const asmtp_content *content)
{
    it_record scratch[3];
    asmtp_recipient rcpt;
    asmtp_envelope env;
    asmtp_content body;
    asmtp_client *c = NULL;
    uv_loop_t loop;

    memset(scratch, 0, sizeof scratch);
    conn = conn ? conn : &scratch[0];
    sent = sent ? sent : &scratch[1];
    quit = quit ? quit : &scratch[2];
    if (!envelope) {
        memset(&rcpt, 0, sizeof rcpt);
        rcpt.address = "bob@example.net";
        memset(&env, 0, sizeof env);
        env.sender = "alice@example.org";
        env.recipients = &rcpt;
        env.recipient_count = 1;
        envelope = &env;
    }
    if (!content) {
        memset(&body, 0, sizeof body);
        body.data = it_default_body;
        body.len = strlen(it_default_body);
        content = &body;
    }
    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(asmtp_client_new(&c, &loop, config, NULL), 0);
    assert_int_equal(asmtp_client_connect(c, it_on_done, conn), 0);
    assert_int_equal(asmtp_client_send(c, envelope, content, it_on_done, sent),
                     0);
    assert_int_equal(asmtp_client_quit(c, it_on_done, quit), 0);
    it_run_until(&loop, quit);
    it_finish(&loop, c);
    assert_int_equal(uv_loop_close(&loop), 0);
    assert_int_equal(conn->calls, 1);
    assert_int_equal(sent->calls, 1);
    assert_int_equal(quit->calls, 1);
}

int it_stored_number(const it_record *sent)
{
    const char *p;

    if (sent->error || !sent->final_reply.present)
        fail_msg("the message was not stored: %s (%s)",
                 asmtp_error_name(sent->error), sent->message);
    p = strstr(sent->final_reply.text, "stored as ");
    if (!p)
        fail_msg("unexpected final reply: %s", sent->final_reply.text);
    return (int)strtol(p + 10, NULL, 10);
}

const char *it_message_file(const char *server, int n, const char *suffix)
{
    char name[64];

    snprintf(name, sizeof name, "%d.%s", n, suffix);
    return it_path(server, name);
}

/* ---- aiosmtpd's log ------------------------------------------------------ */

/* "PEER >> b'LINE'" -> peer and line, or false. */
static bool parse_log_line(const char *line, size_t len, char *peer,
                           size_t peer_size, char *cmd, size_t cmd_size)
{
    const char *info = NULL, *arrow = NULL, *start, *end;
    char quote;

    for (size_t i = 0; i + 5 <= len; i++)
        if (!info && memcmp(line + i, "INFO ", 5) == 0)
            info = line + i + 5;
    for (size_t i = 0; i + 6 <= len; i++)
        if (memcmp(line + i, " >> b", 5) == 0) {
            arrow = line + i;
            break;
        }
    if (!info || !arrow || arrow < info)
        return false;
    snprintf(peer, peer_size, "%.*s", (int)(arrow - info), info);
    quote = arrow[5];
    start = arrow + 6;
    end = line + len;
    while (end > start && end[-1] != quote)
        end--;
    if (end <= start)
        return false;
    snprintf(cmd, cmd_size, "%.*s", (int)(end - 1 - start), start);
    return true;
}

static bool names_client(const char *cmd, const char *ehlo)
{
    size_t n = strlen(ehlo);

    if (strncasecmp(cmd, "EHLO ", 5) != 0 && strncasecmp(cmd, "HELO ", 5) != 0)
        return false;
    return strncmp(cmd + 5, ehlo, n) == 0 && cmd[5 + n] == '\0';
}

char *it_server_commands(const char *server, const char *ehlo)
{
    char *log = it_read_file(it_path(server, "server.log"), NULL);
    char peer[128] = "", p[128], cmd[2048];
    char *out = calloc(1, 1);
    size_t out_len = 0;
    const char *line;

    assert_non_null(log);
    for (line = log; *line;) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);

        if (parse_log_line(line, len, p, sizeof p, cmd, sizeof cmd)) {
            if (!*peer && names_client(cmd, ehlo))
                snprintf(peer, sizeof peer, "%s", p);
            if (*peer && strcmp(p, peer) == 0) {
                size_t n = strlen(cmd);

                out = realloc(out, out_len + n + 2);
                assert_non_null(out);
                if (out_len)
                    out[out_len++] = '\n';
                memcpy(out + out_len, cmd, n + 1);
                out_len += n;
            }
        }
        line += len + (eol ? 1 : 0);
    }
    free(log);
    return out;
}

char *it_conn_log(const char *server, int n)
{
    char name[64];

    snprintf(name, sizeof name, "conn-%d.done", n);
    it_wait_for(it_path(server, name));
    snprintf(name, sizeof name, "conn-%d.log", n);
    return it_read_file(it_path(server, name), NULL);
}

/* ---- Memory -------------------------------------------------------------- */

long it_vm_hwm_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;

    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0)
            kib = strtol(line + 6, NULL, 10);
    fclose(f);
    return kib;
}

bool it_reset_hwm(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    bool ok;

    if (!f)
        return false;
    ok = fputs("5", f) >= 0;
    return fclose(f) == 0 && ok;
}

/* ---- Transcripts --------------------------------------------------------- */

static void append(char **buf, size_t *len, size_t *cap, const void *data,
                   size_t n)
{
    if (*len + n + 1 > *cap) {
        while (*len + n + 1 > *cap)
            *cap = *cap ? *cap * 2 : 4096;
        *buf = realloc(*buf, *cap);
        assert_non_null(*buf);
    }
    memcpy(*buf + *len, data, n);
    *len += n;
    (*buf)[*len] = '\0';
}

void it_transcript_cb(void *ud, int direction, const unsigned char *line,
                      size_t len)
{
    it_transcript *t = ud;
    char shown[4096];

    asmtp_render_text(line, len, shown, sizeof shown);
    append(&t->text, &t->len, &t->cap,
           direction == ASMTP_SENT ? "C: " : "S: ", 3);
    append(&t->text, &t->len, &t->cap, shown, strlen(shown));
    append(&t->text, &t->len, &t->cap, "\n", 1);
    append((char **)&t->raw, &t->raw_len, &t->raw_cap, line, len);
    append((char **)&t->raw, &t->raw_len, &t->raw_cap, "\n", 1);
}

void it_transcript_free(it_transcript *t)
{
    free(t->text);
    free(t->raw);
    memset(t, 0, sizeof *t);
}

/* ---- Assertions ---------------------------------------------------------- */

bool it_memmem(const void *hay, size_t hay_len, const void *needle,
               size_t needle_len)
{
    const unsigned char *h = hay;

    if (needle_len == 0)
        return true;
    for (size_t i = 0; i + needle_len <= hay_len; i++)
        if (memcmp(h + i, needle, needle_len) == 0)
            return true;
    return false;
}

void it_assert_contains_at(const char *hay, const char *needle, bool want,
                           const char *file, int line)
{
    bool found;

    if (!hay)
        _fail(file, line);
    found = strstr(hay, needle) != NULL;
    if (found != want) {
        print_error("%s:%d: expected %s \"%s\" in:\n%s\n", file, line,
                    want ? "to find" : "not to find", needle, hay);
        _fail(file, line);
    }
}

void it_assert_file_equals_at(const char *path, const void *data, size_t len,
                              const char *file, int line)
{
    size_t got_len;
    char *got = it_read_file(path, &got_len);

    if (!got) {
        print_error("%s:%d: %s does not exist\n", file, line, path);
        _fail(file, line);
    }
    if (got_len != len || memcmp(got, data, len) != 0) {
        size_t i = 0;

        while (i < got_len && i < len && got[i] == ((const char *)data)[i])
            i++;
        print_error("%s:%d: %s differs at octet %zu (%zu octets, expected "
                    "%zu)\n--- got:\n%s\n--- expected:\n%.*s\n",
                    file, line, path, i, got_len, len, got, (int)len,
                    (const char *)data);
        free(got);
        _fail(file, line);
    }
    free(got);
}

size_t it_count(const char *hay, const char *needle)
{
    size_t n = 0, step = strlen(needle);

    for (const char *p = hay; step && (p = strstr(p, needle)); p += step)
        n++;
    return n;
}

char *it_base64(const void *data, size_t len)
{
    static const char abc[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *p = data;
    char *out = malloc((len + 2) / 3 * 4 + 1), *o = out;

    assert_non_null(out);
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned)p[i] << 16;

        if (i + 1 < len)
            v |= (unsigned)p[i + 1] << 8;
        if (i + 2 < len)
            v |= p[i + 2];
        *o++ = abc[(v >> 18) & 63];
        *o++ = abc[(v >> 12) & 63];
        *o++ = i + 1 < len ? abc[(v >> 6) & 63] : '=';
        *o++ = i + 2 < len ? abc[v & 63] : '=';
    }
    *o = '\0';
    return out;
}

/* ---- Counting allocator -------------------------------------------------- */

static void *count_malloc(size_t size, void *ud)
{
    it_counting_mem *m = ud;
    void *p = malloc(size ? size : 1);

    if (p)
        m->live++;
    return p;
}

static void *count_realloc(void *ptr, size_t size, void *ud)
{
    it_counting_mem *m = ud;
    void *p = realloc(ptr, size ? size : 1);

    if (p && !ptr)
        m->live++;
    return p;
}

static void count_free(void *ptr, void *ud)
{
    it_counting_mem *m = ud;

    if (ptr)
        m->live--;
    free(ptr);
}

void it_counting_mem_init(it_counting_mem *m)
{
    memset(m, 0, sizeof *m);
    m->mem.user_data = m;
    m->mem.malloc = count_malloc;
    m->mem.realloc = count_realloc;
    m->mem.free = count_free;
}
