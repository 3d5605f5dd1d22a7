/*
 * Shared helpers for the integration programs (test_tls.c, test_auth.c,
 * test_messages.c, test_faults.c, test_sync.c): where the servers started
 * by the shell wrapper are, what they recorded, and a result recorder for
 * client callbacks that copies everything a test may assert on.
 */
#ifndef ASMTP_IT_SUPPORT_H
#define ASMTP_IT_SUPPORT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <uv.h>

#include "asmtp.h"

#define IT_MAX_RCPT 8

/* What a client callback received, copied. */
typedef struct it_reply {
    bool present;
    int code;
    char enhanced[12];
    char text[512]; /* rendered with asmtp_render_text() */
} it_reply;

typedef struct it_record {
    int calls;
    int seq; /* the value of it_sequence when the callback ran */
    int op;
    int error;
    char message[512];
    it_reply reply;
    it_reply mail_reply, data_reply, final_reply;
    size_t recipient_count, refused_count;
    bool accepted[IT_MAX_RCPT];
    char address[IT_MAX_RCPT][128];
    it_reply rcpt_reply[IT_MAX_RCPT];
    bool maybe_delivered, warned;
    /* Copied from asmtp_client_session() inside the callback. */
    bool had_session;
    /* Inside the callback: connect again with this record. */
    struct it_record *connect_again;
} it_record;

extern const char *it_work; /* argv[1]: the wrapper's scratch directory */
extern int it_sequence;     /* callbacks run so far, in this process */

void it_init(int argc, char **argv);

/* A path under the scratch directory: it_path("plain", "1.envelope").
 * Returns one of a few static buffers; copy it to keep it. */
const char *it_path(const char *server, const char *file);
const char *it_cert(const char *file);

/* The TCP port server NAME listens on. */
uint16_t it_port(const char *server);

/* A whole file, NUL-terminated (for text use), or NULL when absent. */
char *it_read_file(const char *path, size_t *len);
bool it_exists(const char *path);
/* Wait (bounded: 20 s) until a file appears; fails the test otherwise. */
void it_wait_for(const char *path);

/* The client configuration for server NAME on 127.0.0.1, with EHLO name
 * ehlo and 10 s timeouts. */
asmtp_client_config it_config(const char *server, const char *ehlo);

void it_on_done(asmtp_client *client, const asmtp_result *result, void *ud);
void it_copy_result(it_record *rec, const asmtp_result *result);

/* Run the loop until rec has been called. */
void it_run_until(uv_loop_t *loop, const it_record *rec);
/* Free the client and run the loop until everything is closed. */
void it_finish(uv_loop_t *loop, asmtp_client *client);

/*
 * The commands aiosmtpd logged for the connection whose EHLO (or HELO)
 * named ehlo, as "EHLO x", "MAIL FROM:<a>", ... in order, joined by '\n'
 * (aiosmtpd's repr of each line, so non-ASCII shows as \xNN). Malloc'd.
 */
char *it_server_commands(const char *server, const char *ehlo);

/* Fault server: conn-N.log once conn-N.done exists. Malloc'd. */
char *it_conn_log(const char *server, int n);

/* Peak resident set size of this process in KiB, and resetting it. */
long it_vm_hwm_kib(void);
bool it_reset_hwm(void);

/* A transcript collector: "C: line\n" and "S: line\n", bytes rendered. */
typedef struct it_transcript {
    char *text;
    size_t len, cap;
    /* Raw bytes too, to search for secrets that rendering would hide. */
    unsigned char *raw;
    size_t raw_len, raw_cap;
} it_transcript;
void it_transcript_cb(void *ud, int direction, const unsigned char *line,
                      size_t len);
void it_transcript_free(it_transcript *t);

/*
 * One whole connection on a fresh loop: connect, send (envelope and
 * content may be NULL for alice@example.org -> bob@example.net and a short
 * text), QUIT. Any record may be NULL.
 */
void it_connect_send_quit(const asmtp_client_config *config, it_record *conn,
                          it_record *sent, it_record *quit,
                          const asmtp_envelope *envelope,
                          const asmtp_content *content);
extern const char it_default_body[];

/* The N of aiosmtpd's "250 2.0.0 stored as N" final reply; fails the test
 * when the send was not stored. */
int it_stored_number(const it_record *sent);
/* it_path(server, "N.suffix"). */
const char *it_message_file(const char *server, int n, const char *suffix);

/* Binary-safe search. */
bool it_memmem(const void *hay, size_t hay_len, const void *needle,
               size_t needle_len);

/* Assertions that show both sides when they fail. */
#define it_assert_contains(hay, needle)                                        \
    it_assert_contains_at((hay), (needle), true, __FILE__, __LINE__)
#define it_assert_lacks(hay, needle)                                           \
    it_assert_contains_at((hay), (needle), false, __FILE__, __LINE__)
void it_assert_contains_at(const char *hay, const char *needle, bool want,
                           const char *file, int line);

/* The file's bytes equal data exactly. */
#define it_assert_file_equals(path, data, len)                                 \
    it_assert_file_equals_at((path), (data), (len), __FILE__, __LINE__)
void it_assert_file_equals_at(const char *path, const void *data, size_t len,
                              const char *file, int line);

/* Number of (non-overlapping) occurrences of needle. */
size_t it_count(const char *hay, const char *needle);

/* Base64 (for looking for encoded secrets). Malloc'd, NUL-terminated. */
char *it_base64(const void *data, size_t len);

/* An allocator for the library that counts the blocks it has handed out
 * and not had back: live must be 0 once everything is freed. */
typedef struct it_counting_mem {
    asmtp_mem mem;
    long live;
} it_counting_mem;
void it_counting_mem_init(it_counting_mem *m);

#endif
