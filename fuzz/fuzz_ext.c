/*
 * libFuzzer target for the extension parser. The input, split at LF, is
 * the lines of an EHLO reply (each line an exact-size copy, so over-reads
 * fault). It is parsed, checked for consistency, then parsed again with an
 * allocator that fails, which must leave the set empty.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "asmtp/error.h"
#include "ext.h"

#define MAX_LINES 2048

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t allocations_left;

static void *limited_malloc(size_t size, void *user_data)
{
    (void)user_data;
    if (allocations_left == 0)
        return NULL;
    allocations_left--;
    return malloc(size);
}

static void *limited_realloc(void *ptr, size_t size, void *user_data)
{
    (void)user_data;
    if (allocations_left == 0)
        return NULL;
    allocations_left--;
    return realloc(ptr, size);
}

static void plain_free(void *ptr, void *user_data)
{
    (void)user_data;
    free(ptr);
}

static const asmtp_mem limited_mem = {NULL, limited_malloc, limited_realloc,
                                      plain_free};

static void check(int condition)
{
    if (!condition)
        abort();
}

static void check_consistent(const asmtp__extensions *ext)
{
    static const char *const queries[] = {
        "PIPELINING",
        "CHUNKING",
        "BINARYMIME",
        "8BITMIME",
        "SMTPUTF8",
        "DSN",
        "STARTTLS",
        "REQUIRETLS",
        "SIZE",
        "AUTH",
        "ENHANCEDSTATUSCODES",
        "auth",
        "X-",
        "",
    };

    check(((ext->flags & ASMTP__EXT_AUTH) != 0) ==
          (asmtp__extensions_find(ext, "AUTH") != NULL));
    check(((ext->flags & ASMTP__EXT_SIZE) != 0) ==
          (asmtp__extensions_find(ext, "size") != NULL));
    check(ext->auth == 0 || (ext->flags & ASMTP__EXT_AUTH));
    check(ext->size_max == 0 || (ext->flags & ASMTP__EXT_SIZE));
    check((ext->auth & ~(unsigned)ASMTP_AUTH_ANY) == 0);
    for (size_t i = 0; i < sizeof queries / sizeof *queries; i++)
        (void)asmtp__extensions_find(ext, queries[i]);

    /* One entry per keyword: each finds itself. */
    for (size_t i = 0; i < ext->keyword_count; i++) {
        const asmtp__ext_keyword *entry = &ext->keywords[i];

        check(entry->keyword[0] != '\0');
        check(asmtp__extensions_find(ext, entry->keyword) == entry->params);
    }
}

/* Exact-size copies of each line, so that reading past one faults. */
static size_t split_lines(const uint8_t *data, size_t size, asmtp_bytes *lines)
{
    size_t count = 0;
    size_t start = 0;

    for (size_t i = 0; i <= size && count < MAX_LINES; i++) {
        unsigned char *copy;
        size_t len;

        if (i < size && data[i] != '\n')
            continue;
        len = i - start;
        copy = malloc(len ? len : 1);
        if (!copy)
            abort();
        if (len)
            memcpy(copy, data + start, len);
        lines[count].data = copy;
        lines[count].len = len;
        count++;
        start = i + 1;
    }
    return count;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static asmtp_bytes lines[MAX_LINES];
    asmtp_reply reply;
    asmtp__extensions ext;
    size_t count = split_lines(data, size, lines);

    memset(&reply, 0, sizeof reply);
    reply.code = 250;
    reply.lines = lines;
    reply.line_count = count;

    asmtp__extensions_init(&ext, NULL);
    check(asmtp__extensions_parse(&ext, &reply) == 0);
    check_consistent(&ext);
    asmtp__extensions_clear(&ext);

    asmtp__extensions_init(&ext, &limited_mem);
    allocations_left = size % 8;
    if (asmtp__extensions_parse(&ext, &reply) == ASMTP_ERR_NOMEM)
        check(ext.keyword_count == 0 && ext.flags == 0 && !ext.keywords);
    else
        check_consistent(&ext);
    asmtp__extensions_clear(&ext);

    for (size_t i = 0; i < count; i++)
        free((void *)lines[i].data);
    return 0;
}
