/*
 * Test helpers shared by the unit tests: inputs placed against a guard
 * page, and an allocator that counts allocations and fails the Nth.
 */
#ifndef ASMTP_TEST_SUPPORT_H
#define ASMTP_TEST_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "asmtp/types.h"

/*
 * Copy len bytes so that the last one sits just before an inaccessible
 * page: reading one byte past the end faults. The copy is valid until
 * guard_free(). Never returns NULL (aborts instead).
 */
unsigned char *guard_copy(const void *data, size_t len);
void guard_free(unsigned char *copy);

/*
 * An allocator for allocation-failure tests. Allocation number fail_at
 * (counting from 1) and every later one fail when fail_at is not 0, as if
 * memory had run out. live counts blocks not yet freed.
 */
typedef struct failmem {
    asmtp_mem mem;
    size_t count;   /* allocations attempted */
    size_t fail_at; /* 0: never fail */
    size_t live;    /* blocks currently allocated */
    size_t failed;  /* allocations refused */
} failmem;

void failmem_init(failmem *fm, size_t fail_at);

#endif
