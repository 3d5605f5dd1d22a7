/*
 * Extension parser (see ext.h): the lines of an EHLO reply become the flags
 * the session consults before using an extension, plus a table of every
 * keyword with its parameters. No I/O; memory only through the set's
 * asmtp_mem.
 */
#include "ext.h"

#include <string.h>

#include "asmtp/error.h"

/*
 * Choices the header leaves open:
 * - A keyword announced twice: the later line's spelling and parameters
 *   replace the earlier entry, and SIZE follows the later line. Flags and
 *   AUTH mechanisms accumulate over all lines.
 * - The old form "AUTH=LOGIN PLAIN" sets the AUTH flag and adds its
 *   mechanisms. It is stored as keyword "AUTH" with params "LOGIN PLAIN"
 *   only while no real "AUTH ..." line has been seen: a real AUTH line,
 *   before or after it, owns the entry, so that
 *   asmtp__extensions_find("AUTH") returns the real line's parameters.
 * - Params are the bytes after the first space with trailing spaces
 *   dropped; inner and leading extra spaces are kept as sent.
 * - A line is ignored when it holds a NUL byte, does not start with a
 *   letter or digit, or has its keyword followed by anything but a space
 *   or the end of the line (AUTH= excepted).
 * - An entry's keyword and params share one block: params points into the
 *   keyword's allocation, and only keyword is freed.
 */

typedef struct ehlo_line {
    const unsigned char *keyword;
    size_t keyword_len;
    const unsigned char *params;
    size_t params_len;
    bool legacy_auth; /* "AUTH=..." */
} ehlo_line;

typedef struct parse_state {
    asmtp__extensions *ext;
    bool real_auth_seen;
} parse_state;

static const struct {
    const char *keyword;
    unsigned flag;
} known_keywords[] = {
    {"PIPELINING", ASMTP__EXT_PIPELINING},
    {"CHUNKING", ASMTP__EXT_CHUNKING},
    {"BINARYMIME", ASMTP__EXT_BINARYMIME},
    {"8BITMIME", ASMTP__EXT_8BITMIME},
    {"SMTPUTF8", ASMTP__EXT_SMTPUTF8},
    {"DSN", ASMTP__EXT_DSN},
    {"ENHANCEDSTATUSCODES", ASMTP__EXT_ENHANCEDSTATUSCODES},
    {"STARTTLS", ASMTP__EXT_STARTTLS},
    {"REQUIRETLS", ASMTP__EXT_REQUIRETLS},
    {"SIZE", ASMTP__EXT_SIZE},
    {"AUTH", ASMTP__EXT_AUTH},
};

static const struct {
    const char *name;
    unsigned mechanism;
} known_mechanisms[] = {
    {"PLAIN", ASMTP_AUTH_PLAIN},
    {"LOGIN", ASMTP_AUTH_LOGIN},
    {"CRAM-MD5", ASMTP_AUTH_CRAM_MD5},
    {"XOAUTH2", ASMTP_AUTH_XOAUTH2},
};

#define COUNT(array) (sizeof(array) / sizeof((array)[0]))

static unsigned char ascii_lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

static bool is_alnum(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9');
}

/* Case-insensitive comparison of len bytes against the whole of name. */
static bool token_equals(const void *token, size_t len, const char *name)
{
    const unsigned char *p = token;

    if (strlen(name) != len)
        return false;
    for (size_t i = 0; i < len; i++)
        if (ascii_lower(p[i]) != ascii_lower((unsigned char)name[i]))
            return false;
    return true;
}

void asmtp__extensions_init(asmtp__extensions *ext, const asmtp_mem *mem)
{
    memset(ext, 0, sizeof *ext);
    ext->mem = mem;
}

void asmtp__extensions_clear(asmtp__extensions *ext)
{
    for (size_t i = 0; i < ext->keyword_count; i++)
        asmtp__free(ext->mem, ext->keywords[i].keyword);
    asmtp__free(ext->mem, ext->keywords);
    ext->keywords = NULL;
    ext->keyword_count = 0;
    ext->flags = 0;
    ext->size_max = 0;
    ext->auth = 0;
}

static asmtp__ext_keyword *lookup(const asmtp__extensions *ext,
                                  const void *keyword, size_t len)
{
    for (size_t i = 0; i < ext->keyword_count; i++)
        if (token_equals(keyword, len, ext->keywords[i].keyword))
            return &ext->keywords[i];
    return NULL;
}

const char *asmtp__extensions_find(const asmtp__extensions *ext,
                                   const char *keyword)
{
    const asmtp__ext_keyword *entry;

    if (!keyword)
        return NULL;
    entry = lookup(ext, keyword, strlen(keyword));
    return entry ? entry->params : NULL;
}

static size_t trim_trailing_spaces(const unsigned char *p, size_t len)
{
    while (len > 0 && p[len - 1] == ' ')
        len--;
    return len;
}

/* Split one reply line into keyword and params; false if it names none. */
static bool split_line(const asmtp_bytes *line, ehlo_line *parsed)
{
    const unsigned char *p = line->data;
    size_t len = line->len;
    size_t k = 0;

    if (len == 0 || memchr(p, '\0', len) || !is_alnum(p[0]))
        return false;
    while (k < len && (is_alnum(p[k]) || p[k] == '-'))
        k++;

    parsed->keyword = p;
    parsed->keyword_len = k;
    parsed->params = p + k;
    parsed->params_len = 0;
    parsed->legacy_auth = false;
    if (k == len)
        return true;

    if (p[k] == '=' && token_equals(p, k, "AUTH"))
        parsed->legacy_auth = true;
    else if (p[k] != ' ')
        return false;
    parsed->params = p + k + 1;
    parsed->params_len = trim_trailing_spaces(p + k + 1, len - k - 1);
    return true;
}

/* Decimal SIZE parameter; 0 for none, unlimited, junk or overflow. */
static uint64_t parse_size(const unsigned char *p, size_t len)
{
    uint64_t value = 0;
    size_t i = 0;

    while (i < len && p[i] == ' ')
        i++;
    for (; i < len; i++) {
        unsigned digit = (unsigned)p[i] - '0';

        if (digit > 9 || value > (UINT64_MAX - digit) / 10)
            return 0;
        value = value * 10 + digit;
    }
    return value;
}

static unsigned mechanism_bit(const unsigned char *name, size_t len)
{
    for (size_t i = 0; i < COUNT(known_mechanisms); i++)
        if (token_equals(name, len, known_mechanisms[i].name))
            return known_mechanisms[i].mechanism;
    return 0;
}

/* Space-separated mechanism names to enum asmtp_auth_mechanism bits. */
static unsigned parse_mechanisms(const unsigned char *p, size_t len)
{
    unsigned bits = 0;
    size_t start = 0;

    for (size_t i = 0; i <= len; i++) {
        if (i < len && p[i] != ' ')
            continue;
        bits |= mechanism_bit(p + start, i - start);
        start = i + 1;
    }
    return bits;
}

/* Flags, SIZE and mechanisms; a legacy AUTH= line counts even when it is
 * not stored. */
static void apply_known(asmtp__extensions *ext, const ehlo_line *line)
{
    for (size_t i = 0; i < COUNT(known_keywords); i++) {
        unsigned flag = known_keywords[i].flag;

        if (!token_equals(line->keyword, line->keyword_len,
                          known_keywords[i].keyword))
            continue;
        ext->flags |= flag;
        if (flag == ASMTP__EXT_SIZE)
            ext->size_max = parse_size(line->params, line->params_len);
        else if (flag == ASMTP__EXT_AUTH)
            ext->auth |= parse_mechanisms(line->params, line->params_len);
        return;
    }
}

/* "keyword\0params\0" in one allocation. */
static char *new_entry_block(const asmtp_mem *mem, const ehlo_line *line)
{
    char *block = asmtp__malloc(mem, line->keyword_len + line->params_len + 2);

    if (!block)
        return NULL;
    memcpy(block, line->keyword, line->keyword_len);
    block[line->keyword_len] = '\0';
    if (line->params_len)
        memcpy(block + line->keyword_len + 1, line->params, line->params_len);
    block[line->keyword_len + 1 + line->params_len] = '\0';
    return block;
}

/* Add or replace the line's entry; the array has room for every line. */
static int store_line(parse_state *state, const ehlo_line *line)
{
    asmtp__extensions *ext = state->ext;
    asmtp__ext_keyword *entry;
    char *block;

    if (line->legacy_auth && state->real_auth_seen)
        return 0;

    block = new_entry_block(ext->mem, line);
    if (!block)
        return ASMTP_ERR_NOMEM;

    entry = lookup(ext, line->keyword, line->keyword_len);
    if (entry)
        asmtp__free(ext->mem, entry->keyword);
    else
        entry = &ext->keywords[ext->keyword_count++];
    entry->keyword = block;
    entry->params = block + line->keyword_len + 1;

    if (!line->legacy_auth && token_equals(block, line->keyword_len, "AUTH"))
        state->real_auth_seen = true;
    return 0;
}

static int parse_line(parse_state *state, const asmtp_bytes *bytes)
{
    ehlo_line line;

    if (!split_line(bytes, &line))
        return 0;
    apply_known(state->ext, &line);
    return store_line(state, &line);
}

int asmtp__extensions_parse(asmtp__extensions *ext,
                            const asmtp_reply *ehlo_reply)
{
    parse_state state = {ext, false};

    asmtp__extensions_clear(ext);
    if (!ehlo_reply || !ehlo_reply->lines || ehlo_reply->line_count < 2)
        return 0;

    ext->keywords = asmtp__calloc(ext->mem, ehlo_reply->line_count - 1,
                                  sizeof *ext->keywords);
    if (!ext->keywords)
        return ASMTP_ERR_NOMEM;

    for (size_t i = 1; i < ehlo_reply->line_count; i++) {
        int rv = parse_line(&state, &ehlo_reply->lines[i]);

        if (rv) {
            asmtp__extensions_clear(ext);
            return rv;
        }
    }
    return 0;
}
