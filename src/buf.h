/*
 * Growable byte buffers and the allocator every layer goes through.
 *
 * Internal: names start with asmtp__ and are hidden from the shared object.
 * A buffer holds bytes in data[off, len): consuming from the front moves
 * off, and the space is reclaimed on the next append.
 */
#ifndef ASMTP_BUF_H
#define ASMTP_BUF_H

#include <stdbool.h>
#include <stddef.h>

#include "asmtp/types.h"

#define ASMTP__HIDDEN __attribute__((visibility("hidden")))

/* The allocator used when the caller passes NULL. */
ASMTP__HIDDEN extern const asmtp_mem asmtp__default_mem;

/* mem may be NULL for the default allocator. */
ASMTP__HIDDEN void *asmtp__malloc(const asmtp_mem *mem, size_t size);
ASMTP__HIDDEN void *asmtp__calloc(const asmtp_mem *mem, size_t n, size_t size);
ASMTP__HIDDEN void *asmtp__realloc(const asmtp_mem *mem, void *ptr,
                                   size_t size);
ASMTP__HIDDEN void asmtp__free(const asmtp_mem *mem, void *ptr);
/* A NUL-terminated copy of len bytes; NULL on allocation failure. */
ASMTP__HIDDEN char *asmtp__strndup(const asmtp_mem *mem, const char *s,
                                   size_t len);

typedef struct asmtp__buf {
    unsigned char *data;
    size_t off; /* first unconsumed byte */
    size_t len; /* end of the bytes held */
    size_t cap;
    const asmtp_mem *mem;
    /* While set, no copy of the bytes is left behind: consumed bytes,
     * memory given up on growth and the block on free are wiped. */
    bool secure;
} asmtp__buf;

ASMTP__HIDDEN void asmtp__buf_init(asmtp__buf *buf, const asmtp_mem *mem);
ASMTP__HIDDEN void asmtp__buf_free(asmtp__buf *buf);
/* Drop every byte but keep the allocation. */
ASMTP__HIDDEN void asmtp__buf_clear(asmtp__buf *buf);

/* Bytes held and not consumed, and where they start. */
static inline size_t asmtp__buf_size(const asmtp__buf *buf)
{
    return buf->len - buf->off;
}
static inline const unsigned char *asmtp__buf_head(const asmtp__buf *buf)
{
    /* Never NULL, so that callers may add an offset of 0 to it. */
    return buf->data ? buf->data + buf->off : (const unsigned char *)"";
}

/* Make room for extra more bytes after len; 0 or ASMTP_ERR_NOMEM. */
ASMTP__HIDDEN int asmtp__buf_reserve(asmtp__buf *buf, size_t extra);
/* Append; 0 or ASMTP_ERR_NOMEM, with the buffer unchanged on failure. */
ASMTP__HIDDEN int asmtp__buf_append(asmtp__buf *buf, const void *data,
                                    size_t len);
ASMTP__HIDDEN int asmtp__buf_append_byte(asmtp__buf *buf, unsigned char byte);
ASMTP__HIDDEN int asmtp__buf_append_str(asmtp__buf *buf, const char *s);
/* Append the decimal digits of value. */
ASMTP__HIDDEN int asmtp__buf_append_uint(asmtp__buf *buf,
                                         unsigned long long value);
/* Drop n bytes from the front (n at most asmtp__buf_size()). */
ASMTP__HIDDEN void asmtp__buf_consume(asmtp__buf *buf, size_t n);
/* Shorten the held bytes to end at len (len at least off). */
ASMTP__HIDDEN void asmtp__buf_truncate(asmtp__buf *buf, size_t len);

/* Overwrite the buffer's memory with zeros (for secrets), then free it. */
ASMTP__HIDDEN void asmtp__buf_free_secure(asmtp__buf *buf);
/* Zero len bytes in a way the compiler cannot drop. */
ASMTP__HIDDEN void asmtp__wipe(void *ptr, size_t len);

/* True when any byte is 0x00-0x1F or 0x7F (CR, LF, NUL, TAB included). */
ASMTP__HIDDEN bool asmtp__has_control(const void *data, size_t len);
/* True when any byte is 0x80 or above. */
ASMTP__HIDDEN bool asmtp__has_8bit(const void *data, size_t len);

#endif
