/*
 * Body encoder (see body.h). Each chunk is scanned a word at a time for the
 * next CR or LF. Where the output equals the input (CRLF line ends, lines
 * not starting with '.') the input is copied in whole spans; a bare CR or
 * LF is written as CRLF, and a leading '.' is doubled in DATA mode.
 */
#include "body.h"

#include <string.h>

#include "asmtp/error.h"

#define ONES  0x0101010101010101u
#define LOWS  0x7f7f7f7f7f7f7f7fu
#define HIGHS 0x8080808080808080u

/* 0x80 in each byte of word that is zero, 0x00 in the others. Exact: no
 * carry crosses a byte. */
static inline uint64_t zero_bytes(uint64_t word)
{
    return ~(((word & LOWS) + LOWS) | word | LOWS);
}

/* 0x80 in each byte of word that is CR or LF. */
static inline uint64_t line_end_bytes(uint64_t word)
{
    return zero_bytes(word ^ (ONES * '\r')) | zero_bytes(word ^ (ONES * '\n'));
}

static inline uint64_t load_word(const unsigned char *p)
{
    uint64_t word;

    memcpy(&word, p, sizeof word);
    return word;
}

/* The 8-bit and NUL octets seen, as 0x80 bits in any byte. */
struct octets {
    uint64_t high;
    uint64_t zero;
};

/* The index of the first byte in memory marked in a nonzero mask. */
static inline size_t first_marked(const unsigned char *p, uint64_t mask)
{
#if defined(__GNUC__) && defined(__BYTE_ORDER__) &&                            \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    (void)p;
    return (size_t)__builtin_ctzll(mask) / 8;
#else
    size_t i = 0;

    (void)mask;
    while (p[i] != '\r' && p[i] != '\n')
        i++;
    return i;
#endif
}

/*
 * The first CR or LF in [p, end), or end. Notes the 8-bit and NUL octets
 * of every word read on the way; a word may reach past the line end, but
 * never past end, and CR and LF are neither 8-bit nor NUL, so over the
 * chunk this gives the answer for the normalised content.
 */
static const unsigned char *find_line_end(const unsigned char *p,
                                          const unsigned char *end,
                                          struct octets *seen)
{
    for (; end - p >= 8; p += 8) {
        uint64_t word = load_word(p);
        uint64_t hits = line_end_bytes(word);

        seen->high |= word;
        seen->zero |= zero_bytes(word);
        if (hits)
            return p + first_marked(p, hits);
    }
    for (; p < end; p++) {
        seen->high |= *p;
        seen->zero |= *p == 0;
        if (*p == '\r' || *p == '\n')
            return p;
    }
    return end;
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
                                        struct writer *wr, struct octets *seen)
{
    const unsigned char *eol;

    if (enc->at_line_start && *p == '.' && enc->mode == ASMTP__BODY_DATA) {
        flush(wr, p);
        put(wr, ".", 1);
    }

    eol = find_line_end(p, end, seen);
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
    struct octets seen = {0, 0};
    struct writer wr;
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
    wr.span = p;
    while (p < end)
        p = encode_line(&state, p, end, &wr, &seen);
    flush(&wr, end);
    note_line_length(&state);
    state.eight_bit = state.eight_bit || (seen.high & HIGHS) != 0;
    state.nul = state.nul || seen.zero != 0;

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
