/*
 * Types shared by every part of the API: byte spans, the allocator hook,
 * and the server reply.
 */
#ifndef ASMTP_TYPES_H
#define ASMTP_TYPES_H

#include <stddef.h>
#include <stdint.h>

#include "asmtp/version.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A run of bytes the struct does not own. */
typedef struct asmtp_bytes {
    const unsigned char *data;
    size_t len;
} asmtp_bytes;

/*
 * Memory functions asmtp allocates with. Pass NULL wherever an asmtp_mem
 * is taken to use malloc, realloc and free. The struct must outlive every
 * object created with it. realloc follows the C contract: on failure it
 * returns NULL and leaves the old block alone.
 */
typedef struct asmtp_mem {
    void *user_data;
    void *(*malloc)(size_t size, void *user_data);
    void *(*realloc)(void *ptr, size_t size, void *user_data);
    void (*free)(void *ptr, void *user_data);
} asmtp_mem;

/*
 * A server reply (RFC 5321 4.2).
 *
 * code is the three-digit reply code. enhanced is the RFC 3463 status code
 * ("5.1.1") found at the start of the first line, or "" when the server
 * sent none or when none is expected (the greeting and the EHLO and HELO
 * replies). Each line's text has the code, the separator and the enhanced
 * code removed; it is kept as the server sent it, bytes that may not be
 * UTF-8 included, and is not NUL-terminated. text holds all the lines
 * joined by LF, also without a terminator.
 *
 * Replies handed to a callback are valid until the callback returns.
 */
typedef struct asmtp_reply {
    int code;
    char enhanced[12];
    size_t line_count;
    const asmtp_bytes *lines;
    const unsigned char *text;
    size_t text_len;
} asmtp_reply;

/* The BODY= parameter of MAIL (RFC 6152, RFC 3030). */
enum asmtp_body {
    /* Decide from the content and the server's extensions. */
    ASMTP_BODY_AUTO = 0,
    ASMTP_BODY_7BIT,
    ASMTP_BODY_8BITMIME,
    ASMTP_BODY_BINARYMIME,
};

/* The RET= parameter of MAIL (RFC 3461). */
enum asmtp_dsn_ret {
    ASMTP_RET_DEFAULT = 0, /* no RET parameter */
    ASMTP_RET_FULL,
    ASMTP_RET_HDRS,
};

/* NOTIFY= bits for RCPT (RFC 3461). NEVER excludes the others; 0 sends
 * no NOTIFY parameter. */
enum asmtp_dsn_notify {
    ASMTP_NOTIFY_DEFAULT = 0,
    ASMTP_NOTIFY_SUCCESS = 1u << 0,
    ASMTP_NOTIFY_FAILURE = 1u << 1,
    ASMTP_NOTIFY_DELAY = 1u << 2,
    ASMTP_NOTIFY_NEVER = 1u << 3,
};

/* SASL mechanisms (RFC 4954), as bits so that a set can be passed. */
enum asmtp_auth_mechanism {
    ASMTP_AUTH_PLAIN = 1u << 0,
    ASMTP_AUTH_LOGIN = 1u << 1,
    ASMTP_AUTH_CRAM_MD5 = 1u << 2,
    ASMTP_AUTH_XOAUTH2 = 1u << 3,
};
#define ASMTP_AUTH_ANY                                                         \
    (ASMTP_AUTH_PLAIN | ASMTP_AUTH_LOGIN | ASMTP_AUTH_CRAM_MD5 |               \
     ASMTP_AUTH_XOAUTH2)

/*
 * Credentials for AUTH. Every field is bytes with an explicit length:
 * UTF-8 and any other octets are allowed. For PLAIN, LOGIN and CRAM-MD5
 * give username and password; for XOAUTH2 give username and token. authzid
 * is optional (PLAIN only; usually left empty). The library copies what
 * it needs and wipes its copies when done.
 */
typedef struct asmtp_credentials {
    asmtp_bytes username;
    asmtp_bytes password;
    asmtp_bytes token;
    asmtp_bytes authzid;
} asmtp_credentials;

/*
 * Render bytes for people: printable ASCII and valid UTF-8 are copied,
 * every other byte (C0 and C1 controls included) becomes \xNN, and a
 * backslash becomes \\. Writes at
 * most size - 1 characters and a NUL into buf (nothing when size is 0) and
 * returns the length the whole rendering needs, as snprintf does.
 */
ASMTP_EXTERN size_t asmtp_render_text(const void *data, size_t len, char *buf,
                                      size_t size);

/*
 * Render a reply as "550 5.1.1 text", one line per reply line joined by
 * LF, each rendered as asmtp_render_text() does. Same return contract as
 * asmtp_render_text(). A NULL reply renders as "".
 */
ASMTP_EXTERN size_t asmtp_reply_render(const asmtp_reply *reply, char *buf,
                                       size_t size);

#ifdef __cplusplus
}
#endif

#endif
