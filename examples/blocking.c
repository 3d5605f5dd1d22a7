/*
 * The blocking API: connect, send one message whose envelope comes from
 * its headers, quit. STARTTLS is used when the server offers it.
 *
 *   blocking HOST PORT < message.eml
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asmtp.h"

static int report(asmtp_sync *sync, const char *what)
{
    const asmtp_result *r = asmtp_sync_result(sync);
    char reply[512];

    asmtp_reply_render(r->reply, reply, sizeof reply);
    fprintf(stderr, "%s: %s%s%s\n", what, r->error ? "failed: " : "ok",
            r->error ? r->message : "", r->reply ? "" : "");
    if (r->reply)
        fprintf(stderr, "  %s\n", reply);
    for (size_t i = 0; i < r->recipient_count; i++)
        fprintf(stderr, "  %s %s\n", r->recipients[i].address,
                r->recipients[i].accepted ? "accepted" : "refused");
    return r->error;
}

int main(int argc, char **argv)
{
    static char message[1 << 20];
    size_t len = fread(message, 1, sizeof message, stdin);
    asmtp_client_config config;
    asmtp_content content;
    asmtp_sync *sync;
    int failed;

    signal(SIGPIPE, SIG_IGN); /* a server that hangs up must not kill us */

    if (argc != 3) {
        fprintf(stderr, "usage: %s HOST PORT < message\n", argv[0]);
        return 64;
    }
    memset(&config, 0, sizeof config);
    config.host = argv[1];
    config.port = (uint16_t)strtoul(argv[2], NULL, 10);
    config.tls_config.no_verify = getenv("ASMTP_NO_VERIFY") != NULL;
    if (asmtp_sync_new(&sync, &config, NULL) != 0)
        return 70;

    memset(&content, 0, sizeof content);
    content.data = message;
    content.len = len;
    failed = asmtp_sync_connect(sync) ? report(sync, "connect") : 0;
    if (!failed) {
        asmtp_sync_send_message(sync, NULL, &content);
        failed = report(sync, "send");
        asmtp_sync_quit(sync);
    }
    asmtp_sync_free(sync);
    return failed ? 75 : 0;
}
