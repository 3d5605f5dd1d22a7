/*
 * RFC 5322 address lists (3.4): mailboxes with display names, quoted
 * strings, comments, groups, and the obsolete forms of 4.4 that real mail
 * still carries. The result is the addr-specs, ready to be envelope paths.
 */
#ifndef ASMTP_ADDRESS_H
#define ASMTP_ADDRESS_H

#include <stddef.h>

#include "buf.h"

typedef struct asmtp__address_list {
    const asmtp_mem *mem;
    char **addresses; /* addr-specs, NUL-terminated, "local@domain" */
    size_t count;
} asmtp__address_list;

ASMTP__HIDDEN void asmtp__address_list_init(asmtp__address_list *list,
                                            const asmtp_mem *mem);
ASMTP__HIDDEN void asmtp__address_list_free(asmtp__address_list *list);

/*
 * Parse a header field body (already unfolded: CRLF followed by WSP
 * removed, or not: folding whitespace is accepted) and append every
 * mailbox's addr-spec to list, in order. Display names and comments are
 * dropped; RFC 2047 encoded words in them are left alone (never decoded).
 * Quoted local parts keep their quotes when they need them ("a b"@c), and
 * lose them when they do not ("ab"@c becomes ab@c). Groups contribute
 * their members ("undisclosed-recipients:;" contributes none). Octets of
 * 0x80 and above are taken as UTF-8 (RFC 6532).
 *
 * Returns 0, ASMTP_ERR_MESSAGE when the text is not an address list (the
 * list is then unchanged), or ASMTP_ERR_NOMEM.
 */
ASMTP__HIDDEN int asmtp__address_list_parse(asmtp__address_list *list,
                                            const char *text, size_t len);

#endif
