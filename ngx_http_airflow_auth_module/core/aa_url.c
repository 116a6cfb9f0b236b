/*
 * The return-URL check behind the login "next" parameter and the logout
 * target, the classic open-redirect hole of SSO gateways (mod_auth_openidc
 * CVE-2019-14857 and CVE-2021-32786, mellon CVE-2019-13038 and
 * CVE-2021-3639, oauth2-proxy CVE-2020-4037).
 *
 * Rather than guess how each browser repairs a broken URL, only one shape
 * passes: an absolute path on our host.  Browsers turn "\" into "/" and drop
 * tabs and newlines, so "/\evil" and "/\t/evil" are really "//evil", a
 * scheme-relative URL to another host; hence no backslash and no control
 * byte anywhere.  The same is checked after one more percent-decoding, for
 * whatever decodes the value once more on its way to the browser.
 */

#include "aa_codec.h"
#include "aa_url.h"


static int aa_url_shape_ok(const u_char *url, size_t len, int decoded);


/*
 * A raw value holds no space; once decoded, a space is a legitimate part of
 * a path ("/dags/my%20dag") and does not make the URL leave our host.
 */
static int
aa_url_shape_ok(const u_char *url, size_t len, int decoded)
{
    size_t  i;

    if (len == 0 || url[0] != '/') {
        return 0;
    }

    if (len > 1 && (url[1] == '/' || url[1] == '\\')) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (url[i] < 0x20 || url[i] == 0x7f || url[i] == '\\'
            || (url[i] == ' ' && !decoded))
        {
            return 0;
        }
    }

    return 1;
}


int
aa_return_url_ok(const u_char *url, size_t len)
{
    size_t  n;
    u_char  decoded[AA_RETURN_URL_MAX];

    if (len > AA_RETURN_URL_MAX || !aa_url_shape_ok(url, len, 0)) {
        return 0;
    }

    if (aa_percent_decode(decoded, &n, url, len) != AA_OK) {
        return 0;
    }

    return aa_url_shape_ok(decoded, n, 1);
}
