/*
 * Body encoder tests: byte-exact vectors in DATA and BDAT mode, the same
 * vectors cut at every point, the SMTP smuggling inputs, the counters, and
 * a plain reference encoder that random inputs are checked against.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "asmtp/error.h"
#include "body.h"
#include "buf.h"
#include "support.h"

enum { EIGHT_BIT = 1, NUL = 2 };

struct vector {
    const char *in;
    size_t in_len;
    const char *data; /* the DATA output, terminator included */
    size_t data_len;
    const char *bdat; /* the BDAT output, which is also the content */
    size_t bdat_len;
    uint64_t longest;
    unsigned flags;
};

#define STR(s) s, sizeof(s) - 1
#define VECF(in, data, bdat, longest, flags)                                   \
    {                                                                          \
        STR(in), STR(data), STR(bdat), longest, flags                          \
    }
#define VEC(in, data, bdat, longest) VECF(in, data, bdat, longest, 0)

static const struct vector vectors[] = {
    /* Empty content and lone line ends. */
    VEC("", ".\r\n", "", 0),
    VEC("a", "a\r\n.\r\n", "a\r\n", 1),
    VEC("\n", "\r\n.\r\n", "\r\n", 0),
    VEC("\r", "\r\n.\r\n", "\r\n", 0),
    VEC("\r\n", "\r\n.\r\n", "\r\n", 0),
    VEC("\r\r\n", "\r\n\r\n.\r\n", "\r\n\r\n", 0),
    VEC("\n\r", "\r\n\r\n.\r\n", "\r\n\r\n", 0),
    VEC("\r\r\r", "\r\n\r\n\r\n.\r\n", "\r\n\r\n\r\n", 0),
    VEC("\n\n", "\r\n\r\n.\r\n", "\r\n\r\n", 0),
    VEC("\r\n\n", "\r\n\r\n.\r\n", "\r\n\r\n", 0),
    VEC("\r\n\r\n\r\n", "\r\n\r\n\r\n.\r\n", "\r\n\r\n\r\n", 0),
    VEC("\n\r\n\r", "\r\n\r\n\r\n.\r\n", "\r\n\r\n\r\n", 0),

    /* Lines with and without a final line end. */
    VEC("a\r\nb\r\n", "a\r\nb\r\n.\r\n", "a\r\nb\r\n", 1),
    VEC("a\nb", "a\r\nb\r\n.\r\n", "a\r\nb\r\n", 1),
    VEC("a\rb", "a\r\nb\r\n.\r\n", "a\r\nb\r\n", 1),
    VEC("ab\r\r\ncd", "ab\r\n\r\ncd\r\n.\r\n", "ab\r\n\r\ncd\r\n", 2),
    VEC("a\rb\rc\nd\re\r\nf", "a\r\nb\r\nc\r\nd\r\ne\r\nf\r\n.\r\n",
        "a\r\nb\r\nc\r\nd\r\ne\r\nf\r\n", 1),
    VEC("line1\r\nlonger line\r\nx", "line1\r\nlonger line\r\nx\r\n.\r\n",
        "line1\r\nlonger line\r\nx\r\n", 11),
    VEC("short\nthe longest one", "short\r\nthe longest one\r\n.\r\n",
        "short\r\nthe longest one\r\n", 15),

    /* Dots at the start of a line, however the line began. */
    VEC(".", "..\r\n.\r\n", ".\r\n", 1),
    VEC(".\r\n", "..\r\n.\r\n", ".\r\n", 1),
    VEC("..", "...\r\n.\r\n", "..\r\n", 2),
    VEC("..\r\n..\r\n", "...\r\n...\r\n.\r\n", "..\r\n..\r\n", 2),
    VEC(".a\r\n", "..a\r\n.\r\n", ".a\r\n", 2),
    VEC("a\n.b", "a\r\n..b\r\n.\r\n", "a\r\n.b\r\n", 2),
    VEC("a\r.b", "a\r\n..b\r\n.\r\n", "a\r\n.b\r\n", 2),
    VEC("a\r\n.b", "a\r\n..b\r\n.\r\n", "a\r\n.b\r\n", 2),
    VEC("\n.\n", "\r\n..\r\n.\r\n", "\r\n.\r\n", 1),
    VEC("\r.\r", "\r\n..\r\n.\r\n", "\r\n.\r\n", 1),
    VEC("\r\n.", "\r\n..\r\n.\r\n", "\r\n.\r\n", 1),
    VEC("a.b\r\n", "a.b\r\n.\r\n", "a.b\r\n", 3),
    VEC(" .\r\n", " .\r\n.\r\n", " .\r\n", 2),
    VEC("a\r\n.\r\nb", "a\r\n..\r\nb\r\n.\r\n", "a\r\n.\r\nb\r\n", 1),
    VEC("a\n.\nb", "a\r\n..\r\nb\r\n.\r\n", "a\r\n.\r\nb\r\n", 1),
    VEC("a\r.\r\nb", "a\r\n..\r\nb\r\n.\r\n", "a\r\n.\r\nb\r\n", 1),
    VEC("a\r\n.\rb", "a\r\n..\r\nb\r\n.\r\n", "a\r\n.\r\nb\r\n", 1),
    VEC("a\n.\r\nb", "a\r\n..\r\nb\r\n.\r\n", "a\r\n.\r\nb\r\n", 1),
    VEC("\r\n.\r\n", "\r\n..\r\n.\r\n", "\r\n.\r\n", 1),

    /* Runs longer than a word, with line ends at every offset in one. */
    VEC("0123456789abcdef\r\n0123456789abcdefg",
        "0123456789abcdef\r\n0123456789abcdefg\r\n.\r\n",
        "0123456789abcdef\r\n0123456789abcdefg\r\n", 17),
    VEC("abcdefgh\rijklmnop\nqrstuvwx",
        "abcdefgh\r\nijklmnop\r\nqrstuvwx\r\n.\r\n",
        "abcdefgh\r\nijklmnop\r\nqrstuvwx\r\n", 8),
    VEC("a\nbc\ncde\ncdef\ncdefg\n", "a\r\nbc\r\ncde\r\ncdef\r\ncdefg\r\n.\r\n",
        "a\r\nbc\r\ncde\r\ncdef\r\ncdefg\r\n", 5),
    VEC("........\n.........", ".........\r\n..........\r\n.\r\n",
        "........\r\n.........\r\n", 9),

    /* Other control octets pass through. */
    VEC("\t\x0b\x0c\x0e\x1f\x7f", "\t\x0b\x0c\x0e\x1f\x7f\r\n.\r\n",
        "\t\x0b\x0c\x0e\x1f\x7f\r\n", 6),

    /* 8-bit and NUL octets, in the tail and in a whole word. */
    VECF("\x80", "\x80\r\n.\r\n", "\x80\r\n", 1, EIGHT_BIT),
    VECF("caf\xc3\xa9\r\n", "caf\xc3\xa9\r\n.\r\n", "caf\xc3\xa9\r\n", 5,
         EIGHT_BIT),
    VECF("abcdefg\xffhijklmnop", "abcdefg\xffhijklmnop\r\n.\r\n",
         "abcdefg\xffhijklmnop\r\n", 17, EIGHT_BIT),
    VECF("a\0b", "a\0b\r\n.\r\n", "a\0b\r\n", 3, NUL),
    VECF("\0", "\0\r\n.\r\n", "\0\r\n", 1, NUL),
    VECF("abcdefghijklm\0op", "abcdefghijklm\0op\r\n.\r\n",
         "abcdefghijklm\0op\r\n", 16, NUL),
    VECF(".\0\x80\n", "..\0\x80\r\n.\r\n", ".\0\x80\r\n", 3, EIGHT_BIT | NUL),
};

#define VECTOR_COUNT (sizeof vectors / sizeof vectors[0])

/* ------------------------------------------------------------------ */
/* A reference encoder, written as plainly as possible. */

struct reference {
    asmtp__buf content; /* normalised, final CRLF added: the BDAT output */
    asmtp__buf data;    /* stuffed and terminated: the DATA output */
    uint64_t longest;
    bool eight_bit;
    bool nul;
};

static void reference_normalise(struct reference *ref, const unsigned char *in,
                                size_t len)
{
    asmtp__buf *c = &ref->content;

    for (size_t i = 0; i < len; i++) {
        if (in[i] == '\r' || in[i] == '\n') {
            assert_int_equal(asmtp__buf_append(c, "\r\n", 2), 0);
            if (in[i] == '\r' && i + 1 < len && in[i + 1] == '\n')
                i++;
            continue;
        }
        assert_int_equal(asmtp__buf_append_byte(c, in[i]), 0);
        ref->eight_bit = ref->eight_bit || in[i] >= 0x80;
        ref->nul = ref->nul || in[i] == 0;
    }
    if (c->len > 0 && (c->len < 2 || c->data[c->len - 1] != '\n'))
        assert_int_equal(asmtp__buf_append(c, "\r\n", 2), 0);
}

/* Stuff each line of the content and measure it. */
static void reference_stuff(struct reference *ref)
{
    const unsigned char *c = ref->content.data;
    size_t start = 0;

    for (size_t i = 0; i + 1 < ref->content.len; i++) {
        if (c[i] != '\r')
            continue;
        if (c[start] == '.')
            assert_int_equal(asmtp__buf_append_byte(&ref->data, '.'), 0);
        assert_int_equal(
            asmtp__buf_append(&ref->data, c + start, i + 2 - start), 0);
        if (i - start > ref->longest)
            ref->longest = i - start;
        start = i + 2;
    }
    assert_int_equal(asmtp__buf_append(&ref->data, ".\r\n", 3), 0);
}

static void reference_encode(struct reference *ref, const unsigned char *in,
                             size_t len)
{
    memset(ref, 0, sizeof *ref);
    asmtp__buf_init(&ref->content, NULL);
    asmtp__buf_init(&ref->data, NULL);
    reference_normalise(ref, in, len);
    reference_stuff(ref);
}

static void reference_free(struct reference *ref)
{
    asmtp__buf_free(&ref->content);
    asmtp__buf_free(&ref->data);
}

/* ------------------------------------------------------------------ */
/* Running the encoder. */

/* Encode one chunk from its own guarded copy, so an over-read faults. */
static void encode_chunk(asmtp__body_encoder *enc, const unsigned char *p,
                         size_t len, asmtp__buf *out)
{
    unsigned char *copy = guard_copy(p, len);

    assert_int_equal(asmtp__body_encode(enc, copy, len, out), 0);
    guard_free(copy);
}

/* Encode in chunks that end at the cut points (ascending), then finish. */
static void encode_cuts(asmtp__body_encoder *enc, int mode, const void *in,
                        size_t len, const size_t *cuts, size_t ncuts,
                        asmtp__buf *out)
{
    const unsigned char *p = in;
    size_t from = 0;

    asmtp__body_encoder_init(enc, mode);
    for (size_t i = 0; i <= ncuts; i++) {
        size_t to = i < ncuts ? cuts[i] : len;

        encode_chunk(enc, p + from, to - from, out);
        from = to;
    }
    assert_int_equal(asmtp__body_finish(enc, out), 0);
}

static void encode_whole(asmtp__body_encoder *enc, int mode, const void *in,
                         size_t len, asmtp__buf *out)
{
    encode_cuts(enc, mode, in, len, NULL, 0, out);
}

/* Encode in chunks of step octets (the last may be shorter). */
static void encode_steps(asmtp__body_encoder *enc, int mode, const void *in,
                         size_t len, size_t step, asmtp__buf *out)
{
    const unsigned char *p = in;

    asmtp__body_encoder_init(enc, mode);
    for (size_t off = 0; off < len; off += step)
        encode_chunk(enc, p + off, len - off < step ? len - off : step, out);
    assert_int_equal(asmtp__body_finish(enc, out), 0);
}

static void assert_output(const asmtp__buf *out, const void *expected,
                          size_t len)
{
    assert_int_equal(asmtp__buf_size(out), len);
    if (len)
        assert_memory_equal(asmtp__buf_head(out), expected, len);
}

static void assert_same_counters(const asmtp__body_encoder *a,
                                 const asmtp__body_encoder *b)
{
    assert_int_equal(a->size, b->size);
    assert_int_equal(a->longest_line, b->longest_line);
    assert_int_equal(a->line_len, b->line_len);
    assert_int_equal(a->eight_bit, b->eight_bit);
    assert_int_equal(a->nul, b->nul);
    assert_int_equal(a->pending_cr, b->pending_cr);
    assert_int_equal(a->at_line_start, b->at_line_start);
    assert_int_equal(a->ended_crlf, b->ended_crlf);
}

/* ------------------------------------------------------------------ */
/* Properties of any output. */

/* Every CR is followed by LF and every LF follows a CR. */
static void assert_no_bare_line_end(const unsigned char *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (p[i] == '\r')
            assert_true(i + 1 < len && p[i + 1] == '\n');
        if (p[i] == '\n')
            assert_true(i > 0 && p[i - 1] == '\r');
    }
}

/*
 * The server reads the DATA output right after a CRLF (that of the DATA
 * command), so "\r\n.\r\n" must occur exactly once in CRLF + output: at
 * its end. For content that starts with ".\r\n" this also requires the
 * first line to have been stuffed.
 */
static void assert_one_end_of_data(const unsigned char *p, size_t len)
{
    static const char eod[] = "\r\n.\r\n";
    unsigned char *wire = malloc(len + 2);
    size_t found = 0;

    assert_non_null(wire);
    memcpy(wire, "\r\n", 2);
    memcpy(wire + 2, p, len);
    for (size_t i = 0; i + 5 <= len + 2; i++) {
        if (memcmp(wire + i, eod, 5) == 0) {
            assert_int_equal(i, len + 2 - 5);
            found++;
        }
    }
    free(wire);
    assert_int_equal(found, 1);
}

static void assert_wire_safe(int mode, const asmtp__buf *out)
{
    assert_no_bare_line_end(asmtp__buf_head(out), asmtp__buf_size(out));
    if (mode == ASMTP__BODY_DATA)
        assert_one_end_of_data(asmtp__buf_head(out), asmtp__buf_size(out));
}

/* ------------------------------------------------------------------ */
/* Vectors. */

static void check_vector(const struct vector *v, int mode,
                         const asmtp__body_encoder *enc, const asmtp__buf *out)
{
    if (mode == ASMTP__BODY_DATA)
        assert_output(out, v->data, v->data_len);
    else
        assert_output(out, v->bdat, v->bdat_len);
    assert_int_equal(enc->size, v->bdat_len);
    assert_int_equal(enc->longest_line, v->longest);
    assert_int_equal(enc->eight_bit, (v->flags & EIGHT_BIT) != 0);
    assert_int_equal(enc->nul, (v->flags & NUL) != 0);
    assert_int_equal(enc->line_len, 0);
    assert_false(enc->pending_cr);
    assert_wire_safe(mode, out);
}

static void run_vectors(int mode)
{
    for (size_t i = 0; i < VECTOR_COUNT; i++) {
        asmtp__body_encoder enc;
        asmtp__buf out;

        asmtp__buf_init(&out, NULL);
        encode_whole(&enc, mode, vectors[i].in, vectors[i].in_len, &out);
        check_vector(&vectors[i], mode, &enc, &out);
        asmtp__buf_free(&out);
    }
}

static void test_vectors_data(void **state)
{
    (void)state;
    run_vectors(ASMTP__BODY_DATA);
}

static void test_vectors_bdat(void **state)
{
    (void)state;
    run_vectors(ASMTP__BODY_BDAT);
}

/* Every way of cutting a vector into three chunks, empty ones included. */
static void run_all_cuts(const struct vector *v, int mode)
{
    for (size_t i = 0; i <= v->in_len; i++) {
        for (size_t j = i; j <= v->in_len; j++) {
            size_t cuts[2] = {i, j};
            asmtp__body_encoder enc;
            asmtp__buf out;

            asmtp__buf_init(&out, NULL);
            encode_cuts(&enc, mode, v->in, v->in_len, cuts, 2, &out);
            check_vector(v, mode, &enc, &out);
            asmtp__buf_free(&out);
        }
    }
}

static void test_vectors_every_cut(void **state)
{
    (void)state;
    for (size_t i = 0; i < VECTOR_COUNT; i++) {
        run_all_cuts(&vectors[i], ASMTP__BODY_DATA);
        run_all_cuts(&vectors[i], ASMTP__BODY_BDAT);
    }
}

static void test_vectors_byte_at_a_time(void **state)
{
    (void)state;
    for (size_t i = 0; i < VECTOR_COUNT; i++) {
        for (int mode = ASMTP__BODY_DATA; mode <= ASMTP__BODY_BDAT; mode++) {
            asmtp__body_encoder enc;
            asmtp__buf out;

            asmtp__buf_init(&out, NULL);
            encode_steps(&enc, mode, vectors[i].in, vectors[i].in_len, 1, &out);
            check_vector(&vectors[i], mode, &enc, &out);
            asmtp__buf_free(&out);
        }
    }
}

/* The vectors agree with the reference encoder, so that it can be trusted
 * for the random inputs below. */
static void test_vectors_match_reference(void **state)
{
    (void)state;
    for (size_t i = 0; i < VECTOR_COUNT; i++) {
        const struct vector *v = &vectors[i];
        struct reference ref;

        reference_encode(&ref, (const unsigned char *)v->in, v->in_len);
        assert_output(&ref.data, v->data, v->data_len);
        assert_output(&ref.content, v->bdat, v->bdat_len);
        assert_int_equal(ref.longest, v->longest);
        reference_free(&ref);
    }
}

/* ------------------------------------------------------------------ */
/* Measuring. */

static void test_measure_matches_encode(void **state)
{
    (void)state;
    for (size_t i = 0; i < VECTOR_COUNT; i++) {
        const struct vector *v = &vectors[i];
        unsigned char *copy = guard_copy(v->in, v->in_len);
        uint64_t size = 99, longest = 99;
        bool eight_bit = true;

        asmtp__body_measure(copy, v->in_len, &size, &eight_bit, &longest);
        guard_free(copy);
        assert_int_equal(size, v->bdat_len);
        assert_int_equal(longest, v->longest);
        assert_int_equal(eight_bit, (v->flags & EIGHT_BIT) != 0);
    }
}

static void test_measure_null_results(void **state)
{
    (void)state;
    asmtp__body_measure("a\r\n", 3, NULL, NULL, NULL);
    asmtp__body_measure(NULL, 0, NULL, NULL, NULL);
}

/* With out NULL the counters move exactly as when writing, chunk by
 * chunk. */
static void test_null_out_counts_the_same(void **state)
{
    (void)state;
    for (size_t i = 0; i < VECTOR_COUNT; i++) {
        const struct vector *v = &vectors[i];
        asmtp__body_encoder writing, counting;
        asmtp__buf out;

        asmtp__buf_init(&out, NULL);
        asmtp__body_encoder_init(&writing, ASMTP__BODY_DATA);
        asmtp__body_encoder_init(&counting, ASMTP__BODY_DATA);
        for (size_t off = 0; off < v->in_len; off++) {
            const unsigned char *p = (const unsigned char *)v->in + off;

            encode_chunk(&writing, p, 1, &out);
            encode_chunk(&counting, p, 1, NULL);
            assert_same_counters(&writing, &counting);
        }
        assert_int_equal(asmtp__body_finish(&writing, &out), 0);
        assert_int_equal(asmtp__body_finish(&counting, NULL), 0);
        assert_same_counters(&writing, &counting);
        asmtp__buf_free(&out);
    }
}

/* ------------------------------------------------------------------ */
/* SMTP smuggling (CVE-2023-51764, -51765, -51766). */

static const char *const smuggling[] = {
    "a\n.\nb",
    "a\r.\r\nb",
    "a\r\n.\rb",
    "a\n.\r\nb",
    "a\r.\rb",
    "a\r\n.\nb",
    "a\r\n.\r\nb",
    "a\r\n.\r\n",
    "a\n.\n",
    "a\r.\r",
    ".\r\n",
    ".\r\nMAIL FROM:<x@example.org>\r\n",
    ".\n",
    ".\r",
    "\r\n.\r\n",
    "\n.\n",
    "\r.\r",
    "x\r\n.\r\nRCPT TO:<y@example.org>\r\nDATA\r\n.\r\nmore",
    "x\r\r\n.\r\r\ny",
    "x\n\r.\n\ry",
    "x\r\n\r\n.\r\n\r\n",
    "x\r\n..\r\n.\r\n",
    ".",
    "\r\n.",
    "a\r\n.",
};

#define SMUGGLING_COUNT (sizeof smuggling / sizeof smuggling[0])

static void check_smuggling(const char *in, const size_t *cuts, size_t ncuts)
{
    size_t len = strlen(in);
    struct reference ref;

    reference_encode(&ref, (const unsigned char *)in, len);
    for (int mode = ASMTP__BODY_DATA; mode <= ASMTP__BODY_BDAT; mode++) {
        asmtp__body_encoder enc;
        asmtp__buf out;

        asmtp__buf_init(&out, NULL);
        encode_cuts(&enc, mode, in, len, cuts, ncuts, &out);
        assert_wire_safe(mode, &out);
        if (mode == ASMTP__BODY_DATA)
            assert_output(&out, asmtp__buf_head(&ref.data), ref.data.len);
        else
            assert_output(&out, asmtp__buf_head(&ref.content), ref.content.len);
        asmtp__buf_free(&out);
    }
    reference_free(&ref);
}

static void test_smuggling_every_cut(void **state)
{
    (void)state;
    for (size_t i = 0; i < SMUGGLING_COUNT; i++) {
        size_t len = strlen(smuggling[i]);

        check_smuggling(smuggling[i], NULL, 0);
        for (size_t a = 0; a <= len; a++) {
            for (size_t b = a; b <= len; b++) {
                size_t cuts[2] = {a, b};

                check_smuggling(smuggling[i], cuts, 2);
            }
        }
    }
}

/* The exact bytes for the CVE inputs, so that a bug shared with the
 * reference encoder would still show. */
static void test_smuggling_exact(void **state)
{
    static const struct vector cases[] = {
        VEC("a\n.\nb", "a\r\n..\r\nb\r\n.\r\n", "a\r\n.\r\nb\r\n", 1),
        VEC("a\r.\r\nb", "a\r\n..\r\nb\r\n.\r\n", "a\r\n.\r\nb\r\n", 1),
        VEC(".\r\n", "..\r\n.\r\n", ".\r\n", 1),
        VEC("\r\n.\r\n", "\r\n..\r\n.\r\n", "\r\n.\r\n", 1),
    };

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        asmtp__body_encoder enc;
        asmtp__buf out;

        asmtp__buf_init(&out, NULL);
        encode_steps(&enc, ASMTP__BODY_DATA, cases[i].in, cases[i].in_len, 1,
                     &out);
        check_vector(&cases[i], ASMTP__BODY_DATA, &enc, &out);
        asmtp__buf_free(&out);
    }
}

/* ------------------------------------------------------------------ */
/* Counters and state. */

static void check_line_of(size_t n, const char *ending)
{
    size_t len = n + strlen(ending);
    unsigned char *in = malloc(len);
    asmtp__body_encoder enc;

    assert_non_null(in);
    memset(in, 'x', n);
    memcpy(in + n, ending, strlen(ending));

    asmtp__body_encoder_init(&enc, ASMTP__BODY_DATA);
    encode_chunk(&enc, in, len, NULL);
    /* Known before finish(), so a caller can refuse the line early. */
    assert_int_equal(enc.longest_line, n);
    assert_int_equal(asmtp__body_finish(&enc, NULL), 0);
    assert_int_equal(enc.longest_line, n);
    assert_int_equal(enc.size, n + 2);
    free(in);
}

static void test_longest_line_998_999(void **state)
{
    (void)state;
    check_line_of(ASMTP__BODY_LINE_MAX, "");
    check_line_of(ASMTP__BODY_LINE_MAX, "\r\n");
    check_line_of(ASMTP__BODY_LINE_MAX, "\n");
    check_line_of(ASMTP__BODY_LINE_MAX + 1, "");
    check_line_of(ASMTP__BODY_LINE_MAX + 1, "\r\n");
    check_line_of(ASMTP__BODY_LINE_MAX + 1, "\r");
}

/* A line split over many chunks is one line; the stuffing dot is not part
 * of its length. */
static void test_line_len_across_chunks(void **state)
{
    asmtp__body_encoder enc;

    (void)state;
    asmtp__body_encoder_init(&enc, ASMTP__BODY_DATA);
    encode_chunk(&enc, (const unsigned char *)".abc", 4, NULL);
    assert_int_equal(enc.line_len, 4);
    encode_chunk(&enc, (const unsigned char *)"defgh", 5, NULL);
    assert_int_equal(enc.line_len, 9);
    assert_int_equal(enc.longest_line, 9);
    encode_chunk(&enc, (const unsigned char *)"\r", 1, NULL);
    assert_int_equal(enc.line_len, 0);
    assert_true(enc.pending_cr);
    encode_chunk(&enc, (const unsigned char *)"\nab", 3, NULL);
    assert_false(enc.pending_cr);
    assert_int_equal(enc.line_len, 2);
    assert_int_equal(enc.longest_line, 9);
    assert_int_equal(enc.size, 13);
    assert_int_equal(asmtp__body_finish(&enc, NULL), 0);
    assert_int_equal(enc.size, 15);
}

/* An empty chunk changes nothing, not even a pending CR. */
static void test_empty_chunk(void **state)
{
    asmtp__body_encoder enc;
    asmtp__buf out;

    (void)state;
    asmtp__buf_init(&out, NULL);
    asmtp__body_encoder_init(&enc, ASMTP__BODY_DATA);
    assert_int_equal(asmtp__body_encode(&enc, NULL, 0, &out), 0);
    encode_chunk(&enc, (const unsigned char *)"a\r", 2, &out);
    assert_int_equal(asmtp__body_encode(&enc, NULL, 0, &out), 0);
    assert_true(enc.pending_cr);
    encode_chunk(&enc, (const unsigned char *)"\n", 1, &out);
    assert_int_equal(asmtp__body_finish(&enc, &out), 0);
    assert_output(&out, "a\r\n.\r\n", 6);
    asmtp__buf_free(&out);
}

/* The encoder appends after what the buffer holds, consumed or not. */
static void test_appends_to_held_bytes(void **state)
{
    asmtp__body_encoder enc;
    asmtp__buf out;

    (void)state;
    asmtp__buf_init(&out, NULL);
    assert_int_equal(asmtp__buf_append(&out, "DATA\r\nxy", 8), 0);
    asmtp__buf_consume(&out, 6);
    asmtp__body_encoder_init(&enc, ASMTP__BODY_DATA);
    encode_chunk(&enc, (const unsigned char *)".hi", 3, &out);
    assert_int_equal(asmtp__body_finish(&enc, &out), 0);
    assert_output(&out, "xy..hi\r\n.\r\n", 11);
    asmtp__buf_free(&out);
}

/* ------------------------------------------------------------------ */
/* Random inputs against the reference encoder. */

static uint64_t next_random(uint64_t *seed)
{
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    return *seed;
}

/* Mostly text, with line ends, dots, NUL and 8-bit octets often enough
 * to meet each other at every offset. */
static void random_content(uint64_t *seed, unsigned char *p, size_t len)
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz  "
                                   "..\r\r\n\n\n\0\x80\xff";

    for (size_t i = 0; i < len; i++)
        p[i] =
            (unsigned char)alphabet[next_random(seed) % (sizeof alphabet - 1)];
}

/* Up to 8 ascending cut points in [0, len]. */
static size_t random_cuts(uint64_t *seed, size_t len, size_t cuts[8])
{
    size_t ncuts = (size_t)(next_random(seed) % 9);

    for (size_t i = 0; i < ncuts; i++) {
        size_t cut = (size_t)(next_random(seed) % (len + 1));
        size_t j = i;

        for (; j > 0 && cuts[j - 1] > cut; j--)
            cuts[j] = cuts[j - 1];
        cuts[j] = cut;
    }
    return ncuts;
}

static void check_random(uint64_t *seed, const unsigned char *in, size_t len,
                         int mode, const struct reference *ref)
{
    asmtp__body_encoder enc;
    asmtp__buf out;
    size_t cuts[8];
    size_t ncuts = random_cuts(seed, len, cuts);

    asmtp__buf_init(&out, NULL);
    encode_cuts(&enc, mode, in, len, cuts, ncuts, &out);
    if (mode == ASMTP__BODY_DATA)
        assert_output(&out, asmtp__buf_head(&ref->data), ref->data.len);
    else
        assert_output(&out, asmtp__buf_head(&ref->content), ref->content.len);
    assert_int_equal(enc.size, ref->content.len);
    assert_int_equal(enc.longest_line, ref->longest);
    assert_int_equal(enc.eight_bit, ref->eight_bit);
    assert_int_equal(enc.nul, ref->nul);
    assert_wire_safe(mode, &out);
    asmtp__buf_free(&out);
}

static void test_random_against_reference(void **state)
{
    uint64_t seed = 0x9e3779b97f4a7c15u;
    unsigned char in[600];

    (void)state;
    for (int round = 0; round < 3000; round++) {
        size_t len = (size_t)(next_random(&seed) % sizeof in);
        struct reference ref;

        random_content(&seed, in, len);
        reference_encode(&ref, in, len);
        check_random(&seed, in, len, ASMTP__BODY_DATA, &ref);
        check_random(&seed, in, len, ASMTP__BODY_BDAT, &ref);
        reference_free(&ref);
    }
}

/* Text as mail mostly is: CRLF lines of any length, now and then one
 * that starts with '.', has a bare CR or LF, an 8-bit octet, a NUL, or
 * no line end (each kind only when its bit is in kinds), so that the fast
 * path for clean lines starts and stops at every offset of its 64-octet
 * blocks. */
static size_t crlf_content(uint64_t *seed, unsigned char *p, size_t cap,
                           unsigned kinds)
{
    static const unsigned char odd_octet[] = {'\n', '\r', 0x80, 0};
    size_t len = 0;

    while (len + 310 <= cap) {
        size_t n = (size_t)(next_random(seed) % 300);
        unsigned odd = (unsigned)(next_random(seed) % 24);
        bool odd_ok = odd < 6 && (kinds >> odd & 1);

        if (odd_ok && odd == 0)
            p[len++] = '.';
        size_t at = n ? (size_t)(next_random(seed) % n) : 0;

        for (size_t i = 0; i < n; i++) {
            /* The odd octet anywhere in the line, long lines too. */
            if (i == at && odd_ok && odd >= 1 && odd <= 4)
                p[len++] = odd_octet[odd - 1];
            p[len++] = (unsigned char)('a' + next_random(seed) % 26);
        }
        if (n == 0 && odd_ok && odd >= 1 && odd <= 4)
            p[len++] = odd_octet[odd - 1];
        if (!(odd_ok && odd == 5)) {
            p[len++] = '\r';
            p[len++] = '\n';
        }
    }
    return len;
}

static void test_crlf_text_against_reference(void **state)
{
    uint64_t seed = 0x2545f4914f6cdd1du;
    unsigned char in[4000];

    (void)state;
    for (int round = 0; round < 3000; round++) {
        unsigned kinds = (unsigned)(next_random(&seed) % 64);
        size_t cap = 310 + (size_t)(next_random(&seed) % 3690);
        size_t len = crlf_content(&seed, in, cap, kinds);
        struct reference ref;

        reference_encode(&ref, in, len);
        check_random(&seed, in, len, ASMTP__BODY_DATA, &ref);
        check_random(&seed, in, len, ASMTP__BODY_BDAT, &ref);
        reference_free(&ref);
    }
}

/* A larger message in the chunk sizes a caller would use. */
static void test_large_message_chunked(void **state)
{
    static const size_t steps[] = {65536, 4096, 1000, 61};
    size_t len = 1u << 20;
    unsigned char *in = malloc(len);
    uint64_t seed = 12345;
    struct reference ref;

    (void)state;
    assert_non_null(in);
    random_content(&seed, in, len);
    reference_encode(&ref, in, len);
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        asmtp__body_encoder enc;
        asmtp__buf out;

        asmtp__buf_init(&out, NULL);
        encode_steps(&enc, ASMTP__BODY_DATA, in, len, steps[i], &out);
        assert_output(&out, asmtp__buf_head(&ref.data), ref.data.len);
        assert_int_equal(enc.size, ref.content.len);
        asmtp__buf_free(&out);
    }
    reference_free(&ref);
    free(in);
}

/* ------------------------------------------------------------------ */
/* Allocation failures. */

/* Encode in chunks with the fail_at-th allocation failing. Returns true
 * when every allocation succeeded. */
static bool encode_failing(const unsigned char *in, size_t len, size_t chunk,
                           size_t fail_at, const struct reference *ref)
{
    asmtp__body_encoder enc;
    asmtp__buf out;
    failmem fm;
    int rv = 0;

    failmem_init(&fm, fail_at);
    asmtp__buf_init(&out, &fm.mem);
    asmtp__body_encoder_init(&enc, ASMTP__BODY_DATA);
    for (size_t off = 0; off < len && rv == 0; off += chunk) {
        size_t n = len - off < chunk ? len - off : chunk;
        unsigned char *copy = guard_copy(in + off, n);
        size_t held = out.len;

        rv = asmtp__body_encode(&enc, copy, n, &out);
        guard_free(copy);
        if (rv)
            assert_int_equal(out.len, held); /* nothing half-written */
    }
    if (rv == 0)
        rv = asmtp__body_finish(&enc, &out);

    if (rv == 0)
        assert_output(&out, asmtp__buf_head(&ref->data), ref->data.len);
    else
        assert_int_equal(rv, ASMTP_ERR_NOMEM);
    asmtp__buf_free(&out);
    assert_int_equal(fm.live, 0);
    return fm.failed == 0;
}

static void test_alloc_failure_every_allocation(void **state)
{
    size_t len = 5000;
    unsigned char *in = malloc(len);
    uint64_t seed = 777;
    struct reference ref;
    size_t fail_at = 1;

    (void)state;
    assert_non_null(in);
    random_content(&seed, in, len);
    reference_encode(&ref, in, len);
    while (!encode_failing(in, len, 900, fail_at, &ref))
        fail_at++;
    assert_true(fail_at > 3); /* several allocations were tried */
    reference_free(&ref);
    free(in);
}

/* finish() needs room too: a full buffer that cannot grow. */
static void test_alloc_failure_in_finish(void **state)
{
    unsigned char fill[256];
    asmtp__body_encoder enc;
    asmtp__buf out;
    failmem fm;

    (void)state;
    memset(fill, 'x', sizeof fill);
    failmem_init(&fm, 2);
    asmtp__buf_init(&out, &fm.mem);
    assert_int_equal(asmtp__buf_append(&out, fill, sizeof fill), 0);
    assert_int_equal(out.cap, sizeof fill);

    asmtp__body_encoder_init(&enc, ASMTP__BODY_BDAT);
    encode_chunk(&enc, (const unsigned char *)"a", 1, NULL);
    assert_int_equal(asmtp__body_finish(&enc, &out), ASMTP_ERR_NOMEM);
    assert_int_equal(out.len, sizeof fill);
    asmtp__buf_free(&out);
    assert_int_equal(fm.live, 0);
}

/* A length whose worst case cannot be reserved fails before any read. */
static void test_length_too_large(void **state)
{
    asmtp__body_encoder enc;
    asmtp__buf out;

    (void)state;
    asmtp__buf_init(&out, NULL);
    asmtp__body_encoder_init(&enc, ASMTP__BODY_DATA);
    assert_int_equal(asmtp__body_encode(&enc, "x", SIZE_MAX, &out),
                     ASMTP_ERR_NOMEM);
    assert_int_equal(asmtp__body_encode(&enc, "x", SIZE_MAX / 2 + 1, &out),
                     ASMTP_ERR_NOMEM);
    assert_int_equal(out.len, 0);
    asmtp__buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors_data),
        cmocka_unit_test(test_vectors_bdat),
        cmocka_unit_test(test_vectors_every_cut),
        cmocka_unit_test(test_vectors_byte_at_a_time),
        cmocka_unit_test(test_vectors_match_reference),
        cmocka_unit_test(test_crlf_text_against_reference),
        cmocka_unit_test(test_measure_matches_encode),
        cmocka_unit_test(test_measure_null_results),
        cmocka_unit_test(test_null_out_counts_the_same),
        cmocka_unit_test(test_smuggling_every_cut),
        cmocka_unit_test(test_smuggling_exact),
        cmocka_unit_test(test_longest_line_998_999),
        cmocka_unit_test(test_line_len_across_chunks),
        cmocka_unit_test(test_empty_chunk),
        cmocka_unit_test(test_appends_to_held_bytes),
        cmocka_unit_test(test_random_against_reference),
        cmocka_unit_test(test_large_message_chunked),
        cmocka_unit_test(test_alloc_failure_every_allocation),
        cmocka_unit_test(test_alloc_failure_in_finish),
        cmocka_unit_test(test_length_too_large),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
