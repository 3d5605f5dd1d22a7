/*
 * Command encoder (RFC 5321 4.1, with the parameters of RFC 1870, 3030,
 * 3461, 4954, 6152, 6531).
 *
 * Every function appends one complete command line, CRLF included, to out,
 * or appends nothing and returns an error: ASMTP_ERR_BAD_ARGUMENT for any
 * argument byte in 0x00-0x1F or 0x7F or an argument that cannot form a
 * valid command, ASMTP_ERR_COMMAND_TOO_LONG when the line would exceed 512
 * octets, ASMTP_ERR_NOMEM. Checks happen before anything is appended.
 */
#ifndef ASMTP_COMMAND_H
#define ASMTP_COMMAND_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"

#define ASMTP__COMMAND_LINE_MAX 512u /* octets, CRLF included */

typedef struct asmtp__mail_params {
    bool has_size;
    uint64_t size;     /* SIZE= (RFC 1870) */
    int body;          /* enum asmtp_body; AUTO sends none */
    bool smtputf8;     /* SMTPUTF8 (RFC 6531) */
    int ret;           /* enum asmtp_dsn_ret */
    const char *envid; /* ENVID=, xtext-encoded here; NULL for none */
} asmtp__mail_params;

typedef struct asmtp__rcpt_params {
    unsigned notify;   /* enum asmtp_dsn_notify bits */
    const char *orcpt; /* ORCPT= address; NULL for none */
} asmtp__rcpt_params;

/* "EHLO domain" / "HELO domain". domain must be non-empty, no spaces. */
ASMTP__HIDDEN int asmtp__command_ehlo(asmtp__buf *out, const char *domain);
ASMTP__HIDDEN int asmtp__command_helo(asmtp__buf *out, const char *domain);

/*
 * "MAIL FROM:<path> params". An empty reverse_path gives "<>". The local
 * part is quoted when it is not a dot-string (RFC 5321 4.1.2); octets of
 * 0x80 and above are allowed in it (RFC 6531). params may be NULL.
 */
ASMTP__HIDDEN int asmtp__command_mail(asmtp__buf *out, const char *reverse_path,
                                      const asmtp__mail_params *params);
/* "RCPT TO:<path> params"; forward_path must not be empty. */
ASMTP__HIDDEN int asmtp__command_rcpt(asmtp__buf *out, const char *forward_path,
                                      const asmtp__rcpt_params *params);
ASMTP__HIDDEN int asmtp__command_data(asmtp__buf *out);
/* "BDAT size" or "BDAT size LAST". */
ASMTP__HIDDEN int asmtp__command_bdat(asmtp__buf *out, uint64_t size,
                                      bool last);
ASMTP__HIDDEN int asmtp__command_rset(asmtp__buf *out);
/* NOOP, VRFY, EXPN and HELP; the argument is optional for NOOP and HELP
 * (NULL for none) and required for VRFY and EXPN. */
ASMTP__HIDDEN int asmtp__command_noop(asmtp__buf *out, const char *arg);
ASMTP__HIDDEN int asmtp__command_vrfy(asmtp__buf *out, const char *arg);
ASMTP__HIDDEN int asmtp__command_expn(asmtp__buf *out, const char *arg);
ASMTP__HIDDEN int asmtp__command_help(asmtp__buf *out, const char *arg);
ASMTP__HIDDEN int asmtp__command_starttls(asmtp__buf *out);
/*
 * "AUTH mechanism" or "AUTH mechanism initial_response". mechanism is a
 * SASL name (RFC 4422 3.1): uppercase letters, digits, '-' and '_'. The
 * initial response is already base64 and is sent as given; NULL sends
 * none, and a non-NULL response of length 0 is sent as "=" (RFC 4954 4).
 * Exception to the 512-octet limit: RFC 4954 4 lets an AUTH line with an
 * initial response reach 12288 octets, CRLF included, and that is the
 * limit here. The response is copied into out only, never onto the stack.
 */
ASMTP__HIDDEN int asmtp__command_auth(asmtp__buf *out, const char *mechanism,
                                      const char *initial_response,
                                      size_t initial_response_len);
ASMTP__HIDDEN int asmtp__command_quit(asmtp__buf *out);
/* A caller's own command line, without CRLF, appended with CRLF. */
ASMTP__HIDDEN int asmtp__command_raw(asmtp__buf *out, const char *line,
                                     size_t len);

/* xtext (RFC 3461 4): '+', '=' and bytes outside '!'..'~' as +XX. */
ASMTP__HIDDEN int asmtp__xtext_append(asmtp__buf *out, const void *data,
                                      size_t len);

/* True when the address needs SMTPUTF8: any octet of 0x80 or above. */
ASMTP__HIDDEN bool asmtp__address_needs_smtputf8(const char *address);

#endif
