/*
 * libFuzzer target for the message header parser. The header to transmit
 * must be the input's header section with whole Bcc and Resent-Bcc fields
 * taken out and nothing else changed; parsing that output again must
 * strip nothing and give the same envelope, less the blind recipients;
 * and an allocation failing part way gives the same result or NOMEM.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "asmtp/error.h"
#include "buf.h"
#include "message.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#include "fuzz_common.h"

static unsigned char lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

static bool starts_with(const uint8_t *p, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);

    if (len < n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (lower(p[i]) != (unsigned char)prefix[i])
            return false;
    return true;
}

/* Whether the line is the start of a Bcc or Resent-Bcc field. */
static bool is_bcc_line(const uint8_t *p, size_t len)
{
    size_t i;

    if (starts_with(p, len, "bcc"))
        i = 3;
    else if (starts_with(p, len, "resent-bcc"))
        i = 10;
    else
        return false;
    while (i < len && (p[i] == ' ' || p[i] == '\t'))
        i++;
    return i < len && p[i] == ':';
}

static size_t line_length(const uint8_t *p, size_t len)
{
    const uint8_t *lf = memchr(p, '\n', len);

    return lf ? (size_t)(lf - p) + 1 : len;
}

/* Whether a line of the header starts with "Resent-". */
static bool has_resent(const uint8_t *p, size_t len)
{
    for (size_t pos = 0; pos < len; pos += line_length(p + pos, len - pos))
        if (starts_with(p + pos, len - pos, "resent-"))
            return true;
    return false;
}

/* out is in with some lines taken out: whole Bcc fields, each with the
 * continuation lines that follow it. */
static void check_lines_removed(const uint8_t *in, size_t in_len,
                                const uint8_t *out, size_t out_len)
{
    size_t pos = 0, kept = 0;
    bool dropping = false;

    while (pos < in_len) {
        size_t n = line_length(in + pos, in_len - pos);

        if (n <= out_len - kept && memcmp(in + pos, out + kept, n) == 0) {
            kept += n;
            dropping = false;
        } else {
            bool continuation = in[pos] == ' ' || in[pos] == '\t';

            CHECK((continuation && dropping) || is_bcc_line(in + pos, n));
            dropping = true;
        }
        pos += n;
    }
    CHECK(kept == out_len);
}

static bool same_text(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

static void check_empty(const asmtp__message *msg)
{
    CHECK(msg->sender == NULL && msg->recipients.count == 0);
    CHECK(asmtp__buf_size(&msg->header) == 0 && msg->header_len == 0);
    CHECK(!msg->stripped);
}

/* Parse the transmitted bytes (the header to send, then the body). */
static void check_reparse(const asmtp__message *msg, const uint8_t *data,
                          size_t size)
{
    size_t header_size = asmtp__buf_size(&msg->header);
    size_t body_size = size - msg->header_len;
    uint8_t *sent = malloc(header_size + body_size + 1);
    asmtp__message again;
    bool same_resent;
    char why[128];
    int rv;

    CHECK(sent != NULL);
    if (header_size)
        memcpy(sent, asmtp__buf_head(&msg->header), header_size);
    if (body_size)
        memcpy(sent + header_size, data + msg->header_len, body_size);
    same_resent =
        has_resent(data, msg->header_len) == has_resent(sent, header_size);

    asmtp__message_init(&again, NULL);
    rv = asmtp__message_parse(&again, sent, header_size + body_size, why,
                              sizeof why);
    /* Only when the Resent- block was nothing but Resent-Bcc does taking
     * it out change which fields the envelope comes from. */
    CHECK(rv == 0 || (!same_resent && rv == ASMTP_ERR_MESSAGE));
    if (rv == 0) {
        CHECK(!again.stripped && again.header_len == header_size);
        CHECK(asmtp__buf_size(&again.header) == header_size);
        CHECK(header_size == 0 ||
              memcmp(asmtp__buf_head(&again.header), sent, header_size) == 0);
    }
    if (rv == 0 && same_resent) {
        CHECK(same_text(again.sender, msg->sender));
        CHECK(again.recipients.count <= msg->recipients.count);
        CHECK(msg->stripped || again.recipients.count == msg->recipients.count);
        for (size_t i = 0; i < again.recipients.count; i++)
            CHECK(strcmp(again.recipients.addresses[i],
                         msg->recipients.addresses[i]) == 0);
    }
    asmtp__message_free(&again);
    free(sent);
}

static void check_failing(const uint8_t *data, size_t size, int want_rv,
                          const asmtp__message *want, size_t fail_at)
{
    struct failing f;
    asmtp__message msg;
    int rv;

    failing_init(&f, fail_at);
    asmtp__message_init(&msg, &f.mem);
    rv = asmtp__message_parse(&msg, data, size, NULL, 0);
    if (rv != 0) {
        CHECK(rv == ASMTP_ERR_NOMEM || rv == want_rv);
        check_empty(&msg);
    } else {
        CHECK(want_rv == 0);
        CHECK(same_text(msg.sender, want->sender));
        CHECK(msg.recipients.count == want->recipients.count);
        for (size_t i = 0; i < msg.recipients.count; i++)
            CHECK(strcmp(msg.recipients.addresses[i],
                         want->recipients.addresses[i]) == 0);
        CHECK(asmtp__buf_size(&msg.header) == asmtp__buf_size(&want->header));
    }
    asmtp__message_free(&msg);
    CHECK(f.live == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    asmtp__message msg;
    char why[128];
    int rv;

    asmtp__message_init(&msg, NULL);
    rv = asmtp__message_parse(&msg, data, size, why, sizeof why);
    CHECK(rv == 0 || rv == ASMTP_ERR_MESSAGE);
    if (rv == 0) {
        size_t header_size = asmtp__buf_size(&msg.header);

        CHECK(msg.header_len <= size && header_size <= msg.header_len);
        CHECK(msg.stripped == (header_size != msg.header_len));
        check_lines_removed(data, msg.header_len, asmtp__buf_head(&msg.header),
                            header_size);
        check_reparse(&msg, data, size);
    } else {
        CHECK(why[0] != '\0');
        check_empty(&msg);
    }

    check_failing(data, size, rv, &msg, 1 + (size ? data[0] % 12 : 0));
    asmtp__message_free(&msg);
    return 0;
}
