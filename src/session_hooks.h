/*
 * What the library's own I/O layers (client, pool) may ask of a session
 * beyond the public API.
 */
#ifndef ASMTP_SESSION_HOOKS_H
#define ASMTP_SESSION_HOOKS_H

#include "asmtp/session.h"
#include "buf.h"

/*
 * Queue an operation that has already failed (for example a message whose
 * envelope cannot be derived): it completes in order with the others,
 * through cb, at the next driving call.
 */
ASMTP__HIDDEN int asmtp__session_submit_failed(asmtp_session *s, int kind,
                                               int error, const char *message,
                                               asmtp_done_cb cb,
                                               void *user_data);

/* Whether the output not yet written may hold a SASL line, so that a copy
 * of it must be wiped once written. */
ASMTP__HIDDEN bool asmtp__session_output_secret(const asmtp_session *s);

#endif
