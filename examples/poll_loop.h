/*
 * The socket side shared by the examples: connect with getaddrinfo(), then
 * move bytes between a socket and an asmtp_session with poll() until the
 * session wants to close. Plaintext only.
 */
#ifndef ASMTP_EXAMPLE_POLL_LOOP_H
#define ASMTP_EXAMPLE_POLL_LOOP_H

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "asmtp.h"

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int connect_to(const char *host, const char *port)
{
    struct addrinfo hints, *list, *ai;
    int fd = -1;

    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, port, &hints, &list) != 0)
        return -1;
    for (ai = list; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(list);
    return fd;
}

/* Write what the session has, read what the server sends, until done. */
static int run_session(asmtp_session *session, int fd)
{
    unsigned char buf[16384];

    while (!asmtp_session_want_close(session)) {
        struct pollfd pfd = {fd, POLLIN, 0};
        size_t len;
        const unsigned char *out = asmtp_session_output(session, &len);
        uint64_t deadline = asmtp_session_deadline(session), now = now_ms();
        int timeout = deadline == UINT64_MAX ? -1
                      : deadline <= now      ? 0
                                             : (int)(deadline - now);
        ssize_t n;

        if (len)
            pfd.events |= POLLOUT;
        if (poll(&pfd, 1, timeout) < 0 && errno != EINTR)
            return -1;
        now = now_ms();
        if ((pfd.revents & POLLOUT) && out) {
            n = send(fd, out, len, MSG_NOSIGNAL);
            if (n < 0)
                return -1;
            asmtp_session_output_done(session, (size_t)n, now);
        }
        if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
            n = recv(fd, buf, sizeof buf, 0);
            if (n <= 0)
                asmtp_session_eof(session, now);
            else
                asmtp_session_feed(session, buf, (size_t)n, now);
        }
        asmtp_session_tick(session, now);
    }
    return 0;
}

#endif
