/*
 * libFuzzer harness: a token from the network.  The input goes through
 * aa_jwt_verify against the fixture JWKS (and a kid-less one), and,
 * since random bytes hardly ever verify, also straight into the ID-token
 * and logout-token claim checks as if it were a verified payload.  A
 * refusal must say why; an acceptance must hand back what was promised.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aa_jwt.h"

#include "../unit/fixtures/oidc/vectors.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_verify(const char *jwks_json, const uint8_t *data,
    size_t size, aa_alloc_t *a);
static void fuzz_claims(const uint8_t *data, size_t size, aa_alloc_t *a);


static const aa_str_t  fuzz_algs[] = {
    aa_string("RS256"), aa_string("ES256"), aa_string("PS256"),
    aa_string("ES512"), aa_string("HS256"), aa_string("none")
};


static void
fuzz_verify(const char *jwks_json, const uint8_t *data, size_t size,
    aa_alloc_t *a)
{
    int         rc;
    char        err[256];
    aa_str_t    payload;
    aa_jwks_t  *jwks;

    jwks = aa_jwks_parse((const u_char *) jwks_json, strlen(jwks_json), err,
                         sizeof(err));
    if (jwks == NULL) {
        abort();
    }

    err[0] = '\0';

    rc = aa_jwt_verify(jwks, data, size, fuzz_algs,
                       sizeof(fuzz_algs) / sizeof(fuzz_algs[0]), a,
                       &payload, err, sizeof(err));

    if (rc == AA_OK) {
        if (payload.data == NULL) {
            abort();
        }

        fuzz_claims(payload.data, payload.len, a);

    } else if (err[0] == '\0' || payload.data != NULL) {
        abort();
    }

    aa_jwks_free(jwks);
}


static void
fuzz_claims(const uint8_t *data, size_t size, aa_alloc_t *a)
{
    int              rc;
    char             err[256];
    aa_jwt_claims_t  out;
    aa_jwt_expect_t  e;

    memset(&e, 0, sizeof(e));
    e.issuer.data = (u_char *) aa_fx_issuer;
    e.issuer.len = sizeof(aa_fx_issuer) - 1;
    e.client_id.data = (u_char *) aa_fx_client_id;
    e.client_id.len = sizeof(aa_fx_client_id) - 1;
    e.nonce.data = (u_char *) aa_fx_nonce;
    e.nonce.len = sizeof(aa_fx_nonce) - 1;
    e.clock_skew = 60;
    e.max_age = (size & 1) ? 3600 : 0;

    err[0] = '\0';
    rc = aa_jwt_claims_check(data, size, &e, AA_FX_NOW, a, &out, err,
                             sizeof(err));

    if (rc == AA_OK ? out.sub.len == 0 || out.payload.len != size
                      || out.exp <= AA_FX_NOW - 60
                    : err[0] == '\0')
    {
        abort();
    }

    e.nonce.len = 0;
    err[0] = '\0';
    rc = aa_jwt_logout_check(data, size, &e, AA_FX_NOW, a, &out, err,
                             sizeof(err));

    if (rc == AA_OK ? out.sub.len == 0 && out.sid.len == 0
                    : err[0] == '\0')
    {
        abort();
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    aa_arena_t  arena;
    aa_alloc_t  a;

    aa_arena_init(&arena, &a);

    fuzz_verify(aa_fx_jwks, data, size, &a);
    fuzz_verify(aa_fx_jwks_two_nokid, data, size, &a);
    fuzz_claims(data, size, &a);

    aa_arena_free(&arena);

    return 0;
}
