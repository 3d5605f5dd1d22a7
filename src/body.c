/*
 * Body encoder (see body.h). Where the output equals the input (CRLF line
 * ends, lines not starting with '.') the input is copied in whole spans:
 * runs of such lines are found 64 octets at a time (clean_lines(), with
 * SSE2 or AVX2 where there is one), and the rest is searched line by line
 * with memchr() for the next CR or LF. A bare CR or LF is written as
 * CRLF, and a leading '.' is doubled in DATA mode.
 */
#include "body.h"

#include <string.h>
#if defined(__SSE2__) && !defined(ASMTP_BODY_PORTABLE)
#define ASMTP__BODY_SSE2 1
#include <emmintrin.h>
#endif
/* AVX2 where the CPU has it, chosen at run time (x86-64 builds assume only
 * SSE2). */
#if defined(ASMTP__BODY_SSE2) && defined(__x86_64__) &&                        \
    !defined(ASMTP_BODY_NO_AVX2)
#define ASMTP__BODY_AVX2 1
#include <immintrin.h>
#endif

#include "asmtp/error.h"

#define LOWS  0x7f7f7f7f7f7f7f7fu
#define HIGHS 0x8080808080808080u

/* 0x80 in each byte of word that is zero, 0x00 in the others. */
static inline uint64_t zero_bytes(uint64_t word)
{
    return ~(((word & LOWS) + LOWS) | word | LOWS);
}

/* Note 8-bit and NUL octets, 16 (SSE2) or 8 at a time. CR and LF are
 * neither, so the raw chunk gives the answer for the normalised content. */
static void scan_octets(asmtp__body_encoder *enc, const unsigned char *p,
                        size_t len)
{
    uint64_t high = 0, zero = 0;
    size_t i = 0;

    if (enc->eight_bit && enc->nul)
        return;
#ifdef ASMTP__BODY_SSE2
    {
        __m128i or_all = _mm_setzero_si128(), zeros = _mm_setzero_si128();

        for (; i + 16 <= len; i += 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));

            or_all = _mm_or_si128(or_all, v);
            zeros = _mm_or_si128(zeros, _mm_cmpeq_epi8(v, _mm_setzero_si128()));
        }
        high = _mm_movemask_epi8(or_all) ? HIGHS : 0;
        zero = (uint64_t)_mm_movemask_epi8(zeros);
    }
#endif
    for (; i + 8 <= len; i += 8) {
        uint64_t word;

        memcpy(&word, p + i, sizeof word);
        high |= word;
        zero |= zero_bytes(word);
    }
    for (; i < len; i++) {
        high |= p[i];
        zero |= p[i] == 0;
    }
    enc->eight_bit = enc->eight_bit || (high & HIGHS) != 0;
    enc->nul = enc->nul || zero != 0;
}

/*
 * Finds line ends in a chunk with one memchr() for CR and one for LF. The
 * next LF is remembered until the search passes it, so that each octet is
 * searched at most once for each, even in a long run of bare CRs.
 */
struct line_finder {
    const unsigned char *lf; /* the next LF, or end when there is none */
    const unsigned char *end;
};

static void line_finder_init(struct line_finder *finder, const unsigned char *p,
                             const unsigned char *end)
{
    finder->lf = memchr(p, '\n', (size_t)(end - p));
    if (!finder->lf)
        finder->lf = end;
    finder->end = end;
}

/* The first CR or LF at or after p (p before end), or end. */
static const unsigned char *find_line_end(struct line_finder *finder,
                                          const unsigned char *p)
{
    const unsigned char *cr;

    if (*p == '\r' || *p == '\n') /* an empty line */
        return p;
    if (finder->lf < p) {
        finder->lf = memchr(p, '\n', (size_t)(finder->end - p));
        if (!finder->lf)
            finder->lf = finder->end;
    }
    cr = memchr(p, '\r', (size_t)(finder->lf - p));
    return cr ? cr : finder->lf;
}

/*
 * Where output goes: the input bytes [span, the current position) are
 * still to be copied as they are, and at is the next output byte, NULL
 * when only measuring.
 */
struct writer {
    const unsigned char *span;
    unsigned char *at;
};

static inline void put(struct writer *wr, const void *src, size_t n)
{
    if (!wr->at)
        return;
    memcpy(wr->at, src, n);
    wr->at += n;
}

/* Copy the input up to upto and start the next span there. */
static inline void flush(struct writer *wr, const unsigned char *upto)
{
    put(wr, wr->span, (size_t)(upto - wr->span));
    wr->span = upto;
}

static void note_line_length(asmtp__body_encoder *enc)
{
    if (enc->line_len > enc->longest_line)
        enc->longest_line = enc->line_len;
}

/* Count a line end (the caller writes it) and start a new line. */
static void end_line(asmtp__body_encoder *enc)
{
    note_line_length(enc);
    enc->line_len = 0;
    enc->size += 2;
    enc->at_line_start = true;
    enc->ended_crlf = true;
}

/* Count a run of octets that are neither CR nor LF. */
static void count_run(asmtp__body_encoder *enc, size_t run)
{
    enc->size += run;
    enc->line_len += run;
    if (run) {
        enc->at_line_start = false;
        enc->ended_crlf = false;
    }
}

/*
 * Encode from p (p < end) up to and including the next line end, or to
 * end. A CRLF stays in the span, since the output is the input there; a
 * bare CR or LF ends the span and is written as CRLF. Returns where to go
 * on.
 */
static const unsigned char *encode_line(asmtp__body_encoder *enc,
                                        const unsigned char *p,
                                        const unsigned char *end,
                                        struct writer *wr,
                                        struct line_finder *finder)
{
    const unsigned char *eol;

    if (enc->at_line_start && *p == '.' && enc->mode == ASMTP__BODY_DATA) {
        flush(wr, p);
        put(wr, ".", 1);
    }

    eol = find_line_end(finder, p);
    count_run(enc, (size_t)(eol - p));
    if (eol == end)
        return end;

    end_line(enc);
    if (eol[0] == '\r' && end - eol >= 2 && eol[1] == '\n')
        return eol + 2;
    flush(wr, eol);
    put(wr, "\r\n", 2);
    wr->span = eol + 1;
    enc->pending_cr = eol[0] == '\r' && eol + 1 == end;
    return eol + 1;
}

/*
 * The fast path, for content that already has CRLF line ends: masks of
 * the CR, LF and '.' octets of a 64-octet block, bit i for octet i.
 */
struct block {
    uint64_t cr, lf, dot;
    uint64_t high, nul; /* not 0 when some octet is 8-bit, or NUL */
};

#ifdef ASMTP__BODY_SSE2
static inline uint64_t mask16(__m128i v, char c)
{
    return (uint64_t)(unsigned)_mm_movemask_epi8(
        _mm_cmpeq_epi8(v, _mm_set1_epi8(c)));
}

static inline __m128i load16(const unsigned char *p)
{
    return _mm_loadu_si128((const __m128i *)(const void *)p);
}

/* Written out: the compiler keeps a loop here, with variable shifts. */
static inline uint64_t mask64(__m128i v0, __m128i v1, __m128i v2, __m128i v3,
                              char c)
{
    return mask16(v0, c) | mask16(v1, c) << 16 | mask16(v2, c) << 32 |
           mask16(v3, c) << 48;
}

static inline void block_masks(const unsigned char *p, struct block *b)
{
    __m128i v0 = load16(p), v1 = load16(p + 16);
    __m128i v2 = load16(p + 32), v3 = load16(p + 48);

    __m128i least = _mm_min_epu8(_mm_min_epu8(v0, v1), _mm_min_epu8(v2, v3));
    __m128i all = _mm_or_si128(_mm_or_si128(v0, v1), _mm_or_si128(v2, v3));

    b->cr = mask64(v0, v1, v2, v3, '\r');
    b->lf = mask64(v0, v1, v2, v3, '\n');
    b->dot = mask64(v0, v1, v2, v3, '.');
    b->high = (unsigned)_mm_movemask_epi8(all);
    b->nul = mask16(least, 0);
}
#else
/* Bit i set where octet i of the 8 at p is c. */
static inline uint64_t mask8(const unsigned char *p, unsigned char c)
{
    uint64_t word, pattern;

    memcpy(&word, p, sizeof word);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    word = __builtin_bswap64(word);
#endif
    memset(&pattern, c, sizeof pattern);
    /* One bit per byte, at the bottom of it, gathered into the top byte. */
    return ((zero_bytes(word ^ pattern) >> 7) * 0x0102040810204080u) >> 56;
}

static inline void block_masks(const unsigned char *p, struct block *b)
{
    memset(b, 0, sizeof *b);
    for (int i = 0; i < 8; i++) {
        uint64_t word;

        memcpy(&word, p + 8 * i, sizeof word);
        b->cr |= mask8(p + 8 * i, '\r') << (8 * i);
        b->lf |= mask8(p + 8 * i, '\n') << (8 * i);
        b->dot |= mask8(p + 8 * i, '.') << (8 * i);
        b->high |= word & HIGHS;
        b->nul |= zero_bytes(word);
    }
}
#endif

/* The longest of the lines that end at the LFs of lf after its first,
 * in the block at q. */
static uint64_t longest_within(const unsigned char *q, uint64_t lf,
                               uint64_t longest)
{
    const unsigned char *line = q + __builtin_ctzll(lf) + 1;

    for (lf &= lf - 1; lf; lf &= lf - 1) {
        const unsigned char *at = q + __builtin_ctzll(lf);

        if ((uint64_t)(at - 1 - line) > longest)
            longest = (uint64_t)(at - 1 - line);
        line = at + 1;
    }
    return longest;
}

#ifdef ASMTP__BODY_AVX2
__attribute__((target("avx2"))) static inline uint64_t mask32(__m256i v, char c)
{
    return (uint32_t)_mm256_movemask_epi8(
        _mm256_cmpeq_epi8(v, _mm256_set1_epi8(c)));
}

__attribute__((target("avx2"))) static inline void
block_masks_avx2(const unsigned char *p, struct block *b)
{
    __m256i v0 = _mm256_loadu_si256((const __m256i *)(const void *)p);
    __m256i v1 = _mm256_loadu_si256((const __m256i *)(const void *)(p + 32));

    b->cr = mask32(v0, '\r') | mask32(v1, '\r') << 32;
    b->lf = mask32(v0, '\n') | mask32(v1, '\n') << 32;
    b->dot = mask32(v0, '.') | mask32(v1, '.') << 32;
    b->high = (uint32_t)_mm256_movemask_epi8(_mm256_or_si256(v0, v1));
    b->nul = mask32(_mm256_min_epu8(v0, v1), 0);
}
#endif

typedef void block_fn(const unsigned char *p, struct block *b);

/*
 * From a line start, the length of the run of whole lines that go out as
 * they are: each ends in CRLF, holds no other CR or LF, and in DATA mode
 * does not start with '.'. Counts them into enc. What is left (a partial
 * line, or a line that needs changing) is for encode_line(). Inlined into
 * one function per way of computing the masks.
 */
__attribute__((always_inline)) static inline size_t
scan_clean_lines(asmtp__body_encoder *enc, const unsigned char *p,
                 const unsigned char *end, const unsigned char **scanned,
                 block_fn *masks)
{
    const unsigned char *q = p, *line = p;
    uint64_t carry_cr = 0, carry_lf = 1; /* p starts a line */
    uint64_t stuff = enc->mode == ASMTP__BODY_DATA ? ~(uint64_t)0 : 0;
    uint64_t longest = enc->longest_line;
    uint64_t high = 0, nul = 0;

    while (end - q >= 64) {
        struct block b;

        masks(q, &b);
        /* Every LF right after a CR and every CR right before an LF. */
        if (b.lf != ((b.cr << 1) | carry_cr))
            break;
        if (b.dot & ((b.lf << 1) | carry_lf) & stuff)
            break;
        carry_cr = b.cr >> 63;
        carry_lf = b.lf >> 63;
        high |= b.high;
        nul |= b.nul;
        if (b.lf) {
            /* Lines within the block are shorter than 64 octets: only
             * the one it ends can be the longest, unless none is yet. */
            const unsigned char *first = q + __builtin_ctzll(b.lf);

            if ((uint64_t)(first - 1 - line) > longest)
                longest = (uint64_t)(first - 1 - line);
            if (longest < 64)
                longest = longest_within(q, b.lf, longest);
            line = q + 64 - __builtin_clzll(b.lf);
        }
        q += 64;
    }
    if (line > p) {
        enc->size += (uint64_t)(line - p);
        enc->longest_line = longest;
        enc->ended_crlf = true;
    }
    /* The octets of the blocks taken are looked at for 8-bit and NUL
     * here, beyond the lines returned too: looking twice does no harm. */
    enc->eight_bit = enc->eight_bit || high;
    enc->nul = enc->nul || nul;
    if (q > *scanned)
        *scanned = q;
    return (size_t)(line - p);
}

#ifdef ASMTP__BODY_AVX2
__attribute__((target("avx2"))) static size_t
clean_lines_avx2(asmtp__body_encoder *enc, const unsigned char *p,
                 const unsigned char *end, const unsigned char **scanned)
{
    return scan_clean_lines(enc, p, end, scanned, block_masks_avx2);
}
#endif

typedef size_t clean_fn(asmtp__body_encoder *enc, const unsigned char *p,
                        const unsigned char *end,
                        const unsigned char **scanned);

static size_t clean_lines(asmtp__body_encoder *enc, const unsigned char *p,
                          const unsigned char *end,
                          const unsigned char **scanned)
{
    return scan_clean_lines(enc, p, end, scanned, block_masks);
}

/* The block scan this CPU runs best. */
static clean_fn *pick_clean_lines(void)
{
#ifdef ASMTP__BODY_AVX2
    if (__builtin_cpu_supports("avx2"))
        return clean_lines_avx2;
#endif
    return clean_lines;
}

/* After a line start where no clean line was found, octets to leave to
 * the line-by-line path before looking for clean lines again: content
 * with bare LF line ends needs changes on every line. */
#define CLEAN_RETRY 256

void asmtp__body_encoder_init(asmtp__body_encoder *enc, int mode)
{
    memset(enc, 0, sizeof *enc);
    enc->mode = mode;
    enc->at_line_start = true;
    enc->ended_crlf = true;
}

/* Make room for room more bytes in out and point w after the last one;
 * w is NULL when out is NULL (measuring only). */
static int open_writer(asmtp__buf *out, size_t room, unsigned char **w)
{
    int rv;

    *w = NULL;
    if (!out)
        return 0;
    rv = asmtp__buf_reserve(out, room);
    if (rv)
        return rv;
    *w = out->data + out->len;
    return 0;
}

int asmtp__body_encode(asmtp__body_encoder *enc, const void *data, size_t len,
                       asmtp__buf *out)
{
    asmtp__body_encoder state = *enc; /* a local the writes cannot alias */
    const unsigned char *p = data;
    const unsigned char *end;
    struct line_finder finder;
    struct writer wr;
    const unsigned char *scanned, *retry;
    clean_fn *clean = pick_clean_lines();
    int rv;

    if (len == 0)
        return 0;
    /* The worst case doubles every octet ("\n" or a leading "."). */
    if (out && len > SIZE_MAX / 2)
        return ASMTP_ERR_NOMEM;
    rv = open_writer(out, 2 * len, &wr.at);
    if (rv)
        return rv;

    end = p + len;
    if (state.pending_cr) {
        state.pending_cr = false;
        if (*p == '\n')
            p++;
    }
    line_finder_init(&finder, p, end);
    wr.span = p;
    scanned = p; /* octets before it were checked for 8-bit and NUL */
    retry = p;
    while (p < end) {
        if (state.at_line_start && p >= retry) {
            size_t n = clean(&state, p, end, &scanned); /* in the span */

            p += n;
            if (p == end)
                break;
            if (n == 0)
                retry = (size_t)(end - p) > CLEAN_RETRY ? p + CLEAN_RETRY : end;
        }
        p = encode_line(&state, p, end, &wr, &finder);
        if (p > scanned) {
            scan_octets(&state, scanned, (size_t)(p - scanned));
            scanned = p;
        }
    }
    flush(&wr, end);
    note_line_length(&state);

    if (out)
        out->len = (size_t)(wr.at - out->data);
    *enc = state;
    return 0;
}

int asmtp__body_finish(asmtp__body_encoder *enc, asmtp__buf *out)
{
    struct writer wr = {NULL, NULL};
    int rv;

    rv = open_writer(out, 5, &wr.at); /* CRLF and ".\r\n" */
    if (rv)
        return rv;

    /* A CR at the very end was written as CRLF already. */
    enc->pending_cr = false;
    if (!enc->ended_crlf) {
        end_line(enc);
        put(&wr, "\r\n", 2);
    }
    if (enc->mode == ASMTP__BODY_DATA)
        put(&wr, ".\r\n", 3);

    if (out)
        out->len = (size_t)(wr.at - out->data);
    return 0;
}

void asmtp__body_measure(const void *data, size_t len, uint64_t *size,
                         bool *eight_bit, uint64_t *longest_line)
{
    asmtp__body_encoder enc;

    asmtp__body_encoder_init(&enc, ASMTP__BODY_DATA);
    (void)asmtp__body_encode(&enc, data, len, NULL);
    (void)asmtp__body_finish(&enc, NULL);
    if (size)
        *size = enc.size;
    if (eight_bit)
        *eight_bit = enc.eight_bit;
    if (longest_line)
        *longest_line = enc.longest_line;
}
