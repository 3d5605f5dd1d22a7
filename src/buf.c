/*
 * Byte buffers and the allocator wrapper (see buf.h). Everything else in
 * asmtp allocates through here, so one asmtp_mem can count or fail every
 * allocation of a session.
 */
#include "buf.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "asmtp/error.h"

static void *default_malloc(size_t size, void *user_data)
{
    (void)user_data;
    return malloc(size);
}

static void *default_realloc(void *ptr, size_t size, void *user_data)
{
    (void)user_data;
    return realloc(ptr, size);
}

static void default_free(void *ptr, void *user_data)
{
    (void)user_data;
    free(ptr);
}

const asmtp_mem asmtp__default_mem = {
    NULL,
    default_malloc,
    default_realloc,
    default_free,
};

static const asmtp_mem *mem_or_default(const asmtp_mem *mem)
{
    return mem ? mem : &asmtp__default_mem;
}

void *asmtp__malloc(const asmtp_mem *mem, size_t size)
{
    mem = mem_or_default(mem);
    return mem->malloc(size ? size : 1, mem->user_data);
}

void *asmtp__calloc(const asmtp_mem *mem, size_t n, size_t size)
{
    void *ptr;

    if (size && n > SIZE_MAX / size)
        return NULL;
    ptr = asmtp__malloc(mem, n * size);
    if (ptr)
        memset(ptr, 0, n * size);
    return ptr;
}

void *asmtp__realloc(const asmtp_mem *mem, void *ptr, size_t size)
{
    mem = mem_or_default(mem);
    return mem->realloc(ptr, size ? size : 1, mem->user_data);
}

void asmtp__free(const asmtp_mem *mem, void *ptr)
{
    if (!ptr)
        return;
    mem = mem_or_default(mem);
    mem->free(ptr, mem->user_data);
}

char *asmtp__strndup(const asmtp_mem *mem, const char *s, size_t len)
{
    char *copy = asmtp__malloc(mem, len + 1);

    if (!copy)
        return NULL;
    memcpy(copy, s, len);
    copy[len] = '\0';
    return copy;
}

void asmtp__buf_init(asmtp__buf *buf, const asmtp_mem *mem)
{
    memset(buf, 0, sizeof *buf);
    buf->mem = mem;
}

void asmtp__buf_free(asmtp__buf *buf)
{
    if (buf->secure && buf->data)
        asmtp__wipe(buf->data, buf->cap);
    asmtp__free(buf->mem, buf->data);
    buf->data = NULL;
    buf->off = buf->len = buf->cap = 0;
}

void asmtp__buf_free_secure(asmtp__buf *buf)
{
    if (buf->data)
        asmtp__wipe(buf->data, buf->cap);
    asmtp__buf_free(buf);
}

void asmtp__buf_clear(asmtp__buf *buf)
{
    if (buf->secure && buf->data)
        asmtp__wipe(buf->data, buf->len);
    buf->off = buf->len = 0;
}

/* Grow a secure buffer without leaving a copy in memory given back. */
static unsigned char *grow_secure(asmtp__buf *buf, size_t cap)
{
    unsigned char *data = asmtp__malloc(buf->mem, cap);

    if (!data)
        return NULL;
    if (buf->data) {
        memcpy(data, buf->data, buf->len);
        asmtp__wipe(buf->data, buf->cap);
        asmtp__free(buf->mem, buf->data);
    }
    return data;
}

int asmtp__buf_reserve(asmtp__buf *buf, size_t extra)
{
    size_t need, cap;
    unsigned char *data;

    if (buf->off > 0 && buf->cap - buf->len < extra) {
        /* Reclaim the consumed front before growing. */
        memmove(buf->data, buf->data + buf->off, buf->len - buf->off);
        if (buf->secure)
            asmtp__wipe(buf->data + buf->len - buf->off, buf->off);
        buf->len -= buf->off;
        buf->off = 0;
    }
    if (buf->cap - buf->len >= extra)
        return 0;
    if (extra > SIZE_MAX - buf->len)
        return ASMTP_ERR_NOMEM;
    need = buf->len + extra;
    cap = buf->cap ? buf->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    data = buf->secure ? grow_secure(buf, cap)
                       : asmtp__realloc(buf->mem, buf->data, cap);
    if (!data)
        return ASMTP_ERR_NOMEM;
    buf->data = data;
    buf->cap = cap;
    return 0;
}

int asmtp__buf_append(asmtp__buf *buf, const void *data, size_t len)
{
    int rv;

    if (len == 0)
        return 0;
    rv = asmtp__buf_reserve(buf, len);
    if (rv)
        return rv;
    memcpy(buf->data + buf->len, data, len);
    buf->len += len;
    return 0;
}

int asmtp__buf_append_byte(asmtp__buf *buf, unsigned char byte)
{
    return asmtp__buf_append(buf, &byte, 1);
}

int asmtp__buf_append_str(asmtp__buf *buf, const char *s)
{
    return asmtp__buf_append(buf, s, strlen(s));
}

int asmtp__buf_append_uint(asmtp__buf *buf, unsigned long long value)
{
    char digits[24];
    size_t n = sizeof digits;

    do {
        digits[--n] = (char)('0' + value % 10);
        value /= 10;
    } while (value);
    return asmtp__buf_append(buf, digits + n, sizeof digits - n);
}

void asmtp__buf_consume(asmtp__buf *buf, size_t n)
{
    if (buf->secure && n)
        asmtp__wipe(buf->data + buf->off, n);
    buf->off += n;
    if (buf->off >= buf->len)
        buf->off = buf->len = 0;
}

void asmtp__buf_truncate(asmtp__buf *buf, size_t len)
{
    if (buf->secure && len < buf->len)
        asmtp__wipe(buf->data + len, buf->len - len);
    buf->len = len;
    if (buf->off >= buf->len)
        buf->off = buf->len = 0;
}

void asmtp__wipe(void *ptr, size_t len)
{
    OPENSSL_cleanse(ptr, len);
}

bool asmtp__has_control(const void *data, size_t len)
{
    const unsigned char *p = data;

    for (size_t i = 0; i < len; i++)
        if (p[i] < 0x20 || p[i] == 0x7f)
            return true;
    return false;
}

bool asmtp__has_8bit(const void *data, size_t len)
{
    const unsigned char *p = data;

    for (size_t i = 0; i < len; i++)
        if (p[i] >= 0x80)
            return true;
    return false;
}
