/*
 * libFuzzer target for the SASL mechanisms and base64. Byte 0 picks the
 * mechanism and an allocation to fail, bytes 1-3 the lengths of username,
 * secret and authzid taken from what follows; the rest, split at LF, are
 * the server's challenges. The whole input also goes through base64.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "asmtp/error.h"
#include "sasl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t allocations_left;
static bool limit_allocations;

static void *limited_malloc(size_t size, void *user_data)
{
    (void)user_data;
    if (limit_allocations && allocations_left-- == 0)
        return NULL;
    return malloc(size);
}

static void *limited_realloc(void *ptr, size_t size, void *user_data)
{
    (void)user_data;
    if (limit_allocations && allocations_left-- == 0)
        return NULL;
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

static const unsigned mechanisms[] = {ASMTP_AUTH_PLAIN, ASMTP_AUTH_LOGIN,
                                      ASMTP_AUTH_CRAM_MD5, ASMTP_AUTH_XOAUTH2};

/* Take up to want bytes from the input. */
static asmtp_bytes take(const uint8_t **data, size_t *size, size_t want)
{
    asmtp_bytes bytes;

    if (want > *size)
        want = *size;
    bytes.data = *data;
    bytes.len = want;
    *data += want;
    *size -= want;
    return bytes;
}

/* Answer each LF-separated challenge (exact-size copies) until one fails. */
static void run_challenges(asmtp__sasl *sasl, const uint8_t *data, size_t size,
                           asmtp__buf *out)
{
    size_t start = 0;

    for (size_t i = 0; i <= size; i++) {
        unsigned char *challenge;
        size_t len;
        size_t before = asmtp__buf_size(out);
        int rv;

        if (i < size && data[i] != '\n')
            continue;
        len = i - start;
        challenge = malloc(len ? len : 1);
        check(challenge != NULL);
        if (len)
            memcpy(challenge, data + start, len);
        rv = asmtp__sasl_step(sasl, challenge, len, out);
        free(challenge);
        check(rv == 0 || asmtp__buf_size(out) == before);
        if (rv)
            return;
        start = i + 1;
    }
}

static void fuzz_exchange(const uint8_t *data, size_t size)
{
    asmtp_credentials creds;
    asmtp__sasl sasl;
    asmtp__buf out;
    unsigned mechanism;
    unsigned offered;
    bool has_initial;
    size_t lengths[3];

    if (size < 4)
        return;
    mechanism = mechanisms[data[0] & 3];
    offered = data[1] & 0x1f;
    limit_allocations = (data[0] >> 2) != 0;
    allocations_left = (size_t)(data[0] >> 2) - 1;
    for (size_t i = 0; i < 3; i++)
        lengths[i] = data[1 + i];
    data += 4;
    size -= 4;

    memset(&creds, 0, sizeof creds);
    creds.username = take(&data, &size, lengths[0]);
    creds.password = take(&data, &size, lengths[1]);
    creds.authzid = take(&data, &size, lengths[2]);
    if (mechanism == ASMTP_AUTH_XOAUTH2)
        creds.token = creds.password;
    check((asmtp__sasl_choose(offered, 0, &creds) & ~offered) == 0);

    asmtp__buf_init(&out, &limited_mem);
    if (asmtp__sasl_start(&sasl, &limited_mem, mechanism, &creds, &out,
                          &has_initial) == 0)
        run_challenges(&sasl, data, size, &out);
    else
        check(asmtp__buf_size(&out) == 0);
    asmtp__sasl_free(&sasl);
    asmtp__buf_free(&out);
    limit_allocations = false;
}

static void check_same(const asmtp__buf *buf, const void *data, size_t len)
{
    check(asmtp__buf_size(buf) == len);
    check(len == 0 || memcmp(asmtp__buf_head(buf), data, len) == 0);
}

/* encode then decode gives the input back; a decodable input decodes the
 * same after a round trip of its decoding. */
static void fuzz_base64(const uint8_t *data, size_t size)
{
    asmtp__buf coded, plain, again;

    asmtp__buf_init(&coded, NULL);
    asmtp__buf_init(&plain, NULL);
    asmtp__buf_init(&again, NULL);
    check(asmtp__base64_encode(&coded, data, size) == 0);
    check(asmtp__buf_size(&coded) == (size + 2) / 3 * 4);
    check(asmtp__base64_decode(&plain, coded.data, coded.len) == 0);
    check_same(&plain, data, size);

    asmtp__buf_clear(&coded);
    asmtp__buf_clear(&plain);
    if (asmtp__base64_decode(&plain, data, size) == 0) {
        check(asmtp__base64_encode(&coded, plain.data, plain.len) == 0);
        check(asmtp__base64_decode(&again, coded.data, coded.len) == 0);
        check_same(&again, plain.data, plain.len);
    }
    asmtp__buf_free(&coded);
    asmtp__buf_free(&plain);
    asmtp__buf_free(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_exchange(data, size);
    fuzz_base64(data, size);
    return 0;
}
