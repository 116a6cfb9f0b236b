/*
 * The return-URL check against the open-redirect payloads that broke other
 * SSO gateways: mod_auth_openidc CVE-2019-14857 and CVE-2021-32786, mellon
 * CVE-2019-13038 and CVE-2021-3639, oauth2-proxy CVE-2020-4037.
 *
 * The function gets the value already percent-decoded once by the caller,
 * so each entry below is written as it looks after that first decoding.
 */

#include "aa_test.h"

#include "aa_url.h"


typedef struct {
    const char  *url;
    size_t       len;
} url_t;


/* sizeof keeps embedded NUL bytes in the payload */
#define U(s)  { s, sizeof(s) - 1 }


static const url_t  hostile[] = {

    /* nothing, or not a path */
    U(""),
    U("evil.com"),
    U("evil.com/path"),
    U("@evil.com"),
    U("?next=//evil.com"),
    U("#//evil.com"),
    U(".//evil.com"),
    U("../evil.com"),
    U("%2F%2Fevil.com"),
    U("%2f"),
    U("%2f%5cevil.com"),

    /* schemes */
    U("http:evil.com"),
    U("https:evil.com"),
    U("http://evil.com"),
    U("https://evil.com"),
    U("HTTPS://evil.com"),
    U("ftp://evil.com"),
    U("https:/\\evil.com"),
    U("https:\\\\evil.com"),
    U("javascript:alert(1)"),
    U("JavaScript:alert(document.cookie)"),
    U("jAvAsCrIpT%3Aalert(1)"),
    U("data:text/html,<script>alert(1)</script>"),
    U("vbscript:msgbox(1)"),

    /* scheme-relative: another host */
    U("//evil.com"),
    U("//evil.com/"),
    U("//evil.com/path?x=1"),
    U("///evil.com"),
    U("////evil.com"),
    U("//evil.com%2F%2E%2E"),
    U("//%65vil.com"),
    U("//0x7f.0x0.0x0.0x1"),
    U("//2130706433"),
    U("//[::1]/"),

    /* userinfo: the browser goes to what follows the @ */
    U("//user@evil.com"),
    U("//user:pass@evil.com"),
    U("//good.example@evil.com"),
    U("//localhost@evil.com/"),
    U("//evil.com\\@good.example"),
    U("http://good.example@evil.com"),

    /* backslashes, which browsers read as slashes */
    U("/\\evil.com"),
    U("\\/evil.com"),
    U("\\\\evil.com"),
    U("\\\\evil.com\\path"),
    U("/\\\\evil.com"),
    U("/\\/evil.com"),
    U("/home\\..\\..\\evil"),
    U("/a\\b"),
    U("/home\\"),

    /* tab, CR and LF, which browsers drop, so "/\t/x" is "//x" */
    U("/\t/evil.com"),
    U("/\t\t/evil.com"),
    U("/\n/evil.com"),
    U("/\r/evil.com"),
    U("/\r\n/evil.com"),
    U("\t//evil.com"),
    U("\r\n/home"),
    U("/home\t"),
    U("/home\r\nSet-Cookie: x=1"),
    U("/home\nLocation: //evil.com"),
    U("/\x0b/evil.com"),
    U("/\x0c/evil.com"),
    U("/\x1b[31m"),

    /* NUL anywhere */
    U("\0"),
    U("/\0"),
    U("/\0/evil.com"),
    U("/home\0//evil.com"),
    U("\0//evil.com"),

    /* space and DEL */
    U(" /home"),
    U("/ /evil.com"),
    U("/ home"),
    U("/home\x7f"),
    U("/\x7f/evil.com"),

    /* one more decoding turns them into the above */
    U("/%2F/evil.com"),
    U("/%2fevil.com"),
    U("/%2F%2Fevil.com"),
    U("/%2f%2fevil.com"),
    U("/%2F"),
    U("/%5Cevil.com"),
    U("/%5cevil.com"),
    U("/%5C%5Cevil.com"),
    U("/%5C/evil.com"),
    U("/%2F%5Cevil.com"),
    U("/%5C%2Fevil.com"),
    U("/home%5C..%5Cevil"),
    U("/%09/evil.com"),
    U("/%09%09/evil.com"),
    U("/%0a/evil.com"),
    U("/%0D/evil.com"),
    U("/%0d%0aSet-Cookie:%20x=1"),
    U("/%0D%0ALocation:%20//evil.com"),
    U("/home%0d%0a"),
    U("/%00"),
    U("/%00/evil.com"),
    U("/%7f"),
    U("/%7F/evil.com"),
    U("/%0c/evil.com"),
    U("/%1b"),

    /* a '%' that does not start an escape */
    U("/%"),
    U("/%2"),
    U("/x%"),
    U("/%%"),
    U("/%zz"),
    U("/%g0"),
    U("/%0g"),
    U("/%%2F/evil.com"),
    U("/100%"),
    U("/100% sure"),

    /*
     * Unicode slashes: "\xef\xbc\x8f" is U+FF0F (fullwidth solidus),
     * "\xe2\x88\x95" U+2215 (division slash).  Browsers map them to '/'
     * only when parsing a host, so they matter only where the URL does not
     * already start with a path on our host; these do not, and fail.
     */
    U("\xef\xbc\x8f\xef\xbc\x8f" "evil.com"),
    U("\xe2\x88\x95\xe2\x88\x95" "evil.com"),
    U("\xef\xbc\x8f" "evil.com"),
};


static const url_t  good[] = {
    U("/"),
    U("/home"),
    U("/home/"),
    U("/dags/x/grid?a=1&b=2"),
    U("/api/v1/dags?limit=10#frag"),
    U("/a//b"),
    U("/a/b/c/"),
    U("/~user/file.txt"),
    U("/dags?tags=a&tags=b&search=x"),
    U("/dags/example_bash_operator/grid?dag_run_id="
      "manual__2024-01-01T00%3A00%3A00%2B00%3A00"),
    U("/home?x=%2F%2Fevil.com"),
    U("/home#%2F%2Fevil.com"),
    U("/?next=//evil.com"),
    U("/home#//evil.com"),
    U("/caf\xc3\xa9"),
    U("/caf%C3%A9"),
    U("/dags/%E6%97%A5%E6%9C%AC"),
    U("/%25"),
    U("/100%25"),

    /*
     * An encoded space is part of a path once decoded ("my dag"); the
     * Location header still carries it encoded, and "/%20/evil.com" is a
     * path on our host, not a host.  A raw space is refused above.
     */
    U("/dags/my%20dag/grid"),
    U("/%20/evil.com"),
    U("/search?q=a%20b"),

    /* '@' in a path names no host: this stays on ours */
    U("/@evil.com"),
    U("/users/alice@example.com"),

    /*
     * Double-encoded slashes pass on purpose.  After the caller's decoding
     * and ours, "/%252F/evil.com" is "/%2F/evil.com": a path on our host
     * with an encoded slash, which no browser decodes when it follows a
     * Location header, so it cannot leave our origin.
     */
    U("/%252F/evil.com"),
    U("/%255Cevil.com"),
    U("/%2509/evil.com"),

    /*
     * A Unicode slash after our leading '/' is a path character, sent
     * percent-encoded: "/\xef\xbc\x8fevil.com" stays on our host.
     */
    U("/\xef\xbc\x8f" "evil.com"),
    U("/\xe2\x88\x95" "evil.com"),
};


static void
hostile_return_urls_are_refused(void **state)
{
    size_t  i, n;

    n = sizeof(hostile) / sizeof(hostile[0]);
    assert_true(n >= 80);

    for (i = 0; i < n; i++) {
        if (aa_return_url_ok((const u_char *) hostile[i].url, hostile[i].len))
        {
            fail_msg("hostile return URL #%zu accepted: \"%.*s\"", i,
                     (int) hostile[i].len, hostile[i].url);
        }
    }
}


static void
relative_paths_on_our_host_pass(void **state)
{
    size_t  i, n;

    n = sizeof(good) / sizeof(good[0]);
    assert_true(n >= 15);

    for (i = 0; i < n; i++) {
        if (!aa_return_url_ok((const u_char *) good[i].url, good[i].len)) {
            fail_msg("good return URL #%zu refused: \"%.*s\"", i,
                     (int) good[i].len, good[i].url);
        }
    }
}


/* What is refused at the start is refused anywhere in a good path. */
static void
forbidden_bytes_are_refused_inside_a_good_path(void **state)
{
    size_t  i, len;
    u_char  buf[64];

    static const url_t  inside[] = {
        U("\t"), U("\r"), U("\n"), U("\0"), U(" "), U("\x7f"), U("\\"),
        U("%2"), U("%zz"), U("%09"), U("%0d%0a"), U("%00"), U("%5C"),
        U("%7F"),
    };

    assert_true(aa_return_url_ok((const u_char *) "/dags/x/grid", 12));

    for (i = 0; i < sizeof(inside) / sizeof(inside[0]); i++) {
        memcpy(buf, "/dags/x", 7);
        memcpy(buf + 7, inside[i].url, inside[i].len);
        memcpy(buf + 7 + inside[i].len, "/grid", 5);
        len = 7 + inside[i].len + 5;

        if (aa_return_url_ok(buf, len)) {
            fail_msg("accepted with \"%s\" inside a path", inside[i].url);
        }
    }
}


static void
length_is_bounded(void **state)
{
    size_t   i;
    u_char  *url;

    url = malloc(AA_RETURN_URL_MAX + 1);
    assert_non_null(url);

    memset(url, 'a', AA_RETURN_URL_MAX + 1);
    url[0] = '/';

    assert_true(aa_return_url_ok(url, AA_RETURN_URL_MAX));
    assert_false(aa_return_url_ok(url, AA_RETURN_URL_MAX + 1));

    /* a limit-long path of escapes: "/" then 1365 times "%41" */
    for (i = 1; i + 3 <= AA_RETURN_URL_MAX; i += 3) {
        memcpy(url + i, "%41", 3);
    }

    assert_int_equal(i, AA_RETURN_URL_MAX);
    assert_true(aa_return_url_ok(url, AA_RETURN_URL_MAX));

    /* and one that turns into a tab at its very end */
    memcpy(url + AA_RETURN_URL_MAX - 3, "%09", 3);
    assert_false(aa_return_url_ok(url, AA_RETURN_URL_MAX));

    free(url);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        AA_TEST(hostile_return_urls_are_refused),
        AA_TEST(relative_paths_on_our_host_pass),
        AA_TEST(forbidden_bytes_are_refused_inside_a_good_path),
        AA_TEST(length_is_bounded),
    };

    return cmocka_run_group_tests_name("url", tests, NULL, NULL);
}
