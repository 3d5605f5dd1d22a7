/*
 * Message header tests: tables of whole messages, each placed against a
 * guard page, with the envelope, the header section to transmit (exact
 * bytes) and where the body starts; messages that must be refused and
 * the reason given; the size limit; and every allocation failed in turn.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asmtp/error.h"
#include "message.h"
#include "support.h"

#define COUNT(array) (sizeof(array) / sizeof((array)[0]))
#define MAX_RCPT     8

struct message_case {
    const char *input;
    const char *sender;               /* NULL: none */
    const char *recipients[MAX_RCPT]; /* ending at the first NULL */
    /* The header section to transmit; NULL when it is the input's
     * unchanged (nothing stripped). */
    const char *header;
    /* The input from header_len on; NULL for none. */
    const char *body;
};

struct failing_case {
    const char *input;
    const char *why; /* the whole reason expected */
};

static int parse_guarded(asmtp__message *msg, const char *input, size_t len,
                         char *why, size_t why_size)
{
    unsigned char *copy = guard_copy(input, len);
    int rv = asmtp__message_parse(msg, copy, len, why, why_size);

    guard_free(copy);
    return rv;
}

static void check_recipients(const char *input, const asmtp__message *msg,
                             const char *const *want)
{
    size_t n = 0;

    while (n < MAX_RCPT && want[n])
        n++;
    if (msg->recipients.count != n)
        fail_msg("%s: %zu recipients, expected %zu", input,
                 msg->recipients.count, n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(msg->recipients.addresses[i], want[i]) != 0)
            fail_msg("%s: recipient %zu is %s, expected %s", input, i,
                     msg->recipients.addresses[i], want[i]);
}

static void check_header(const char *input, const asmtp__message *msg,
                         const char *want, size_t want_len)
{
    size_t len = asmtp__buf_size(&msg->header);

    if (len != want_len ||
        memcmp(asmtp__buf_head(&msg->header), want, len) != 0)
        fail_msg("%s: header is \"%.*s\", expected \"%.*s\"", input, (int)len,
                 (const char *)asmtp__buf_head(&msg->header), (int)want_len,
                 want);
}

static void check_case(const struct message_case *c)
{
    size_t len = strlen(c->input);
    size_t body_len = c->body ? strlen(c->body) : 0;
    size_t header_len = len - body_len;
    char why[128];
    asmtp__message msg;
    int rv;

    assert_true(body_len <= len);
    assert_memory_equal(c->input + header_len, c->body ? c->body : "",
                        body_len);
    asmtp__message_init(&msg, NULL);
    rv = parse_guarded(&msg, c->input, len, why, sizeof why);
    if (rv != 0)
        fail_msg("%s: returned %d (%s)", c->input, rv, why);
    if (msg.header_len != header_len)
        fail_msg("%s: header_len %zu, expected %zu", c->input, msg.header_len,
                 header_len);
    if (c->sender == NULL && msg.sender != NULL)
        fail_msg("%s: sender %s, expected none", c->input, msg.sender);
    if (c->sender != NULL &&
        (msg.sender == NULL || strcmp(msg.sender, c->sender) != 0))
        fail_msg("%s: sender %s, expected %s", c->input,
                 msg.sender ? msg.sender : "(none)", c->sender);
    check_recipients(c->input, &msg, c->recipients);
    if (c->header)
        check_header(c->input, &msg, c->header, strlen(c->header));
    else
        check_header(c->input, &msg, c->input, header_len);
    if (msg.stripped != (c->header != NULL))
        fail_msg("%s: stripped is %d", c->input, msg.stripped);
    asmtp__message_free(&msg);
}

static void run_cases(const struct message_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++)
        check_case(&cases[i]);
}

static void run_failing(const struct failing_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        asmtp__message msg;
        char why[128];
        int rv;

        asmtp__message_init(&msg, NULL);
        rv = parse_guarded(&msg, cases[i].input, strlen(cases[i].input), why,
                           sizeof why);
        if (rv != ASMTP_ERR_MESSAGE)
            fail_msg("%s: returned %d", cases[i].input, rv);
        if (strcmp(why, cases[i].why) != 0)
            fail_msg("%s: why is \"%s\", expected \"%s\"", cases[i].input, why,
                     cases[i].why);
        assert_null(msg.sender);
        assert_int_equal(msg.recipients.count, 0);
        assert_int_equal(asmtp__buf_size(&msg.header), 0);
        assert_int_equal(msg.header_len, 0);
        assert_false(msg.stripped);
        asmtp__message_free(&msg);
    }
}

static void test_sender(void **state)
{
    static const struct message_case cases[] = {
        /* From alone. */
        {"From: a@x\r\nTo: b@y\r\n\r\nbody\r\n",
         "a@x",
         {"b@y"},
         NULL,
         "body\r\n"},
        {"From: Alice <a@x>\r\n\r\n", "a@x", {NULL}, NULL, NULL},
        /* Sender comes first, wherever it is. */
        {"From: a@x\r\nSender: s@x\r\nTo: b@y\r\n\r\n",
         "s@x",
         {"b@y"},
         NULL,
         NULL},
        {"Sender: Sec <s@x>\r\nFrom: a@x\r\n\r\n", "s@x", {NULL}, NULL, NULL},
        /* Several From addresses: Sender, else the first. */
        {"From: a@x, c@x\r\nSender: s@x\r\n\r\n", "s@x", {NULL}, NULL, NULL},
        {"From: Alice <a@x>, Carol <c@x>\r\n\r\n", "a@x", {NULL}, NULL, NULL},
        {"From: team: a@x, c@x;\r\n\r\n", "a@x", {NULL}, NULL, NULL},
        /* A Sender that gives no address falls back to From; a From that
         * gives none to the next From. */
        {"Sender: nobody:;\r\nFrom: a@x\r\n\r\n", "a@x", {NULL}, NULL, NULL},
        {"From: <>\r\nFrom: a@x\r\n\r\n", "a@x", {NULL}, NULL, NULL},
        {"Sender: s1@x\r\nSender: s2@x\r\n\r\n", "s1@x", {NULL}, NULL, NULL},
        /* None to be found. */
        {"From: <>\r\n\r\n", NULL, {NULL}, NULL, NULL},
        {"To: b@y\r\n\r\n", NULL, {"b@y"}, NULL, NULL},
        {"Reply-To: r@x\r\nReturn-Path: <p@x>\r\n\r\n",
         NULL,
         {NULL},
         NULL,
         NULL},
        /* Fields the envelope does not need are not parsed. */
        {"Sender: s@x\r\nFrom: not an address\r\n\r\n",
         "s@x",
         {NULL},
         NULL,
         NULL},
        {"To: b@y\r\nFrom: a@x\r\nFrom: broken\r\n\r\n",
         "a@x",
         {"b@y"},
         NULL,
         NULL},
        /* Names in any case, white space before the colon (obs). */
        {"FROM: a@x\r\n\r\n", "a@x", {NULL}, NULL, NULL},
        {"sEnDeR : s@x\r\nfrom: a@x\r\n\r\n", "s@x", {NULL}, NULL, NULL},
        {"From\t: a@x\r\n\r\n", "a@x", {NULL}, NULL, NULL},
        /* Names that only look alike. */
        {"From-Name: f@x\r\nXFrom: g@x\r\nSenders: h@x\r\n\r\n",
         NULL,
         {NULL},
         NULL,
         NULL},
    };

    (void)state;
    run_cases(cases, COUNT(cases));
}

static void test_recipients(void **state)
{
    static const struct message_case cases[] = {
        /* To, then Cc, then Bcc, whatever the order of the fields. */
        {"Bcc: c@z\r\nCc: b@y\r\nTo: a@x\r\n\r\n",
         NULL,
         {"a@x", "b@y", "c@z"},
         "Cc: b@y\r\nTo: a@x\r\n\r\n",
         NULL},
        {"To: a@x\r\nCc: b@y\r\nTo: c@z\r\nCc: d@w\r\n\r\n",
         NULL,
         {"a@x", "c@z", "b@y", "d@w"},
         NULL,
         NULL},
        /* Duplicates kept once, where first seen; compared exactly. */
        {"To: a@x, b@y, a@x\r\nCc: b@y, c@z\r\nBcc: a@x, d@w\r\n\r\n",
         NULL,
         {"a@x", "b@y", "c@z", "d@w"},
         "To: a@x, b@y, a@x\r\nCc: b@y, c@z\r\n\r\n",
         NULL},
        {"To: A@x, a@x, a@X\r\n\r\n", NULL, {"A@x", "a@x", "a@X"}, NULL, NULL},
        {"To: \"ab\"@x, ab@x, Name <ab@x>\r\n\r\n", NULL, {"ab@x"}, NULL, NULL},
        {"To: c@z, b@y, a@x, c@z, b@y\r\n\r\n",
         NULL,
         {"c@z", "b@y", "a@x"},
         NULL,
         NULL},
        /* Groups, empty and not. */
        {"To: undisclosed-recipients:;\r\nBcc: h@x\r\n\r\n",
         NULL,
         {"h@x"},
         "To: undisclosed-recipients:;\r\n\r\n",
         NULL},
        {"To: undisclosed-recipients:;\r\n\r\n", NULL, {NULL}, NULL, NULL},
        {"To: team: a@x, b@y;, c@z\r\n\r\n",
         NULL,
         {"a@x", "b@y", "c@z"},
         NULL,
         NULL},
        /* Folded and commented. */
        {"To: a@x,\r\n b@y (B),\r\n\t\"C\" <c@z>\r\nCc:\r\n d@w\r\n\r\n",
         NULL,
         {"a@x", "b@y", "c@z", "d@w"},
         NULL,
         NULL},
        /* Empty fields give nothing. */
        {"To:\r\nCc: \r\nBcc:\r\n\r\n",
         NULL,
         {NULL},
         "To:\r\nCc: \r\n\r\n",
         NULL},
        /* Names that only look alike. */
        {"To-Do: a@x\r\nTox: b@y\r\nX-Cc: c@z\r\nReply-To: r@x\r\n\r\n",
         NULL,
         {NULL},
         NULL,
         NULL},
        {"tO: a@x\r\ncC: b@y\r\nbCc: c@z\r\n\r\n",
         NULL,
         {"a@x", "b@y", "c@z"},
         "tO: a@x\r\ncC: b@y\r\n\r\n",
         NULL},
    };

    (void)state;
    run_cases(cases, COUNT(cases));
}

static void test_resent(void **state)
{
    static const struct message_case cases[] = {
        /* One block: its fields, the originals ignored. */
        {"Resent-From: r@x\r\nResent-To: rt@y\r\nResent-Cc: rc@y\r\n"
         "Resent-Bcc: rb@y\r\nFrom: a@x\r\nTo: b@y\r\nBcc: c@y\r\n\r\n",
         "r@x",
         {"rt@y", "rc@y", "rb@y"},
         "Resent-From: r@x\r\nResent-To: rt@y\r\nResent-Cc: rc@y\r\n"
         "From: a@x\r\nTo: b@y\r\n\r\n",
         NULL},
        /* Resent-Sender before Resent-From. */
        {"Resent-From: r@x\r\nResent-Sender: rs@x\r\nResent-To: t@y\r\n"
         "From: a@x\r\nSender: s@x\r\n\r\n",
         "rs@x",
         {"t@y"},
         NULL,
         NULL},
        /* Trace fields around the block do not split it. */
        {"Received: from a by b; Mon, 1 Jan 2024 00:00:00 +0000\r\n"
         "Resent-Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n"
         "Resent-From: r@x\r\nResent-Message-ID: <id@x>\r\n"
         "Resent-To: t@y\r\n"
         "Received: from c by d; Sun, 31 Dec 2023 00:00:00 +0000\r\n"
         "From: a@x\r\nTo: b@y\r\n\r\n",
         "r@x",
         {"t@y"},
         NULL,
         NULL},
        /* A block with no sender: none (not From). */
        {"Resent-To: t@y\r\nFrom: a@x\r\nTo: b@y\r\n\r\n",
         NULL,
         {"t@y"},
         NULL,
         NULL},
        /* A block with only Resent-Bcc: it still decides. */
        {"Resent-Bcc: rb@y\r\nFrom: a@x\r\nTo: b@y\r\n\r\n",
         NULL,
         {"rb@y"},
         "From: a@x\r\nTo: b@y\r\n\r\n",
         NULL},
        /* Names in any case; the original fields are not parsed. */
        {"RESENT-FROM: r@x\r\nresent-to: t@y, t@y\r\nFrom: broken\r\n\r\n",
         "r@x",
         {"t@y"},
         NULL,
         NULL},
        /* Any Resent- name belongs to the block. */
        {"Resent-Reply-To: x@x\r\nResent-From: r@x\r\n\r\n",
         "r@x",
         {NULL},
         NULL,
         NULL},
    };

    (void)state;
    run_cases(cases, COUNT(cases));
}

static void test_resent_blocks(void **state)
{
    static const struct failing_case cases[] = {
        {"Resent-From: r1@x\r\nResent-To: t1@y\r\n"
         "Received: from a by b; Mon, 1 Jan 2024 00:00:00 +0000\r\n"
         "Resent-From: r2@x\r\nResent-To: t2@y\r\n\r\n",
         "the message has more than one Resent- block (the second starts at "
         "line 4)"},
        {"Resent-To: t1@y\r\nTo: a@x\r\nResent-To: t2@y\r\n\r\n",
         "the message has more than one Resent- block (the second starts at "
         "line 3)"},
        /* A Bcc between them splits them too (before it is stripped). */
        {"Resent-To: t1@y\r\nBcc: b@y\r\nResent-Cc: t2@y\r\n\r\n",
         "the message has more than one Resent- block (the second starts at "
         "line 3)"},
        /* Continuation lines count as lines. */
        {"Resent-To: t1@y,\r\n t3@y\r\nX: y\r\nResent-To: t2@y\r\n\r\n",
         "the message has more than one Resent- block (the second starts at "
         "line 4)"},
    };

    (void)state;
    run_failing(cases, COUNT(cases));
}

static void test_bcc_stripped(void **state)
{
    static const struct message_case cases[] = {
        /* At the start, in the middle, at the end. */
        {"Bcc: h@x\r\nFrom: a@x\r\nTo: b@y\r\n\r\nbody",
         "a@x",
         {"b@y", "h@x"},
         "From: a@x\r\nTo: b@y\r\n\r\n",
         "body"},
        {"From: a@x\r\nBcc: h@x\r\nTo: b@y\r\n\r\nbody",
         "a@x",
         {"b@y", "h@x"},
         "From: a@x\r\nTo: b@y\r\n\r\n",
         "body"},
        {"From: a@x\r\nTo: b@y\r\nBcc: h@x\r\n\r\nbody",
         "a@x",
         {"b@y", "h@x"},
         "From: a@x\r\nTo: b@y\r\n\r\n",
         "body"},
        /* With continuation lines, space or tab, and a blank one. */
        {"From: a@x\r\nBcc: h@x,\r\n i@x,\r\n\tj@x\r\nTo: b@y\r\n\r\n",
         "a@x",
         {"b@y", "h@x", "i@x", "j@x"},
         "From: a@x\r\nTo: b@y\r\n\r\n",
         NULL},
        {"Bcc:\r\n h@x\r\n \r\n", NULL, {"h@x"}, "", NULL},
        {"Subject: x\r\n y\r\nBcc: h@x,\r\n z@x\r\nX: 1\r\n 2\r\n\r\n",
         NULL,
         {"h@x", "z@x"},
         "Subject: x\r\n y\r\nX: 1\r\n 2\r\n\r\n",
         NULL},
        /* Several, in any case, with white space before the colon. */
        {"BCC: a@x\r\nX: 1\r\nbcc : b@x\r\nResent-bcc: c@x\r\n"
         "RESENT-BCC\t: d@x\r\nX: 2\r\nbCc:e@x\r\n\r\n",
         NULL,
         {"c@x", "d@x"},
         "X: 1\r\nX: 2\r\n\r\n",
         NULL},
        /* Only Bcc fields. */
        {"Bcc: a@x\r\n\r\nbody\r\n", NULL, {"a@x"}, "\r\n", "body\r\n"},
        /* The last line, with no line end and no body. */
        {"To: b@y\r\nBcc: h@x", NULL, {"b@y", "h@x"}, "To: b@y\r\n", NULL},
        {"To: b@y\r\nBcc: h@x\r\n", NULL, {"b@y", "h@x"}, "To: b@y\r\n", NULL},
        /* Bare LF line ends, and a mix. */
        {"From: a@x\nBcc: h@x,\n i@x\nTo: b@y\n\nbody\n",
         "a@x",
         {"b@y", "h@x", "i@x"},
         "From: a@x\nTo: b@y\n\n",
         "body\n"},
        {"From: a@x\r\nBcc: h@x\nTo: b@y\n\r\nbody",
         "a@x",
         {"b@y", "h@x"},
         "From: a@x\r\nTo: b@y\n\r\n",
         "body"},
        /* An empty Bcc (the blind copies hidden from each other). */
        {"To: b@y\r\nBcc:\r\n\r\n", NULL, {"b@y"}, "To: b@y\r\n\r\n", NULL},
        /* Other fields are left alone, byte for byte. */
        {"X-Bcc: a@x\r\nBccx: b@x\r\nResent-Bccx: c@x\r\nBc: d@x\r\n"
         "Subject: Bcc: e@x\r\n\r\nBcc: f@x\r\n",
         NULL,
         {NULL},
         NULL,
         "Bcc: f@x\r\n"},
        {"Subject:  odd\t spacing \r\nX-8bit: \xff\xfe\r\n\r\n",
         NULL,
         {NULL},
         NULL,
         NULL},
    };

    (void)state;
    run_cases(cases, COUNT(cases));
}

/* Embedded NULs and bytes the address parser refuses pass through other
 * fields untouched. */
static void test_other_fields_untouched(void **state)
{
    static const char input[] = "Subject: a\0b\x01\xff\r\nBcc: h@x\r\n"
                                "X-Raw: \r\r\n\r\nbody\0";
    static const char want[] = "Subject: a\0b\x01\xff\r\nX-Raw: \r\r\n\r\n";
    asmtp__message msg;
    char why[128];

    (void)state;
    asmtp__message_init(&msg, NULL);
    assert_int_equal(
        parse_guarded(&msg, input, sizeof input - 1, why, sizeof why), 0);
    assert_int_equal(msg.header_len, sizeof input - 1 - 5);
    assert_int_equal(asmtp__buf_size(&msg.header), sizeof want - 1);
    assert_memory_equal(asmtp__buf_head(&msg.header), want, sizeof want - 1);
    assert_true(msg.stripped);
    assert_int_equal(msg.recipients.count, 1);
    asmtp__message_free(&msg);
}

static void test_header_end(void **state)
{
    static const struct message_case cases[] = {
        /* No body: the empty line ends the input. */
        {"To: b@y\r\n\r\n", NULL, {"b@y"}, NULL, NULL},
        {"To: b@y\n\n", NULL, {"b@y"}, NULL, NULL},
        /* No empty line: all of it is the header section. */
        {"To: b@y\r\n", NULL, {"b@y"}, NULL, NULL},
        {"To: b@y", NULL, {"b@y"}, NULL, NULL},
        {"To: b@y\r\nSubject: x", NULL, {"b@y"}, NULL, NULL},
        /* An empty header section. */
        {"", NULL, {NULL}, NULL, NULL},
        {"\r\n", NULL, {NULL}, NULL, NULL},
        {"\n", NULL, {NULL}, NULL, NULL},
        {"\r\nTo: b@y\r\n", NULL, {NULL}, NULL, "To: b@y\r\n"},
        /* The first empty line ends it; the body is never read. */
        {"To: b@y\r\n\r\n\r\nTo: c@y\r\nnot a field\r\n",
         NULL,
         {"b@y"},
         NULL,
         "\r\nTo: c@y\r\nnot a field\r\n"},
        {"To: b@y\n\nBcc: c@y\n", NULL, {"b@y"}, NULL, "Bcc: c@y\n"},
        {"To: b@y\n\r\nbody", NULL, {"b@y"}, NULL, "body"},
        /* A line of white space is a continuation, not the end. */
        {"To: b@y,\r\n \r\n c@y\r\n\r\n", NULL, {"b@y", "c@y"}, NULL, NULL},
        {"Subject: x\r\n\t\r\n\r\nbody", NULL, {NULL}, NULL, "body"},
    };

    (void)state;
    run_cases(cases, COUNT(cases));
}

static void test_malformed(void **state)
{
    static const struct failing_case cases[] = {
        /* Lines that are not fields. */
        {"From sender@x Mon Jan  1 00:00:00 2024\r\nFrom: a@x\r\n\r\n",
         "header line 1 is not a field"},
        {"From: a@x\r\nTo: b@y\r\nnot a field\r\n\r\n",
         "header line 3 is not a field"},
        {" continued\r\nFrom: a@x\r\n\r\n", "header line 1 is not a field"},
        {"From: a@x\r\n: no name\r\n\r\n", "header line 2 is not a field"},
        {"From: a@x\r\nSubject: x\r\n y\r\nNo-Colon\r\n\r\n",
         "header line 4 is not a field"},
        {"From: a@x\r\nBad Name: x\r\n\r\n", "header line 2 is not a field"},
        {"From: a@x\r\nName\r\n: x\r\n\r\n", "header line 2 is not a field"},
        {"From: a@x\r\n\r", "header line 2 is not a field"},
        {"X\xff: y\r\n\r\n", "header line 1 is not a field"},
        {"From: a@x\nTo: b@y\nTrailing", "header line 3 is not a field"},
        /* Address fields the envelope uses. */
        {"From: a@x\r\nTo: b@y\r\nCc: postmaster\r\n\r\n",
         "the Cc field is not a valid address list (line 3)"},
        {"Subject: x\r\n y\r\nTo: b@y,\r\n \"open\r\n\r\n",
         "the To field is not a valid address list (line 3)"},
        {"From: a@x, broken\r\n\r\n",
         "the From field is not a valid address list (line 1)"},
        {"From: <a@x\r\n\r\n",
         "the From field is not a valid address list (line 1)"},
        {"Sender: s\r\nFrom: a@x\r\n\r\n",
         "the Sender field is not a valid address list (line 1)"},
        {"Bcc: b@y (\r\n\r\n",
         "the Bcc field is not a valid address list (line 1)"},
        {"Resent-From: r@x\r\nResent-Bcc: ,,x\r\n\r\n",
         "the Resent-Bcc field is not a valid address list (line 2)"},
        {"Resent-Sender: r@\r\n\r\n",
         "the Resent-Sender field is not a valid address list (line 1)"},
        {"To: b@y\r\r\n\r\n",
         "the To field is not a valid address list (line 1)"},
        {"To: b@y,\r\nc@y\r\n\r\n", "header line 2 is not a field"},
        {"To: j\xf6rg@y\r\n\r\n",
         "the To field is not a valid address list (line 1)"},
    };

    (void)state;
    run_failing(cases, COUNT(cases));
}

/* A header section of exactly ASMTP__HEADER_MAX octets (the empty line
 * included) is read; one more octet, or no empty line in time, is not. */
static void test_header_limit(void **state)
{
    size_t max = ASMTP__HEADER_MAX;
    char *input = malloc(max + 64);
    asmtp__message msg;
    char why[128];
    size_t len;

    (void)state;
    assert_non_null(input);
    memcpy(input, "To: b@y\r\nX-Pad: ", 16);
    memset(input + 16, 'a', max - 16 - 4);
    memcpy(input + max - 4, "\r\n\r\nbody", 8);
    len = max + 4;
    asmtp__message_init(&msg, NULL);

    assert_int_equal(parse_guarded(&msg, input, len, why, sizeof why), 0);
    assert_int_equal(msg.header_len, max);
    assert_int_equal(asmtp__buf_size(&msg.header), max);
    assert_int_equal(msg.recipients.count, 1);

    /* One octet more in the section. */
    memcpy(input + max - 4, "a\r\n\r\nbody", 9);
    len = max + 5;
    assert_int_equal(parse_guarded(&msg, input, len, why, sizeof why),
                     ASMTP_ERR_MESSAGE);
    assert_string_equal(why,
                        "the header section is longer than 1048576 octets");
    assert_int_equal(msg.header_len, 0);
    assert_int_equal(msg.recipients.count, 0);

    /* No empty line, and more than the limit of input. */
    memset(input + 16, 'a', max + 64 - 16);
    assert_int_equal(parse_guarded(&msg, input, max + 64, why, sizeof why),
                     ASMTP_ERR_MESSAGE);
    assert_string_equal(why,
                        "the header section is longer than 1048576 octets");

    /* No empty line, exactly the limit: all header. */
    memcpy(input + max - 2, "\r\n", 2);
    assert_int_equal(parse_guarded(&msg, input, max, why, sizeof why), 0);
    assert_int_equal(msg.header_len, max);

    /* A small header section in a large message is fine. */
    memcpy(input, "To: b@y\r\n\r\n", 11);
    assert_int_equal(parse_guarded(&msg, input, max + 64, why, sizeof why), 0);
    assert_int_equal(msg.header_len, 11);

    asmtp__message_free(&msg);
    free(input);
}

/* why may be NULL or short; the reason is cut, never overrun. */
static void test_why_buffer(void **state)
{
    static const char input[] = "To: broken\r\n\r\n";
    asmtp__message msg;
    char why[16];

    (void)state;
    asmtp__message_init(&msg, NULL);
    assert_int_equal(parse_guarded(&msg, input, sizeof input - 1, NULL, 0),
                     ASMTP_ERR_MESSAGE);
    memset(why, 'x', sizeof why);
    assert_int_equal(parse_guarded(&msg, input, sizeof input - 1, why, 0),
                     ASMTP_ERR_MESSAGE);
    assert_int_equal(why[0], 'x');
    assert_int_equal(
        parse_guarded(&msg, input, sizeof input - 1, why, sizeof why),
        ASMTP_ERR_MESSAGE);
    assert_string_equal(why, "the To field is");

    /* Success leaves why empty. */
    assert_int_equal(parse_guarded(&msg, "To: a@x", 7, why, sizeof why), 0);
    assert_string_equal(why, "");
    asmtp__message_free(&msg);
}

/* A second parse replaces the first; a failed one leaves it empty. */
static void test_reparse(void **state)
{
    asmtp__message msg;
    char why[128];

    (void)state;
    asmtp__message_init(&msg, NULL);
    assert_int_equal(
        parse_guarded(&msg, "From: a@x\nBcc: c@z\n\n", 20, why, sizeof why), 0);
    assert_string_equal(msg.sender, "a@x");
    assert_true(msg.stripped);
    assert_int_equal(parse_guarded(&msg, "To: b@y\n\nx", 10, why, sizeof why),
                     0);
    assert_null(msg.sender);
    assert_false(msg.stripped);
    assert_int_equal(msg.recipients.count, 1);
    assert_string_equal(msg.recipients.addresses[0], "b@y");
    assert_int_equal(msg.header_len, 9);
    assert_int_equal(asmtp__buf_size(&msg.header), 9);
    assert_int_equal(
        parse_guarded(&msg, "From: a@x\nTo: x\n\n", 17, why, sizeof why),
        ASMTP_ERR_MESSAGE);
    assert_null(msg.sender);
    assert_int_equal(msg.recipients.count, 0);
    assert_int_equal(asmtp__buf_size(&msg.header), 0);
    asmtp__message_free(&msg);
    asmtp__message_free(&msg);

    /* NULL data of length 0 is an empty message. */
    assert_int_equal(asmtp__message_parse(&msg, NULL, 0, why, sizeof why), 0);
    assert_int_equal(msg.header_len, 0);
    asmtp__message_free(&msg);
}

/* Many recipients, many duplicates: the order of first sight holds. */
static void test_many_recipients(void **state)
{
    char *input = malloc(64 * 1024);
    asmtp__message msg;
    char why[128];
    size_t len;

    (void)state;
    assert_non_null(input);
    memcpy(input, "To: ", 4);
    len = 4;
    for (int i = 0; i < 3000; i++) {
        char address[32];
        int n = snprintf(address, sizeof address, "u%d@x,\r\n ", i % 1000);

        memcpy(input + len, address, (size_t)n);
        len += (size_t)n;
    }
    memcpy(input + len, "\r\n\r\n", 4);
    len += 4;
    asmtp__message_init(&msg, NULL);
    assert_int_equal(parse_guarded(&msg, input, len, why, sizeof why), 0);
    assert_int_equal(msg.recipients.count, 1000);
    for (int i = 0; i < 1000; i++) {
        char want[32];

        snprintf(want, sizeof want, "u%d@x", i);
        assert_string_equal(msg.recipients.addresses[i], want);
    }
    asmtp__message_free(&msg);
    free(input);
}

/* Fail each allocation in turn: NOMEM, the message empty, nothing
 * leaked. */
static void test_nomem(void **state)
{
    static const char input[] =
        "From: Alice <a@x>, c@x\r\nSender: s@x\r\nTo: b@y, a@x\r\n"
        "Cc: d@w,\r\n b@y\r\nBcc: e@v\r\nSubject: hi\r\n\r\nbody\r\n";
    static const char want_header[] =
        "From: Alice <a@x>, c@x\r\nSender: s@x\r\nTo: b@y, a@x\r\n"
        "Cc: d@w,\r\n b@y\r\nSubject: hi\r\n\r\n";
    static const char *const want[] = {"b@y", "a@x", "d@w", "e@v"};

    (void)state;
    for (size_t fail_at = 1;; fail_at++) {
        asmtp__message msg;
        char why[128];
        failmem fm;
        int rv;

        failmem_init(&fm, fail_at);
        asmtp__message_init(&msg, &fm.mem);
        rv = parse_guarded(&msg, input, sizeof input - 1, why, sizeof why);
        if (rv == 0) {
            assert_int_equal(fm.failed, 0);
            assert_string_equal(msg.sender, "s@x");
            assert_int_equal(msg.recipients.count, COUNT(want));
            for (size_t i = 0; i < COUNT(want); i++)
                assert_string_equal(msg.recipients.addresses[i], want[i]);
            assert_int_equal(asmtp__buf_size(&msg.header),
                             sizeof want_header - 1);
            assert_memory_equal(asmtp__buf_head(&msg.header), want_header,
                                sizeof want_header - 1);
            asmtp__message_free(&msg);
            assert_int_equal(fm.live, 0);
            assert_true(fail_at > 5);
            break;
        }
        assert_int_equal(rv, ASMTP_ERR_NOMEM);
        assert_string_equal(why, "out of memory reading the header section");
        assert_null(msg.sender);
        assert_int_equal(msg.recipients.count, 0);
        assert_int_equal(asmtp__buf_size(&msg.header), 0);
        assert_int_equal(fm.live, 0);
        asmtp__message_free(&msg);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sender),
        cmocka_unit_test(test_recipients),
        cmocka_unit_test(test_resent),
        cmocka_unit_test(test_resent_blocks),
        cmocka_unit_test(test_bcc_stripped),
        cmocka_unit_test(test_other_fields_untouched),
        cmocka_unit_test(test_header_end),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_header_limit),
        cmocka_unit_test(test_why_buffer),
        cmocka_unit_test(test_reparse),
        cmocka_unit_test(test_many_recipients),
        cmocka_unit_test(test_nomem),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
