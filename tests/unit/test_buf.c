/*
 * Byte buffers: growth, consumption, truncation, and the secure mode that
 * leaves no copy of a secret in memory that is consumed, moved or freed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "asmtp.h"
#include "buf.h"
#include "support.h"

static const char secret[] = "hunter2-the-password";

/* An allocator that fails nothing but checks every block handed back. */
static int leftovers;

static bool holds_secret(const unsigned char *p, size_t len)
{
    size_t n = sizeof secret - 1;

    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(p + i, secret, n) == 0)
            return true;
    return false;
}

static void *scan_malloc(size_t size, void *user_data)
{
    size_t *block = malloc(size + sizeof(size_t));

    (void)user_data;
    if (!block)
        return NULL;
    *block = size;
    return block + 1;
}

static void scan_free(void *ptr, void *user_data)
{
    size_t *block = (size_t *)ptr - 1;

    (void)user_data;
    if (holds_secret(ptr, *block))
        leftovers++;
    free(block);
}

static void *scan_realloc(void *ptr, size_t size, void *user_data)
{
    void *fresh = scan_malloc(size, user_data);

    if (fresh && ptr) {
        size_t old = ((size_t *)ptr)[-1];

        memcpy(fresh, ptr, old < size ? old : size);
        scan_free(ptr, user_data);
    }
    return fresh;
}

static const asmtp_mem scan_mem = {NULL, scan_malloc, scan_realloc, scan_free};

static void test_append_and_consume(void **state)
{
    asmtp__buf buf;

    (void)state;
    asmtp__buf_init(&buf, NULL);
    assert_int_equal(asmtp__buf_size(&buf), 0);
    assert_non_null(asmtp__buf_head(&buf));
    assert_int_equal(asmtp__buf_append_str(&buf, "MAIL "), 0);
    assert_int_equal(asmtp__buf_append_uint(&buf, 0), 0);
    assert_int_equal(asmtp__buf_append_byte(&buf, ' '), 0);
    assert_int_equal(asmtp__buf_append_uint(&buf, 18446744073709551615u), 0);
    assert_int_equal(asmtp__buf_size(&buf), 27);
    assert_memory_equal(asmtp__buf_head(&buf), "MAIL 0 18446744073709551615",
                        27);
    asmtp__buf_consume(&buf, 5);
    assert_memory_equal(asmtp__buf_head(&buf), "0 18", 4);
    asmtp__buf_truncate(&buf, buf.off + 1);
    assert_int_equal(asmtp__buf_size(&buf), 1);
    asmtp__buf_consume(&buf, 1);
    assert_int_equal(buf.off, 0);
    assert_int_equal(buf.len, 0);
    /* Growth after consuming reclaims the front first. */
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(asmtp__buf_append(&buf, "0123456789", 10), 0);
        asmtp__buf_consume(&buf, 9);
    }
    assert_int_equal(asmtp__buf_size(&buf), 1000);
    assert_true(buf.cap < 4096);
    asmtp__buf_free(&buf);
}

static void test_allocation_failure_leaves_buffer_alone(void **state)
{
    failmem fm;
    asmtp__buf buf;
    char *copy;

    (void)state;
    failmem_init(&fm, 2);
    asmtp__buf_init(&buf, &fm.mem);
    assert_int_equal(asmtp__buf_append(&buf, "abc", 3), 0);
    assert_int_equal(asmtp__buf_reserve(&buf, 100000), ASMTP_ERR_NOMEM);
    assert_int_equal(asmtp__buf_size(&buf), 3);
    assert_int_equal(asmtp__buf_reserve(&buf, SIZE_MAX), ASMTP_ERR_NOMEM);
    assert_null(asmtp__calloc(&fm.mem, SIZE_MAX / 2, 4));
    copy = asmtp__strndup(&fm.mem, "abc", 3);
    assert_null(copy);
    asmtp__buf_free(&buf);
    assert_int_equal(fm.live, 0);
}

static void test_secure_buffer_leaves_no_copy(void **state)
{
    asmtp__buf buf;

    (void)state;
    leftovers = 0;
    asmtp__buf_init(&buf, &scan_mem);
    buf.secure = true;
    assert_int_equal(asmtp__buf_append_str(&buf, "AUTH PLAIN "), 0);
    assert_int_equal(asmtp__buf_append_str(&buf, secret), 0);
    /* Growth moves the bytes: the old block must be wiped. */
    for (int i = 0; i < 64; i++)
        assert_int_equal(asmtp__buf_append(&buf, "................", 16), 0);
    assert_int_equal(leftovers, 0);
    /* Consumed bytes are wiped where they lie. */
    asmtp__buf_consume(&buf, 11 + sizeof secret - 1);
    assert_false(holds_secret(buf.data, buf.cap));
    assert_int_equal(asmtp__buf_append_str(&buf, secret), 0);
    asmtp__buf_truncate(&buf, buf.len - 4);
    assert_false(holds_secret(buf.data, buf.cap));
    assert_int_equal(asmtp__buf_append_str(&buf, secret), 0);
    asmtp__buf_clear(&buf);
    assert_false(holds_secret(buf.data, buf.cap));
    assert_int_equal(asmtp__buf_append_str(&buf, secret), 0);
    asmtp__buf_free(&buf);
    assert_int_equal(leftovers, 0);
}

static void test_plain_buffer_is_not_wiped(void **state)
{
    asmtp__buf buf;

    (void)state;
    leftovers = 0;
    asmtp__buf_init(&buf, &scan_mem);
    assert_int_equal(asmtp__buf_append_str(&buf, secret), 0);
    asmtp__buf_free(&buf);
    /* The scanner works: without secure mode the secret is left behind. */
    assert_int_equal(leftovers, 1);
}

static void test_byte_classes(void **state)
{
    (void)state;
    assert_false(asmtp__has_control("abc ~", 5));
    assert_true(asmtp__has_control("a\tb", 3));
    assert_true(asmtp__has_control("a\x7f", 2));
    assert_true(asmtp__has_control("a\0b", 3));
    assert_false(asmtp__has_8bit("abc", 3));
    assert_true(asmtp__has_8bit("a\x80", 2));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_and_consume),
        cmocka_unit_test(test_allocation_failure_leaves_buffer_alone),
        cmocka_unit_test(test_secure_buffer_leaves_no_copy),
        cmocka_unit_test(test_plain_buffer_is_not_wiped),
        cmocka_unit_test(test_byte_classes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
