/*
 * The blocking API: the client's operations as calls that return when
 * they complete. Each runs the same client code over a private libuv
 * loop; it adds no protocol logic of its own.
 *
 * Threads: one asmtp_sync per thread at a time (it is not locked); use as
 * many as you like in different threads.
 */
#ifndef ASMTP_SYNC_H
#define ASMTP_SYNC_H

#include "asmtp/client.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct asmtp_sync asmtp_sync;

/* Create a blocking client (config as for asmtp_client_new()). */
ASMTP_EXTERN int asmtp_sync_new(asmtp_sync **sync,
                                const asmtp_client_config *config,
                                const asmtp_mem *mem);

/* Close the connection if open and free everything. NULL is allowed. */
ASMTP_EXTERN void asmtp_sync_free(asmtp_sync *sync);

/*
 * Each call below blocks until its operation completes and returns the
 * result's error: 0 on success (a send with some recipients refused is a
 * success), otherwise a negative code. The whole result of the last call
 * is available from asmtp_sync_result().
 */
ASMTP_EXTERN int asmtp_sync_connect(asmtp_sync *sync);
ASMTP_EXTERN int asmtp_sync_adopt(asmtp_sync *sync, int fd);
ASMTP_EXTERN int asmtp_sync_ehlo(asmtp_sync *sync);
ASMTP_EXTERN int asmtp_sync_auth(asmtp_sync *sync,
                                 const asmtp_credentials *credentials,
                                 unsigned allowed);
ASMTP_EXTERN int asmtp_sync_send(asmtp_sync *sync,
                                 const asmtp_envelope *envelope,
                                 const asmtp_content *content);
ASMTP_EXTERN int asmtp_sync_send_message(asmtp_sync *sync,
                                         const asmtp_envelope *envelope,
                                         const asmtp_content *content);
ASMTP_EXTERN int asmtp_sync_rset(asmtp_sync *sync);
ASMTP_EXTERN int asmtp_sync_noop(asmtp_sync *sync);
ASMTP_EXTERN int asmtp_sync_vrfy(asmtp_sync *sync, const char *arg);
ASMTP_EXTERN int asmtp_sync_expn(asmtp_sync *sync, const char *arg);
ASMTP_EXTERN int asmtp_sync_help(asmtp_sync *sync, const char *arg);
ASMTP_EXTERN int asmtp_sync_raw(asmtp_sync *sync, const char *line);
ASMTP_EXTERN int asmtp_sync_quit(asmtp_sync *sync);

/* Close without QUIT. Returns when the connection is closed. */
ASMTP_EXTERN void asmtp_sync_close(asmtp_sync *sync);

/*
 * The result of the last call, copied: valid until the next call on sync
 * (or its free). Before any call, a result with error 0 and no replies.
 * A call refused on the spot (a bad argument) leaves a result with that
 * error and the text of asmtp_strerror().
 */
ASMTP_EXTERN const asmtp_result *asmtp_sync_result(const asmtp_sync *sync);

/* The client underneath, for asmtp_client_session() and its queries. */
ASMTP_EXTERN asmtp_client *asmtp_sync_client(asmtp_sync *sync);

#ifdef __cplusplus
}
#endif

#endif
