/*
 * SASL client mechanisms for AUTH (RFC 4954): PLAIN (RFC 4616), LOGIN,
 * CRAM-MD5 (RFC 2195) and XOAUTH2.
 *
 * The exchange is a small state machine: start() gives the AUTH command's
 * mechanism and optional initial response, step() answers each 334
 * challenge. Responses are base64 lines ready to send (without CRLF). The
 * state holds copies of the credentials and wipes them when freed.
 */
#ifndef ASMTP_SASL_H
#define ASMTP_SASL_H

#include <stdbool.h>

#include "buf.h"

typedef struct asmtp__sasl {
    const asmtp_mem *mem;
    unsigned mechanism; /* one enum asmtp_auth_mechanism bit */
    int step;           /* challenges answered so far */
    bool xoauth2_error; /* the server sent its JSON error challenge */
    asmtp__buf username;
    asmtp__buf secret; /* password or token */
    asmtp__buf authzid;
} asmtp__sasl;

/* "PLAIN", "LOGIN", "CRAM-MD5", "XOAUTH2"; NULL for anything else. */
ASMTP__HIDDEN const char *asmtp__sasl_name(unsigned mechanism);

/*
 * The strongest mechanism in offered & allowed that the credentials can
 * serve: XOAUTH2 when a token is given, otherwise CRAM-MD5, PLAIN, LOGIN
 * in that order (PLAIN only when no field holds a NUL). 0 when none fits.
 */
ASMTP__HIDDEN unsigned asmtp__sasl_choose(unsigned offered, unsigned allowed,
                                          const asmtp_credentials *creds);

/*
 * Begin an exchange. Copies the credentials. On success *has_initial says
 * whether out received an initial response (base64) to send with the AUTH
 * command: PLAIN and XOAUTH2 send one, LOGIN and CRAM-MD5 wait for a
 * challenge. Returns 0, ASMTP_ERR_BAD_ARGUMENT (missing credentials for
 * the mechanism, a NUL in a PLAIN field) or ASMTP_ERR_NOMEM.
 */
ASMTP__HIDDEN int asmtp__sasl_start(asmtp__sasl *sasl, const asmtp_mem *mem,
                                    unsigned mechanism,
                                    const asmtp_credentials *creds,
                                    asmtp__buf *out, bool *has_initial);

/*
 * Answer a 334 challenge (the reply's text: base64, possibly empty).
 * Appends the response line without CRLF to out. Returns 0,
 * ASMTP_ERR_PROTOCOL when the challenge is not valid base64 or comes when
 * the mechanism expects none (the caller then cancels with "*"), or
 * ASMTP_ERR_NOMEM. For XOAUTH2, a challenge after the initial response is
 * the server's JSON error: the response is empty and the final 5xx follows.
 */
ASMTP__HIDDEN int asmtp__sasl_step(asmtp__sasl *sasl,
                                   const unsigned char *challenge,
                                   size_t challenge_len, asmtp__buf *out);

ASMTP__HIDDEN void asmtp__sasl_free(asmtp__sasl *sasl);

/* Base64 (RFC 4648, with padding) appended to out / decoded into out.
 * decode returns ASMTP_ERR_PROTOCOL for invalid input. */
ASMTP__HIDDEN int asmtp__base64_encode(asmtp__buf *out, const void *data,
                                       size_t len);
ASMTP__HIDDEN int asmtp__base64_decode(asmtp__buf *out, const void *data,
                                       size_t len);

#endif
