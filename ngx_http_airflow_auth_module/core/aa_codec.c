/*
 * Byte codecs shared by the cookie, the Redis key schema and the pages the
 * gateway renders.  Everything here works on (pointer, length) and never
 * allocates: callers size the output from the header's rules.
 */

#include <string.h>

#include <openssl/crypto.h>

#include "aa_codec.h"


#define AA_B64_BAD  0xff
#define AA_B64_PAD  0xfe


static u_char aa_base64_value(u_char c);
static u_char *aa_put_hex_escape(u_char *p, const char *prefix, size_t plen,
    u_char c);


static const u_char  aa_base64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static const u_char  aa_hex_lower[] = "0123456789abcdef";
static const u_char  aa_hex_upper[] = "0123456789ABCDEF";


size_t
aa_base64url_encode(u_char *dst, const u_char *src, size_t len)
{
    u_char  *d;

    d = dst;

    while (len >= 3) {
        *d++ = aa_base64url_alphabet[src[0] >> 2];
        *d++ = aa_base64url_alphabet[((src[0] & 0x03) << 4) | (src[1] >> 4)];
        *d++ = aa_base64url_alphabet[((src[1] & 0x0f) << 2) | (src[2] >> 6)];
        *d++ = aa_base64url_alphabet[src[2] & 0x3f];

        src += 3;
        len -= 3;
    }

    if (len == 1) {
        *d++ = aa_base64url_alphabet[src[0] >> 2];
        *d++ = aa_base64url_alphabet[(src[0] & 0x03) << 4];

    } else if (len == 2) {
        *d++ = aa_base64url_alphabet[src[0] >> 2];
        *d++ = aa_base64url_alphabet[((src[0] & 0x03) << 4) | (src[1] >> 4)];
        *d++ = aa_base64url_alphabet[(src[1] & 0x0f) << 2];
    }

    return d - dst;
}


/* Both alphabets map to the same values, so a key file may use either. */
static u_char
aa_base64_value(u_char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }

    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }

    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }

    switch (c) {
    case '+':
    case '-':
        return 62;

    case '/':
    case '_':
        return 63;

    case '=':
        return AA_B64_PAD;

    default:
        return AA_B64_BAD;
    }
}


int
aa_base64_decode(u_char *dst, size_t *dst_len, const u_char *src,
    size_t len)
{
    size_t   i, n, pad;
    u_char   v[4];
    u_char  *d;

    /* '=' may only close the text, at most twice, and only on a full quad */
    pad = 0;
    while (pad < 2 && len > pad && src[len - 1 - pad] == '=') {
        pad++;
    }

    if (pad && len % 4 != 0) {
        return AA_ERROR;
    }

    n = len - pad;

    d = dst;

    for (i = 0; i + 4 <= n; i += 4) {
        v[0] = aa_base64_value(src[i]);
        v[1] = aa_base64_value(src[i + 1]);
        v[2] = aa_base64_value(src[i + 2]);
        v[3] = aa_base64_value(src[i + 3]);

        if ((v[0] | v[1] | v[2] | v[3]) & 0xc0) {
            return AA_ERROR;
        }

        *d++ = (u_char) (v[0] << 2 | v[1] >> 4);
        *d++ = (u_char) (v[1] << 4 | v[2] >> 2);
        *d++ = (u_char) (v[2] << 6 | v[3]);
    }

    switch (n - i) {
    case 0:
        break;

    case 2:
        v[0] = aa_base64_value(src[i]);
        v[1] = aa_base64_value(src[i + 1]);

        if ((v[0] | v[1]) & 0xc0) {
            return AA_ERROR;
        }

        *d++ = (u_char) (v[0] << 2 | v[1] >> 4);
        break;

    case 3:
        v[0] = aa_base64_value(src[i]);
        v[1] = aa_base64_value(src[i + 1]);
        v[2] = aa_base64_value(src[i + 2]);

        if ((v[0] | v[1] | v[2]) & 0xc0) {
            return AA_ERROR;
        }

        *d++ = (u_char) (v[0] << 2 | v[1] >> 4);
        *d++ = (u_char) (v[1] << 4 | v[2] >> 2);
        break;

    default:
        /* one character left: 6 bits are not a byte */
        return AA_ERROR;
    }

    *dst_len = d - dst;

    return AA_OK;
}


size_t
aa_hex_encode(u_char *dst, const u_char *src, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        dst[2 * i] = aa_hex_lower[src[i] >> 4];
        dst[2 * i + 1] = aa_hex_lower[src[i] & 0x0f];
    }

    return 2 * len;
}


size_t
aa_html_escape(u_char *dst, const u_char *src, size_t len)
{
    size_t       i, n, elen;
    const char  *e;

    n = 0;

    for (i = 0; i < len; i++) {

        switch (src[i]) {
        case '&':
            e = "&amp;";
            break;
        case '<':
            e = "&lt;";
            break;
        case '>':
            e = "&gt;";
            break;
        case '"':
            e = "&quot;";
            break;
        case '\'':
            e = "&#39;";
            break;
        case '\0':
            continue;
        default:
            if (dst) {
                dst[n] = src[i];
            }
            n++;
            continue;
        }

        elen = strlen(e);

        if (dst) {
            memcpy(dst + n, e, elen);
        }

        n += elen;
    }

    return n;
}


static u_char *
aa_put_hex_escape(u_char *p, const char *prefix, size_t plen, u_char c)
{
    memcpy(p, prefix, plen);
    p += plen;
    *p++ = aa_hex_upper[c >> 4];
    *p++ = aa_hex_upper[c & 0x0f];

    return p;
}


size_t
aa_json_escape(u_char *dst, const u_char *src, size_t len)
{
    size_t   i, n;
    u_char   c;
    u_char  *p;

    n = 0;
    p = dst;

    for (i = 0; i < len; i++) {
        c = src[i];

        if (c == '"' || c == '\\') {
            if (p) {
                *p++ = '\\';
                *p++ = c;
            }
            n += 2;

        } else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
            /* \u00XX for these too, so the JSON may sit inside HTML */
            if (p) {
                p = aa_put_hex_escape(p, "\\u00", 4, c);
            }
            n += 6;

        } else {
            if (p) {
                *p++ = c;
            }
            n++;
        }
    }

    return n;
}


size_t
aa_header_clean(u_char *dst, const u_char *src, size_t len)
{
    size_t  i, n;

    n = 0;

    for (i = 0; i < len; i++) {
        if (src[i] < 0x20 || src[i] == 0x7f) {
            continue;
        }

        dst[n++] = src[i];
    }

    return n;
}


size_t
aa_uri_escape(u_char *dst, const u_char *src, size_t len)
{
    size_t   i, n;
    u_char   c;
    u_char  *p;

    n = 0;
    p = dst;

    for (i = 0; i < len; i++) {
        c = src[i];

        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
            || (c >= '0' && c <= '9')
            || c == '-' || c == '.' || c == '_' || c == '~' || c == '/')
        {
            if (p) {
                *p++ = c;
            }
            n++;
            continue;
        }

        if (p) {
            p = aa_put_hex_escape(p, "%", 1, c);
        }
        n += 3;
    }

    return n;
}


int
aa_memeq_ct(const u_char *a, const u_char *b, size_t len)
{
    return CRYPTO_memcmp(a, b, len) != 0;
}


int
aa_percent_decode(u_char *dst, size_t *dst_len, const u_char *src,
    size_t len)
{
    int      hi, lo;
    size_t   i, n;

    n = 0;

    for (i = 0; i < len; i++) {

        if (src[i] != '%') {
            dst[n++] = src[i];
            continue;
        }

        if (len - i < 3) {
            return AA_ERROR;
        }

        hi = aa_hex_digit(src[i + 1]);
        lo = aa_hex_digit(src[i + 2]);

        if (hi < 0 || lo < 0) {
            return AA_ERROR;
        }

        dst[n++] = (u_char) (hi << 4 | lo);
        i += 2;
    }

    *dst_len = n;

    return AA_OK;
}


int
aa_hex_digit(u_char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c |= 0x20;

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return -1;
}
