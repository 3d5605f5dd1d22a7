/*
 * Extension parser: the EHLO reply (RFC 5321 4.1.1.1) to a set of
 * keywords with their parameters.
 *
 * Keywords match case-insensitively and as whole tokens. The well-known
 * ones become flags; every keyword, known or not, stays queryable by name.
 */
#ifndef ASMTP_EXT_H
#define ASMTP_EXT_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"

enum asmtp__ext_flag {
    ASMTP__EXT_PIPELINING = 1u << 0,
    ASMTP__EXT_CHUNKING = 1u << 1,
    ASMTP__EXT_BINARYMIME = 1u << 2,
    ASMTP__EXT_8BITMIME = 1u << 3,
    ASMTP__EXT_SMTPUTF8 = 1u << 4,
    ASMTP__EXT_DSN = 1u << 5,
    ASMTP__EXT_ENHANCEDSTATUSCODES = 1u << 6,
    ASMTP__EXT_STARTTLS = 1u << 7,
    ASMTP__EXT_REQUIRETLS = 1u << 8,
    ASMTP__EXT_SIZE = 1u << 9,
    ASMTP__EXT_AUTH = 1u << 10,
};

typedef struct asmtp__ext_keyword {
    char *keyword; /* as the server spelled it, NUL-terminated */
    char *params;  /* the rest of the line after one space, or "" */
} asmtp__ext_keyword;

typedef struct asmtp__extensions {
    const asmtp_mem *mem;
    unsigned flags;    /* enum asmtp__ext_flag */
    uint64_t size_max; /* SIZE parameter; 0 when absent or unlimited */
    unsigned auth;     /* enum asmtp_auth_mechanism bits offered */
    asmtp__ext_keyword *keywords;
    size_t keyword_count;
} asmtp__extensions;

ASMTP__HIDDEN void asmtp__extensions_init(asmtp__extensions *ext,
                                          const asmtp_mem *mem);
/* Forget everything (after STARTTLS, or before a new EHLO). */
ASMTP__HIDDEN void asmtp__extensions_clear(asmtp__extensions *ext);

/*
 * Replace the set with what an EHLO reply announces. The first line is the
 * server's greeting and names no keyword. Both "AUTH PLAIN LOGIN" and the
 * old "AUTH=PLAIN LOGIN" add mechanisms. Lines that are not a keyword
 * (empty, or starting with a character that cannot start one) are ignored.
 * Returns 0 or ASMTP_ERR_NOMEM (the set is then empty).
 */
ASMTP__HIDDEN int asmtp__extensions_parse(asmtp__extensions *ext,
                                          const asmtp_reply *ehlo_reply);

/* Whether a keyword was announced, and its parameters ("" for none). NULL
 * when it was not announced. The pointer lives until the next clear or
 * parse. */
ASMTP__HIDDEN const char *asmtp__extensions_find(const asmtp__extensions *ext,
                                                 const char *keyword);

static inline bool asmtp__extensions_has(const asmtp__extensions *ext,
                                         unsigned flag)
{
    return (ext->flags & flag) != 0;
}

#endif
