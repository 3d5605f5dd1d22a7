/*
 * Drive an asmtp_session over a plain socket with poll(): the pattern for
 * programs that own their event loop. Sends one message read from standard
 * input over plaintext SMTP (no TLS: this example never sends STARTTLS).
 *
 *   poll_send HOST PORT FROM TO [TO...] < message.eml
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "asmtp.h"
#include "poll_loop.h"

static char *read_all(FILE *in, size_t *len)
{
    size_t cap = 65536, n;
    char *data = malloc(cap);

    *len = 0;
    while (data && (n = fread(data + *len, 1, cap - *len, in)) > 0) {
        *len += n;
        if (*len == cap) {
            char *bigger = realloc(data, cap *= 2);

            if (!bigger)
                free(data);
            data = bigger;
        }
    }
    return data;
}

static int failures;

static void report(asmtp_session *session, const asmtp_result *result,
                   void *user_data)
{
    char reply[512];

    (void)session;
    asmtp_reply_render(result->reply, reply, sizeof reply);
    fprintf(stderr, "%s: %s%s%s\n", (const char *)user_data,
            result->error ? asmtp_error_name(result->error) : "ok",
            result->error ? ": " : "", result->message);
    if (result->reply)
        fprintf(stderr, "  server: %s\n", reply);
    for (size_t i = 0; i < result->recipient_count; i++)
        if (!result->recipients[i].accepted)
            fprintf(stderr, "  refused: %s\n", result->recipients[i].address);
    if (result->error)
        failures++;
}

int main(int argc, char **argv)
{
    asmtp_session_config config;
    asmtp_session *session;
    asmtp_recipient *rcpts;
    asmtp_envelope envelope;
    asmtp_content content;
    size_t len;
    char *message;
    int fd, rv;

    if (argc < 5) {
        fprintf(stderr, "usage: %s HOST PORT FROM TO [TO...] < message\n",
                argv[0]);
        return 64;
    }
    message = read_all(stdin, &len);
    rcpts = calloc((size_t)argc - 4, sizeof *rcpts);
    fd = connect_to(argv[1], argv[2]);
    if (!message || !rcpts || fd < 0) {
        fprintf(stderr, "cannot read the message or connect to %s:%s\n",
                argv[1], argv[2]);
        return 69;
    }
    for (int i = 4; i < argc; i++)
        rcpts[i - 4].address = argv[i];

    memset(&config, 0, sizeof config);
    config.local_hostname = "localhost";
    config.starttls = ASMTP_STARTTLS_NEVER;
    rv = asmtp_session_new(&session, &config, NULL);
    if (rv) {
        fprintf(stderr, "%s\n", asmtp_strerror(rv));
        return 70;
    }
    memset(&envelope, 0, sizeof envelope);
    envelope.sender = argv[3];
    envelope.recipients = rcpts;
    envelope.recipient_count = (size_t)argc - 4;
    memset(&content, 0, sizeof content);
    content.data = message;
    content.len = len;
    rv = asmtp_session_send(session, &envelope, &content, report, "send");
    if (rv == 0)
        rv = asmtp_session_quit(session, report, "quit");
    if (rv) {
        fprintf(stderr, "cannot send: %s\n", asmtp_strerror(rv));
        failures++;
    } else {
        asmtp_session_tick(session, now_ms());
        if (run_session(session, fd) != 0)
            perror("socket");
    }
    asmtp_session_free(session);
    close(fd);
    free(rcpts);
    free(message);
    return failures ? 75 : 0;
}
