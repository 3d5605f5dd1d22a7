/*
 * asmtp-send: a sendmail-like command built on the blocking API. It reads
 * one message, connects, authenticates when asked, sends the message with
 * the envelope from the command line or the header fields, and turns the
 * outcome into a sentence on stderr, an optional JSON object on stdout and
 * an exit status from <sysexits.h>.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <unistd.h>

#include "asmtp.h"

#define PROGRAM "asmtp-send"

/* The largest message read into memory, and the longest first line taken
 * from a password or token file. */
#define MESSAGE_MAX ((size_t)1 << 30)
#define SECRET_MAX  ((size_t)64 * 1024)

/* Timeouts are given in seconds, with up to three decimals. */
#define SECONDS_MAX 1000000000u

/* ---- Options ------------------------------------------------------------ */

enum option_id {
    OPT_HOST,
    OPT_PORT,
    OPT_UNIX,
    OPT_TLS,
    OPT_STARTTLS,
    OPT_CAFILE,
    OPT_CAPATH,
    OPT_NO_VERIFY,
    OPT_CERT,
    OPT_KEY,
    OPT_LOCAL_HOSTNAME,
    OPT_SOURCE_ADDRESS,
    OPT_TIMEOUT,
    OPT_CONNECT_TIMEOUT,
    OPT_USER,
    OPT_PASSWORD_FILE,
    OPT_AUTH,
    OPT_OAUTH_TOKEN_FILE,
    OPT_ALLOW_INSECURE_AUTH,
    OPT_FROM,
    OPT_DSN_NOTIFY,
    OPT_DSN_RET,
    OPT_DSN_ENVID,
    OPT_FILE,
    OPT_VERBOSE,
    OPT_JSON,
    OPT_HELP,
    OPT_VERSION,
};

struct option_spec {
    const char *name;  /* the long name, without the dashes */
    char letter;       /* the short name, or 0 */
    const char *value; /* the value's name in --help; NULL for a flag */
    int id;            /* enum option_id */
    const char *help;
};

static const struct option_spec option_specs[] = {
    {"host", 'H', "HOST", OPT_HOST,
     "the server to connect to (default localhost); with --unix, the name "
     "the TLS certificate is verified against"},
    {"port", 'p', "PORT", OPT_PORT,
     "the port (default 465 with --tls, 587 with --starttls required, "
     "else 25)"},
    {"unix", 0, "PATH", OPT_UNIX, "connect to a Unix socket instead"},
    {"tls", 0, NULL, OPT_TLS, "implicit TLS: the handshake comes first"},
    {"starttls", 0, "auto|required|never", OPT_STARTTLS,
     "when to upgrade with STARTTLS (default auto)"},
    {"cafile", 0, "FILE", OPT_CAFILE,
     "trust the CA certificates in this PEM file"},
    {"capath", 0, "DIR", OPT_CAPATH,
     "trust the CA certificates in this hashed directory"},
    {"no-verify", 0, NULL, OPT_NO_VERIFY,
     "do not verify the server's certificate (test servers only)"},
    {"cert", 0, "FILE", OPT_CERT, "client certificate chain (PEM)"},
    {"key", 0, "FILE", OPT_KEY, "the client certificate's key (PEM)"},
    {"local-hostname", 0, "NAME", OPT_LOCAL_HOSTNAME,
     "the name sent with EHLO (default: this host's name)"},
    {"source-address", 0, "ADDR[:PORT]", OPT_SOURCE_ADDRESS,
     "bind to this numeric address; IPv6 as [ADDR]:PORT"},
    {"timeout", 0, "SECONDS", OPT_TIMEOUT,
     "wait at most this long for each reply (default 60)"},
    {"connect-timeout", 0, "SECONDS", OPT_CONNECT_TIMEOUT,
     "wait at most this long to connect and be greeted (default 60)"},
    {"user", 'u', "NAME", OPT_USER,
     "authenticate as NAME; the password comes from ASMTP_PASSWORD or "
     "--password-file"},
    {"password-file", 0, "FILE", OPT_PASSWORD_FILE,
     "read the password from the first line of FILE"},
    {"auth", 0, "MECHANISM", OPT_AUTH,
     "use only this mechanism: PLAIN, LOGIN, CRAM-MD5 or XOAUTH2 (a comma "
     "list allows several)"},
    {"oauth-token-file", 0, "FILE", OPT_OAUTH_TOKEN_FILE,
     "read the OAuth 2.0 token for XOAUTH2 from the first line of FILE"},
    {"allow-insecure-auth", 0, NULL, OPT_ALLOW_INSECURE_AUTH,
     "allow sending the password unencrypted to a remote host"},
    {"from", 'f', "ADDR", OPT_FROM,
     "the envelope sender (default: from the headers); '' sends the null "
     "sender <>"},
    {"dsn-notify", 0, "never|success,failure,delay", OPT_DSN_NOTIFY,
     "ask for delivery status notifications for every recipient"},
    {"dsn-ret", 0, "full|hdrs", OPT_DSN_RET,
     "what a delivery status notification returns"},
    {"dsn-envid", 0, "ID", OPT_DSN_ENVID,
     "the envelope identifier for notifications"},
    {"file", 0, "FILE", OPT_FILE,
     "read the message from FILE instead of standard input"},
    {"verbose", 'v', NULL, OPT_VERBOSE,
     "show the SMTP conversation on standard error"},
    {"json", 0, NULL, OPT_JSON, "print the outcome as JSON on standard output"},
    {"help", 0, NULL, OPT_HELP, "show this help and exit"},
    {"version", 0, NULL, OPT_VERSION, "show the version and exit"},
};

#define OPTION_COUNT (sizeof option_specs / sizeof option_specs[0])

/* What the command line asks for. Strings point into argv. */
struct options {
    const char *host;
    bool host_given;
    uint16_t port;
    const char *unix_path;
    bool tls;
    int starttls;
    bool starttls_given;
    const char *ca_file;
    const char *ca_path;
    bool no_verify;
    const char *cert_file;
    const char *key_file;
    const char *local_hostname;
    const char *source_text;
    char source_address[64];
    uint16_t source_port;
    uint64_t timeout_ms;
    uint64_t connect_timeout_ms;
    const char *user;
    const char *password_file;
    unsigned auth;
    const char *oauth_token_file;
    bool allow_insecure_auth;
    const char *from; /* NULL: from the headers */
    unsigned notify;
    int ret;
    const char *envid;
    const char *file;
    bool verbose;
    bool json;
    bool help;
    bool version;
    char **recipients;
    size_t recipient_count;
};

/* ---- The outcome -------------------------------------------------------- */

/*
 * Everything the tool reports at the end. A local failure fills message;
 * a library failure points at the result of the call that failed (valid
 * until the next call on the asmtp_sync) and says what was being done in
 * stage.
 */
enum step {
    STEP_LOCAL = 0, /* before the library was asked anything */
    STEP_CONNECT,
    STEP_AUTH,
    STEP_SEND,
};

struct report {
    bool json;
    int step;         /* enum step */
    int status;       /* the exit status */
    const char *kind; /* NULL on success */
    char message[1024];
    char stage[512];
    const asmtp_result *result;
    bool sent; /* result is the send's */
    const char *sender;
    bool tls;
};

/* State the library's callbacks need. */
struct run {
    bool verbose;
};

static void fail(struct report *report, int status, const char *kind,
                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void fail(struct report *report, int status, const char *kind,
                 const char *fmt, ...)
{
    va_list ap;

    report->status = status;
    report->kind = kind;
    va_start(ap, fmt);
    vsnprintf(report->message, sizeof report->message, fmt, ap);
    va_end(ap);
}

/* Render bytes for a message: escapes for controls, truncated to fit. */
static const char *render(const void *data, size_t len, char *buf, size_t size)
{
    asmtp_render_text(data, len, buf, size);
    return buf;
}

static const char *render_str(const char *text, char *buf, size_t size)
{
    return render(text, strlen(text), buf, size);
}

/* Print rendered bytes, however long the rendering. */
static void print_rendered(FILE *out, const void *data, size_t len)
{
    char small[1024];
    size_t need = asmtp_render_text(data, len, small, sizeof small);
    char *big;

    if (need < sizeof small) {
        fputs(small, out);
        return;
    }
    big = malloc(need + 1);
    if (!big) {
        fputs(small, out);
        return;
    }
    asmtp_render_text(data, len, big, need + 1);
    fputs(big, out);
    free(big);
}

static void wipe(void *data, size_t len)
{
    volatile unsigned char *p = data;

    while (len--)
        *p++ = 0;
}

/* ---- Reading the command line -------------------------------------------
 *
 * One cursor walks argv for both passes: the check for control characters
 * that comes before anything else, and the parse. Short options cluster
 * (-vf ADDR) and take their value attached or as the next argument; long
 * options take --name=VALUE or --name VALUE; options and recipients may
 * be mixed until "--".
 */

enum item_type {
    ITEM_END,
    ITEM_OPTION,
    ITEM_OPERAND,
    ITEM_UNKNOWN,     /* arg is the whole argument */
    ITEM_NO_VALUE,    /* the option needs a value and none is left */
    ITEM_EXTRA_VALUE, /* --flag=VALUE; value is what follows the '=' */
};

struct arg_cursor {
    int argc;
    char **argv;
    int index;
    const char *cluster; /* the rest of a short-option cluster */
    bool operands_only;
};

struct arg_item {
    int type;
    const struct option_spec *spec;
    char *value;
    const char *arg;
    char letter; /* the short name used, or 0 */
};

static const struct option_spec *find_long(const char *name, size_t len)
{
    for (size_t i = 0; i < OPTION_COUNT; i++)
        if (strlen(option_specs[i].name) == len &&
            memcmp(option_specs[i].name, name, len) == 0)
            return &option_specs[i];
    return NULL;
}

static const struct option_spec *find_short(char letter)
{
    for (size_t i = 0; i < OPTION_COUNT; i++)
        if (option_specs[i].letter && option_specs[i].letter == letter)
            return &option_specs[i];
    return NULL;
}

/* The value of an option: the rest of the argument, or the next one. */
static void take_value(struct arg_cursor *c, struct arg_item *item,
                       char *attached)
{
    if (attached) {
        item->value = attached;
    } else if (c->index < c->argc) {
        item->value = c->argv[c->index++];
    } else {
        item->type = ITEM_NO_VALUE;
    }
}

static void short_item(struct arg_cursor *c, struct arg_item *item)
{
    char letter = *c->cluster++;

    item->letter = letter;
    item->spec = find_short(letter);
    item->type = ITEM_OPTION;
    if (!item->spec) {
        item->type = ITEM_UNKNOWN;
        c->cluster = NULL;
        return;
    }
    if (item->spec->value) {
        char *rest = *c->cluster ? (char *)c->cluster : NULL;

        c->cluster = NULL;
        take_value(c, item, rest);
    }
}

static void long_item(struct arg_cursor *c, struct arg_item *item, char *name)
{
    char *equals = strchr(name, '=');
    size_t len = equals ? (size_t)(equals - name) : strlen(name);

    item->spec = find_long(name, len);
    item->type = ITEM_OPTION;
    if (!item->spec) {
        item->type = ITEM_UNKNOWN;
    } else if (item->spec->value) {
        take_value(c, item, equals ? equals + 1 : NULL);
    } else if (equals) {
        item->type = ITEM_EXTRA_VALUE;
        item->value = equals + 1;
    }
}

static void next_item(struct arg_cursor *c, struct arg_item *item)
{
    char *arg;

    memset(item, 0, sizeof *item);
    if (c->cluster && *c->cluster) {
        item->arg = c->argv[c->index - 1];
        short_item(c, item);
        return;
    }
    c->cluster = NULL;

    for (;;) {
        if (c->index >= c->argc) {
            item->type = ITEM_END;
            return;
        }
        arg = c->argv[c->index++];
        if (!c->operands_only && strcmp(arg, "--") == 0) {
            c->operands_only = true;
            continue;
        }
        break;
    }

    item->arg = arg;
    if (c->operands_only || arg[0] != '-' || arg[1] == '\0') {
        item->type = ITEM_OPERAND;
        item->value = arg;
    } else if (arg[1] == '-') {
        long_item(c, item, arg + 2);
    } else {
        c->cluster = arg + 1;
        short_item(c, item);
    }
}

static bool has_control(const char *text)
{
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return true;
    return false;
}

/* "--from", or "-f" as given. */
static const char *option_name(const struct arg_item *item, char *buf,
                               size_t size)
{
    snprintf(buf, size, "--%s", item->spec->name);
    return buf;
}

/*
 * Check every argument for control characters before anything else: no
 * byte 0x00-0x1F or 0x7F may reach a command line. Also notes whether
 * --json was asked for, so that even a usage error is reported as JSON.
 */
static void check_arguments(int argc, char **argv, struct report *report)
{
    struct arg_cursor cursor = {argc, argv, 1, NULL, false};
    struct arg_item item;
    char name[64], shown[256];
    bool found = false;

    for (next_item(&cursor, &item); item.type != ITEM_END;
         next_item(&cursor, &item)) {
        if (item.type == ITEM_OPTION && item.spec->id == OPT_JSON)
            report->json = true;
        if (found)
            continue;
        if (item.type == ITEM_UNKNOWN && has_control(item.arg)) {
            fail(report, EX_USAGE, "usage",
                 "the option \"%s\" contains a control character; "
                 "arguments may not contain bytes 0x00-0x1F or 0x7F",
                 render_str(item.arg, shown, sizeof shown));
            found = true;
        } else if (item.type == ITEM_OPERAND && has_control(item.value)) {
            fail(report, EX_USAGE, "usage",
                 "the recipient \"%s\" contains a control character; "
                 "arguments may not contain bytes 0x00-0x1F or 0x7F",
                 render_str(item.value, shown, sizeof shown));
            found = true;
        } else if (item.spec && item.value && has_control(item.value)) {
            fail(report, EX_USAGE, "usage",
                 "the value of %s (\"%s\") contains a control character; "
                 "arguments may not contain bytes 0x00-0x1F or 0x7F",
                 option_name(&item, name, sizeof name),
                 render_str(item.value, shown, sizeof shown));
            found = true;
        }
    }
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* A decimal number in [min, max]: digits only, no sign, no spaces. */
static bool parse_number(const char *text, unsigned long min, unsigned long max,
                         unsigned long *out)
{
    char *end;
    unsigned long value;

    if (!is_digit(text[0]))
        return false;
    errno = 0;
    value = strtoul(text, &end, 10);
    if (errno || *end || value < min || value > max)
        return false;
    *out = value;
    return true;
}

static bool parse_port(const char *text, uint16_t *port)
{
    unsigned long value;

    if (!parse_number(text, 1, 65535, &value))
        return false;
    *port = (uint16_t)value;
    return true;
}

/*
 * Seconds, with decimals ("30", "0.5", ".25"), to milliseconds. Digits
 * past the third decimal round up, so that a positive value never becomes
 * 0 (which the library would take as the default).
 */
static bool parse_seconds(const char *text, uint64_t *ms)
{
    uint64_t whole = 0, fraction = 0, scale = 100;
    bool round_up = false, digits = false;
    const char *p = text;

    for (; is_digit(*p); p++) {
        whole = whole * 10 + (uint64_t)(*p - '0');
        if (whole > SECONDS_MAX)
            return false;
        digits = true;
    }
    if (*p == '.') {
        p++;
        if (!is_digit(*p))
            return false;
        for (; is_digit(*p); p++) {
            if (scale > 0)
                fraction += (uint64_t)(*p - '0') * scale;
            else if (*p != '0')
                round_up = true;
            scale /= 10;
            digits = true;
        }
    }
    if (*p || !digits)
        return false;
    *ms = whole * 1000 + fraction + (round_up ? 1 : 0);
    return *ms > 0;
}

/*
 * ADDR, ADDR:PORT, [ADDR] or [ADDR]:PORT with a numeric address. A bare
 * address with more than one colon is IPv6 without a port.
 */
static bool parse_source(const char *text, struct options *opts)
{
    const char *host = text, *port_text = NULL, *colon;
    size_t len;
    int family = 0;
    unsigned char scratch[16];

    if (text[0] == '[') {
        const char *close = strchr(text, ']');

        if (!close)
            return false;
        host = text + 1;
        len = (size_t)(close - host);
        if (close[1] == ':')
            port_text = close + 2;
        else if (close[1] != '\0')
            return false;
        family = AF_INET6;
    } else if ((colon = strchr(text, ':')) && !strchr(colon + 1, ':')) {
        len = (size_t)(colon - text);
        port_text = colon + 1;
        family = AF_INET;
    } else {
        len = strlen(text);
    }

    if (len == 0 || len >= sizeof opts->source_address)
        return false;
    memcpy(opts->source_address, host, len);
    opts->source_address[len] = '\0';
    if (family != AF_INET6 &&
        inet_pton(AF_INET, opts->source_address, scratch) == 1)
        family = AF_INET;
    else if (family != AF_INET &&
             inet_pton(AF_INET6, opts->source_address, scratch) == 1)
        family = AF_INET6;
    else
        return false;

    opts->source_port = 0;
    return !port_text || parse_port(port_text, &opts->source_port);
}

/* Does text, up to len, equal word, ignoring case? */
static bool word_is(const char *text, size_t len, const char *word)
{
    return strlen(word) == len && strncasecmp(text, word, len) == 0;
}

/* A comma list of names; each must be in names. Returns the OR of their
 * bits, or 0 when one is unknown or the list is empty. */
struct named_bit {
    const char *name;
    unsigned bit;
};

static unsigned parse_bits(const char *text, const struct named_bit *names,
                           size_t count)
{
    unsigned bits = 0;

    for (;;) {
        const char *comma = strchr(text, ',');
        size_t len = comma ? (size_t)(comma - text) : strlen(text);
        unsigned bit = 0;

        for (size_t i = 0; i < count && !bit; i++)
            if (word_is(text, len, names[i].name))
                bit = names[i].bit;
        if (!bit)
            return 0;
        bits |= bit;
        if (!comma)
            return bits;
        text = comma + 1;
    }
}

static const struct named_bit mechanisms[] = {
    {"PLAIN", ASMTP_AUTH_PLAIN},
    {"LOGIN", ASMTP_AUTH_LOGIN},
    {"CRAM-MD5", ASMTP_AUTH_CRAM_MD5},
    {"XOAUTH2", ASMTP_AUTH_XOAUTH2},
};

static const struct named_bit notifications[] = {
    {"never", ASMTP_NOTIFY_NEVER},
    {"success", ASMTP_NOTIFY_SUCCESS},
    {"failure", ASMTP_NOTIFY_FAILURE},
    {"delay", ASMTP_NOTIFY_DELAY},
};

/* "<addr>" as addr, "<>" as "": in place (argv is ours to change). */
static char *unbracket(char *address)
{
    size_t len = strlen(address);

    if (len >= 2 && address[0] == '<' && address[len - 1] == '>') {
        address[len - 1] = '\0';
        return address + 1;
    }
    return address;
}

/* Apply one option. Returns false after filling report. */
static bool apply_option(const struct arg_item *item, struct options *opts,
                         struct report *report)
{
    char *value = item->value;
    const char *name = item->spec->name;

    switch (item->spec->id) {
    case OPT_HOST:
        opts->host = value;
        opts->host_given = true;
        if (!*value) {
            fail(report, EX_USAGE, "usage", "--host needs a host name");
            return false;
        }
        return true;
    case OPT_PORT:
        if (!parse_port(value, &opts->port)) {
            fail(report, EX_USAGE, "usage",
                 "--port takes a number from 1 to 65535, not \"%s\"", value);
            return false;
        }
        return true;
    case OPT_UNIX:
        opts->unix_path = value;
        return true;
    case OPT_TLS:
        opts->tls = true;
        return true;
    case OPT_STARTTLS:
        opts->starttls_given = true;
        if (strcasecmp(value, "auto") == 0) {
            opts->starttls = ASMTP_STARTTLS_AUTO;
        } else if (strcasecmp(value, "required") == 0) {
            opts->starttls = ASMTP_STARTTLS_REQUIRED;
        } else if (strcasecmp(value, "never") == 0) {
            opts->starttls = ASMTP_STARTTLS_NEVER;
        } else {
            fail(report, EX_USAGE, "usage",
                 "--starttls takes auto, required or never, not \"%s\"", value);
            return false;
        }
        return true;
    case OPT_CAFILE:
        opts->ca_file = value;
        return true;
    case OPT_CAPATH:
        opts->ca_path = value;
        return true;
    case OPT_NO_VERIFY:
        opts->no_verify = true;
        return true;
    case OPT_CERT:
        opts->cert_file = value;
        return true;
    case OPT_KEY:
        opts->key_file = value;
        return true;
    case OPT_LOCAL_HOSTNAME:
        opts->local_hostname = value;
        return true;
    case OPT_SOURCE_ADDRESS:
        opts->source_text = value;
        if (!parse_source(value, opts)) {
            fail(report, EX_USAGE, "usage",
                 "--source-address takes a numeric address with an "
                 "optional port, such as 192.0.2.1, 192.0.2.1:2525 or "
                 "[2001:db8::1]:2525, not \"%s\"",
                 value);
            return false;
        }
        return true;
    case OPT_TIMEOUT:
    case OPT_CONNECT_TIMEOUT:
        if (!parse_seconds(value, item->spec->id == OPT_TIMEOUT
                                      ? &opts->timeout_ms
                                      : &opts->connect_timeout_ms)) {
            fail(report, EX_USAGE, "usage",
                 "--%s takes a number of seconds greater than 0, such as "
                 "30 or 0.5, not \"%s\"",
                 name, value);
            return false;
        }
        return true;
    case OPT_USER:
        opts->user = value;
        return true;
    case OPT_PASSWORD_FILE:
        opts->password_file = value;
        return true;
    case OPT_AUTH:
        opts->auth = parse_bits(value, mechanisms,
                                sizeof mechanisms / sizeof mechanisms[0]);
        if (!opts->auth) {
            fail(report, EX_USAGE, "usage",
                 "--auth takes PLAIN, LOGIN, CRAM-MD5 or XOAUTH2 (or a "
                 "comma list of them), not \"%s\"",
                 value);
            return false;
        }
        return true;
    case OPT_OAUTH_TOKEN_FILE:
        opts->oauth_token_file = value;
        return true;
    case OPT_ALLOW_INSECURE_AUTH:
        opts->allow_insecure_auth = true;
        return true;
    case OPT_FROM:
        opts->from = unbracket(value);
        return true;
    case OPT_DSN_NOTIFY:
        opts->notify =
            parse_bits(value, notifications,
                       sizeof notifications / sizeof notifications[0]);
        if (!opts->notify || ((opts->notify & ASMTP_NOTIFY_NEVER) &&
                              opts->notify != ASMTP_NOTIFY_NEVER)) {
            fail(report, EX_USAGE, "usage",
                 "--dsn-notify takes never, or a comma list of success, "
                 "failure and delay, not \"%s\"",
                 value);
            return false;
        }
        return true;
    case OPT_DSN_RET:
        if (strcasecmp(value, "full") == 0) {
            opts->ret = ASMTP_RET_FULL;
        } else if (strcasecmp(value, "hdrs") == 0) {
            opts->ret = ASMTP_RET_HDRS;
        } else {
            fail(report, EX_USAGE, "usage",
                 "--dsn-ret takes full or hdrs, not \"%s\"", value);
            return false;
        }
        return true;
    case OPT_DSN_ENVID:
        opts->envid = value;
        return true;
    case OPT_FILE:
        opts->file = value;
        return true;
    case OPT_VERBOSE:
        opts->verbose = true;
        return true;
    case OPT_JSON:
        opts->json = true;
        return true;
    case OPT_HELP:
        opts->help = true;
        return true;
    case OPT_VERSION:
        opts->version = true;
        return true;
    }
    fail(report, EX_SOFTWARE, "internal", "option --%s is not handled", name);
    return false;
}

/* Options that only make sense together. */
static bool check_combinations(const struct options *opts,
                               struct report *report)
{
    const char *problem = NULL;

    if (opts->unix_path && opts->port)
        problem = "--port cannot be used with --unix";
    else if (opts->unix_path && opts->source_text)
        problem = "--source-address cannot be used with --unix";
    else if (opts->tls && opts->starttls_given)
        problem = "--tls and --starttls cannot be combined: --tls is "
                  "already encrypted";
    else if (opts->key_file && !opts->cert_file)
        problem = "--key needs --cert";
    else if (!opts->user && opts->password_file)
        problem = "--password-file needs --user";
    else if (!opts->user && opts->oauth_token_file)
        problem = "--oauth-token-file needs --user";
    else if (!opts->user && opts->auth)
        problem = "--auth needs --user";
    else if (opts->unix_path && !opts->host_given && !opts->no_verify &&
             (opts->tls || opts->starttls == ASMTP_STARTTLS_REQUIRED))
        problem = "TLS over --unix needs --host NAME, the name to verify "
                  "the server's certificate against (or --no-verify "
                  "against a test server)";

    if (problem) {
        fail(report, EX_USAGE, "usage", "%s", problem);
        return false;
    }
    for (size_t i = 0; i < opts->recipient_count; i++) {
        if (!*opts->recipients[i]) {
            fail(report, EX_USAGE, "usage", "a recipient cannot be empty");
            return false;
        }
    }
    return true;
}

static bool parse_arguments(int argc, char **argv, struct options *opts,
                            struct report *report)
{
    struct arg_cursor cursor = {argc, argv, 1, NULL, false};
    struct arg_item item;
    char shown[256];

    opts->host = "localhost";
    opts->recipients = calloc((size_t)argc, sizeof *opts->recipients);
    if (!opts->recipients) {
        fail(report, EX_SOFTWARE, "internal", "out of memory");
        return false;
    }

    for (next_item(&cursor, &item); item.type != ITEM_END;
         next_item(&cursor, &item)) {
        switch (item.type) {
        case ITEM_OPERAND:
            opts->recipients[opts->recipient_count++] = unbracket(item.value);
            break;
        case ITEM_UNKNOWN:
            if (item.letter && strlen(item.arg) > 2)
                fail(report, EX_USAGE, "usage",
                     "unknown option -%c in \"%s\"; see " PROGRAM " --help",
                     item.letter, render_str(item.arg, shown, sizeof shown));
            else
                fail(report, EX_USAGE, "usage",
                     "unknown option \"%s\"; see " PROGRAM " --help",
                     render_str(item.arg, shown, sizeof shown));
            return false;
        case ITEM_NO_VALUE:
            fail(report, EX_USAGE, "usage",
                 "--%s needs a value (%s); see " PROGRAM " --help",
                 item.spec->name, item.spec->value);
            return false;
        case ITEM_EXTRA_VALUE:
            fail(report, EX_USAGE, "usage", "--%s takes no value",
                 item.spec->name);
            return false;
        default:
            if (!apply_option(&item, opts, report))
                return false;
            if (opts->help || opts->version)
                return true;
            break;
        }
    }
    return check_combinations(opts, report);
}

/* ---- Help ----------------------------------------------------------------
 */

#define HELP_COLUMN 32
#define HELP_WIDTH  79

static void print_wrapped(FILE *out, const char *text, size_t column)
{
    size_t at = column;

    while (*text) {
        const char *space = strchr(text, ' ');
        size_t len = space ? (size_t)(space - text) : strlen(text);

        if (at > column && at + 1 + len > HELP_WIDTH) {
            fprintf(out, "\n%*s", (int)column, "");
            at = column;
        } else if (at > column) {
            fputc(' ', out);
            at++;
        }
        fwrite(text, 1, len, out);
        at += len;
        text += len;
        while (*text == ' ')
            text++;
    }
    fputc('\n', out);
}

static void print_help(FILE *out)
{
    fputs("Usage: " PROGRAM " [OPTION]... [--] [RECIPIENT]...\n"
          "Send one message, read from standard input, through an SMTP "
          "server.\n"
          "Without RECIPIENTs the recipients come from the To, Cc and Bcc "
          "fields\n"
          "(or one Resent- block); Bcc fields are never sent.\n\n",
          out);
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        const struct option_spec *spec = &option_specs[i];
        char left[80];
        int n;

        if (spec->letter)
            n = snprintf(left, sizeof left, "  -%c, --%s%s%s", spec->letter,
                         spec->name, spec->value ? " " : "",
                         spec->value ? spec->value : "");
        else
            n = snprintf(left, sizeof left, "      --%s%s%s", spec->name,
                         spec->value ? " " : "",
                         spec->value ? spec->value : "");
        fputs(left, out);
        if (n >= HELP_COLUMN - 1)
            fprintf(out, "\n%*s", HELP_COLUMN, "");
        else
            fprintf(out, "%*s", HELP_COLUMN - n, "");
        print_wrapped(out, spec->help, HELP_COLUMN);
    }
    fputs("\nThe password is never taken from the command line: set "
          "ASMTP_PASSWORD or\n"
          "use --password-file. Exit status follows <sysexits.h>: 0 when "
          "every recipient\n"
          "and the message were accepted, 67 when some recipients were "
          "refused for good,\n"
          "75 for temporary failures. See asmtp-send(1).\n",
          out);
}

/* ---- Input ---------------------------------------------------------------
 */

/* Read all of in, up to MESSAGE_MAX octets. */
static bool read_message(const struct options *opts, unsigned char **data,
                         size_t *len, struct report *report)
{
    bool from_stdin = !opts->file || strcmp(opts->file, "-") == 0;
    const char *name = from_stdin ? "standard input" : opts->file;
    FILE *in = from_stdin ? stdin : fopen(opts->file, "rb");
    size_t cap = 64 * 1024, n;
    unsigned char *buf = NULL;
    bool ok = false;

    *len = 0;
    if (!in) {
        fail(report, EX_NOINPUT, "input", "cannot open the message file %s: %s",
             name, strerror(errno));
        return false;
    }
    for (;;) {
        if (!buf || *len == cap) {
            unsigned char *bigger;

            if (buf)
                cap = cap * 2 > MESSAGE_MAX + 1 ? MESSAGE_MAX + 1 : cap * 2;
            bigger = realloc(buf, cap);
            if (!bigger) {
                fail(report, EX_SOFTWARE, "internal",
                     "out of memory reading the message from %s", name);
                break;
            }
            buf = bigger;
        }
        n = fread(buf + *len, 1, cap - *len, in);
        *len += n;
        if (*len > MESSAGE_MAX) {
            fail(report, EX_DATAERR, "message",
                 "the message in %s is larger than 1 GiB, the most " PROGRAM
                 " sends",
                 name);
            break;
        }
        if (ferror(in)) {
            fail(report, EX_NOINPUT, "input",
                 "cannot read the message from %s: %s", name, strerror(errno));
            break;
        }
        if (feof(in)) {
            ok = true;
            break;
        }
    }
    if (!from_stdin)
        fclose(in);
    if (!ok) {
        free(buf);
        return false;
    }
    *data = buf;
    return true;
}

/*
 * The first line of a file holding a secret, without its line end, in a
 * buffer the caller wipes and frees. The stream is unbuffered so that no
 * copy of the secret stays in a stdio buffer.
 */
static bool read_secret(const char *path, const char *what,
                        unsigned char **secret, size_t *len,
                        struct report *report)
{
    FILE *in = fopen(path, "rb");
    unsigned char *buf;
    unsigned char *newline;
    size_t n = 0, got;

    if (!in) {
        fail(report, EX_NOINPUT, "input", "cannot open the %s file %s: %s",
             what, path, strerror(errno));
        return false;
    }
    setvbuf(in, NULL, _IONBF, 0);
    buf = malloc(SECRET_MAX);
    if (!buf) {
        fclose(in);
        fail(report, EX_SOFTWARE, "internal", "out of memory");
        return false;
    }
    while (n < SECRET_MAX && !memchr(buf, '\n', n) &&
           (got = fread(buf + n, 1, SECRET_MAX - n, in)) > 0)
        n += got;
    if (ferror(in)) {
        fail(report, EX_NOINPUT, "input", "cannot read the %s file %s: %s",
             what, path, strerror(errno));
        fclose(in);
        wipe(buf, n);
        free(buf);
        return false;
    }
    fclose(in);

    newline = memchr(buf, '\n', n);
    if (!newline && n == SECRET_MAX) {
        fail(report, EX_USAGE, "usage",
             "the first line of the %s file %s is longer than 64 KiB", what,
             path);
        wipe(buf, n);
        free(buf);
        return false;
    }
    *len = newline ? (size_t)(newline - buf) : n;
    wipe(buf + *len, n - *len);
    while (*len > 0 && (buf[*len - 1] == '\r' || buf[*len - 1] == '\n'))
        buf[--*len] = 0;
    if (*len == 0) {
        fail(report, EX_USAGE, "usage",
             "the first line of the %s file %s is empty; put the %s there",
             what, path, what);
        free(buf);
        return false;
    }
    *secret = buf;
    return true;
}

/*
 * The certificate files must be readable: a clear "cannot read" (66) is
 * more use than the TLS failure the library would report later.
 */
static bool check_readable(const struct options *opts, struct report *report)
{
    const struct {
        const char *path, *what;
        int mode;
    } files[] = {
        {opts->ca_file, "--cafile", R_OK},
        {opts->ca_path, "--capath", R_OK | X_OK},
        {opts->cert_file, "--cert", R_OK},
        {opts->key_file, "--key", R_OK},
    };

    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        if (files[i].path && access(files[i].path, files[i].mode) != 0) {
            fail(report, EX_NOINPUT, "input",
                 "cannot read %s, given with %s: %s", files[i].path,
                 files[i].what, strerror(errno));
            return false;
        }
    }
    return true;
}

/* The credentials and the mechanisms they allow. */
struct auth_setup {
    asmtp_credentials credentials;
    unsigned allowed;
    unsigned char *password_buf; /* read from --password-file */
    size_t password_len;
    unsigned char *token_buf;
    size_t token_len;
};

static void auth_setup_free(struct auth_setup *auth)
{
    if (auth->password_buf)
        wipe(auth->password_buf, auth->password_len);
    if (auth->token_buf)
        wipe(auth->token_buf, auth->token_len);
    free(auth->password_buf);
    free(auth->token_buf);
    wipe(&auth->credentials, sizeof auth->credentials);
}

static bool prepare_auth(const struct options *opts, struct auth_setup *auth,
                         struct report *report)
{
    const char *env = getenv("ASMTP_PASSWORD");
    asmtp_credentials *creds = &auth->credentials;
    unsigned usable = 0, wanted;

    creds->username.data = (const unsigned char *)opts->user;
    creds->username.len = strlen(opts->user);
    if (opts->password_file) {
        if (!read_secret(opts->password_file, "password", &auth->password_buf,
                         &auth->password_len, report))
            return false;
        creds->password.data = auth->password_buf;
        creds->password.len = auth->password_len;
    } else if (env && *env) {
        creds->password.data = (const unsigned char *)env;
        creds->password.len = strlen(env);
    }
    if (opts->oauth_token_file) {
        if (!read_secret(opts->oauth_token_file, "token", &auth->token_buf,
                         &auth->token_len, report))
            return false;
        creds->token.data = auth->token_buf;
        creds->token.len = auth->token_len;
    }

    if (creds->password.len)
        usable |= ASMTP_AUTH_PLAIN | ASMTP_AUTH_LOGIN | ASMTP_AUTH_CRAM_MD5;
    if (creds->token.len)
        usable |= ASMTP_AUTH_XOAUTH2;
    wanted = opts->auth ? opts->auth : (unsigned)ASMTP_AUTH_ANY;
    auth->allowed = wanted & usable;
    if (auth->allowed)
        return true;

    if (wanted == ASMTP_AUTH_XOAUTH2)
        fail(report, EX_USAGE, "usage",
             "--auth XOAUTH2 needs the token: give --oauth-token-file FILE");
    else
        fail(report, EX_USAGE, "usage",
             "--user needs a password: set the environment variable "
             "ASMTP_PASSWORD or give --password-file FILE%s",
             opts->auth ? "" : " (or --oauth-token-file for XOAUTH2)");
    return false;
}

/* ---- Library callbacks -------------------------------------------------- */

static void on_transcript(void *user_data, int direction,
                          const unsigned char *line, size_t len)
{
    struct run *run = user_data;

    if (!run->verbose)
        return;
    fputs(direction == ASMTP_SENT ? "C: " : "S: ", stderr);
    print_rendered(stderr, line, len);
    fputc('\n', stderr);
}

static void on_log(void *user_data, int level, const char *message)
{
    static const char *const levels[] = {"debug", "info", "warning", "error"};
    struct run *run = user_data;

    if (!run->verbose && level != ASMTP_LOG_WARNING)
        return;
    fprintf(stderr, PROGRAM ": %s: ",
            level >= 0 && level <= ASMTP_LOG_ERROR ? levels[level] : "log");
    print_rendered(stderr, message, strlen(message));
    fputc('\n', stderr);
}

/* ---- Results to exit status and kind ------------------------------------ */

static bool is_temporary(const asmtp_reply *reply)
{
    return reply && reply->code >= 400 && reply->code < 500;
}

/* Substring match ignoring ASCII case. */
static bool contains_word(const char *text, const char *word)
{
    size_t len = strlen(word);

    for (; *text; text++)
        if (strncasecmp(text, word, len) == 0)
            return true;
    return false;
}

/* 67 when every refusal is permanent (5xx), else 75. */
static int refusal_status(const asmtp_result *result)
{
    for (size_t i = 0; i < result->recipient_count; i++) {
        const asmtp_recipient_result *rcpt = &result->recipients[i];

        if (rcpt->accepted)
            continue;
        if (!rcpt->reply || rcpt->reply->code < 500 || rcpt->reply->code > 599)
            return EX_TEMPFAIL;
    }
    return EX_NOUSER;
}

/*
 * The kind and exit status of a failed call. A refusal is temporary (75)
 * when its reply is 4xx, permanent (69) otherwise; see EXIT STATUS in
 * asmtp-send(1) for the whole table.
 */
static void classify(const asmtp_result *result, struct report *report)
{
    const asmtp_reply *reply = result->reply;
    int refused = is_temporary(reply) ? EX_TEMPFAIL : EX_UNAVAILABLE;

    switch (result->error) {
    case ASMTP_ERR_BAD_ARGUMENT:
    case ASMTP_ERR_COMMAND_TOO_LONG:
        report->kind = "usage";
        report->status = EX_USAGE;
        return;
    case ASMTP_ERR_MESSAGE:
    case ASMTP_ERR_LINE_TOO_LONG:
        report->kind = "message";
        report->status = EX_DATAERR;
        return;
    case ASMTP_ERR_SOURCE:
        report->kind = "input";
        report->status = EX_NOINPUT;
        return;
    case ASMTP_ERR_CONNECT:
        report->kind = "connect";
        report->status = contains_word(result->message, "resolve") ||
                                 contains_word(result->message, "no such host")
                             ? EX_NOHOST
                             : EX_TEMPFAIL;
        return;
    case ASMTP_ERR_CONNECT_TIMEOUT:
        report->kind = "connect-timeout";
        report->status = EX_TEMPFAIL;
        return;
    case ASMTP_ERR_GREETING:
        report->kind = "greeting";
        report->status = refused;
        return;
    case ASMTP_ERR_HELO:
        report->kind = "helo";
        report->status = refused;
        return;
    case ASMTP_ERR_TIMEOUT:
        report->kind = "timeout";
        report->status = EX_TEMPFAIL;
        return;
    case ASMTP_ERR_DISCONNECTED:
    case ASMTP_ERR_SHUTDOWN:
        report->kind = "disconnected";
        report->status = EX_TEMPFAIL;
        return;
    case ASMTP_ERR_TLS:
        report->kind = "tls";
        report->status = refused;
        return;
    case ASMTP_ERR_AUTH:
        report->kind = "auth";
        report->status = is_temporary(reply) ? EX_TEMPFAIL : EX_NOPERM;
        return;
    case ASMTP_ERR_NOT_SUPPORTED:
        report->kind = "not-supported";
        report->status = EX_UNAVAILABLE;
        return;
    case ASMTP_ERR_SENDER_REFUSED:
        report->kind = "sender-refused";
        report->status = refused;
        return;
    case ASMTP_ERR_RECIPIENTS_REFUSED:
        report->kind = "recipients-refused";
        report->status = refusal_status(result);
        return;
    case ASMTP_ERR_DATA_REFUSED:
        report->kind = "data-refused";
        report->status = refused;
        return;
    case ASMTP_ERR_COMMAND_REFUSED:
        /* Only simple commands (RSET, QUIT) are refused this way: a
         * well-formed refusal the send did not expect. */
        report->kind = "protocol";
        report->status = refused;
        return;
    case ASMTP_ERR_MALFORMED_REPLY:
    case ASMTP_ERR_REPLY_TOO_LONG:
    case ASMTP_ERR_UNEXPECTED_REPLY:
    case ASMTP_ERR_PROTOCOL:
        report->kind = "protocol";
        report->status = EX_PROTOCOL;
        return;
    default: /* NOMEM, STATE, CANCELLED and codes this tool does not know */
        report->kind = "internal";
        report->status = EX_SOFTWARE;
        return;
    }
}

/* The outcome of the send itself, including a partial refusal. */
static void judge_send(const asmtp_result *result, struct report *report)
{
    report->result = result;
    report->sent = true;
    if (result->error) {
        classify(result, report);
        return;
    }
    if (result->refused_count == 0)
        return;
    report->kind = "recipients-refused";
    report->status = refusal_status(result);
    snprintf(report->message, sizeof report->message,
             "the server refused %zu of %zu recipients; the message went to "
             "the others",
             result->refused_count, result->recipient_count);
}

/* ---- Output -------------------------------------------------------------
 */

static size_t utf8_sequence(const unsigned char *p, size_t left)
{
    size_t len, i;
    unsigned c = p[0];

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4;
    else
        return 0;
    if (left < len)
        return 0;
    for (i = 1; i < len; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    /* Overlong forms, UTF-16 surrogates and code points past U+10FFFF. */
    if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] > 0x9f) ||
        (c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] > 0x8f))
        return 0;
    return len;
}

/* A JSON string: escapes for quotes, backslashes and controls; valid UTF-8
 * as it is; each byte of invalid UTF-8 as U+FFFD. */
static void json_string(FILE *out, const void *data, size_t len)
{
    const unsigned char *p = data;

    fputc('"', out);
    for (size_t i = 0; i < len;) {
        unsigned char c = p[i];
        size_t n;

        switch (c) {
        case '"':
            fputs("\\\"", out);
            break;
        case '\\':
            fputs("\\\\", out);
            break;
        case '\n':
            fputs("\\n", out);
            break;
        case '\r':
            fputs("\\r", out);
            break;
        case '\t':
            fputs("\\t", out);
            break;
        default:
            if (c < 0x20 || c == 0x7f) {
                fprintf(out, "\\u%04x", c);
                break;
            }
            n = utf8_sequence(p + i, len - i);
            if (n == 0) {
                fputs("\\ufffd", out);
                break;
            }
            fwrite(p + i, 1, n, out);
            i += n;
            continue;
        }
        i++;
    }
    fputc('"', out);
}

static void json_cstring(FILE *out, const char *text)
{
    if (text)
        json_string(out, text, strlen(text));
    else
        fputs("null", out);
}

static void json_reply_fields(FILE *out, const asmtp_reply *reply,
                              bool with_text)
{
    if (reply)
        fprintf(out, "\"code\": %d, \"enhanced\": ", reply->code);
    else
        fputs("\"code\": null, \"enhanced\": ", out);
    if (reply && reply->enhanced[0])
        json_cstring(out, reply->enhanced);
    else
        fputs("null", out);
    if (!with_text)
        return;
    fputs(", \"text\": ", out);
    if (reply)
        json_string(out, reply->text, reply->text_len);
    else
        fputs("null", out);
}

/* The reply the message content got, if it got one. */
static const asmtp_reply *content_reply(const asmtp_result *result)
{
    if (result->final_reply)
        return result->final_reply;
    if (result->data_reply && result->data_reply->code != 354)
        return result->data_reply;
    if (result->error == ASMTP_ERR_DATA_REFUSED)
        return result->reply;
    return NULL;
}

static const char *report_message(const struct report *report)
{
    if (report->message[0] || !report->result)
        return report->message;
    return report->result->message;
}

static void print_json(FILE *out, const struct report *report)
{
    const asmtp_result *result = report->sent ? report->result : NULL;
    const asmtp_reply *data = result ? content_reply(result) : NULL;

    fprintf(out,
            "{\"ok\": %s, \"error\": ", report->status == 0 ? "true" : "false");
    if (report->kind) {
        bool partial = result && !result->error;

        fputs("{\"kind\": ", out);
        json_cstring(out, report->kind);
        fputs(", \"message\": ", out);
        json_cstring(out, report_message(report));
        fputs(", ", out);
        json_reply_fields(
            out, report->result && !partial ? report->result->reply : NULL,
            false);
        fputs("}", out);
    } else {
        fputs("null", out);
    }

    fputs(", \"sender\": ", out);
    json_cstring(out, report->sender);
    fputs(", \"recipients\": [", out);
    for (size_t i = 0; result && i < result->recipient_count; i++) {
        const asmtp_recipient_result *rcpt = &result->recipients[i];

        fputs(i ? ", {\"address\": " : "{\"address\": ", out);
        json_cstring(out, rcpt->address);
        fprintf(out, ", \"accepted\": %s, ", rcpt->accepted ? "true" : "false");
        json_reply_fields(out, rcpt->reply, true);
        fputs("}", out);
    }
    fputs("], \"data\": ", out);
    if (data) {
        fputs("{", out);
        json_reply_fields(out, data, true);
        fputs("}", out);
    } else {
        fputs("null", out);
    }
    fprintf(out, ", \"maybe_delivered\": %s, \"tls\": %s}\n",
            result && result->maybe_delivered ? "true" : "false",
            report->tls ? "true" : "false");
}

/* A reply on stderr after a label, continuation lines indented. */
static void print_reply(const char *label, const asmtp_reply *reply)
{
    char small[2048];
    size_t need = asmtp_reply_render(reply, small, sizeof small);
    char *text = small;

    if (need >= sizeof small) {
        text = malloc(need + 1);
        if (text)
            asmtp_reply_render(reply, text, need + 1);
        else
            text = small;
    }
    fputs(label, stderr);
    for (const char *p = text; *p; p++) {
        fputc(*p, stderr);
        if (*p == '\n')
            fputs("    ", stderr);
    }
    fputc('\n', stderr);
    if (text != small)
        free(text);
}

/* Whether the message already quotes the reply (the library's often do). */
static bool message_quotes(const char *message, const asmtp_reply *reply)
{
    char text[512];

    asmtp_reply_render(reply, text, sizeof text);
    return text[0] && strstr(message, text);
}

static void print_refused(const asmtp_result *result)
{
    for (size_t i = 0; i < result->recipient_count; i++) {
        const asmtp_recipient_result *rcpt = &result->recipients[i];
        char label[600], shown[512];

        if (rcpt->accepted)
            continue;
        snprintf(label, sizeof label,
                 "  %s: ", render_str(rcpt->address, shown, sizeof shown));
        if (rcpt->reply)
            print_reply(label, rcpt->reply);
        else
            fprintf(stderr, "%snot answered\n", label);
    }
}

/*
 * "asmtp-send: STAGE failed: MESSAGE." The library's messages are already
 * rendered (server text escaped), so only stray control bytes are escaped
 * here, and a final period is not doubled.
 */
static void print_failure(const char *stage, const char *message)
{
    size_t len = strlen(message);

    fprintf(stderr, PROGRAM ": %s failed: ", stage);
    while (len > 0 && message[len - 1] == '.')
        len--;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)message[i];

        if (c < 0x20 || c == 0x7f)
            fprintf(stderr, "\\x%02x", c);
        else
            fputc(c, stderr);
    }
    fputs(".\n", stderr);
}

static void print_human(const struct report *report)
{
    const asmtp_result *result = report->result;

    if (!report->kind)
        return;
    if (!result) {
        fprintf(stderr, PROGRAM ": %s.\n", report->message);
        return;
    }
    if (report->message[0])
        fprintf(stderr, PROGRAM ": %s:\n", report->message);
    else
        print_failure(report->stage, result->message);
    if (report->sent &&
        (result->error == 0 || result->error == ASMTP_ERR_RECIPIENTS_REFUSED))
        print_refused(result);
    else if (result->reply && !message_quotes(result->message, result->reply))
        print_reply(PROGRAM ": the server replied: ", result->reply);
    if (report->sent && result->maybe_delivered)
        fputs(PROGRAM ": the whole message was sent but no final reply came; "
                      "the server may have accepted it, so check before "
                      "sending it again.\n",
              stderr);
    if (result->error == ASMTP_ERR_TLS && report->step == STEP_AUTH)
        fputs(PROGRAM ": the password is not sent unencrypted: use --tls or "
                      "--starttls required, or --allow-insecure-auth "
                      "against a test server.\n",
              stderr);
    else if (result->error == ASMTP_ERR_TLS &&
             (contains_word(result->message, "issuer") ||
              contains_word(result->message, "self-signed") ||
              contains_word(result->message, "self signed")))
        fputs(PROGRAM ": if the server's certificate comes from a private "
                      "CA, give it with --cafile or --capath.\n",
              stderr);
}

/* Print the outcome; returns the exit status. */
static int finish(struct report *report)
{
    print_human(report);
    if (report->json) {
        print_json(stdout, report);
        if (fflush(stdout) != 0 || ferror(stdout)) {
            fprintf(stderr, PROGRAM ": cannot write the JSON output: %s.\n",
                    strerror(errno));
            if (report->status == 0)
                report->status = EX_SOFTWARE;
        }
    }
    return report->status;
}

/* ---- Sending ------------------------------------------------------------- */

static void describe_server(const struct options *opts, struct report *report)
{
    if (opts->unix_path)
        snprintf(report->stage, sizeof report->stage,
                 "connecting to the Unix socket %s", opts->unix_path);
    else if (opts->port)
        snprintf(report->stage, sizeof report->stage,
                 "connecting to %s port %u", opts->host, (unsigned)opts->port);
    else
        snprintf(report->stage, sizeof report->stage, "connecting to %s",
                 opts->host);
}

static void make_config(const struct options *opts, struct run *run,
                        asmtp_client_config *config)
{
    memset(config, 0, sizeof *config);
    config->host = opts->host;
    config->port = opts->port;
    config->unix_path = opts->unix_path;
    if (opts->source_text) {
        config->source_address = opts->source_address;
        config->source_port = opts->source_port;
    }
    config->local_hostname = opts->local_hostname;
    config->tls = opts->tls;
    config->starttls = opts->starttls;
    config->tls_config.ca_file = opts->ca_file;
    config->tls_config.ca_path = opts->ca_path;
    config->tls_config.cert_file = opts->cert_file;
    config->tls_config.key_file = opts->key_file;
    config->tls_config.no_verify = opts->no_verify;
    if (opts->unix_path && opts->host_given)
        config->tls_config.server_name = opts->host;
    config->allow_insecure_auth = opts->allow_insecure_auth;
    config->connect_timeout_ms = opts->connect_timeout_ms;
    config->timeout_ms = opts->timeout_ms;
    config->log = on_log;
    config->transcript = on_transcript;
    config->user_data = run;
}

/*
 * Connect, authenticate, send. Leaves the outcome in report; the result
 * it points at stays valid until the next call on sync.
 */
static void deliver(asmtp_sync *sync, const struct options *opts,
                    const struct auth_setup *auth, const asmtp_content *content,
                    struct report *report)
{
    asmtp_recipient *recipients = NULL;
    asmtp_envelope envelope;
    char shown[256];

    describe_server(opts, report);
    report->step = STEP_CONNECT;
    if (asmtp_sync_connect(sync) != 0) {
        report->result = asmtp_sync_result(sync);
        classify(report->result, report);
        return;
    }

    if (opts->user) {
        snprintf(report->stage, sizeof report->stage, "authenticating as %s",
                 render_str(opts->user, shown, sizeof shown));
        report->step = STEP_AUTH;
        if (asmtp_sync_auth(sync, &auth->credentials, auth->allowed) != 0) {
            report->result = asmtp_sync_result(sync);
            classify(report->result, report);
            return;
        }
    }

    snprintf(report->stage, sizeof report->stage, "sending the message");
    report->step = STEP_SEND;
    if (opts->recipient_count) {
        recipients = calloc(opts->recipient_count, sizeof *recipients);
        if (!recipients) {
            fail(report, EX_SOFTWARE, "internal", "out of memory");
            return;
        }
        for (size_t i = 0; i < opts->recipient_count; i++) {
            recipients[i].address = opts->recipients[i];
            recipients[i].notify = opts->notify;
        }
    }
    memset(&envelope, 0, sizeof envelope);
    envelope.sender = opts->from;
    envelope.recipients = recipients;
    envelope.recipient_count = opts->recipient_count;
    envelope.ret = opts->ret;
    envelope.envid = opts->envid;
    envelope.notify = opts->notify; /* for recipients from the headers */
    asmtp_sync_send_message(sync, &envelope, content);
    judge_send(asmtp_sync_result(sync), report);
    free(recipients);
}

static int send_with(const struct options *opts, const struct auth_setup *auth,
                     const asmtp_content *content, struct report *report)
{
    asmtp_client_config config;
    struct run run = {opts->verbose};
    asmtp_sync *sync = NULL;
    asmtp_client *client;
    const asmtp_session *session;
    int rv, status;

    make_config(opts, &run, &config);
    rv = asmtp_sync_new(&sync, &config, NULL);
    if (rv == ASMTP_ERR_BAD_ARGUMENT) {
        fail(report, EX_USAGE, "usage",
             "the connection settings were refused (%s); check --host, "
             "--unix, --source-address and --local-hostname",
             asmtp_strerror(rv));
        return finish(report);
    }
    if (rv) {
        fail(report, EX_SOFTWARE, "internal", "cannot set up the client: %s",
             asmtp_strerror(rv));
        return finish(report);
    }
    client = asmtp_sync_client(sync);

    deliver(sync, opts, auth, content, report);
    session = asmtp_client_session(client);
    report->tls = session && asmtp_session_is_tls(session);
    /* The result (valid until the QUIT below) says which reverse-path MAIL
     * used, whether from -f or from the headers. */
    if (asmtp_sync_result(sync)->op == ASMTP_OP_SEND)
        report->sender = asmtp_sync_result(sync)->sender;
    if (!report->sender)
        report->sender = opts->from;
    status = finish(report);

    /* The outcome is decided; QUIT is a courtesy whose failure changes
     * nothing. */
    if (asmtp_client_is_connected(client))
        asmtp_sync_quit(sync);
    asmtp_sync_free(sync);
    return status;
}

static void ignore_sigpipe(void)
{
    struct sigaction action;

    memset(&action, 0, sizeof action);
    action.sa_handler = SIG_IGN;
    sigemptyset(&action.sa_mask);
    sigaction(SIGPIPE, &action, NULL);
}

int main(int argc, char **argv)
{
    struct options opts;
    struct report report;
    struct auth_setup auth;
    asmtp_content content;
    unsigned char *message = NULL;
    size_t len = 0;
    int status;

    memset(&opts, 0, sizeof opts);
    memset(&report, 0, sizeof report);
    memset(&auth, 0, sizeof auth);

    check_arguments(argc, argv, &report);
    if (report.status)
        return finish(&report);
    if (!parse_arguments(argc, argv, &opts, &report)) {
        free(opts.recipients);
        return finish(&report);
    }
    report.sender = opts.from;
    if (opts.help || opts.version) {
        if (opts.help)
            print_help(stdout);
        else
            printf(PROGRAM " " ASMTP_VERSION_STRING "\n");
        free(opts.recipients);
        return fflush(stdout) == 0 ? EX_OK : EX_SOFTWARE;
    }

    ignore_sigpipe();
    if (!check_readable(&opts, &report) ||
        (opts.user && !prepare_auth(&opts, &auth, &report)) ||
        !read_message(&opts, &message, &len, &report)) {
        auth_setup_free(&auth);
        free(opts.recipients);
        return finish(&report);
    }

    memset(&content, 0, sizeof content);
    content.data = message;
    content.len = len;
    status = send_with(&opts, &auth, &content, &report);

    auth_setup_free(&auth);
    free(message);
    free(opts.recipients);
    return status;
}
