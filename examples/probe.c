/*
 * Ask a server what it offers and try the simple commands: EHLO, the
 * extensions, optional AUTH, NOOP, HELP, VRFY, EXPN, RSET, a raw command
 * and QUIT, all queued at once and answered in order. Plaintext only.
 *
 *   probe HOST PORT [ADDRESS]
 *
 * With ASMTP_USER and ASMTP_PASSWORD in the environment it authenticates
 * first (over plaintext: use it against a test server only).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "asmtp.h"
#include "poll_loop.h"

static const char *const keywords[] = {
    "PIPELINING", "CHUNKING", "8BITMIME",
    "SMTPUTF8",   "DSN",      "SIZE",
    "AUTH",       "STARTTLS", "ENHANCEDSTATUSCODES",
};

static void print_reply(const char *label, const asmtp_result *result)
{
    char text[1024];

    asmtp_reply_render(result->reply, text, sizeof text);
    printf("%s: %s", label,
           result->error ? asmtp_error_name(result->error) : "ok");
    if (result->reply)
        printf(" %s", text);
    printf("\n");
}

static void on_start(asmtp_session *session, const asmtp_result *result,
                     void *user_data)
{
    const char *params;

    print_reply(user_data, result);
    if (result->error)
        return;
    for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
        if (asmtp_session_extension(session, keywords[i], &params))
            printf("  offers %s%s%s\n", keywords[i], *params ? " " : "",
                   params);
    printf("  size limit %llu, tls %s, auth mechanisms 0x%x\n",
           (unsigned long long)asmtp_session_size_limit(session),
           asmtp_session_is_tls(session) ? "yes" : "no",
           asmtp_session_auth_mechanisms(session));
}

static void on_reply(asmtp_session *session, const asmtp_result *result,
                     void *user_data)
{
    (void)session;
    print_reply(user_data, result);
}

static int queue_auth(asmtp_session *session)
{
    const char *user = getenv("ASMTP_USER");
    const char *password = getenv("ASMTP_PASSWORD");
    asmtp_credentials creds;

    if (!user || !password)
        return 0;
    memset(&creds, 0, sizeof creds);
    creds.username.data = (const unsigned char *)user;
    creds.username.len = strlen(user);
    creds.password.data = (const unsigned char *)password;
    creds.password.len = strlen(password);
    return asmtp_session_auth(session, &creds, 0, on_reply, "AUTH");
}

static int queue_all(asmtp_session *session, const char *address)
{
    int rv = asmtp_session_start(session, on_start, "EHLO");

    rv = rv ? rv : queue_auth(session);
    rv = rv ? rv : asmtp_session_noop(session, on_reply, "NOOP");
    rv = rv ? rv : asmtp_session_help(session, NULL, on_reply, "HELP");
    rv = rv ? rv : asmtp_session_vrfy(session, address, on_reply, "VRFY");
    rv = rv ? rv : asmtp_session_expn(session, address, on_reply, "EXPN");
    rv = rv ? rv : asmtp_session_rset(session, on_reply, "RSET");
    rv = rv ? rv : asmtp_session_raw(session, "XPROBE", on_reply, "XPROBE");
    rv = rv ? rv : asmtp_session_ehlo(session, on_reply, "EHLO again");
    rv = rv ? rv : asmtp_session_quit(session, on_reply, "QUIT");
    return rv;
}

int main(int argc, char **argv)
{
    asmtp_session_config config;
    asmtp_session *session;
    int fd, rv;

    if (argc < 3) {
        fprintf(stderr, "usage: %s HOST PORT [ADDRESS]\n", argv[0]);
        return 64;
    }
    fd = connect_to(argv[1], argv[2]);
    if (fd < 0) {
        fprintf(stderr, "cannot connect to %s:%s\n", argv[1], argv[2]);
        return 69;
    }
    memset(&config, 0, sizeof config);
    config.local_hostname = "localhost";
    config.starttls = ASMTP_STARTTLS_NEVER;
    rv = asmtp_session_new(&session, &config, NULL);
    rv = rv ? rv : queue_all(session, argc > 3 ? argv[3] : "postmaster");
    if (rv) {
        fprintf(stderr, "%s\n", asmtp_strerror(rv));
        return 70;
    }
    asmtp_session_tick(session, now_ms());
    rv = run_session(session, fd);
    rv = rv ? rv : asmtp_session_error(session);
    asmtp_session_free(session);
    close(fd);
    return rv ? 75 : 0;
}
