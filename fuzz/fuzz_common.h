/*
 * What the fuzz targets share: an abort-on-failure check and an allocator
 * that refuses allocation number fail_at and every later one, counting the
 * blocks still live so that a target can assert nothing leaked.
 */
#ifndef ASMTP_FUZZ_COMMON_H
#define ASMTP_FUZZ_COMMON_H

#include <stdlib.h>
#include <string.h>

#include "asmtp/types.h"

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond))                                                           \
            abort();                                                           \
    } while (0)

struct failing {
    asmtp_mem mem;
    size_t count;
    size_t fail_at;
    size_t live;
};

static void *failing_malloc(size_t size, void *user_data)
{
    struct failing *f = user_data;
    void *ptr;

    if (++f->count >= f->fail_at)
        return NULL;
    ptr = malloc(size);
    f->live += ptr != NULL;
    return ptr;
}

static void *failing_realloc(void *old, size_t size, void *user_data)
{
    struct failing *f = user_data;
    void *ptr;

    if (++f->count >= f->fail_at)
        return NULL;
    ptr = realloc(old, size);
    f->live += ptr != NULL && old == NULL;
    return ptr;
}

static void failing_free(void *ptr, void *user_data)
{
    struct failing *f = user_data;

    f->live -= ptr != NULL;
    free(ptr);
}

static void failing_init(struct failing *f, size_t fail_at)
{
    memset(f, 0, sizeof *f);
    f->mem.user_data = f;
    f->mem.malloc = failing_malloc;
    f->mem.realloc = failing_realloc;
    f->mem.free = failing_free;
    f->fail_at = fail_at;
}

#endif
