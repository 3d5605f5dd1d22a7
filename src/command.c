/*
 * Command encoder (see command.h). A command line is assembled on the stack
 * in a command_line and appended to the output in one step, so a refused
 * argument, an over-long line or a failed allocation leaves the output as
 * it was. AUTH, whose line may be longer, is sized first and written into
 * reserved room instead, which also keeps the secret off the stack.
 */
#include "command.h"

#include <string.h>

#include "asmtp/error.h"

/* RFC 4954 4: an AUTH line with an initial response may reach 12288. */
#define AUTH_LINE_MAX 12288u

/* Room for the command before the CRLF that ends it. */
#define LINE_ROOM (ASMTP__COMMAND_LINE_MAX - 2)

static const char hex_digits[] = "0123456789ABCDEF";

typedef struct command_line {
    unsigned char bytes[ASMTP__COMMAND_LINE_MAX];
    size_t len;
    bool too_long; /* some part did not fit; nothing more is added */
} command_line;

static void line_start(command_line *line, const char *verb)
{
    size_t len = strlen(verb);

    memcpy(line->bytes, verb, len);
    line->len = len;
    line->too_long = false;
}

/* Reserve n bytes at the end of the line; NULL once the line is full. */
static unsigned char *line_grow(command_line *line, size_t n)
{
    unsigned char *end = line->bytes + line->len;

    if (line->too_long || n > LINE_ROOM - line->len) {
        line->too_long = true;
        return NULL;
    }
    line->len += n;
    return end;
}

static void line_put(command_line *line, const void *data, size_t len)
{
    unsigned char *dst = line_grow(line, len);

    if (dst && len)
        memcpy(dst, data, len);
}

static void line_put_str(command_line *line, const char *s)
{
    line_put(line, s, strlen(s));
}

static void line_put_byte(command_line *line, unsigned char byte)
{
    line_put(line, &byte, 1);
}

static void line_put_uint(command_line *line, uint64_t value)
{
    unsigned char digits[20];
    size_t n = sizeof digits;

    do {
        digits[--n] = (unsigned char)('0' + value % 10);
        value /= 10;
    } while (value);
    line_put(line, digits + n, sizeof digits - n);
}

/* End the line with CRLF and append it whole. */
static int line_finish(command_line *line, asmtp__buf *out)
{
    if (line->too_long)
        return ASMTP_ERR_COMMAND_TOO_LONG;
    line->bytes[line->len++] = '\r';
    line->bytes[line->len++] = '\n';
    return asmtp__buf_append(out, line->bytes, line->len);
}

/* ---- Character classes ---- */

static bool has_control_str(const char *s)
{
    return asmtp__has_control(s, strlen(s));
}

static bool is_ascii_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9');
}

/* atext of RFC 5322 3.2.3, with UTF-8 octets as RFC 6531 3.3 adds. */
static bool is_atext(unsigned char c)
{
    return is_ascii_alnum(c) || c >= 0x80 ||
           (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* Let-dig of RFC 5321 4.1.2, with the octets of U-labels (RFC 6531). */
static bool is_let_dig(unsigned char c)
{
    return is_ascii_alnum(c) || c >= 0x80;
}

/* ---- Paths (RFC 5321 4.1.2) ---- */

static bool is_dot_string(const unsigned char *s, size_t len)
{
    if (len == 0 || s[0] == '.' || s[len - 1] == '.')
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '.' && s[i + 1] == '.')
            return false; /* i + 1 < len: s[len - 1] is not a dot */
        if (s[i] != '.' && !is_atext(s[i]))
            return false;
    }
    return true;
}

/*
 * A Quoted-string whose quoted-pairs escape printable ASCII only (control
 * characters are refused before this).
 */
static bool is_quoted_string(const unsigned char *s, size_t len)
{
    if (len < 2 || s[0] != '"' || s[len - 1] != '"')
        return false;
    for (size_t i = 1; i < len - 1; i++) {
        if (s[i] == '"')
            return false;
        if (s[i] != '\\')
            continue;
        if (i + 1 == len - 1 || s[i + 1] > 0x7e)
            return false;
        i++;
    }
    return true;
}

static void put_quoted(command_line *line, const unsigned char *s, size_t len)
{
    line_put_byte(line, '"');
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"' || s[i] == '\\')
            line_put_byte(line, '\\');
        line_put_byte(line, s[i]);
    }
    line_put_byte(line, '"');
}

static int put_local_part(command_line *line, const unsigned char *s,
                          size_t len)
{
    if (len == 0)
        return ASMTP_ERR_BAD_ARGUMENT;
    if (is_dot_string(s, len) || is_quoted_string(s, len))
        line_put(line, s, len);
    else
        put_quoted(line, s, len);
    return 0;
}

/*
 * An address literal: "[" 1*dcontent "]". '<', '>' and '"' are refused as
 * well, so that nothing inside can look like the end of the path or the
 * start of a quoted string to a lenient server.
 */
static bool is_address_literal(const unsigned char *s, size_t len)
{
    if (len < 3 || s[0] != '[' || s[len - 1] != ']')
        return false;
    for (size_t i = 1; i < len - 1; i++) {
        unsigned char c = s[i];

        if (c < 0x21 || c > 0x7e || c == '[' || c == '\\' || c == ']' ||
            c == '<' || c == '>' || c == '"')
            return false;
    }
    return true;
}

/* Dot-separated labels of let-dig and inner hyphens. */
static bool is_domain_name(const unsigned char *s, size_t len)
{
    size_t start = 0;

    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != '.') {
            if (s[i] != '-' && !is_let_dig(s[i]))
                return false;
            continue;
        }
        if (i == start || !is_let_dig(s[start]) || !is_let_dig(s[i - 1]))
            return false;
        start = i + 1;
    }
    return true;
}

static bool is_domain(const unsigned char *s, size_t len)
{
    return is_address_literal(s, len) || is_domain_name(s, len);
}

static bool is_postmaster(const unsigned char *s, size_t len)
{
    static const char name[] = "postmaster";

    if (len != sizeof name - 1)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = s[i];

        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        if (c != (unsigned char)name[i])
            return false;
    }
    return true;
}

/* The mailbox inside the angle brackets; split at the last '@'. */
static int put_mailbox(command_line *line, const unsigned char *s, size_t len,
                       bool forward)
{
    size_t at = len;
    int rv;

    while (at > 0 && s[at - 1] != '@')
        at--;
    if (at == 0) {
        if (!forward || !is_postmaster(s, len))
            return ASMTP_ERR_BAD_ARGUMENT;
        line_put(line, s, len);
        return 0;
    }
    if (!is_domain(s + at, len - at))
        return ASMTP_ERR_BAD_ARGUMENT;
    rv = put_local_part(line, s, at - 1);
    if (rv)
        return rv;
    line_put_byte(line, '@');
    line_put(line, s + at, len - at);
    return 0;
}

static int put_path(command_line *line, const char *path, bool forward)
{
    size_t len;
    int rv = 0;

    if (!path || has_control_str(path))
        return ASMTP_ERR_BAD_ARGUMENT;
    len = strlen(path);
    if (len == 0 && forward)
        return ASMTP_ERR_BAD_ARGUMENT;
    line_put_byte(line, '<');
    if (len > 0)
        rv = put_mailbox(line, (const unsigned char *)path, len, forward);
    line_put_byte(line, '>');
    return rv;
}

/* ---- xtext (RFC 3461 4) and utf-8-addr-xtext (RFC 6533 3) ---- */

static bool is_xchar(unsigned char c)
{
    return c >= '!' && c <= '~' && c != '+' && c != '=';
}

/* Encode into dst, or only count when dst is NULL; the encoded length. */
static size_t xtext_encode(const unsigned char *src, size_t len,
                           unsigned char *dst)
{
    size_t n = 0;

    for (size_t i = 0; i < len; i++) {
        if (is_xchar(src[i])) {
            if (dst)
                dst[n] = src[i];
            n++;
            continue;
        }
        if (dst) {
            dst[n] = '+';
            dst[n + 1] = (unsigned char)hex_digits[src[i] >> 4];
            dst[n + 2] = (unsigned char)hex_digits[src[i] & 0xf];
        }
        n += 3;
    }
    return n;
}

static void line_put_xtext(command_line *line, const char *s)
{
    const unsigned char *src = (const unsigned char *)s;
    size_t len = strlen(s);
    unsigned char *dst = line_grow(line, xtext_encode(src, len, NULL));

    if (dst)
        xtext_encode(src, len, dst);
}

/* Length of the UTF-8 sequence at s (RFC 3629 4), or 0 if malformed. */
static size_t utf8_sequence_length(const unsigned char *s, size_t avail)
{
    unsigned char low = 0x80, high = 0xbf;
    size_t len;

    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        len = 2;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        len = 3;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        len = 4;
    else
        return 0;
    if (s[0] == 0xe0)
        low = 0xa0; /* overlong */
    else if (s[0] == 0xed)
        high = 0x9f; /* surrogates */
    else if (s[0] == 0xf0)
        low = 0x90; /* overlong */
    else if (s[0] == 0xf4)
        high = 0x8f; /* above U+10FFFF */
    if (avail < len || s[1] < low || s[1] > high)
        return 0;
    for (size_t i = 2; i < len; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    return len;
}

static bool is_utf8(const unsigned char *s, size_t len)
{
    size_t i = 0;

    while (i < len) {
        size_t n = s[i] < 0x80 ? 1 : utf8_sequence_length(s + i, len - i);

        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

/*
 * UTF-8 stays as it is; ASCII other than QCHAR becomes \x{HEX}. Control
 * characters are refused before this, so only SP, '+', '=' and '\\' are
 * escaped, and their shortest uppercase form has two digits.
 */
static void line_put_utf8_xtext(command_line *line, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p >= 0x80 || (is_xchar(*p) && *p != '\\')) {
            line_put_byte(line, *p);
            continue;
        }
        line_put_str(line, "\\x{");
        line_put_byte(line, (unsigned char)hex_digits[*p >> 4]);
        line_put_byte(line, (unsigned char)hex_digits[*p & 0xf]);
        line_put_byte(line, '}');
    }
}

/* ---- MAIL and RCPT parameters ---- */

static int put_keyword(command_line *line, const char *prefix, int value,
                       const char *const *names, size_t count)
{
    if (value < 0 || (size_t)value >= count)
        return ASMTP_ERR_BAD_ARGUMENT;
    if (names[value]) {
        line_put_str(line, prefix);
        line_put_str(line, names[value]);
    }
    return 0;
}

static int put_body(command_line *line, int body)
{
    static const char *const names[] = {
        [ASMTP_BODY_AUTO] = NULL,
        [ASMTP_BODY_7BIT] = "7BIT",
        [ASMTP_BODY_8BITMIME] = "8BITMIME",
        [ASMTP_BODY_BINARYMIME] = "BINARYMIME",
    };

    return put_keyword(line, " BODY=", body, names,
                       sizeof names / sizeof *names);
}

static int put_ret(command_line *line, int ret)
{
    static const char *const names[] = {
        [ASMTP_RET_DEFAULT] = NULL,
        [ASMTP_RET_FULL] = "FULL",
        [ASMTP_RET_HDRS] = "HDRS",
    };

    return put_keyword(line, " RET=", ret, names, sizeof names / sizeof *names);
}

/* RFC 3461 4.4: the envid is printable US-ASCII before encoding. */
static int put_envid(command_line *line, const char *envid)
{
    if (!envid)
        return 0;
    if (*envid == '\0' || has_control_str(envid) ||
        asmtp__has_8bit(envid, strlen(envid)))
        return ASMTP_ERR_BAD_ARGUMENT;
    line_put_str(line, " ENVID=");
    line_put_xtext(line, envid);
    return 0;
}

static int put_mail_params(command_line *line, const asmtp__mail_params *params)
{
    int rv;

    if (!params)
        return 0;
    if (params->has_size) {
        line_put_str(line, " SIZE=");
        line_put_uint(line, params->size);
    }
    rv = put_body(line, params->body);
    if (rv)
        return rv;
    if (params->smtputf8)
        line_put_str(line, " SMTPUTF8");
    rv = put_ret(line, params->ret);
    if (rv)
        return rv;
    return put_envid(line, params->envid);
}

static int put_notify(command_line *line, unsigned notify)
{
    static const struct {
        unsigned bit;
        const char *name;
    } conditions[] = {
        {ASMTP_NOTIFY_SUCCESS, "SUCCESS"},
        {ASMTP_NOTIFY_FAILURE, "FAILURE"},
        {ASMTP_NOTIFY_DELAY, "DELAY"},
    };
    const char *separator = " NOTIFY=";

    if (notify == ASMTP_NOTIFY_NEVER) {
        line_put_str(line, " NOTIFY=NEVER");
        return 0;
    }
    if (notify & ~(unsigned)(ASMTP_NOTIFY_SUCCESS | ASMTP_NOTIFY_FAILURE |
                             ASMTP_NOTIFY_DELAY))
        return ASMTP_ERR_BAD_ARGUMENT;
    for (size_t i = 0; i < sizeof conditions / sizeof *conditions; i++) {
        if (notify & conditions[i].bit) {
            line_put_str(line, separator);
            line_put_str(line, conditions[i].name);
            separator = ",";
        }
    }
    return 0;
}

/* rfc822 with xtext for ASCII, utf-8 (RFC 6533) otherwise. */
static int put_orcpt(command_line *line, const char *orcpt)
{
    size_t len;

    if (!orcpt)
        return 0;
    len = strlen(orcpt);
    if (len == 0 || asmtp__has_control(orcpt, len))
        return ASMTP_ERR_BAD_ARGUMENT;
    if (!asmtp__has_8bit(orcpt, len)) {
        line_put_str(line, " ORCPT=rfc822;");
        line_put_xtext(line, orcpt);
        return 0;
    }
    if (!is_utf8((const unsigned char *)orcpt, len))
        return ASMTP_ERR_BAD_ARGUMENT;
    line_put_str(line, " ORCPT=utf-8;");
    line_put_utf8_xtext(line, orcpt);
    return 0;
}

static int put_rcpt_params(command_line *line, const asmtp__rcpt_params *params)
{
    int rv;

    if (!params)
        return 0;
    rv = put_notify(line, params->notify);
    if (rv)
        return rv;
    return put_orcpt(line, params->orcpt);
}

/* ---- Commands ---- */

/* verb, then " arg" when arg is neither NULL nor empty. */
static int simple_command(asmtp__buf *out, const char *verb, const char *arg)
{
    command_line line;

    if (!out || (arg && has_control_str(arg)))
        return ASMTP_ERR_BAD_ARGUMENT;
    line_start(&line, verb);
    if (arg && *arg) {
        line_put_byte(&line, ' ');
        line_put_str(&line, arg);
    }
    return line_finish(&line, out);
}

static int greeting(asmtp__buf *out, const char *verb, const char *domain)
{
    if (!domain || *domain == '\0' || strchr(domain, ' '))
        return ASMTP_ERR_BAD_ARGUMENT;
    return simple_command(out, verb, domain);
}

int asmtp__command_ehlo(asmtp__buf *out, const char *domain)
{
    return greeting(out, "EHLO", domain);
}

int asmtp__command_helo(asmtp__buf *out, const char *domain)
{
    return greeting(out, "HELO", domain);
}

int asmtp__command_mail(asmtp__buf *out, const char *reverse_path,
                        const asmtp__mail_params *params)
{
    command_line line;
    int rv;

    if (!out)
        return ASMTP_ERR_BAD_ARGUMENT;
    line_start(&line, "MAIL FROM:");
    rv = put_path(&line, reverse_path, false);
    if (rv)
        return rv;
    rv = put_mail_params(&line, params);
    if (rv)
        return rv;
    return line_finish(&line, out);
}

int asmtp__command_rcpt(asmtp__buf *out, const char *forward_path,
                        const asmtp__rcpt_params *params)
{
    command_line line;
    int rv;

    if (!out)
        return ASMTP_ERR_BAD_ARGUMENT;
    line_start(&line, "RCPT TO:");
    rv = put_path(&line, forward_path, true);
    if (rv)
        return rv;
    rv = put_rcpt_params(&line, params);
    if (rv)
        return rv;
    return line_finish(&line, out);
}

int asmtp__command_data(asmtp__buf *out)
{
    return simple_command(out, "DATA", NULL);
}

int asmtp__command_bdat(asmtp__buf *out, uint64_t size, bool last)
{
    command_line line;

    if (!out)
        return ASMTP_ERR_BAD_ARGUMENT;
    line_start(&line, "BDAT ");
    line_put_uint(&line, size);
    if (last)
        line_put_str(&line, " LAST");
    return line_finish(&line, out);
}

int asmtp__command_rset(asmtp__buf *out)
{
    return simple_command(out, "RSET", NULL);
}

int asmtp__command_noop(asmtp__buf *out, const char *arg)
{
    return simple_command(out, "NOOP", arg);
}

int asmtp__command_vrfy(asmtp__buf *out, const char *arg)
{
    if (!arg || *arg == '\0')
        return ASMTP_ERR_BAD_ARGUMENT;
    return simple_command(out, "VRFY", arg);
}

int asmtp__command_expn(asmtp__buf *out, const char *arg)
{
    if (!arg || *arg == '\0')
        return ASMTP_ERR_BAD_ARGUMENT;
    return simple_command(out, "EXPN", arg);
}

int asmtp__command_help(asmtp__buf *out, const char *arg)
{
    return simple_command(out, "HELP", arg);
}

int asmtp__command_starttls(asmtp__buf *out)
{
    return simple_command(out, "STARTTLS", NULL);
}

int asmtp__command_quit(asmtp__buf *out)
{
    return simple_command(out, "QUIT", NULL);
}

/* ---- Lines longer than a command_line: AUTH and raw ---- */

/*
 * Append the parts and CRLF as one line of at most limit octets. The room
 * is reserved first, so the copies cannot fail halfway.
 */
static int append_parts(asmtp__buf *out, const asmtp_bytes *parts, size_t count,
                        size_t limit)
{
    size_t total = 2;
    int rv;

    for (size_t i = 0; i < count; i++) {
        if (parts[i].len > limit - total)
            return ASMTP_ERR_COMMAND_TOO_LONG;
        total += parts[i].len;
    }
    rv = asmtp__buf_reserve(out, total);
    if (rv)
        return rv;
    for (size_t i = 0; i < count; i++) {
        memcpy(out->data + out->len, parts[i].data, parts[i].len);
        out->len += parts[i].len;
    }
    memcpy(out->data + out->len, "\r\n", 2);
    out->len += 2;
    return 0;
}

static asmtp_bytes bytes_of(const void *data, size_t len)
{
    asmtp_bytes bytes = {data, len};

    return bytes;
}

/* A SASL mechanism name (RFC 4422 3.1): uppercase, digits, '-', '_'. */
static bool is_mechanism(const char *s)
{
    if (!s || *s == '\0')
        return false;
    for (; *s; s++) {
        if (!(*s >= 'A' && *s <= 'Z') && !(*s >= '0' && *s <= '9') &&
            *s != '-' && *s != '_')
            return false;
    }
    return true;
}

int asmtp__command_auth(asmtp__buf *out, const char *mechanism,
                        const char *initial_response,
                        size_t initial_response_len)
{
    asmtp_bytes parts[4];
    size_t count = 2;

    if (!out || !is_mechanism(mechanism))
        return ASMTP_ERR_BAD_ARGUMENT;
    if (!initial_response && initial_response_len)
        return ASMTP_ERR_BAD_ARGUMENT;
    if (initial_response &&
        asmtp__has_control(initial_response, initial_response_len))
        return ASMTP_ERR_BAD_ARGUMENT;
    parts[0] = bytes_of("AUTH ", 5);
    parts[1] = bytes_of(mechanism, strlen(mechanism));
    if (initial_response) {
        parts[count++] = bytes_of(" ", 1);
        parts[count++] = initial_response_len
                             ? bytes_of(initial_response, initial_response_len)
                             : bytes_of("=", 1);
    }
    return append_parts(out, parts, count, AUTH_LINE_MAX);
}

int asmtp__command_raw(asmtp__buf *out, const char *line, size_t len)
{
    asmtp_bytes part = bytes_of(line, len);

    if (!out || !line || len == 0 || asmtp__has_control(line, len))
        return ASMTP_ERR_BAD_ARGUMENT;
    return append_parts(out, &part, 1, ASMTP__COMMAND_LINE_MAX);
}

/* ---- Helpers for other layers ---- */

int asmtp__xtext_append(asmtp__buf *out, const void *data, size_t len)
{
    size_t encoded;
    int rv;

    if (!out || (!data && len))
        return ASMTP_ERR_BAD_ARGUMENT;
    if (len > SIZE_MAX / 3)
        return ASMTP_ERR_NOMEM;
    encoded = xtext_encode(data, len, NULL);
    rv = asmtp__buf_reserve(out, encoded);
    if (rv)
        return rv;
    if (encoded)
        xtext_encode(data, len, out->data + out->len);
    out->len += encoded;
    return 0;
}

bool asmtp__address_needs_smtputf8(const char *address)
{
    return address && asmtp__has_8bit(address, strlen(address));
}
