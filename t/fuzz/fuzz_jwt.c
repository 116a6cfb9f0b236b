/*
 * libFuzzer harness: a token from the network.  The input goes through
 * aa_jwt_verify against the fixture JWKS (and a kid-less one), and,
 * since random bytes hardly ever verify, also straight into the ID-token
 * and logout-token claim checks as if it were a verified payload, and
 * through what reads claims and token replies after that (aa_oidc).  A
 * refusal must say why; an acceptance must hand back what was promised.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aa_jwt.h"
#include "aa_oidc.h"

#include "../unit/fixtures/oidc/vectors.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_verify(const char *jwks_json, const uint8_t *data,
    size_t size, aa_alloc_t *a);
static void fuzz_claims(const uint8_t *data, size_t size, aa_alloc_t *a);
static void fuzz_identity(const uint8_t *data, size_t size, aa_alloc_t *a);


static const aa_str_t  fuzz_algs[] = {
    aa_string("RS256"), aa_string("ES256"), aa_string("PS256"),
    aa_string("ES512"), aa_string("HS256"), aa_string("none")
};


/* all claim names at their defaults */
static const aa_oidc_claim_names_t  fuzz_names;


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


static void
fuzz_identity(const uint8_t *data, size_t size, aa_alloc_t *a)
{
    int                  rc;
    char                 err[256];
    size_t               i;
    aa_str_t             sub = aa_string("00u1a2b3c4D5e6F7g8h9");
    aa_oidc_tokens_t     t;
    aa_oidc_identity_t   id;

    err[0] = '\0';
    rc = aa_oidc_token_response_parse(data, size, a, &t, err, sizeof(err));

    if (rc == AA_OK ? t.id_token.len == 0 : err[0] == '\0') {
        abort();
    }

    err[0] = '\0';
    rc = aa_oidc_claims_extract(data, size, &fuzz_names, a, &id, err,
                                sizeof(err));
    if (rc != AA_OK) {
        if (err[0] == '\0' || id.groups_found) {
            abort();
        }

        memset(&id, 0, sizeof(id));
    }

    err[0] = '\0';
    rc = aa_oidc_userinfo_merge(data, size, &sub, &fuzz_names, a, &id, err,
                                sizeof(err));
    if (rc != AA_OK && err[0] == '\0') {
        abort();
    }

    if (id.groups.nelts > AA_OIDC_GROUPS_MAX
        || id.username.len > AA_OIDC_CLAIM_MAX)
    {
        abort();
    }

    for (i = 0; i < id.groups.nelts; i++) {
        if (id.groups.elts[i].len == 0
            || id.groups.elts[i].len > AA_OIDC_GROUP_LEN_MAX)
        {
            abort();
        }
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
    fuzz_identity(data, size, &a);

    aa_arena_free(&arena);

    return 0;
}
