/*
 * Error codes: every code has its own name and text, and the classes
 * callers ask about are the ones the design promises.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "asmtp.h"

#define FIRST_CODE ASMTP_ERR_MESSAGE

static void test_every_code_is_named(void **state)
{
    (void)state;
    for (int code = 0; code >= FIRST_CODE; code--) {
        const char *name = asmtp_error_name(code);
        const char *text = asmtp_strerror(code);

        assert_string_not_equal(name, "ASMTP_ERR_UNKNOWN");
        assert_string_not_equal(text, "unknown error code");
        for (int other = code - 1; other >= FIRST_CODE; other--) {
            assert_string_not_equal(name, asmtp_error_name(other));
            assert_string_not_equal(text, asmtp_strerror(other));
        }
    }
    assert_string_equal(asmtp_error_name(0), "ASMTP_OK");
    assert_string_equal(asmtp_error_name(ASMTP_ERR_TIMEOUT),
                        "ASMTP_ERR_TIMEOUT");
}

static void test_unknown_codes(void **state)
{
    (void)state;
    assert_string_equal(asmtp_error_name(FIRST_CODE - 1), "ASMTP_ERR_UNKNOWN");
    assert_string_equal(asmtp_error_name(1), "ASMTP_ERR_UNKNOWN");
    assert_string_equal(asmtp_strerror(-1000), "unknown error code");
    assert_int_equal(asmtp_error_classes(-1000), 0);
    assert_false(asmtp_error_is(-1000, ~0u));
}

static void test_classes(void **state)
{
    (void)state;
    assert_int_equal(asmtp_error_classes(ASMTP_OK), 0);
    /* A connect timeout is both a timeout and a connect error. */
    assert_true(asmtp_error_is(ASMTP_ERR_CONNECT_TIMEOUT, ASMTP_CLASS_TIMEOUT));
    assert_true(asmtp_error_is(ASMTP_ERR_CONNECT_TIMEOUT, ASMTP_CLASS_CONNECT));
    assert_true(asmtp_error_is(ASMTP_ERR_TIMEOUT, ASMTP_CLASS_TIMEOUT));
    assert_false(asmtp_error_is(ASMTP_ERR_TIMEOUT, ASMTP_CLASS_CONNECT));
    assert_true(asmtp_error_is(ASMTP_ERR_GREETING, ASMTP_CLASS_CONNECT));
    assert_true(asmtp_error_is(ASMTP_ERR_GREETING, ASMTP_CLASS_REFUSED));
    /* Everything after which the connection is gone says so. */
    static const int gone[] = {
        ASMTP_ERR_TIMEOUT,        ASMTP_ERR_DISCONNECTED,
        ASMTP_ERR_SHUTDOWN,       ASMTP_ERR_MALFORMED_REPLY,
        ASMTP_ERR_REPLY_TOO_LONG, ASMTP_ERR_UNEXPECTED_REPLY,
        ASMTP_ERR_PROTOCOL,       ASMTP_ERR_CONNECT_TIMEOUT,
    };
    for (size_t i = 0; i < sizeof gone / sizeof gone[0]; i++)
        assert_true(asmtp_error_is(gone[i], ASMTP_CLASS_DISCONNECTED));
    static const int refused[] = {
        ASMTP_ERR_SENDER_REFUSED, ASMTP_ERR_RECIPIENTS_REFUSED,
        ASMTP_ERR_DATA_REFUSED,   ASMTP_ERR_AUTH,
        ASMTP_ERR_HELO,           ASMTP_ERR_COMMAND_REFUSED,
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        assert_true(asmtp_error_is(refused[i], ASMTP_CLASS_REFUSED));
        assert_false(asmtp_error_is(refused[i], ASMTP_CLASS_DISCONNECTED));
    }
    assert_true(asmtp_error_is(ASMTP_ERR_BAD_ARGUMENT, ASMTP_CLASS_USAGE));
    assert_true(asmtp_error_is(ASMTP_ERR_NOMEM, ASMTP_CLASS_RESOURCE));
    assert_true(asmtp_error_is(ASMTP_ERR_TLS, ASMTP_CLASS_TLS));
    assert_true(
        asmtp_error_is(ASMTP_ERR_MALFORMED_REPLY, ASMTP_CLASS_PROTOCOL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_code_is_named),
        cmocka_unit_test(test_unknown_codes),
        cmocka_unit_test(test_classes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
