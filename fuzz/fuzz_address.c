/*
 * libFuzzer target for the address list parser. The input is a field
 * body. Every address it gives must parse again, alone and as a list, to
 * itself; a refused body must leave the list as it was; and with an
 * allocation failing part way the result is either the same or NOMEM
 * with the list unchanged and nothing leaked.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "asmtp/error.h"
#include "buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#include "fuzz_common.h"

static bool same_list(const asmtp__address_list *a,
                      const asmtp__address_list *b, size_t b_from)
{
    if (a->count != b->count - b_from)
        return false;
    for (size_t i = 0; i < a->count; i++)
        if (strcmp(a->addresses[i], b->addresses[b_from + i]) != 0)
            return false;
    return true;
}

/* Each address alone, then all of them joined by commas. */
static void check_reparse(const asmtp__address_list *list)
{
    asmtp__address_list again;
    asmtp__buf joined;

    asmtp__buf_init(&joined, NULL);
    for (size_t i = 0; i < list->count; i++) {
        const char *address = list->addresses[i];

        CHECK(strchr(address, '@') != NULL);
        CHECK(!asmtp__has_control(address, strlen(address)));
        asmtp__address_list_init(&again, NULL);
        CHECK(asmtp__address_list_parse(&again, address, strlen(address)) == 0);
        CHECK(again.count == 1 && strcmp(again.addresses[0], address) == 0);
        asmtp__address_list_free(&again);
        CHECK(asmtp__buf_append_str(&joined, i ? ", " : "") == 0);
        CHECK(asmtp__buf_append_str(&joined, address) == 0);
    }
    asmtp__address_list_init(&again, NULL);
    CHECK(asmtp__address_list_parse(&again,
                                    (const char *)asmtp__buf_head(&joined),
                                    asmtp__buf_size(&joined)) == 0);
    CHECK(same_list(&again, list, 0));
    asmtp__address_list_free(&again);
    asmtp__buf_free(&joined);
}

/* With allocation fail_at refused, into a list that holds one address. */
static void check_failing(const char *text, size_t len, int want_rv,
                          const asmtp__address_list *want, size_t fail_at)
{
    struct failing f;
    asmtp__address_list list;
    char **addresses;
    int rv;

    failing_init(&f, SIZE_MAX);
    asmtp__address_list_init(&list, &f.mem);
    CHECK(asmtp__address_list_parse(&list, "first@example.org", 17) == 0);
    addresses = list.addresses;
    f.count = 0;
    f.fail_at = fail_at;
    rv = asmtp__address_list_parse(&list, text, len);
    if (rv == ASMTP_ERR_NOMEM || rv == ASMTP_ERR_MESSAGE) {
        CHECK(rv == ASMTP_ERR_NOMEM || want_rv == ASMTP_ERR_MESSAGE);
        CHECK(list.count == 1 && list.addresses == addresses);
        CHECK(strcmp(list.addresses[0], "first@example.org") == 0);
    } else {
        CHECK(rv == 0 && want_rv == 0);
        CHECK(same_list(want, &list, 1));
    }
    asmtp__address_list_free(&list);
    CHECK(f.live == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    asmtp__address_list list;
    char **addresses;
    size_t fail_at;
    int rv;

    asmtp__address_list_init(&list, NULL);
    CHECK(asmtp__address_list_parse(&list, "keep@example.org", 16) == 0);
    addresses = list.addresses;
    rv = asmtp__address_list_parse(&list, text, size);
    CHECK(rv == 0 || rv == ASMTP_ERR_MESSAGE);
    if (rv) {
        CHECK(list.count == 1 && list.addresses == addresses);
        CHECK(strcmp(list.addresses[0], "keep@example.org") == 0);
    }

    /* Drop the preset address, so that the list is the result alone. */
    asmtp__free(NULL, list.addresses[0]);
    memmove(list.addresses, list.addresses + 1,
            (list.count - 1) * sizeof *list.addresses);
    list.count--;
    if (rv == 0)
        check_reparse(&list);

    fail_at = 1 + (size ? data[size / 2] % 16 : 0);
    check_failing(text, size, rv, &list, fail_at);
    asmtp__address_list_free(&list);
    return 0;
}
