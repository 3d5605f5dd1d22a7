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
 * In detail:
 *   - The local part is the words' text with CFWS removed and quoted
 *     pairs undone ("a"."b"@c and a . b@c give a.b@c); when that is not a
 *     dot-atom it is quoted again, with '"' and '\' escaped. A local part
 *     holding HTAB is refused: no SMTP quoted string can carry one.
 *   - Domains are dot-atoms (CFWS allowed around the dots, obs-domain) or
 *     literals; white space in a literal is dropped, and an empty literal
 *     or one with a quoted pair (obs-dtext) is refused.
 *   - The obsolete forms of 4.4 are read: obs-phrase display names (dots,
 *     read leniently since they are dropped), obs-local-part, obs-route
 *     ("<@a,@b:u@h>" gives u@h) and empty list elements (",,", leading and
 *     trailing commas), which give nothing.
 *   - "<>" gives no address (and is no error). Neither does a text that is
 *     empty or only CFWS, nor a group left open at the end of the text
 *     ("undisclosed-recipients:" is read as if it had its ";"). A group
 *     inside a group is refused.
 *   - A local part without "@domain" ("To: postmaster") is refused: an
 *     envelope path needs a domain.
 *   - An encoded word is an atom like any other; one that breaks RFC 2047
 *     by holding specials such as "@" or "," is read as the specials say.
 *   - Refused as well: invalid UTF-8 (overlong forms, surrogates, above
 *     U+10FFFF), control characters (C0, DEL and C1) other than HTAB, and
 *     CR or LF other than as a fold: CRLF or a bare LF followed by SP or
 *     HTAB. A trailing line end ("a@b\r\n") is therefore refused; pass
 *     the body without it.
 *
 * Returns 0, ASMTP_ERR_MESSAGE when the text is not an address list (the
 * list is then unchanged), or ASMTP_ERR_NOMEM (the list unchanged, nothing
 * leaked). text may be NULL when len is 0.
 */
ASMTP__HIDDEN int asmtp__address_list_parse(asmtp__address_list *list,
                                            const char *text, size_t len);

#endif
