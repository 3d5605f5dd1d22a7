/*
 * The pool, blocking variant: twenty messages over up to four
 * connections on a private loop, then the counters.
 *
 *   pool HOST PORT FROM TO
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asmtp.h"

static void done(asmtp_pool *pool, const asmtp_result *result, void *ud)
{
    (void)pool;
    (void)ud;
    if (result->error)
        fprintf(stderr, "failed: %s\n", result->message);
}

int main(int argc, char **argv)
{
    static const char body[] = "Subject: pooled\r\n\r\nHello.\r\n";
    asmtp_pool_config config;
    asmtp_pool_stats stats;
    asmtp_pool *pool;
    asmtp_recipient rcpt;
    asmtp_envelope envelope;
    asmtp_content content;

    signal(SIGPIPE, SIG_IGN); /* a server that hangs up must not kill us */

    if (argc != 5) {
        fprintf(stderr, "usage: %s HOST PORT FROM TO\n", argv[0]);
        return 64;
    }
    memset(&config, 0, sizeof config);
    config.client.host = argv[1];
    config.client.port = (uint16_t)strtoul(argv[2], NULL, 10);
    config.max_connections = 4;
    config.max_messages = 5; /* a fresh connection every five messages */
    config.max_retries = 2;
    if (asmtp_pool_new(&pool, NULL, &config, NULL) != 0)
        return 70;

    memset(&rcpt, 0, sizeof rcpt);
    rcpt.address = argv[4];
    memset(&envelope, 0, sizeof envelope);
    envelope.sender = argv[3];
    envelope.recipients = &rcpt;
    envelope.recipient_count = 1;
    memset(&content, 0, sizeof content);
    content.data = body;
    content.len = sizeof body - 1;
    for (int i = 0; i < 20; i++)
        asmtp_pool_send(pool, &envelope, &content, done, NULL);
    asmtp_pool_wait(pool);

    asmtp_pool_get_stats(pool, &stats);
    printf("%llu delivered, %llu failed, %llu connections\n",
           (unsigned long long)stats.delivered,
           (unsigned long long)stats.failed,
           (unsigned long long)stats.connections);
    asmtp_pool_free(pool);
    return stats.failed ? 75 : 0;
}
