/*
 * Error codes, their texts and their classes.
 *
 * Every asmtp function that can fail returns 0 or one of the negative codes
 * below. asmtp_strerror() names a code in a sentence; asmtp_error_is() asks
 * whether a code belongs to a wider class (a connect timeout is both a
 * timeout and a connect error).
 */
#ifndef ASMTP_ERROR_H
#define ASMTP_ERROR_H

#include "asmtp/version.h"

#ifdef __cplusplus
extern "C" {
#endif

enum asmtp_error_code {
    ASMTP_OK = 0,
    /* An allocation failed; nothing was half-done. */
    ASMTP_ERR_NOMEM = -1,
    /* An argument is invalid: a control character in a command argument,
     * a NULL where a value is needed, a value out of range. */
    ASMTP_ERR_BAD_ARGUMENT = -2,
    /* A command line would exceed the 512-octet limit of RFC 5321. */
    ASMTP_ERR_COMMAND_TOO_LONG = -3,
    /* The call is not allowed in the object's current state (for example
     * new work on a session that has closed). */
    ASMTP_ERR_STATE = -4,
    /* The connection could not be established. */
    ASMTP_ERR_CONNECT = -5,
    /* Connecting, the TLS handshake of implicit TLS or the greeting took
     * longer than the connect timeout. */
    ASMTP_ERR_CONNECT_TIMEOUT = -6,
    /* The server's greeting was not 220. */
    ASMTP_ERR_GREETING = -7,
    /* No reply within the command timeout. */
    ASMTP_ERR_TIMEOUT = -8,
    /* The server closed the connection unexpectedly. */
    ASMTP_ERR_DISCONNECTED = -9,
    /* The server answered 421: it is closing the connection. */
    ASMTP_ERR_SHUTDOWN = -10,
    /* Both EHLO and HELO were refused. */
    ASMTP_ERR_HELO = -11,
    /* STARTTLS was refused or the TLS layer failed. */
    ASMTP_ERR_TLS = -12,
    /* Authentication was refused. */
    ASMTP_ERR_AUTH = -13,
    /* MAIL FROM was refused. */
    ASMTP_ERR_SENDER_REFUSED = -14,
    /* Every recipient was refused. */
    ASMTP_ERR_RECIPIENTS_REFUSED = -15,
    /* DATA, the message content or a BDAT chunk was refused. */
    ASMTP_ERR_DATA_REFUSED = -16,
    /* A simple command (RSET, NOOP, VRFY, EXPN, HELP, QUIT) was refused. */
    ASMTP_ERR_COMMAND_REFUSED = -17,
    /* The server lacks an extension the request needs. */
    ASMTP_ERR_NOT_SUPPORTED = -18,
    /* The server sent a reply that does not follow RFC 5321. */
    ASMTP_ERR_MALFORMED_REPLY = -19,
    /* A reply line or a whole reply was over the size limit. */
    ASMTP_ERR_REPLY_TOO_LONG = -20,
    /* The server sent a reply when none was expected. */
    ASMTP_ERR_UNEXPECTED_REPLY = -21,
    /* The server broke the protocol in some other way (for example a SASL
     * challenge that is not valid base64). */
    ASMTP_ERR_PROTOCOL = -22,
    /* The operation was cancelled because the session or client was freed
     * or closed before it could complete. */
    ASMTP_ERR_CANCELLED = -23,
    /* The message source reported an error while being read. */
    ASMTP_ERR_SOURCE = -24,
    /* A line of the message is longer than 998 octets (RFC 5322 2.1.1). */
    ASMTP_ERR_LINE_TOO_LONG = -25,
    /* The message cannot be used as it is (for example no recipients). */
    ASMTP_ERR_MESSAGE = -26,
};

/* One bit for each class an error code may belong to. */
enum asmtp_error_class {
    /* Establishing the connection failed. */
    ASMTP_CLASS_CONNECT = 1u << 0,
    /* Some wait took too long. */
    ASMTP_CLASS_TIMEOUT = 1u << 1,
    /* The connection is gone: closed by the server, timed out, or broken
     * by a protocol violation. Nothing more can be sent on it. */
    ASMTP_CLASS_DISCONNECTED = 1u << 2,
    /* The server refused a command; the error carries its reply. */
    ASMTP_CLASS_REFUSED = 1u << 3,
    /* The server broke the protocol. */
    ASMTP_CLASS_PROTOCOL = 1u << 4,
    /* The caller's input is at fault; fix the call, not the server. */
    ASMTP_CLASS_USAGE = 1u << 5,
    /* A temporary local shortage (memory). */
    ASMTP_CLASS_RESOURCE = 1u << 6,
    /* A TLS problem. */
    ASMTP_CLASS_TLS = 1u << 7,
};

/*
 * A sentence naming the error, without a trailing period. Unknown codes get
 * a generic text. The returned string is static; never free it.
 */
ASMTP_EXTERN const char *asmtp_strerror(int code);

/*
 * The symbolic name of the code, such as "ASMTP_ERR_TIMEOUT", or
 * "ASMTP_ERR_UNKNOWN" for a code asmtp does not define. Static string.
 */
ASMTP_EXTERN const char *asmtp_error_name(int code);

/* The classes of a code, a bitwise OR of enum asmtp_error_class. 0 for
 * ASMTP_OK and unknown codes. */
ASMTP_EXTERN unsigned asmtp_error_classes(int code);

/* Nonzero when the code belongs to at least one of the given classes. */
ASMTP_EXTERN int asmtp_error_is(int code, unsigned classes);

#ifdef __cplusplus
}
#endif

#endif
