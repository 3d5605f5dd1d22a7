/*
 * libuv: three messages submitted at once on one connection. They are
 * pipelined when the server allows it and complete in order; the QUIT
 * queued behind them closes the connection.
 *
 *   uv HOST PORT FROM TO
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "asmtp.h"

static int failures;

static void done(asmtp_client *client, const asmtp_result *result, void *ud)
{
    (void)client;
    printf("%s: %s\n", (const char *)ud,
           result->error ? result->message : "ok");
    failures += result->error != 0;
}

int main(int argc, char **argv)
{
    static const char *const names[] = {"message 1", "message 2", "message 3"};
    static char bodies[3][64];
    asmtp_client_config config;
    asmtp_client *client;
    asmtp_recipient rcpt;
    asmtp_envelope envelope;
    uv_loop_t *loop = uv_default_loop();

    signal(SIGPIPE, SIG_IGN); /* a server that hangs up must not kill us */

    if (argc != 5) {
        fprintf(stderr, "usage: %s HOST PORT FROM TO\n", argv[0]);
        return 64;
    }
    memset(&config, 0, sizeof config);
    config.host = argv[1];
    config.port = (uint16_t)strtoul(argv[2], NULL, 10);
    if (asmtp_client_new(&client, loop, &config, NULL) != 0)
        return 70;
    memset(&rcpt, 0, sizeof rcpt);
    rcpt.address = argv[4];
    memset(&envelope, 0, sizeof envelope);
    envelope.sender = argv[3];
    envelope.recipients = &rcpt;
    envelope.recipient_count = 1;

    asmtp_client_connect(client, done, "connect");
    for (int i = 0; i < 3; i++) {
        asmtp_content content;

        memset(&content, 0, sizeof content);
        snprintf(bodies[i], sizeof bodies[i], "Subject: %s\r\n\r\nHi.\r\n",
                 names[i]);
        content.data = bodies[i];
        content.len = strlen(bodies[i]);
        asmtp_client_send(client, &envelope, &content, done, (void *)names[i]);
    }
    asmtp_client_quit(client, done, "quit");
    uv_run(loop, UV_RUN_DEFAULT);
    asmtp_client_free(client);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_loop_close(loop);
    return failures ? 75 : 0;
}
