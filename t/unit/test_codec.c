/*
 * The byte codecs: base64 against the RFC 4648 vectors in both alphabets,
 * hex, and the escapes that keep reflected values out of HTML, JSON, URLs
 * and header fields.
 */

#include <jansson.h>

#include "aa_test.h"

#include "aa_codec.h"


typedef struct {
    const char  *plain;
    const char  *encoded;
} vector_t;


/* RFC 4648 section 10, padding removed for base64url */
static const vector_t  rfc4648[] = {
    { "", "" },
    { "f", "Zg" },
    { "fo", "Zm8" },
    { "foo", "Zm9v" },
    { "foob", "Zm9vYg" },
    { "fooba", "Zm9vYmE" },
    { "foobar", "Zm9vYmFy" },
};


static void decode_ok(const char *in, const u_char *want, size_t want_len);
static void decode_fails(const char *in);


/*
 * Input and output live in buffers of exactly the documented size, so the
 * ASan build catches a read past the text or a write past (len * 3) / 4 + 3.
 */
static void
decode_ok(const char *in, const u_char *want, size_t want_len)
{
    int      rc;
    size_t   n, len;
    u_char  *src, *dst;

    len = strlen(in);
    src = malloc(len ? len : 1);
    dst = malloc(len * 3 / 4 + 3);
    assert_non_null(src);
    assert_non_null(dst);
    memcpy(src, in, len);

    n = 9999;
    rc = aa_base64_decode(dst, &n, src, len);

    if (rc != AA_OK) {
        fail_msg("\"%s\" did not decode", in);
    }

    assert_int_equal(n, want_len);
    assert_memory_equal(dst, want, want_len);

    free(src);
    free(dst);
}


static void
decode_fails(const char *in)
{
    int      rc;
    size_t   n, len;
    u_char  *src, *dst;

    len = strlen(in);
    src = malloc(len ? len : 1);
    dst = malloc(len * 3 / 4 + 3);
    assert_non_null(src);
    assert_non_null(dst);
    memcpy(src, in, len);

    rc = aa_base64_decode(dst, &n, src, len);

    free(src);
    free(dst);

    if (rc != AA_ERROR) {
        fail_msg("\"%s\" decoded", in);
    }
}


static void
base64url_encodes_the_rfc4648_vectors_unpadded(void **state)
{
    size_t  i, n, len;
    u_char  buf[32];

    for (i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
        len = strlen(rfc4648[i].plain);

        assert_int_equal(aa_base64url_len(len), strlen(rfc4648[i].encoded));

        memset(buf, 0, sizeof(buf));
        n = aa_base64url_encode(buf, (const u_char *) rfc4648[i].plain, len);

        assert_int_equal(n, strlen(rfc4648[i].encoded));
        assert_string_equal((char *) buf, rfc4648[i].encoded);
    }
}


static void
base64url_uses_the_url_alphabet(void **state)
{
    size_t        n;
    u_char        buf[8];
    const u_char  in[] = { 0xfb, 0xff, 0xbf };

    n = aa_base64url_encode(buf, in, sizeof(in));

    assert_int_equal(n, 4);
    assert_memory_equal(buf, "-_-_", 4);
}


static void
base64_decodes_the_rfc4648_vectors_padded_and_not(void **state)
{
    size_t  i;

    static const char  *rfc_padded[] = {
        "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy",
    };

    for (i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
        decode_ok(rfc4648[i].encoded, (const u_char *) rfc4648[i].plain,
                  strlen(rfc4648[i].plain));

        decode_ok(rfc_padded[i], (const u_char *) rfc4648[i].plain,
                  strlen(rfc4648[i].plain));
    }
}


static void
base64_decodes_either_alphabet(void **state)
{
    const u_char  want[] = { 0xfb, 0xff, 0xbf, 0xfb, 0xef };

    decode_ok("+/+/++8=", want, sizeof(want));
    decode_ok("+/+/++8", want, sizeof(want));
    decode_ok("-_-_--8", want, sizeof(want));
    decode_ok("-_-_--8=", want, sizeof(want));
}


static void
base64_refuses_whitespace_and_garbage(void **state)
{
    decode_fails("Zm9v YmFy");
    decode_fails("Zm9vYmFy\n");
    decode_fails("Zm9vYmFy\r");
    decode_fails(" Zm9v");
    decode_fails("Zm9v\tYg");
    decode_fails("Zm9v!mFy");
    decode_fails("Zm9v.mFy");
    decode_fails("Zm9vYmF\x80");

    /* one character is not a byte */
    decode_fails("Z");
    decode_fails("Zm9vY");

    /* padding only at the end, only to a full quad, at most two */
    decode_fails("Zg=");
    decode_fails("Zg===");
    decode_fails("Z===");
    decode_fails("====");
    decode_fails("=Zg=");
    decode_fails("Zg==Zg==");
    decode_fails("Zm=v");
    decode_fails("Zm9vYg=");
}


static void
hex_is_lower_case(void **state)
{
    size_t        n;
    u_char        buf[16];
    const u_char  in[] = { 0x00, 0x01, 0x7f, 0xab, 0xcd, 0xff };

    memset(buf, 0, sizeof(buf));
    n = aa_hex_encode(buf, in, sizeof(in));

    assert_int_equal(n, 12);
    assert_string_equal((char *) buf, "00017fabcdff");
    assert_int_equal(aa_hex_encode(buf, in, 0), 0);
}


static void
html_escape_defuses_a_script_tag(void **state)
{
    size_t       n, size;
    u_char       buf[256];
    const char  *in = "<script>alert('x')&\"</script>";
    const char  *want =
        "&lt;script&gt;alert(&#39;x&#39;)&amp;&quot;&lt;/script&gt;";

    size = aa_html_escape(NULL, (const u_char *) in, strlen(in));
    assert_int_equal(size, strlen(want));

    memset(buf, 0, sizeof(buf));
    n = aa_html_escape(buf, (const u_char *) in, strlen(in));

    assert_int_equal(n, size);
    assert_string_equal((char *) buf, want);
}


static void
html_escape_drops_nul_and_keeps_utf8(void **state)
{
    size_t       n;
    u_char       buf[64];
    const char   in[] = "Zo\xc3\xab\0 A";

    memset(buf, 0, sizeof(buf));
    n = aa_html_escape(buf, (const u_char *) in, sizeof(in) - 1);

    assert_int_equal(n, aa_html_escape(NULL, (const u_char *) in,
                                       sizeof(in) - 1));
    assert_int_equal(n, 6);
    assert_string_equal((char *) buf, "Zo\xc3\xab A");
}


static void
json_escape_handles_quotes_and_control_characters(void **state)
{
    size_t       n, size;
    u_char       buf[256];
    const char   in[] = "a\"b\\c\n\r\t\x01\x1f\0</x>&\xc3\xa9";
    const char  *want = "a\\\"b\\\\c\\u000A\\u000D\\u0009\\u0001\\u001F"
                        "\\u0000\\u003C/x\\u003E\\u0026\xc3\xa9";

    size = aa_json_escape(NULL, (const u_char *) in, sizeof(in) - 1);
    assert_int_equal(size, strlen(want));

    memset(buf, 0, sizeof(buf));
    n = aa_json_escape(buf, (const u_char *) in, sizeof(in) - 1);

    assert_int_equal(n, size);
    assert_string_equal((char *) buf, want);
}


/* What the escape writes must read back as the original through jansson. */
static void
json_escape_reads_back_through_a_json_parser(void **state)
{
    int           c;
    size_t        n;
    json_t       *v;
    u_char        in[128], doc[128 * 6 + 8];
    json_error_t  error;

    for (c = 0; c < 128; c++) {
        in[c] = (u_char) c;
    }

    doc[0] = '"';
    n = 1 + aa_json_escape(doc + 1, in, sizeof(in));
    doc[n++] = '"';

    v = json_loadb((char *) doc, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &error);
    if (v == NULL) {
        fail_msg("escaped text is not JSON: %s", error.text);
    }

    assert_true(json_is_string(v));
    assert_int_equal(json_string_length(v), sizeof(in));
    assert_memory_equal(json_string_value(v), in, sizeof(in));

    json_decref(v);
}


static void
header_clean_removes_cr_lf_nul_and_del(void **state)
{
    size_t      n;
    u_char      buf[64];
    const char  in[] = "Al\rice\r\nSet-Cookie: x\0=1\x7f\x01\t\xc3\xa9";

    memset(buf, 0, sizeof(buf));
    n = aa_header_clean(buf, (const u_char *) in, sizeof(in) - 1);

    assert_int_equal(n, strlen("AliceSet-Cookie: x=1\xc3\xa9"));
    assert_string_equal((char *) buf, "AliceSet-Cookie: x=1\xc3\xa9");
}


static void
uri_escape_keeps_unreserved_and_slash_only(void **state)
{
    size_t       n, size;
    u_char       buf[256];
    const char  *in = "/dags/my dag?x=1&y=\xc3\xa9#f%AZaz09-._~";
    const char  *want = "/dags/my%20dag%3Fx%3D1%26y%3D%C3%A9%23f%25AZaz09-._~";

    size = aa_uri_escape(NULL, (const u_char *) in, strlen(in));
    assert_int_equal(size, strlen(want));

    memset(buf, 0, sizeof(buf));
    n = aa_uri_escape(buf, (const u_char *) in, strlen(in));

    assert_int_equal(n, strlen(want));
    assert_string_equal((char *) buf, want);

    n = aa_uri_escape(buf, (const u_char *) "\r\n\\", 3);
    assert_int_equal(n, 9);
    assert_memory_equal(buf, "%0D%0A%5C", 9);
}


static void
memeq_ct_compares(void **state)
{
    const u_char  a[] = "0123456789abcdef";
    const u_char  b[] = "0123456789abcdeF";

    assert_int_equal(aa_memeq_ct(a, a, 16), 0);
    assert_int_not_equal(aa_memeq_ct(a, b, 16), 0);
    assert_int_equal(aa_memeq_ct(a, b, 15), 0);
    assert_int_equal(aa_memeq_ct(a, b, 0), 0);
    assert_int_not_equal(aa_memeq_ct(a, (const u_char *) "1", 1), 0);
}


static void
percent_decode_is_strict_and_works_in_place(void **state)
{
    size_t  n;
    u_char  buf[64];

    static const char  *bad[] = { "%", "%2", "a%", "%zz", "%g0", "%0g",
                                  "ok%2" };
    size_t  i;

    memcpy(buf, "/a%2Fb%2fc%20%00%FF", 19);
    assert_int_equal(aa_percent_decode(buf, &n, buf, 19), AA_OK);
    assert_int_equal(n, 9);
    assert_memory_equal(buf, "/a/b/c \0\xff", 9);

    assert_int_equal(aa_percent_decode(buf, &n, (const u_char *) "", 0),
                     AA_OK);
    assert_int_equal(n, 0);

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (aa_percent_decode(buf, &n, (const u_char *) bad[i],
                              strlen(bad[i]))
            != AA_ERROR)
        {
            fail_msg("accepted \"%s\"", bad[i]);
        }
    }

    assert_int_equal(aa_hex_digit('a'), 10);
    assert_int_equal(aa_hex_digit('F'), 15);
    assert_int_equal(aa_hex_digit('g'), -1);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        AA_TEST(base64url_encodes_the_rfc4648_vectors_unpadded),
        AA_TEST(base64url_uses_the_url_alphabet),
        AA_TEST(base64_decodes_the_rfc4648_vectors_padded_and_not),
        AA_TEST(base64_decodes_either_alphabet),
        AA_TEST(base64_refuses_whitespace_and_garbage),
        AA_TEST(hex_is_lower_case),
        AA_TEST(html_escape_defuses_a_script_tag),
        AA_TEST(html_escape_drops_nul_and_keeps_utf8),
        AA_TEST(json_escape_handles_quotes_and_control_characters),
        AA_TEST(json_escape_reads_back_through_a_json_parser),
        AA_TEST(header_clean_removes_cr_lf_nul_and_del),
        AA_TEST(uri_escape_keeps_unreserved_and_slash_only),
        AA_TEST(memeq_ct_compares),
        AA_TEST(percent_decode_is_strict_and_works_in_place),
    };

    return cmocka_run_group_tests_name("codec", tests, NULL, NULL);
}
