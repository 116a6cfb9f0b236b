/*
 * libFuzzer harness: the JSON documents an OP serves before any login, a
 * JWKS and a discovery document.  When the JWKS parses, at least one key
 * was imported and the counts add up to no more than the keys offered;
 * every cjose key must be released by aa_jwks_free (leak detection).  A
 * discovery document that parses names the configured issuer and only
 * URLs that pass aa_oidc_url_ok.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aa_jwt.h"
#include "aa_oidc.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_discovery(const uint8_t *data, size_t size,
    const char *issuer);
static int fuzz_url_ok(const aa_str_t *url, int required);


static int
fuzz_url_ok(const aa_str_t *url, int required)
{
    if (url->len == 0) {
        return !required;
    }

    return aa_oidc_url_ok(url->data, url->len);
}


static void
fuzz_discovery(const uint8_t *data, size_t size, const char *issuer)
{
    int                  rc;
    char                 err[256];
    aa_str_t             iss;
    aa_arena_t           arena;
    aa_alloc_t           a;
    aa_oidc_discovery_t  d;

    iss.data = (u_char *) issuer;
    iss.len = strlen(issuer);
    err[0] = '\0';

    aa_arena_init(&arena, &a);

    rc = aa_oidc_discovery_parse(data, size, &iss, &a, &d, err, sizeof(err));

    if (rc != AA_OK) {
        if (err[0] == '\0' || d.issuer.data != NULL) {
            abort();
        }

    } else if (d.issuer.len != iss.len
               || memcmp(d.issuer.data, iss.data, iss.len) != 0
               || !fuzz_url_ok(&d.authorization_endpoint, 1)
               || !fuzz_url_ok(&d.token_endpoint, 1)
               || !fuzz_url_ok(&d.jwks_uri, 1)
               || !fuzz_url_ok(&d.userinfo_endpoint, 0)
               || !fuzz_url_ok(&d.end_session_endpoint, 0)
               || d.signing_algs.nelts == 0)
    {
        abort();
    }

    aa_arena_free(&arena);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char        err[256];
    aa_jwks_t  *jwks;

    fuzz_discovery(data, size, "https://example.okta.com");
    fuzz_discovery(data, size, "https://example.okta.com/oauth2/default");
    fuzz_discovery(data, size, "http://127.0.0.1:9000");

    err[0] = '\0';

    jwks = aa_jwks_parse(data, size, err, sizeof(err));
    if (jwks == NULL) {
        if (err[0] == '\0') {
            abort();
        }

        return 0;
    }

    if (aa_jwks_count(jwks) == 0 || aa_jwks_count(jwks) > AA_JWKS_MAX_KEYS
        || aa_jwks_count(jwks) + aa_jwks_skipped(jwks) > size)
    {
        abort();
    }

    aa_jwks_free(jwks);

    return 0;
}
