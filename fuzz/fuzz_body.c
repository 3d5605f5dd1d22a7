/*
 * libFuzzer target for the body encoder. The first input byte picks how
 * the rest is cut into chunks; the content is encoded in DATA and BDAT mode
 * under different cuts, and the outputs are checked against each other and
 * against what a server must be able to rely on.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond))                                                           \
            abort();                                                           \
    } while (0)

struct encoding {
    asmtp__body_encoder enc;
    asmtp__buf out;
};

/* Each chunk gets its own exact-size copy, so an over-read shows. */
static void encode_chunk(struct encoding *e, const uint8_t *p, size_t len)
{
    uint8_t *copy = malloc(len ? len : 1);

    CHECK(copy != NULL);
    if (len)
        memcpy(copy, p, len);
    CHECK(asmtp__body_encode(&e->enc, copy, len, &e->out) == 0);
    free(copy);
}

/* Encode in chunks of 0 to max_chunk octets drawn from seed (a max_chunk
 * of 0 means the whole content in one chunk). */
static void encode(struct encoding *e, int mode, const uint8_t *p, size_t len,
                   uint32_t seed, size_t max_chunk)
{
    size_t off = 0;

    asmtp__buf_init(&e->out, NULL);
    asmtp__body_encoder_init(&e->enc, mode);
    while (off < len) {
        size_t n = len - off;

        if (max_chunk) {
            seed = seed * 1103515245u + 12345u;
            if ((seed >> 16) % (max_chunk + 1) < n)
                n = (seed >> 16) % (max_chunk + 1);
        }
        encode_chunk(e, p + off, n);
        off += n;
    }
    CHECK(asmtp__body_finish(&e->enc, &e->out) == 0);
}

static void check_no_bare_line_end(const asmtp__buf *out)
{
    const unsigned char *p = asmtp__buf_head(out);
    size_t len = asmtp__buf_size(out);

    for (size_t i = 0; i < len; i++) {
        if (p[i] == '\r')
            CHECK(i + 1 < len && p[i + 1] == '\n');
        if (p[i] == '\n')
            CHECK(i > 0 && p[i - 1] == '\r');
    }
}

/* After the CRLF of the DATA command, "\r\n.\r\n" occurs once: at the end.
 * Equivalently: the output ends in ".\r\n" preceded by nothing or CRLF,
 * and no other line is a lone ".". */
static void check_one_end_of_data(const asmtp__buf *out)
{
    const unsigned char *p = asmtp__buf_head(out);
    size_t len = asmtp__buf_size(out);

    CHECK(len >= 3 && memcmp(p + len - 3, ".\r\n", 3) == 0);
    CHECK(len == 3 || (len >= 5 && memcmp(p + len - 5, "\r\n", 2) == 0));
    if (len >= 3 && memcmp(p, ".\r\n", 3) == 0)
        CHECK(len == 3);
    for (size_t i = 0; i + 5 < len; i++)
        CHECK(memcmp(p + i, "\r\n.\r\n", 5) != 0);
}

/* Un-stuffing the DATA output and dropping ".\r\n" gives the BDAT
 * output. */
static void check_unstuffs_to(const asmtp__buf *data, const asmtp__buf *bdat)
{
    const unsigned char *p = asmtp__buf_head(data);
    const unsigned char *want = asmtp__buf_head(bdat);
    size_t len = asmtp__buf_size(data) - 3;
    size_t got = 0;
    int line_start = 1;

    for (size_t i = 0; i < len; i++) {
        if (line_start && p[i] == '.') {
            CHECK(i + 1 < len && p[i + 1] == '.');
            i++;
        }
        CHECK(got < asmtp__buf_size(bdat) && want[got] == p[i]);
        got++;
        line_start = p[i] == '\n';
    }
    CHECK(got == asmtp__buf_size(bdat));
}

/* The counters agree with the content they describe. */
static void check_counters(const asmtp__body_encoder *enc,
                           const asmtp__buf *bdat, const uint8_t *in,
                           size_t len)
{
    const unsigned char *p = asmtp__buf_head(bdat);
    size_t n = asmtp__buf_size(bdat);
    uint64_t longest = 0, line = 0;
    bool eight_bit = false, nul = false;

    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\r' || p[i] == '\n') {
            longest = line > longest ? line : longest;
            line = 0;
        } else {
            line++;
        }
    }
    for (size_t i = 0; i < len; i++) {
        eight_bit = eight_bit || in[i] >= 0x80;
        nul = nul || in[i] == 0;
    }
    CHECK(enc->size == n);
    CHECK(enc->longest_line == longest);
    CHECK(enc->eight_bit == eight_bit && enc->nul == nul);
    CHECK((n == 0) == (len == 0));
    CHECK(n == 0 || memcmp(p + n - 2, "\r\n", 2) == 0);
}

static void check_measure(const asmtp__body_encoder *enc, const uint8_t *in,
                          size_t len)
{
    uint64_t size, longest;
    bool eight_bit;

    asmtp__body_measure(in, len, &size, &eight_bit, &longest);
    CHECK(size == enc->size && longest == enc->longest_line);
    CHECK(eight_bit == enc->eight_bit);
}

/* The encoding done the slow way, an octet at a time, as the header
 * comment of body.h describes it. */
static void reference(asmtp__buf *out, int mode, const uint8_t *in, size_t len)
{
    bool line_start = true;

    asmtp__buf_init(out, NULL);
    for (size_t i = 0; i < len; i++) {
        if (in[i] == '\r' || in[i] == '\n') {
            if (in[i] == '\r' && i + 1 < len && in[i + 1] == '\n')
                i++;
            CHECK(asmtp__buf_append(out, "\r\n", 2) == 0);
            line_start = true;
            continue;
        }
        if (line_start && in[i] == '.' && mode == ASMTP__BODY_DATA)
            CHECK(asmtp__buf_append_byte(out, '.') == 0);
        CHECK(asmtp__buf_append_byte(out, in[i]) == 0);
        line_start = false;
    }
    if (len && !line_start)
        CHECK(asmtp__buf_append(out, "\r\n", 2) == 0);
    if (mode == ASMTP__BODY_DATA)
        CHECK(asmtp__buf_append(out, ".\r\n", 3) == 0);
}

static void check_same_output(const asmtp__buf *a, const asmtp__buf *b)
{
    size_t len = asmtp__buf_size(a);

    CHECK(len == asmtp__buf_size(b));
    CHECK(len == 0 || memcmp(asmtp__buf_head(a), asmtp__buf_head(b), len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct encoding whole, cut, bdat;
    asmtp__buf ref;
    uint32_t seed = size ? data[0] : 0;
    const uint8_t *in = size ? data + 1 : data;
    size_t len = size ? size - 1 : 0;

    encode(&whole, ASMTP__BODY_DATA, in, len, 0, 0);
    encode(&cut, ASMTP__BODY_DATA, in, len, seed, 1 + seed % 16);
    encode(&bdat, ASMTP__BODY_BDAT, in, len, seed ^ 0x5a5a, 1 + seed % 64);

    reference(&ref, ASMTP__BODY_DATA, in, len);
    check_same_output(&whole.out, &ref);
    asmtp__buf_free(&ref);
    reference(&ref, ASMTP__BODY_BDAT, in, len);
    check_same_output(&bdat.out, &ref);
    asmtp__buf_free(&ref);
    check_same_output(&whole.out, &cut.out);
    check_no_bare_line_end(&whole.out);
    check_no_bare_line_end(&bdat.out);
    check_one_end_of_data(&whole.out);
    check_unstuffs_to(&whole.out, &bdat.out);
    check_counters(&whole.enc, &bdat.out, in, len);
    check_counters(&bdat.enc, &bdat.out, in, len);
    check_measure(&whole.enc, in, len);

    asmtp__buf_free(&whole.out);
    asmtp__buf_free(&cut.out);
    asmtp__buf_free(&bdat.out);
    return 0;
}
