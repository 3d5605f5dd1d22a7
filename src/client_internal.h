/*
 * The client's private structure, shared with sync.c (the blocking facade
 * runs the same client on a private loop and needs to know when it is
 * idle).
 */
#ifndef ASMTP_CLIENT_INTERNAL_H
#define ASMTP_CLIENT_INTERNAL_H

#include <netdb.h>
#include <uv.h>

#include "asmtp/client.h"
#include "buf.h"
#include "tls.h"

enum client_state {
    CLIENT_IDLE = 0,   /* no connection */
    CLIENT_RESOLVING,  /* looking the name up */
    CLIENT_CONNECTING, /* TCP or Unix connect in progress */
    CLIENT_HANDSHAKE,  /* implicit TLS handshake */
    CLIENT_OPEN,       /* the session talks */
    CLIENT_CLOSING,    /* the socket is being closed */
};

struct asmtp_client {
    uv_loop_t *loop;
    const asmtp_mem *mem;
    asmtp_client_config config; /* strings point at the copies below */
    char *host;
    char *unix_path;
    char *source_address;
    char *local_hostname;
    char *ca_file, *ca_path, *cert_file, *key_file, *server_name;
    uint16_t port;
    bool host_given; /* config.host was set, not defaulted */
    bool adopted;    /* the socket came from asmtp_client_adopt() */

    int state; /* enum client_state */
    asmtp_session *session;
    asmtp_session *old_session; /* of a connection still closing */
    bool reconnect;             /* connect again once it has closed */
    bool literal_hostname;      /* EHLO name to be the local address */

    union {
        uv_handle_t handle;
        uv_stream_t stream;
        uv_tcp_t tcp;
        uv_pipe_t pipe;
    } sock;
    bool sock_open;
    bool sock_closing;   /* uv_close() called, its callback not yet run */
    unsigned generation; /* bumped when a connection ends */
    uv_timer_t timer;
    uv_getaddrinfo_t resolve_req;
    struct addrinfo *addresses, *next_address;
    int connect_error; /* the last address's failure */
    uv_connect_t connect_req;
    uv_write_t write_req;
    bool writing;
    bool write_from_session; /* wbuf holds session output, not TLS */
    size_t write_len;
    bool write_secret; /* wbuf may hold a SASL line: wipe it after */
    asmtp__buf wbuf;

    asmtp__tls *tls;
    bool tls_handshaking;
    bool start_tls;   /* the session paused for STARTTLS */
    bool tls_closing; /* close_notify queued */
    asmtp__buf plain; /* decrypted bytes on their way to the session */

    int deferred_error; /* a failure to deliver from the loop */
    char deferred_message[300];

    uint64_t reads; /* reads that brought bytes */

    int handles;  /* open libuv handles */
    int requests; /* libuv requests not yet called back */
    int depth;    /* nesting of calls into the session */
    bool free_pending;
    bool freeing;
};

#endif
