/*
 * ID-token and logout-token checks for OIDC sign-in: a JWS is verified with
 * keys from the provider's JWKS only (cjose does the JOSE work), then its
 * claims are checked against what the relying party expects.
 *
 * The signing algorithm is taken from the configured allow-list and must
 * fit the key's type; the token's "alg" only selects among those.  "none"
 * and the HMAC algorithms are refused before any key is touched, which
 * closes the RS256/HS256 key-confusion attack.
 *
 * A token without "kid" is tried against every key whose type fits its
 * algorithm and is accepted only when exactly one of them verifies it: with
 * a single key that is the usual case, with several it refuses ambiguity
 * rather than guessing.
 */

#ifndef AA_JWT_H
#define AA_JWT_H

#include "aa_core.h"


/*
 * aa_jwt_verify(): the token names a kid that no key in the JWKS has.  The
 * caller may refetch the JWKS (at most once per interval) and try again.
 * Outside the range of nginx's NGX_* codes, so it is never mistaken for one.
 */
#define AA_JWT_UNKNOWN_KID    -20

#define AA_JWT_MAX_LEN        65536      /* bytes of compact serialisation */
#define AA_JWKS_MAX_LEN       1048576    /* bytes of JWKS JSON */
#define AA_JWKS_MAX_KEYS      64         /* keys looked at; more are skipped */
#define AA_JWT_RSA_MIN_BITS   2048

#define AA_JWT_LOGOUT_EVENT                                                   \
    "http://schemas.openid.net/event/backchannel-logout"


typedef struct aa_jwks_s  aa_jwks_t;


typedef struct {
    aa_str_t        issuer;
    aa_str_t        client_id;      /* must be in "aud" */
    aa_str_t        nonce;          /* empty: no nonce expected */
    int64_t         clock_skew;     /* seconds, >= 0 */
    int64_t         max_age;        /* seconds; 0: "auth_time" not checked */
} aa_jwt_expect_t;


typedef struct {
    aa_str_t        sub;            /* may be empty in a logout token */
    aa_str_t        sid;            /* empty when absent */
    int64_t         iat;
    int64_t         exp;            /* 0 when absent (logout tokens) */
    int64_t         auth_time;      /* 0 when absent */
    aa_str_t        payload;        /* the claims JSON, for claim extraction */
} aa_jwt_claims_t;


/*
 * Imports every usable signing key: kty RSA (>= 2048 bits) or EC on P-256,
 * P-384 or P-521, "use" absent or "sig", "key_ops" absent or holding
 * "verify".  Other keys, and keys cjose cannot import, are skipped and
 * counted.  NULL with err when nothing usable is left.
 */
aa_jwks_t *aa_jwks_parse(const u_char *json, size_t len, char *err,
    size_t errlen);
void aa_jwks_free(aa_jwks_t *jwks);

/* How many keys were imported, and how many skipped. */
size_t aa_jwks_count(const aa_jwks_t *jwks);
size_t aa_jwks_skipped(const aa_jwks_t *jwks);

/*
 * Verifies a JWS compact token.  AA_OK puts the verified payload (JSON
 * bytes, not yet checked) into payload_json, allocated from a.
 * AA_JWT_UNKNOWN_KID when the kid is not in the JWKS, AA_DECLINED for any
 * other refusal, AA_ERROR when memory runs out; err says why.
 */
int aa_jwt_verify(const aa_jwks_t *jwks, const u_char *token, size_t len,
    const aa_str_t *allowed_algs, size_t nalgs, aa_alloc_t *a,
    aa_str_t *payload_json, char *err, size_t errlen);

/*
 * Checks a verified ID token's claims (OIDC Core 3.1.3.7): iss, aud/azp,
 * sub, iat, exp and nbf with clock_skew, nonce when one is expected, and
 * auth_time when max_age is set.  AA_OK fills out from a.
 */
int aa_jwt_claims_check(const u_char *payload, size_t len,
    const aa_jwt_expect_t *exp, int64_t now, aa_alloc_t *a,
    aa_jwt_claims_t *out, char *err, size_t errlen);

/*
 * Checks a verified logout token's claims (OIDC Back-Channel Logout 1.0,
 * 2.6): iss, aud/azp, iat, the back-channel logout event, no nonce, sid or
 * sub, and exp when present.  exp->nonce and exp->max_age are not used.
 */
int aa_jwt_logout_check(const u_char *payload, size_t len,
    const aa_jwt_expect_t *exp, int64_t now, aa_alloc_t *a,
    aa_jwt_claims_t *out, char *err, size_t errlen);

#endif /* AA_JWT_H */
