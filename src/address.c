/*
 * RFC 5322 address lists (see address.h): a recursive-descent parser over
 * a field body, with the obsolete syntax of 4.4 folded into the same
 * rules. Only each mailbox's addr-spec is kept, rebuilt in the form an
 * envelope path takes; names, comments and routes are read and dropped.
 */
#include "address.h"

#include <stdint.h>
#include <string.h>

#include "asmtp/error.h"

typedef struct parser {
    const unsigned char *text;
    size_t len;
    size_t pos;
    asmtp__buf local;          /* the local part being read, unquoted */
    asmtp__buf address;        /* the addr-spec being built */
    asmtp__address_list found; /* what this call has read so far */
    size_t found_cap;
} parser;

/* What a run of words and dots read by read_words() may be. */
typedef struct words {
    size_t count;    /* atoms and quoted strings */
    bool local_part; /* word *("." word): it may stand before "@" */
} words;

void asmtp__address_list_init(asmtp__address_list *list, const asmtp_mem *mem)
{
    list->mem = mem;
    list->addresses = NULL;
    list->count = 0;
}

void asmtp__address_list_free(asmtp__address_list *list)
{
    for (size_t i = 0; i < list->count; i++)
        asmtp__free(list->mem, list->addresses[i]);
    asmtp__free(list->mem, list->addresses);
    list->addresses = NULL;
    list->count = 0;
}

static bool is_wsp(unsigned char c)
{
    return c == ' ' || c == '\t';
}

/* The octets of folding white space. Once the text has passed
 * text_is_clean(), every CR and LF in it is part of a fold. */
static bool is_fws(unsigned char c)
{
    return is_wsp(c) || c == '\r' || c == '\n';
}

/* atext (3.2.3), and every octet from 0x80 on as RFC 6532 allows (the
 * UTF-8 has been checked by then). */
static bool is_atext(unsigned char c)
{
    if (c >= 0x80)
        return true;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9'))
        return true;
    return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static bool is_dot_atom(const unsigned char *p, size_t len)
{
    bool want_atext = true;

    for (size_t i = 0; i < len; i++) {
        if (p[i] == '.') {
            if (want_atext)
                return false;
            want_atext = true;
        } else if (is_atext(p[i])) {
            want_atext = false;
        } else {
            return false;
        }
    }
    return !want_atext;
}

/* The length of the UTF-8 sequence at p (n octets available), or 0 when
 * it is not well formed (RFC 3629) or encodes a C1 control character. */
static size_t utf8_length(const unsigned char *p, size_t n)
{
    unsigned char lo = 0x80, hi = 0xbf;
    size_t len;

    if (p[0] >= 0xc2 && p[0] <= 0xdf) {
        len = 2;
        lo = p[0] == 0xc2 ? 0xa0 : 0x80;
    } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
        len = 3;
        lo = p[0] == 0xe0 ? 0xa0 : 0x80;
        hi = p[0] == 0xed ? 0x9f : 0xbf;
    } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        len = 4;
        lo = p[0] == 0xf0 ? 0x90 : 0x80;
        hi = p[0] == 0xf4 ? 0x8f : 0xbf;
    } else {
        return 0;
    }
    if (n < len || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return len;
}

/* True when the text is well-formed UTF-8 without control characters,
 * except HTAB and line breaks (CRLF or a bare LF) that fold, that is that
 * are followed by SP or HTAB. */
static bool text_is_clean(const unsigned char *p, size_t len)
{
    size_t i = 0;

    while (i < len) {
        unsigned char c = p[i];

        if (c >= 0x80) {
            size_t n = utf8_length(p + i, len - i);

            if (n == 0)
                return false;
            i += n;
            continue;
        }
        if (c == '\r') {
            if (i + 1 >= len || p[i + 1] != '\n')
                return false;
            c = p[++i];
        }
        if (c == '\n') {
            if (i + 1 >= len || !is_wsp(p[i + 1]))
                return false;
        } else if ((c < 0x20 && c != '\t') || c == 0x7f) {
            return false;
        }
        i++;
    }
    return true;
}

/* The next octet, or -1 at the end of the text. */
static int peek(const parser *ps)
{
    return ps->pos < ps->len ? ps->text[ps->pos] : -1;
}

/* Append to out, or do nothing when out is NULL (text read only to be
 * skipped). */
static int put(asmtp__buf *out, const void *data, size_t len)
{
    return out ? asmtp__buf_append(out, data, len) : 0;
}

/* Skip folding white space and comments (3.2.2), nested comments and
 * quoted pairs in them included. A comment left open is an error. */
static int skip_cfws(parser *ps)
{
    size_t depth = 0;

    while (ps->pos < ps->len) {
        unsigned char c = ps->text[ps->pos];

        if (c == '(') {
            depth++;
        } else if (c == ')' && depth > 0) {
            depth--;
        } else if (c == '\\' && depth > 0) {
            ps->pos++;
            if (ps->pos >= ps->len || ps->text[ps->pos] == '\r' ||
                ps->text[ps->pos] == '\n')
                return ASMTP_ERR_MESSAGE;
        } else if (depth == 0 && !is_fws(c)) {
            return 0;
        }
        ps->pos++;
    }
    return depth ? ASMTP_ERR_MESSAGE : 0;
}

/* A quoted string (3.2.4) at its opening quote. Its content goes to out:
 * quoted pairs undone, the line breaks of folds dropped, their white
 * space kept. */
static int read_quoted(parser *ps, asmtp__buf *out)
{
    int rv;

    ps->pos++;
    while (ps->pos < ps->len) {
        unsigned char c = ps->text[ps->pos++];

        if (c == '"')
            return 0;
        if (c == '\r' || c == '\n')
            continue;
        if (c == '\\') {
            if (ps->pos >= ps->len)
                break;
            c = ps->text[ps->pos++];
            if (c == '\r' || c == '\n')
                return ASMTP_ERR_MESSAGE;
        }
        rv = put(out, &c, 1);
        if (rv)
            return rv;
    }
    return ASMTP_ERR_MESSAGE;
}

/* An atom's text (possibly none) at the cursor. */
static int read_atom(parser *ps, asmtp__buf *out)
{
    size_t start = ps->pos;

    while (ps->pos < ps->len && is_atext(ps->text[ps->pos]))
        ps->pos++;
    return put(out, ps->text + start, ps->pos - start);
}

/*
 * Words (atoms and quoted strings) and dots, with CFWS around them, as far
 * as they go: a display name (obs-phrase, read leniently since it is
 * dropped) or a local part (obs-local-part). Their text without the CFWS
 * goes to out. The cursor is left on the first octet that does not belong.
 */
static int read_words(parser *ps, asmtp__buf *out, words *w)
{
    bool want_word = true;
    int rv;

    w->count = 0;
    w->local_part = true;
    for (;;) {
        int c;

        rv = skip_cfws(ps);
        if (rv)
            return rv;
        c = peek(ps);
        if (c == '.') {
            w->local_part = w->local_part && !want_word;
            want_word = true;
            ps->pos++;
            rv = put(out, ".", 1);
        } else if (c == '"' || (c >= 0 && is_atext((unsigned char)c))) {
            w->local_part = w->local_part && want_word;
            want_word = false;
            w->count++;
            rv = c == '"' ? read_quoted(ps, out) : read_atom(ps, out);
        } else {
            break;
        }
        if (rv)
            return rv;
    }
    w->local_part = w->local_part && !want_word;
    return 0;
}

/* A domain literal (3.4.1) at its "[". White space in it is dropped;
 * quoted pairs (obs-dtext) are refused, since an SMTP address literal
 * has no way to carry them, and so is an empty literal. */
static int read_literal(parser *ps, asmtp__buf *out)
{
    size_t dtext = 0;
    int rv;

    ps->pos++;
    rv = put(out, "[", 1);
    while (rv == 0 && ps->pos < ps->len) {
        unsigned char c = ps->text[ps->pos++];

        if (is_fws(c))
            continue;
        if (c == ']') {
            if (dtext == 0)
                return ASMTP_ERR_MESSAGE;
            rv = put(out, "]", 1);
            return rv ? rv : skip_cfws(ps);
        }
        if (c == '[' || c == '\\')
            return ASMTP_ERR_MESSAGE;
        dtext++;
        rv = put(out, &c, 1);
    }
    return rv ? rv : ASMTP_ERR_MESSAGE;
}

/* A domain (dot-atom, obs-domain or a literal) with the CFWS around it;
 * its text without the CFWS goes to out. */
static int read_domain(parser *ps, asmtp__buf *out)
{
    int rv = skip_cfws(ps);

    if (rv)
        return rv;
    if (peek(ps) == '[')
        return read_literal(ps, out);
    for (;;) {
        size_t start = ps->pos;

        rv = read_atom(ps, out);
        if (rv)
            return rv;
        if (ps->pos == start)
            return ASMTP_ERR_MESSAGE;
        rv = skip_cfws(ps);
        if (rv || peek(ps) != '.')
            return rv;
        ps->pos++;
        rv = put(out, ".", 1);
        if (rv == 0)
            rv = skip_cfws(ps);
        if (rv)
            return rv;
    }
}

/* Start the addr-spec with the local part read into ps->local: as it is
 * when it is a dot-atom, else as a quoted string. A local part with a
 * HTAB is refused: no SMTP quoted string can carry one. */
static int start_address(parser *ps)
{
    const unsigned char *local = asmtp__buf_head(&ps->local);
    size_t len = asmtp__buf_size(&ps->local);
    asmtp__buf *out = &ps->address;
    int rv = 0;

    asmtp__buf_clear(out);
    if (memchr(local, '\t', len))
        return ASMTP_ERR_MESSAGE;
    if (is_dot_atom(local, len))
        return asmtp__buf_append(out, local, len);
    rv = asmtp__buf_append_byte(out, '"');
    for (size_t i = 0; rv == 0 && i < len; i++) {
        if (local[i] == '"' || local[i] == '\\')
            rv = asmtp__buf_append_byte(out, '\\');
        if (rv == 0)
            rv = asmtp__buf_append_byte(out, local[i]);
    }
    return rv ? rv : asmtp__buf_append_byte(out, '"');
}

/* Add the addr-spec built in ps->address to what this call found. */
static int keep_address(parser *ps)
{
    asmtp__address_list *found = &ps->found;
    char *copy;

    if (found->count == ps->found_cap) {
        size_t cap = ps->found_cap ? ps->found_cap * 2 : 4;
        char **grown;

        if (cap > SIZE_MAX / sizeof *grown)
            return ASMTP_ERR_NOMEM;
        grown =
            asmtp__realloc(found->mem, found->addresses, cap * sizeof *grown);
        if (!grown)
            return ASMTP_ERR_NOMEM;
        found->addresses = grown;
        ps->found_cap = cap;
    }
    copy =
        asmtp__strndup(found->mem, (const char *)asmtp__buf_head(&ps->address),
                       asmtp__buf_size(&ps->address));
    if (!copy)
        return ASMTP_ERR_NOMEM;
    found->addresses[found->count++] = copy;
    return 0;
}

/* The addr-spec whose local part starts at start, already known to be
 * one and to be followed by "@". */
static int read_addr_spec(parser *ps, size_t start)
{
    words w;
    int rv;

    ps->pos = start;
    asmtp__buf_clear(&ps->local);
    rv = read_words(ps, &ps->local, &w);
    if (rv)
        return rv;
    ps->pos++; /* the "@" */
    rv = start_address(ps);
    if (rv == 0)
        rv = asmtp__buf_append_byte(&ps->address, '@');
    if (rv == 0)
        rv = read_domain(ps, &ps->address);
    return rv ? rv : keep_address(ps);
}

/* An obs-route (4.4): "@domain" entries separated by commas (empty ones
 * allowed), then ":". It is read and dropped. */
static int skip_route(parser *ps)
{
    size_t domains = 0;
    int rv;

    for (;;) {
        rv = skip_cfws(ps);
        if (rv)
            return rv;
        switch (peek(ps)) {
        case ',':
            ps->pos++;
            break;
        case '@':
            ps->pos++;
            rv = read_domain(ps, NULL);
            if (rv)
                return rv;
            domains++;
            break;
        case ':':
            ps->pos++;
            return domains ? 0 : ASMTP_ERR_MESSAGE;
        default:
            return ASMTP_ERR_MESSAGE;
        }
    }
}

/* An angle-addr at its "<", with an obs-route or without. "<>" gives no
 * address. */
static int read_angle_addr(parser *ps)
{
    size_t start;
    words w;
    int rv;

    ps->pos++;
    rv = skip_cfws(ps);
    if (rv)
        return rv;
    if (peek(ps) == '>') {
        ps->pos++;
        return 0;
    }
    if (peek(ps) == '@' || peek(ps) == ',') {
        rv = skip_route(ps);
        if (rv)
            return rv;
    }
    start = ps->pos;
    rv = read_words(ps, NULL, &w);
    if (rv)
        return rv;
    if (!w.local_part || peek(ps) != '@')
        return ASMTP_ERR_MESSAGE;
    rv = read_addr_spec(ps, start);
    if (rv)
        return rv;
    if (peek(ps) != '>')
        return ASMTP_ERR_MESSAGE;
    ps->pos++;
    return 0;
}

static int read_group(parser *ps);

/*
 * One element of a list: a mailbox (name-addr or addr-spec), or a group
 * when not in one already. The words at the start decide which, by what
 * follows them: "<" an angle-addr, ":" a group, "@" a domain. Anything
 * else, a lone local part included, is not an address.
 */
static int read_element(parser *ps, bool in_group)
{
    size_t start = ps->pos;
    words w;
    int rv = read_words(ps, NULL, &w);

    if (rv)
        return rv;
    switch (peek(ps)) {
    case '<':
        return read_angle_addr(ps);
    case ':':
        if (in_group || w.count == 0)
            return ASMTP_ERR_MESSAGE;
        return read_group(ps);
    case '@':
        if (!w.local_part)
            return ASMTP_ERR_MESSAGE;
        return read_addr_spec(ps, start);
    default:
        return ASMTP_ERR_MESSAGE;
    }
}

/* A group's members, from its ":" to its ";". A group still open at the
 * end of the text is taken as closed there. */
static int read_group(parser *ps)
{
    int rv;

    ps->pos++;
    for (;;) {
        int c;

        rv = skip_cfws(ps);
        if (rv)
            return rv;
        c = peek(ps);
        if (c == -1)
            return 0;
        if (c == ';') {
            ps->pos++;
            return 0;
        }
        if (c == ',') {
            ps->pos++;
            continue;
        }
        rv = read_element(ps, true);
        if (rv == 0)
            rv = skip_cfws(ps);
        if (rv)
            return rv;
        c = peek(ps);
        if (c == ',')
            ps->pos++;
        else if (c != ';' && c != -1)
            return ASMTP_ERR_MESSAGE;
    }
}

/* The whole text: elements separated by commas, empty ones skipped. */
static int read_list(parser *ps)
{
    int rv;

    for (;;) {
        int c;

        rv = skip_cfws(ps);
        if (rv)
            return rv;
        c = peek(ps);
        if (c == -1)
            return 0;
        if (c == ',') {
            ps->pos++;
            continue;
        }
        rv = read_element(ps, false);
        if (rv == 0)
            rv = skip_cfws(ps);
        if (rv)
            return rv;
        c = peek(ps);
        if (c == ',')
            ps->pos++;
        else if (c != -1)
            return ASMTP_ERR_MESSAGE;
    }
}

/* Append what the call found to list; list is unchanged on failure. */
static int move_found(asmtp__address_list *list, parser *ps)
{
    asmtp__address_list *found = &ps->found;
    char **grown;

    if (found->count == 0)
        return 0;
    if (list->count == 0) {
        asmtp__free(list->mem, list->addresses);
        list->addresses = found->addresses;
        list->count = found->count;
        asmtp__address_list_init(found, found->mem);
        return 0;
    }
    if (found->count > SIZE_MAX / sizeof *grown - list->count)
        return ASMTP_ERR_NOMEM;
    grown = asmtp__realloc(list->mem, list->addresses,
                           (list->count + found->count) * sizeof *grown);
    if (!grown)
        return ASMTP_ERR_NOMEM;
    memcpy(grown + list->count, found->addresses, found->count * sizeof *grown);
    list->addresses = grown;
    list->count += found->count;
    asmtp__free(found->mem, found->addresses);
    asmtp__address_list_init(found, found->mem);
    return 0;
}

int asmtp__address_list_parse(asmtp__address_list *list, const char *text,
                              size_t len)
{
    parser ps;
    int rv;

    if (!text_is_clean((const unsigned char *)text, len))
        return ASMTP_ERR_MESSAGE;

    memset(&ps, 0, sizeof ps);
    ps.text = (const unsigned char *)text;
    ps.len = len;
    asmtp__buf_init(&ps.local, list->mem);
    asmtp__buf_init(&ps.address, list->mem);
    asmtp__address_list_init(&ps.found, list->mem);

    rv = read_list(&ps);
    if (rv == 0)
        rv = move_found(list, &ps);

    asmtp__address_list_free(&ps.found);
    asmtp__buf_free(&ps.local);
    asmtp__buf_free(&ps.address);
    return rv;
}
