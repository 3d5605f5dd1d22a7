/*
 * Incremental reply parser (RFC 5321 4.2, RFC 3463 enhanced codes).
 *
 * Fed the server's bytes in pieces split anywhere; returns each complete
 * reply as soon as its last line is in. It stops after every reply so that
 * the caller can say, before the next one, whether enhanced status codes
 * are to be split out of it (not for the greeting and EHLO/HELO replies).
 */
#ifndef ASMTP_REPLY_INTERNAL_H
#define ASMTP_REPLY_INTERNAL_H

#include <stdbool.h>

#include "buf.h"

#define ASMTP__REPLY_LINE_MAX  8192u         /* octets, CRLF included */
#define ASMTP__REPLY_MAX       (64u * 1024u) /* octets of a whole reply */
#define ASMTP__REPLY_LINES_MAX 1024u         /* lines in one reply */

/* Returned by asmtp__reply_parser_feed() when a reply is complete. */
#define ASMTP__REPLY_DONE 1

typedef struct asmtp__reply_parser {
    const asmtp_mem *mem;
    asmtp__buf line;  /* the line being received, without its CRLF */
    asmtp__buf lines; /* completed lines of the reply being received */
    size_t line_count;
    size_t reply_bytes; /* octets of the current reply seen so far */
    int code;           /* code of the reply's first line, 0 before it */
    bool saw_cr;        /* the last byte fed was a CR ending a line */
    bool enhanced;      /* split enhanced codes from the next reply */
} asmtp__reply_parser;

ASMTP__HIDDEN void asmtp__reply_parser_init(asmtp__reply_parser *parser,
                                            const asmtp_mem *mem);
ASMTP__HIDDEN void asmtp__reply_parser_free(asmtp__reply_parser *parser);

/* Whether enhanced status codes are split out of the replies that follow
 * (default true). Changing it mid-reply affects that reply. */
ASMTP__HIDDEN void
asmtp__reply_parser_expect_enhanced(asmtp__reply_parser *parser, bool enhanced);

/* True when some bytes of a reply have been fed but it is not complete. */
ASMTP__HIDDEN bool
asmtp__reply_parser_mid_reply(const asmtp__reply_parser *parser);

/*
 * Feed len bytes. *consumed is set to how many were used. Returns:
 *   0                   all bytes consumed, no reply completed yet;
 *   ASMTP__REPLY_DONE   a reply completed after *consumed bytes; *reply
 *                       is a new reply owned by the caller (free it with
 *                       asmtp__reply_free()); feed the rest again;
 *   ASMTP_ERR_MALFORMED_REPLY, ASMTP_ERR_REPLY_TOO_LONG, ASMTP_ERR_NOMEM
 *                       the parser is unusable afterwards except for
 *                       asmtp__reply_parser_free().
 * A line ends at CRLF; a bare LF also ends a line (as servers send it), a
 * bare CR is kept as part of the line text.
 */
ASMTP__HIDDEN int asmtp__reply_parser_feed(asmtp__reply_parser *parser,
                                           const unsigned char *data,
                                           size_t len, size_t *consumed,
                                           asmtp_reply **reply);

/* Build a reply from its parts (for tests and internal synthesis). */
ASMTP__HIDDEN asmtp_reply *asmtp__reply_new(const asmtp_mem *mem, int code,
                                            const char *enhanced,
                                            const asmtp_bytes *lines,
                                            size_t line_count);
ASMTP__HIDDEN asmtp_reply *asmtp__reply_copy(const asmtp_mem *mem,
                                             const asmtp_reply *reply);
ASMTP__HIDDEN void asmtp__reply_free(const asmtp_mem *mem, asmtp_reply *reply);

/* The reply's class: its code's first digit (2, 3, 4 or 5). */
static inline int asmtp__reply_class(const asmtp_reply *reply)
{
    return reply->code / 100;
}

#endif
