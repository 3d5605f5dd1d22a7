/*
 * Messages (RFC 5322) as the client sends them: the envelope derived from
 * the header fields when the caller gives none, and the transmitted bytes
 * with Bcc and Resent-Bcc removed.
 */
#ifndef ASMTP_MESSAGE_H
#define ASMTP_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "asmtp/session.h"
#include "buf.h"
#include "address.h"

/* The header section is read up to this many octets (the empty line
 * included); a longer one is ASMTP_ERR_MESSAGE. */
#define ASMTP__HEADER_MAX (1024u * 1024u)

/*
 * A message's header section, parsed. Everything points into storage the
 * struct owns.
 */
typedef struct asmtp__message {
    const asmtp_mem *mem;
    /* Where the header section ends in the input: the offset just past the
     * empty line (or the end of the input when there is none). */
    size_t header_len;
    /* The sender and the recipients the headers give (see
     * asmtp__message_parse()). sender is NULL when none could be found. */
    char *sender;
    asmtp__address_list recipients;
    /* The header section as it is to be transmitted: the input's, minus
     * every Bcc and Resent-Bcc field (with their continuation lines). The
     * body (input from header_len on) follows it unchanged. */
    asmtp__buf header;
    bool stripped; /* a Bcc or Resent-Bcc field was removed */
} asmtp__message;

ASMTP__HIDDEN void asmtp__message_init(asmtp__message *msg,
                                       const asmtp_mem *mem);
ASMTP__HIDDEN void asmtp__message_free(asmtp__message *msg);

/*
 * Parse the header section at the start of data (len octets; it ends at
 * the first empty line, CRLF or LF line ends, or at the end of data). The
 * envelope, per RFC 5322 3.6.6 and FIELD-NOTES:
 *   - with no Resent- fields: sender from Sender, else the first address
 *     of From; recipients from To, Cc and Bcc, in that order;
 *   - with exactly one Resent- block (Resent-Date, -From, -Sender, -To,
 *     -Cc, -Bcc, -Message-ID fields; a block is a run of them, and the
 *     newest block comes first): sender from Resent-Sender, else
 *     Resent-From; recipients from Resent-To, Resent-Cc, Resent-Bcc;
 *   - more than one Resent- block: ASMTP_ERR_MESSAGE (which one to use
 *     is ambiguous).
 * Duplicate recipients are kept once, in first-seen order, compared
 * exactly. Returns 0, ASMTP_ERR_MESSAGE with a reason in why (a header
 * section over ASMTP__HEADER_MAX, a malformed address field, two Resent-
 * blocks), or ASMTP_ERR_NOMEM. A message with no sender or no recipients
 * is not an error here: sender stays NULL / the list empty, and the caller
 * decides.
 *
 * In detail:
 *   - Every line before the empty line must be a field (a name of
 *     printable ASCII other than ":", white space allowed before the ":")
 *     or a continuation of one (a line starting with SP or HTAB, a line of
 *     white space only included). Anything else, an mbox "From " line or
 *     a continuation as the first line among them, is ASMTP_ERR_MESSAGE
 *     "header line N is not a field". The body is never looked at.
 *   - Field names are compared ignoring ASCII case. A field body is given
 *     to asmtp__address_list_parse() with its folds and without the line
 *     end of its last line.
 *   - Only the fields the envelope needs are parsed: the Sender fields in
 *     order until one gives an address, then likewise the From fields
 *     (so a Sender of "<>" or an empty group falls back to From); and all
 *     of To, Cc and Bcc. A malformed one of these is ASMTP_ERR_MESSAGE
 *     "the To field is not a valid address list (line N)"; fields not
 *     needed (From when Sender gives an address, the originals when a
 *     Resent- block is used) are not checked.
 *   - A Resent- field is any field whose name starts with "Resent-"; a
 *     block is a run of them with no other field between (a Received or a
 *     Bcc field ends the run). With one block, From and Sender are not
 *     used: sender stays NULL when the block has neither Resent-Sender nor
 *     Resent-From. A block of Resent-Bcc fields alone is still a block.
 *   - header is exactly the input's header section less those fields;
 *     line ends (CRLF or LF, mixed) and the empty line are kept as they
 *     are. stripped is true when any field was removed.
 *   - msg is emptied first; on error it is left empty (as after
 *     asmtp__message_init()). why (may be NULL, or why_size 0) receives a
 *     sentence on every error and "" on success.
 */
ASMTP__HIDDEN int asmtp__message_parse(asmtp__message *msg, const void *data,
                                       size_t len, char *why, size_t why_size);

#endif
