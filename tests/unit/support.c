/*
 * Test helpers (see support.h).
 */
#define _DEFAULT_SOURCE
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static size_t page_size(void)
{
    long size = sysconf(_SC_PAGESIZE);

    return size > 0 ? (size_t)size : 4096;
}

/* Live guarded copies, so that guard_free() can unmap the whole range. */
#define GUARD_SLOTS 256
static struct {
    unsigned char *copy;
    unsigned char *base;
    size_t total;
} guard_slots[GUARD_SLOTS];

unsigned char *guard_copy(const void *data, size_t len)
{
    size_t page = page_size();
    size_t data_pages = (len + page - 1) / page;
    size_t total = (data_pages + 1) * page;
    unsigned char *base;
    unsigned char *copy;

    base = mmap(NULL, total, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) {
        perror("mmap");
        abort();
    }
    if (mprotect(base + data_pages * page, page, PROT_NONE) != 0) {
        perror("mprotect");
        abort();
    }
    copy = base + data_pages * page - len;
    if (len)
        memcpy(copy, data, len);
    for (size_t i = 0; i < GUARD_SLOTS; i++) {
        if (!guard_slots[i].base) {
            guard_slots[i].copy = copy;
            guard_slots[i].base = base;
            guard_slots[i].total = total;
            return copy;
        }
    }
    fprintf(stderr, "guard_copy: more than %d live copies\n", GUARD_SLOTS);
    abort();
}

void guard_free(unsigned char *copy)
{
    for (size_t i = 0; i < GUARD_SLOTS; i++) {
        if (guard_slots[i].base && guard_slots[i].copy == copy) {
            munmap(guard_slots[i].base, guard_slots[i].total);
            guard_slots[i].base = NULL;
            return;
        }
    }
    fprintf(stderr, "guard_free: unknown copy\n");
    abort();
}

static void *fail_malloc(size_t size, void *user_data)
{
    failmem *fm = user_data;
    void *ptr;

    fm->count++;
    if (fm->fail_at && fm->count >= fm->fail_at) {
        fm->failed++;
        return NULL;
    }
    ptr = malloc(size);
    if (ptr)
        fm->live++;
    return ptr;
}

static void *fail_realloc(void *old, size_t size, void *user_data)
{
    failmem *fm = user_data;
    void *ptr;

    fm->count++;
    if (fm->fail_at && fm->count >= fm->fail_at) {
        fm->failed++;
        return NULL;
    }
    ptr = realloc(old, size);
    if (ptr && !old)
        fm->live++;
    return ptr;
}

static void fail_free(void *ptr, void *user_data)
{
    failmem *fm = user_data;

    if (ptr)
        fm->live--;
    free(ptr);
}

void failmem_init(failmem *fm, size_t fail_at)
{
    memset(fm, 0, sizeof *fm);
    fm->mem.user_data = fm;
    fm->mem.malloc = fail_malloc;
    fm->mem.realloc = fail_realloc;
    fm->mem.free = fail_free;
    fm->fail_at = fail_at;
}
