/*
 * Body encoder: message content to what goes on the wire after DATA or in
 * BDAT chunks.
 *
 * Streaming over chunks split anywhere. Bare CR and bare LF become CRLF (a
 * CR ending one chunk and an LF starting the next are one CRLF). In DATA
 * mode each line starting with '.' gets one more '.', and finish() adds a
 * CRLF only when the content does not end with one, then ".\r\n". In BDAT
 * mode the content is normalised the same way but never stuffed, and
 * finish() adds only the missing CRLF: the caller frames the bytes in BDAT
 * chunks (asmtp__command_bdat()).
 *
 * Alongside, the encoder counts the RFC 1870 size (normalised octets, no
 * stuffing, no final dot), whether any octet is 8-bit, and the longest
 * line (CRLF excluded), so that a caller can refuse lines over 998.
 */
#ifndef ASMTP_BODY_H
#define ASMTP_BODY_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"

#define ASMTP__BODY_LINE_MAX 998u /* octets, CRLF excluded (RFC 5322) */

enum asmtp__body_mode {
    ASMTP__BODY_DATA = 0,
    ASMTP__BODY_BDAT,
};

typedef struct asmtp__body_encoder {
    int mode;           /* enum asmtp__body_mode */
    bool pending_cr;    /* the last chunk ended in a CR */
    bool at_line_start; /* the next octet starts a line */
    bool ended_crlf;    /* the output so far ends with CRLF (or is empty) */
    bool eight_bit;     /* some octet was 0x80 or above */
    bool nul;           /* some octet was NUL */
    uint64_t size;      /* RFC 1870 size so far */
    uint64_t line_len;  /* octets in the current line */
    uint64_t longest_line;
} asmtp__body_encoder;

ASMTP__HIDDEN void asmtp__body_encoder_init(asmtp__body_encoder *enc, int mode);

/*
 * Encode len bytes, appending to out. out may be NULL to only measure (the
 * counters still advance). Returns 0 or ASMTP_ERR_NOMEM; after a failure
 * the encoder's state is unspecified.
 */
ASMTP__HIDDEN int asmtp__body_encode(asmtp__body_encoder *enc, const void *data,
                                     size_t len, asmtp__buf *out);

/* End the content: the missing CRLF, and ".\r\n" in DATA mode. out may be
 * NULL to only measure. */
ASMTP__HIDDEN int asmtp__body_finish(asmtp__body_encoder *enc, asmtp__buf *out);

/*
 * Measure a whole message in memory: size, 8-bit, longest line, as the
 * encoder would count them. Runs the same code as asmtp__body_encode().
 */
ASMTP__HIDDEN void asmtp__body_measure(const void *data, size_t len,
                                       uint64_t *size, bool *eight_bit,
                                       uint64_t *longest_line);

#endif
