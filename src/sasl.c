/*
 * SASL client mechanisms and base64 (see sasl.h). Each response is built
 * as plaintext in a temporary buffer, base64-encoded onto the caller's
 * line and the plaintext wiped. No I/O; HMAC-MD5 comes from OpenSSL, base64
 * is a strict RFC 4648 codec of our own.
 */
#include "sasl.h"

#include <string.h>

#include <openssl/evp.h>

#include "asmtp/error.h"

#define MD5_LEN 16

static const unsigned char base64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Three input bytes (n of them present) to four characters. */
static void encode_group(unsigned char *dst, const unsigned char *src, size_t n)
{
    uint32_t bits = (uint32_t)src[0] << 16;

    if (n > 1)
        bits |= (uint32_t)src[1] << 8;
    if (n > 2)
        bits |= src[2];
    dst[0] = base64_alphabet[(bits >> 18) & 63];
    dst[1] = base64_alphabet[(bits >> 12) & 63];
    dst[2] = n > 1 ? base64_alphabet[(bits >> 6) & 63] : '=';
    dst[3] = n > 2 ? base64_alphabet[bits & 63] : '=';
}

int asmtp__base64_encode(asmtp__buf *out, const void *data, size_t len)
{
    const unsigned char *in = data;
    size_t groups = len / 3 + (len % 3 != 0);
    unsigned char *dst;
    size_t i;
    int rv;

    if (len == 0)
        return 0;
    if (groups > SIZE_MAX / 4)
        return ASMTP_ERR_NOMEM;
    rv = asmtp__buf_reserve(out, groups * 4);
    if (rv)
        return rv;

    dst = out->data + out->len;
    for (i = 0; len - i >= 3; i += 3, dst += 4)
        encode_group(dst, in + i, 3);
    if (i < len)
        encode_group(dst, in + i, len - i);
    out->len += groups * 4;
    return 0;
}

/* The 6-bit value of a base64 character, or -1. */
static int base64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Whole quanta, alphabet characters, and '=' only as the final one or two
 * characters. Sets *pad to the number of '='. */
static bool base64_valid(const unsigned char *in, size_t len, size_t *pad)
{
    *pad = 0;
    if (len % 4 != 0)
        return false;
    if (len > 0 && in[len - 1] == '=')
        *pad = in[len - 2] == '=' ? 2 : 1;
    for (size_t i = 0; i < len - *pad; i++)
        if (base64_value(in[i]) < 0)
            return false;
    return true;
}

int asmtp__base64_decode(asmtp__buf *out, const void *data, size_t len)
{
    const unsigned char *in = data;
    size_t pad, out_len;
    unsigned char *dst;
    int rv;

    if (!base64_valid(in, len, &pad))
        return ASMTP_ERR_PROTOCOL;
    out_len = len / 4 * 3 - pad;
    if (out_len == 0)
        return 0;
    rv = asmtp__buf_reserve(out, out_len);
    if (rv)
        return rv;

    dst = out->data + out->len;
    for (size_t i = 0, o = 0; i < len; i += 4) {
        uint32_t bits = 0;

        for (size_t j = 0; j < 4; j++) {
            int value = in[i + j] == '=' ? 0 : base64_value(in[i + j]);

            bits = bits << 6 | (uint32_t)value;
        }
        for (size_t j = 0; j < 3 && o < out_len; j++, o++)
            dst[o] = (unsigned char)(bits >> (16 - 8 * j));
    }
    out->len += out_len;
    return 0;
}

const char *asmtp__sasl_name(unsigned mechanism)
{
    switch (mechanism) {
    case ASMTP_AUTH_PLAIN:
        return "PLAIN";
    case ASMTP_AUTH_LOGIN:
        return "LOGIN";
    case ASMTP_AUTH_CRAM_MD5:
        return "CRAM-MD5";
    case ASMTP_AUTH_XOAUTH2:
        return "XOAUTH2";
    default:
        return NULL;
    }
}

static bool has_nul(asmtp_bytes bytes)
{
    return bytes.len && memchr(bytes.data, 0, bytes.len) != NULL;
}

unsigned asmtp__sasl_choose(unsigned offered, unsigned allowed,
                            const asmtp_credentials *creds)
{
    static const unsigned password_order[] = {
        ASMTP_AUTH_CRAM_MD5,
        ASMTP_AUTH_PLAIN,
        ASMTP_AUTH_LOGIN,
    };
    unsigned usable = offered & (allowed ? allowed : ASMTP_AUTH_ANY);

    if (!creds)
        return 0;
    if (creds->token.len > 0)
        return usable & ASMTP_AUTH_XOAUTH2;
    if (!creds->password.data)
        return 0;
    if (has_nul(creds->username) || has_nul(creds->password) ||
        has_nul(creds->authzid))
        usable &= ~(unsigned)ASMTP_AUTH_PLAIN; /* NUL separates its fields */
    for (size_t i = 0; i < sizeof password_order / sizeof *password_order; i++)
        if (usable & password_order[i])
            return password_order[i];
    return 0;
}

static asmtp_bytes literal(const char *s)
{
    asmtp_bytes bytes = {(const unsigned char *)s, strlen(s)};

    return bytes;
}

static asmtp_bytes buf_bytes(const asmtp__buf *buf)
{
    asmtp_bytes bytes = {NULL, 0};

    if (buf->data) {
        bytes.data = asmtp__buf_head(buf);
        bytes.len = asmtp__buf_size(buf);
    }
    return bytes;
}

static bool contains(const asmtp_bytes *bytes, unsigned char byte)
{
    return bytes->len > 0 && memchr(bytes->data, byte, bytes->len) != NULL;
}

static bool bytes_valid(const asmtp_bytes *bytes)
{
    return bytes->len == 0 || bytes->data != NULL;
}

/*
 * Every mechanism needs a username. PLAIN fields must not hold the NUL
 * that separates them; XOAUTH2 fields must not hold its 0x01 separator.
 */
static int check_credentials(unsigned mechanism, const asmtp_credentials *creds)
{
    if (!bytes_valid(&creds->username) || !bytes_valid(&creds->password) ||
        !bytes_valid(&creds->token) || !bytes_valid(&creds->authzid))
        return ASMTP_ERR_BAD_ARGUMENT;
    if (creds->username.len == 0)
        return ASMTP_ERR_BAD_ARGUMENT;

    switch (mechanism) {
    case ASMTP_AUTH_XOAUTH2:
        if (creds->token.len == 0 || contains(&creds->username, 0x01) ||
            contains(&creds->token, 0x01))
            return ASMTP_ERR_BAD_ARGUMENT;
        return 0;
    case ASMTP_AUTH_PLAIN:
        if (contains(&creds->username, 0) || contains(&creds->password, 0) ||
            contains(&creds->authzid, 0))
            return ASMTP_ERR_BAD_ARGUMENT;
        /* fall through */
    case ASMTP_AUTH_LOGIN:
    case ASMTP_AUTH_CRAM_MD5:
        return creds->password.data ? 0 : ASMTP_ERR_BAD_ARGUMENT;
    default:
        return ASMTP_ERR_BAD_ARGUMENT;
    }
}

static int copy_credentials(asmtp__sasl *sasl, const asmtp_credentials *creds)
{
    const asmtp_bytes *secret = sasl->mechanism == ASMTP_AUTH_XOAUTH2
                                    ? &creds->token
                                    : &creds->password;
    int rv;

    rv = asmtp__buf_append(&sasl->username, creds->username.data,
                           creds->username.len);
    if (rv == 0)
        rv = asmtp__buf_append(&sasl->secret, secret->data, secret->len);
    if (rv == 0 && sasl->mechanism == ASMTP_AUTH_PLAIN)
        rv = asmtp__buf_append(&sasl->authzid, creds->authzid.data,
                               creds->authzid.len);
    return rv;
}

/* base64 of the parts joined, appended to out; the joined plaintext is
 * allocated once (so never copied by a realloc) and wiped. */
static int encode_joined(const asmtp_mem *mem, asmtp__buf *out,
                         const asmtp_bytes *parts, size_t count)
{
    asmtp__buf plain;
    size_t total = 0;
    int rv;

    for (size_t i = 0; i < count; i++)
        total += parts[i].len;

    asmtp__buf_init(&plain, mem);
    rv = asmtp__buf_reserve(&plain, total);
    for (size_t i = 0; rv == 0 && i < count; i++)
        rv = asmtp__buf_append(&plain, parts[i].data, parts[i].len);
    if (rv == 0)
        rv = asmtp__base64_encode(out, plain.data, plain.len);
    asmtp__buf_free_secure(&plain);
    return rv;
}

/* PLAIN: authzid NUL username NUL password (RFC 4616). */
static int plain_initial(asmtp__sasl *sasl, asmtp__buf *out)
{
    static const unsigned char nul = 0;
    const asmtp_bytes parts[] = {
        buf_bytes(&sasl->authzid),  {&nul, 1},
        buf_bytes(&sasl->username), {&nul, 1},
        buf_bytes(&sasl->secret),
    };

    return encode_joined(sasl->mem, out, parts, 5);
}

/* XOAUTH2: "user=" username ^A "auth=Bearer " token ^A ^A. */
static int xoauth2_initial(asmtp__sasl *sasl, asmtp__buf *out)
{
    const asmtp_bytes parts[] = {
        literal("user="),
        buf_bytes(&sasl->username),
        literal("\x01"
                "auth=Bearer "),
        buf_bytes(&sasl->secret),
        literal("\x01\x01"),
    };

    return encode_joined(sasl->mem, out, parts, 5);
}

int asmtp__sasl_start(asmtp__sasl *sasl, const asmtp_mem *mem,
                      unsigned mechanism, const asmtp_credentials *creds,
                      asmtp__buf *out, bool *has_initial)
{
    bool initial =
        mechanism == ASMTP_AUTH_PLAIN || mechanism == ASMTP_AUTH_XOAUTH2;
    int rv;

    memset(sasl, 0, sizeof *sasl);
    sasl->mem = mem;
    asmtp__buf_init(&sasl->username, mem);
    asmtp__buf_init(&sasl->secret, mem);
    asmtp__buf_init(&sasl->authzid, mem);
    if (has_initial)
        *has_initial = false;
    if (!creds || !out)
        return ASMTP_ERR_BAD_ARGUMENT;
    rv = check_credentials(mechanism, creds);
    if (rv)
        return rv;

    sasl->mechanism = mechanism;
    rv = copy_credentials(sasl, creds);
    if (rv == 0 && mechanism == ASMTP_AUTH_PLAIN)
        rv = plain_initial(sasl, out);
    else if (rv == 0 && mechanism == ASMTP_AUTH_XOAUTH2)
        rv = xoauth2_initial(sasl, out);
    if (rv) {
        asmtp__sasl_free(sasl);
        return rv;
    }
    if (has_initial)
        *has_initial = initial;
    return 0;
}

/* LOGIN: the first prompt gets the username, the second the password. */
static int login_step(asmtp__sasl *sasl, asmtp__buf *out)
{
    const asmtp_bytes username = buf_bytes(&sasl->username);
    const asmtp_bytes secret = buf_bytes(&sasl->secret);

    if (sasl->step == 0)
        return asmtp__base64_encode(out, username.data, username.len);
    if (sasl->step == 1)
        return asmtp__base64_encode(out, secret.data, secret.len);
    return ASMTP_ERR_PROTOCOL;
}

static void hex_lower(char *dst, const unsigned char *src, size_t len)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < len; i++) {
        dst[2 * i] = digits[src[i] >> 4];
        dst[2 * i + 1] = digits[src[i] & 15];
    }
}

/* HMAC-MD5 keyed with the password. OpenSSL failing here means MD5 is not
 * available (a FIPS-only configuration) or it ran out of memory. */
static int hmac_md5(const asmtp__sasl *sasl, const asmtp__buf *challenge,
                    unsigned char digest[MD5_LEN])
{
    static const unsigned char empty[1];
    asmtp_bytes key = buf_bytes(&sasl->secret);
    size_t digest_len = 0;

    if (!EVP_Q_mac(NULL, "HMAC", NULL, "MD5", NULL, key.data ? key.data : empty,
                   key.len, asmtp__buf_head(challenge),
                   asmtp__buf_size(challenge), digest, MD5_LEN, &digest_len) ||
        digest_len != MD5_LEN)
        return ASMTP_ERR_NOT_SUPPORTED;
    return 0;
}

/* CRAM-MD5: username SP hex(HMAC-MD5(password, challenge)) (RFC 2195). */
static int cram_md5_answer(asmtp__sasl *sasl, const asmtp__buf *challenge,
                           asmtp__buf *out)
{
    unsigned char digest[MD5_LEN];
    char hex[2 * MD5_LEN];
    int rv;

    rv = hmac_md5(sasl, challenge, digest);
    if (rv == 0) {
        const asmtp_bytes parts[] = {
            buf_bytes(&sasl->username),
            literal(" "),
            {(const unsigned char *)hex, sizeof hex},
        };

        hex_lower(hex, digest, MD5_LEN);
        rv = encode_joined(sasl->mem, out, parts, 3);
    }
    asmtp__wipe(digest, sizeof digest);
    asmtp__wipe(hex, sizeof hex);
    return rv;
}

/* The challenge must be non-empty valid base64 (RFC 2195 sends a msg-id). */
static int cram_md5_step(asmtp__sasl *sasl, const unsigned char *challenge,
                         size_t challenge_len, asmtp__buf *out)
{
    asmtp__buf decoded;
    int rv;

    if (sasl->step != 0)
        return ASMTP_ERR_PROTOCOL;

    asmtp__buf_init(&decoded, sasl->mem);
    rv = asmtp__base64_decode(&decoded, challenge, challenge_len);
    if (rv == 0 && asmtp__buf_size(&decoded) == 0)
        rv = ASMTP_ERR_PROTOCOL;
    if (rv == 0)
        rv = cram_md5_answer(sasl, &decoded, out);
    asmtp__buf_free(&decoded);
    return rv;
}

/* XOAUTH2: a challenge is the server's JSON error; answer with an empty
 * line so that it sends its final reply. */
static int xoauth2_step(asmtp__sasl *sasl)
{
    if (sasl->step != 0)
        return ASMTP_ERR_PROTOCOL;
    sasl->xoauth2_error = true;
    return 0;
}

int asmtp__sasl_step(asmtp__sasl *sasl, const unsigned char *challenge,
                     size_t challenge_len, asmtp__buf *out)
{
    int rv;

    if (!out || (challenge_len > 0 && !challenge))
        return ASMTP_ERR_BAD_ARGUMENT;

    switch (sasl->mechanism) {
    case ASMTP_AUTH_PLAIN:
        rv = ASMTP_ERR_PROTOCOL;
        break;
    case ASMTP_AUTH_LOGIN:
        rv = login_step(sasl, out);
        break;
    case ASMTP_AUTH_CRAM_MD5:
        rv = cram_md5_step(sasl, challenge, challenge_len, out);
        break;
    case ASMTP_AUTH_XOAUTH2:
        rv = xoauth2_step(sasl);
        break;
    default:
        return ASMTP_ERR_STATE;
    }
    if (rv == 0)
        sasl->step++;
    return rv;
}

void asmtp__sasl_free(asmtp__sasl *sasl)
{
    if (!sasl)
        return;
    asmtp__buf_free_secure(&sasl->username);
    asmtp__buf_free_secure(&sasl->secret);
    asmtp__buf_free_secure(&sasl->authzid);
    sasl->mechanism = 0;
    sasl->step = 0;
    sasl->xoauth2_error = false;
}
