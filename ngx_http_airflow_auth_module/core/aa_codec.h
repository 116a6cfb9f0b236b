/*
 * Byte codecs used by cookies, Redis keys and pages: base64 (standard and
 * url-safe), lower-case hex, HTML and JSON-string escaping, and the cleaning
 * of values that go into HTTP header fields.
 */

#ifndef AA_CODEC_H
#define AA_CODEC_H

#include "aa_core.h"


/* Unpadded base64url length of n bytes. */
#define aa_base64url_len(n)  (((n) * 4 + 2) / 3)

/* Writes unpadded base64url; returns bytes written. */
size_t aa_base64url_encode(u_char *dst, const u_char *src, size_t len);

/*
 * Decodes base64 in either alphabet, padded or not; whitespace is an error.
 * dst needs (len * 3) / 4 + 3 bytes.  AA_OK or AA_ERROR.
 */
int aa_base64_decode(u_char *dst, size_t *dst_len, const u_char *src,
    size_t len);

/* Writes 2 * len lower-case hex digits; returns bytes written. */
size_t aa_hex_encode(u_char *dst, const u_char *src, size_t len);

/*
 * HTML-escapes & < > " ' (and drops NUL); returns bytes written.  With
 * dst == NULL returns the size that would be written.
 */
size_t aa_html_escape(u_char *dst, const u_char *src, size_t len);

/*
 * Escapes for the inside of a JSON string (quotes, backslash, control
 * characters as \u00XX, and < > & as \u003c etc. so JSON is safe in HTML).
 * With dst == NULL returns the size that would be written.
 */
size_t aa_json_escape(u_char *dst, const u_char *src, size_t len);

/*
 * Copies src to dst without the bytes a header field must not carry
 * (0x00-0x1f and 0x7f); returns bytes written (<= len).
 */
size_t aa_header_clean(u_char *dst, const u_char *src, size_t len);

/*
 * Percent-encodes all but RFC 3986 unreserved characters and '/'.  With
 * dst == NULL returns the size that would be written.
 */
size_t aa_uri_escape(u_char *dst, const u_char *src, size_t len);

/* The value of a hex digit in either case, or -1. */
int aa_hex_digit(u_char c);

/*
 * Decodes %XX escapes (either case) into dst, which may be src itself;
 * AA_ERROR for a '%' not followed by two hex digits.  Other bytes are
 * copied as they are.
 */
int aa_percent_decode(u_char *dst, size_t *dst_len, const u_char *src,
    size_t len);

/* Compares in time that depends on len only: 0 when equal. */
int aa_memeq_ct(const u_char *a, const u_char *b, size_t len);

#endif /* AA_CODEC_H */
