/*
 * Message header sections (see message.h). One pass finds the empty line;
 * a second checks that every line is a field or a continuation, counts
 * the Resent- blocks and copies the section without Bcc fields; the
 * envelope is then read from just the address fields it needs.
 */
#include "message.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asmtp/error.h"

/* The header section of the input. */
typedef struct header {
    const unsigned char *data;
    size_t fields_end; /* where the empty line starts (or len) */
    size_t len;        /* past the empty line: header_len */
} header;

/* A field, continuation lines included; offsets into the input. */
typedef struct field {
    size_t start;    /* its name */
    size_t end;      /* past the line end of its last line */
    size_t name_len; /* without the white space before ":" */
    size_t body;     /* just past ":" */
    size_t body_end; /* before the line end of its last line */
    size_t line;     /* its first line, counting from 1 */
} field;

typedef struct field_reader {
    const header *header;
    size_t pos;
    size_t line;
} field_reader;

/* What one call works with. */
typedef struct parse {
    header header;
    asmtp__message *msg;
    bool resent; /* there is one Resent- block: the envelope is in it */
    char *why;
    size_t why_size;
} parse;

void asmtp__message_init(asmtp__message *msg, const asmtp_mem *mem)
{
    memset(msg, 0, sizeof *msg);
    msg->mem = mem;
    asmtp__address_list_init(&msg->recipients, mem);
    asmtp__buf_init(&msg->header, mem);
}

void asmtp__message_free(asmtp__message *msg)
{
    asmtp__free(msg->mem, msg->sender);
    msg->sender = NULL;
    asmtp__address_list_free(&msg->recipients);
    asmtp__buf_free(&msg->header);
    msg->header_len = 0;
    msg->stripped = false;
}

__attribute__((format(printf, 3, 4))) static int
explain(parse *ps, int rv, const char *format, ...)
{
    va_list args;

    if (ps->why && ps->why_size) {
        va_start(args, format);
        vsnprintf(ps->why, ps->why_size, format, args);
        va_end(args);
    }
    return rv;
}

static bool is_wsp(unsigned char c)
{
    return c == ' ' || c == '\t';
}

static unsigned char ascii_lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/* Whether the len octets at name start with prefix, ignoring ASCII case. */
static bool starts_with(const unsigned char *name, size_t len,
                        const char *prefix)
{
    size_t i;

    for (i = 0; prefix[i]; i++)
        if (i >= len ||
            ascii_lower(name[i]) != ascii_lower((unsigned char)prefix[i]))
            return false;
    return true;
}

static bool name_is(const unsigned char *name, size_t len, const char *want)
{
    return len == strlen(want) && starts_with(name, len, want);
}

/* Past the LF of the line starting at pos, or len when it has none. */
static size_t line_end(const unsigned char *p, size_t len, size_t pos)
{
    const unsigned char *lf = memchr(p + pos, '\n', len - pos);

    return lf ? (size_t)(lf - p) + 1 : len;
}

/* Find the empty line that ends the header section. */
static int find_header_end(parse *ps, const unsigned char *p, size_t len)
{
    size_t limit = len > ASMTP__HEADER_MAX ? ASMTP__HEADER_MAX + 1 : len;
    size_t pos = 0;

    ps->header.data = p;
    while (pos < limit) {
        size_t next = line_end(p, limit, pos);

        if (next > ASMTP__HEADER_MAX)
            return explain(ps, ASMTP_ERR_MESSAGE,
                           "the header section is longer than %u octets",
                           ASMTP__HEADER_MAX);
        if ((next - pos == 1 && p[pos] == '\n') ||
            (next - pos == 2 && p[pos] == '\r' && p[pos + 1] == '\n')) {
            ps->header.fields_end = pos;
            ps->header.len = next;
            return 0;
        }
        pos = next;
    }
    ps->header.fields_end = ps->header.len = len;
    return 0;
}

/*
 * The field at the reader's position: 1 with f filled in, 0 at the end of
 * the fields, or ASMTP_ERR_MESSAGE when the line there is not the start of
 * a field (a name of printable ASCII, white space allowed before ":"; a
 * continuation line cannot come first).
 */
static int next_field(field_reader *r, field *f)
{
    const unsigned char *p = r->header->data;
    size_t end = r->header->fields_end;
    size_t i = r->pos;

    if (i >= end)
        return 0;
    f->start = i;
    f->line = r->line;
    while (i < end && p[i] > ' ' && p[i] < 0x7f && p[i] != ':')
        i++;
    f->name_len = i - f->start;
    while (i < end && is_wsp(p[i]))
        i++;
    if (f->name_len == 0 || i >= end || p[i] != ':')
        return ASMTP_ERR_MESSAGE;
    f->body = i + 1;

    do {
        i = line_end(p, end, i);
        r->line++;
    } while (i < end && is_wsp(p[i]));
    f->end = f->body_end = i;
    if (p[f->body_end - 1] == '\n') {
        f->body_end--;
        if (f->body_end > f->body && p[f->body_end - 1] == '\r')
            f->body_end--;
    }
    r->pos = i;
    return 1;
}

static void reader_init(field_reader *r, const header *h)
{
    r->header = h;
    r->pos = 0;
    r->line = 1;
}

/* Check every line, count the Resent- blocks (runs of fields whose names
 * start with "Resent-") and copy the section without Bcc and Resent-Bcc
 * into msg->header. */
static int scan_fields(parse *ps)
{
    const unsigned char *p = ps->header.data;
    asmtp__buf *out = &ps->msg->header;
    size_t kept = 0, blocks = 0;
    bool in_block = false;
    field_reader r;
    field f;
    int rv;

    rv = asmtp__buf_reserve(out, ps->header.len);
    if (rv)
        return rv;
    reader_init(&r, &ps->header);
    while ((rv = next_field(&r, &f)) == 1) {
        const unsigned char *name = p + f.start;
        bool resent = starts_with(name, f.name_len, "Resent-");

        if (resent && !in_block && ++blocks > 1)
            return explain(ps, ASMTP_ERR_MESSAGE,
                           "the message has more than one Resent- block "
                           "(the second starts at line %zu)",
                           f.line);
        in_block = resent;
        if (name_is(name, f.name_len, "Bcc") ||
            name_is(name, f.name_len, "Resent-Bcc")) {
            rv = asmtp__buf_append(out, p + kept, f.start - kept);
            if (rv)
                return rv;
            kept = f.end;
            ps->msg->stripped = true;
        }
    }
    if (rv < 0)
        return explain(ps, rv, "header line %zu is not a field", r.line);
    ps->resent = blocks == 1;
    if (ps->header.len == kept)
        return 0; /* also when there is no input at all (p may be NULL) */
    return asmtp__buf_append(out, p + kept, ps->header.len - kept);
}

/* Parse the fields named name (for a Resent- block, "Resent-" name) into
 * list, in order; with first_only, stop once the list has an address. */
static int read_fields(parse *ps, const char *name, asmtp__address_list *list,
                       bool first_only)
{
    const unsigned char *p = ps->header.data;
    char full[32];
    field_reader r;
    field f;

    snprintf(full, sizeof full, "%s%s", ps->resent ? "Resent-" : "", name);
    reader_init(&r, &ps->header);
    while (next_field(&r, &f) == 1) {
        int rv;

        if (!name_is(p + f.start, f.name_len, full))
            continue;
        rv = asmtp__address_list_parse(list, (const char *)p + f.body,
                                       f.body_end - f.body);
        if (rv == ASMTP_ERR_MESSAGE)
            return explain(ps, rv,
                           "the %s field is not a valid address list "
                           "(line %zu)",
                           full, f.line);
        if (rv)
            return rv;
        if (first_only && list->count > 0)
            break;
    }
    return 0;
}

/* The first address of Sender, else of From (or their Resent- forms). */
static int read_sender(parse *ps)
{
    asmtp__address_list found;
    int rv;

    asmtp__address_list_init(&found, ps->msg->mem);
    rv = read_fields(ps, "Sender", &found, true);
    if (rv == 0 && found.count == 0)
        rv = read_fields(ps, "From", &found, true);
    if (rv == 0 && found.count > 0) {
        ps->msg->sender = found.addresses[0];
        found.addresses[0] = NULL;
    }
    asmtp__address_list_free(&found);
    return rv;
}

typedef struct entry {
    const char *address;
    size_t index;
} entry;

static int compare_entries(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    int order = strcmp(x->address, y->address);

    if (order)
        return order;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Keep the first of equal addresses only, in O(n log n): sorted by
 * address then position, each run of equals keeps its first. */
static int remove_duplicates(asmtp__address_list *list)
{
    const char *first;
    entry *entries;
    size_t kept = 0;

    if (list->count < 2)
        return 0;
    entries = asmtp__calloc(list->mem, list->count, sizeof *entries);
    if (!entries)
        return ASMTP_ERR_NOMEM;
    for (size_t i = 0; i < list->count; i++) {
        entries[i].address = list->addresses[i];
        entries[i].index = i;
    }
    qsort(entries, list->count, sizeof *entries, compare_entries);

    first = entries[0].address;
    for (size_t i = 1; i < list->count; i++) {
        if (strcmp(entries[i].address, first) == 0) {
            asmtp__free(list->mem, list->addresses[entries[i].index]);
            list->addresses[entries[i].index] = NULL;
        } else {
            first = entries[i].address;
        }
    }
    asmtp__free(list->mem, entries);

    for (size_t i = 0; i < list->count; i++)
        if (list->addresses[i])
            list->addresses[kept++] = list->addresses[i];
    list->count = kept;
    return 0;
}

static int read_recipients(parse *ps)
{
    asmtp__address_list *list = &ps->msg->recipients;
    int rv = read_fields(ps, "To", list, false);

    if (rv == 0)
        rv = read_fields(ps, "Cc", list, false);
    if (rv == 0)
        rv = read_fields(ps, "Bcc", list, false);
    return rv ? rv : remove_duplicates(list);
}

int asmtp__message_parse(asmtp__message *msg, const void *data, size_t len,
                         char *why, size_t why_size)
{
    parse ps;
    int rv;

    asmtp__message_free(msg);
    memset(&ps, 0, sizeof ps);
    ps.msg = msg;
    ps.why = why;
    ps.why_size = why_size;
    if (why && why_size)
        why[0] = '\0';

    rv = find_header_end(&ps, data, len);
    if (rv == 0)
        rv = scan_fields(&ps);
    if (rv == 0)
        rv = read_sender(&ps);
    if (rv == 0)
        rv = read_recipients(&ps);

    if (rv) {
        if (rv == ASMTP_ERR_NOMEM)
            explain(&ps, rv, "out of memory reading the header section");
        asmtp__message_free(msg);
        return rv;
    }
    msg->header_len = ps.header.len;
    return 0;
}
