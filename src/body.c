/*
 * Body encoder (see body.h). Each chunk is searched with memchr() for the
 * next CR or LF. Where the output equals the input (CRLF line ends, lines
 * not starting with '.') the input is copied in whole spans; a bare CR or
 * LF is written as CRLF, and a leading '.' is doubled in DATA mode.
 */
#include "body.h"

#include <string.h>

#include "asmtp/error.h"

#define LOWS  0x7f7f7f7f7f7f7f7fu
#define HIGHS 0x8080808080808080u

/* 0x80 in each byte of word that is zero, 0x00 in the others. */
static inline uint64_t zero_bytes(uint64_t word)
{
    return ~(((word & LOWS) + LOWS) | word | LOWS);
}

/* Note 8-bit and NUL octets, a word at a time. CR and LF are neither, so
 * the raw chunk gives the answer for the normalised content. */
static void scan_octets(asmtp__body_encoder *enc, const unsigned char *p,
                        size_t len)
{
    uint64_t high = 0, zero = 0;
    size_t i = 0;

    if (enc->eight_bit && enc->nul)
        return;
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
    scan_octets(&state, p, (size_t)(end - p));
    line_finder_init(&finder, p, end);
    wr.span = p;
    while (p < end)
        p = encode_line(&state, p, end, &wr, &finder);
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
