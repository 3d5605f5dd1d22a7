/*
 * Error texts, names and classes (see include/asmtp/error.h). One table
 * holds all three, so a new code cannot get a text without a class.
 */
#include "asmtp/error.h"

#include <stddef.h>

#define CONNECT  ASMTP_CLASS_CONNECT
#define TIMEOUT  ASMTP_CLASS_TIMEOUT
#define GONE     ASMTP_CLASS_DISCONNECTED
#define REFUSED  ASMTP_CLASS_REFUSED
#define PROTOCOL ASMTP_CLASS_PROTOCOL
#define USAGE    ASMTP_CLASS_USAGE
#define RESOURCE ASMTP_CLASS_RESOURCE
#define TLS      ASMTP_CLASS_TLS

static const struct error_info {
    int code;
    const char *name;
    const char *text;
    unsigned classes;
} errors[] = {
    {ASMTP_OK, "ASMTP_OK", "success", 0},
    {ASMTP_ERR_NOMEM, "ASMTP_ERR_NOMEM", "out of memory", RESOURCE},
    {ASMTP_ERR_BAD_ARGUMENT, "ASMTP_ERR_BAD_ARGUMENT",
     "invalid argument (control characters are never allowed in a command)",
     USAGE},
    {ASMTP_ERR_COMMAND_TOO_LONG, "ASMTP_ERR_COMMAND_TOO_LONG",
     "command line longer than the 512 octets RFC 5321 allows", USAGE},
    {ASMTP_ERR_STATE, "ASMTP_ERR_STATE",
     "not allowed in the current state (the session may have closed)", USAGE},
    {ASMTP_ERR_CONNECT, "ASMTP_ERR_CONNECT", "could not connect to the server",
     CONNECT},
    {ASMTP_ERR_CONNECT_TIMEOUT, "ASMTP_ERR_CONNECT_TIMEOUT",
     "timed out connecting to the server or waiting for its greeting",
     CONNECT | TIMEOUT | GONE},
    {ASMTP_ERR_GREETING, "ASMTP_ERR_GREETING",
     "the server refused the connection in its greeting", CONNECT | REFUSED},
    {ASMTP_ERR_TIMEOUT, "ASMTP_ERR_TIMEOUT", "timed out waiting for the server",
     TIMEOUT | GONE},
    {ASMTP_ERR_DISCONNECTED, "ASMTP_ERR_DISCONNECTED",
     "the server closed the connection unexpectedly", GONE},
    {ASMTP_ERR_SHUTDOWN, "ASMTP_ERR_SHUTDOWN",
     "the server is closing the connection (421)", GONE | REFUSED},
    {ASMTP_ERR_HELO, "ASMTP_ERR_HELO", "the server refused EHLO and HELO",
     REFUSED},
    {ASMTP_ERR_TLS, "ASMTP_ERR_TLS", "TLS could not be established", TLS},
    {ASMTP_ERR_AUTH, "ASMTP_ERR_AUTH", "authentication failed", REFUSED},
    {ASMTP_ERR_SENDER_REFUSED, "ASMTP_ERR_SENDER_REFUSED",
     "the server refused the sender", REFUSED},
    {ASMTP_ERR_RECIPIENTS_REFUSED, "ASMTP_ERR_RECIPIENTS_REFUSED",
     "the server refused every recipient", REFUSED},
    {ASMTP_ERR_DATA_REFUSED, "ASMTP_ERR_DATA_REFUSED",
     "the server refused the message content", REFUSED},
    {ASMTP_ERR_COMMAND_REFUSED, "ASMTP_ERR_COMMAND_REFUSED",
     "the server refused the command", REFUSED},
    {ASMTP_ERR_NOT_SUPPORTED, "ASMTP_ERR_NOT_SUPPORTED",
     "the server does not support what the request needs", 0},
    {ASMTP_ERR_MALFORMED_REPLY, "ASMTP_ERR_MALFORMED_REPLY",
     "the server sent a malformed reply", PROTOCOL | GONE},
    {ASMTP_ERR_REPLY_TOO_LONG, "ASMTP_ERR_REPLY_TOO_LONG",
     "the server sent a reply over the size limit", PROTOCOL | GONE},
    {ASMTP_ERR_UNEXPECTED_REPLY, "ASMTP_ERR_UNEXPECTED_REPLY",
     "the server sent a reply no command asked for", PROTOCOL | GONE},
    {ASMTP_ERR_PROTOCOL, "ASMTP_ERR_PROTOCOL",
     "the server broke the SMTP protocol", PROTOCOL | GONE},
    {ASMTP_ERR_CANCELLED, "ASMTP_ERR_CANCELLED",
     "cancelled: the connection was closed or freed first", 0},
    {ASMTP_ERR_SOURCE, "ASMTP_ERR_SOURCE",
     "the message source could not be read", USAGE},
    {ASMTP_ERR_LINE_TOO_LONG, "ASMTP_ERR_LINE_TOO_LONG",
     "a message line is longer than 998 octets; wrap it or encode the part",
     USAGE},
    {ASMTP_ERR_MESSAGE, "ASMTP_ERR_MESSAGE",
     "the message cannot be sent as it is", USAGE},
};

static const struct error_info *find(int code)
{
    for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++)
        if (errors[i].code == code)
            return &errors[i];
    return NULL;
}

const char *asmtp_strerror(int code)
{
    const struct error_info *info = find(code);

    return info ? info->text : "unknown error code";
}

const char *asmtp_error_name(int code)
{
    const struct error_info *info = find(code);

    return info ? info->name : "ASMTP_ERR_UNKNOWN";
}

unsigned asmtp_error_classes(int code)
{
    const struct error_info *info = find(code);

    return info ? info->classes : 0;
}

int asmtp_error_is(int code, unsigned classes)
{
    return (asmtp_error_classes(code) & classes) != 0;
}
