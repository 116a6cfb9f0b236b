/*
 * ID-token and logout-token verification: JWKS import, JWS signature
 * checks through cjose with an algorithm allow-list bound to key types,
 * and the claim rules of OIDC Core 3.1.3.7 and Back-Channel Logout 2.6.
 */

#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <cjose/cjose.h>

#include "aa_codec.h"
#include "aa_jwt.h"


#define AA_JWT_SUB_MAX      255         /* OIDC Core 2: sub length */
#define AA_JWT_HEADER_MAX   8192        /* decoded protected header */
#define AA_JWT_SKEW_MAX     86400


typedef enum {
    AA_JWT_KTY_RSA = 1,
    AA_JWT_KTY_EC
} aa_jwt_kty_e;


typedef enum {
    AA_JWT_CRV_NONE = 0,
    AA_JWT_CRV_P256,
    AA_JWT_CRV_P384,
    AA_JWT_CRV_P521
} aa_jwt_crv_e;


typedef struct {
    const char     *name;
    aa_jwt_kty_e    kty;
    aa_jwt_crv_e    crv;
} aa_jwt_alg_t;


typedef struct {
    cjose_jwk_t    *jwk;
    char           *kid;            /* NULL when the key has none */
    size_t          kid_len;
    char           *alg;            /* the key's own "alg", or NULL */
    aa_jwt_kty_e    kty;
    aa_jwt_crv_e    crv;
} aa_jwk_t;


struct aa_jwks_s {
    aa_jwk_t       *keys;
    size_t          nkeys;
    size_t          skipped;
};


/* The asymmetric JWS algorithms and the only key type each may use. */
static const aa_jwt_alg_t  aa_jwt_algs[] = {
    { "RS256", AA_JWT_KTY_RSA, AA_JWT_CRV_NONE },
    { "RS384", AA_JWT_KTY_RSA, AA_JWT_CRV_NONE },
    { "RS512", AA_JWT_KTY_RSA, AA_JWT_CRV_NONE },
    { "PS256", AA_JWT_KTY_RSA, AA_JWT_CRV_NONE },
    { "PS384", AA_JWT_KTY_RSA, AA_JWT_CRV_NONE },
    { "PS512", AA_JWT_KTY_RSA, AA_JWT_CRV_NONE },
    { "ES256", AA_JWT_KTY_EC, AA_JWT_CRV_P256 },
    { "ES384", AA_JWT_KTY_EC, AA_JWT_CRV_P384 },
    { "ES512", AA_JWT_KTY_EC, AA_JWT_CRV_P521 },
};


static int aa_jwks_import(json_t *key, aa_jwk_t *k);
static void aa_jwk_clear(aa_jwk_t *k);
static int aa_jwt_key_ops_verify(json_t *ops);
static int aa_jwk_members_b64(json_t *key);
static json_t *aa_jwt_header(const u_char *token, size_t len, char *err,
    size_t errlen);
static const aa_jwt_alg_t *aa_jwt_pick_alg(json_t *hdr,
    const aa_str_t *allowed, size_t nalgs, char *err, size_t errlen);
static int aa_jwt_key_fits(const aa_jwk_t *k, const aa_jwt_alg_t *alg);
static int aa_jwt_try_key(const u_char *token, size_t len,
    const aa_jwk_t *k, const aa_jwt_alg_t *alg, cjose_jws_t **good);
static int aa_jwt_get_str(json_t *root, const char *name, const char **s,
    size_t *slen);
static int aa_jwt_get_int(json_t *root, const char *name, int64_t *v);
static json_t *aa_jwt_load(const u_char *payload, size_t len, char *err,
    size_t errlen);
static int aa_jwt_check_common(json_t *root, const aa_jwt_expect_t *exp,
    int64_t now, int exp_required, aa_jwt_claims_t *out, char *err,
    size_t errlen);
static int aa_jwt_check_aud(json_t *root, const aa_str_t *client_id,
    char *err, size_t errlen);
static int aa_jwt_str_eq(const char *s, size_t slen, const aa_str_t *want);
static int aa_jwt_copy_out(json_t *root, const u_char *payload, size_t len,
    aa_alloc_t *a, aa_jwt_claims_t *out, char *err, size_t errlen);


aa_jwks_t *
aa_jwks_parse(const u_char *json, size_t len, char *err, size_t errlen)
{
    size_t         i, n;
    json_t        *root, *keys;
    aa_jwks_t     *jwks;
    json_error_t   jerr;

    if (len > AA_JWKS_MAX_LEN) {
        aa_set_err(err, errlen, "JWKS larger than %d bytes", AA_JWKS_MAX_LEN);
        return NULL;
    }

    root = json_loadb((const char *) json, len,
                      JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (root == NULL) {
        aa_set_err(err, errlen, "JWKS is not JSON: line %d: %s", jerr.line,
                   jerr.text);
        return NULL;
    }

    jwks = NULL;

    keys = json_is_object(root) ? json_object_get(root, "keys") : NULL;
    if (!json_is_array(keys)) {
        aa_set_err(err, errlen, "JWKS has no \"keys\" array");
        goto failed;
    }

    n = json_array_size(keys);
    if (n == 0) {
        aa_set_err(err, errlen, "JWKS \"keys\" is empty");
        goto failed;
    }

    jwks = calloc(1, sizeof(aa_jwks_t));
    if (jwks == NULL) {
        aa_set_err(err, errlen, "out of memory");
        goto failed;
    }

    jwks->keys = calloc(n < AA_JWKS_MAX_KEYS ? n : AA_JWKS_MAX_KEYS,
                        sizeof(aa_jwk_t));
    if (jwks->keys == NULL) {
        aa_set_err(err, errlen, "out of memory");
        goto failed;
    }

    for (i = 0; i < n; i++) {
        if (i >= AA_JWKS_MAX_KEYS) {
            jwks->skipped++;
            continue;
        }

        switch (aa_jwks_import(json_array_get(keys, i),
                               &jwks->keys[jwks->nkeys]))
        {
        case AA_OK:
            jwks->nkeys++;
            break;

        case AA_DECLINED:
            jwks->skipped++;
            break;

        default:
            aa_set_err(err, errlen, "out of memory");
            goto failed;
        }
    }

    if (jwks->nkeys == 0) {
        aa_set_err(err, errlen, "JWKS has no usable signing key "
                   "(%zu skipped)", jwks->skipped);
        goto failed;
    }

    json_decref(root);

    return jwks;

failed:

    aa_jwks_free(jwks);
    json_decref(root);

    return NULL;
}


void
aa_jwks_free(aa_jwks_t *jwks)
{
    size_t  i;

    if (jwks == NULL) {
        return;
    }

    for (i = 0; i < jwks->nkeys; i++) {
        aa_jwk_clear(&jwks->keys[i]);
    }

    free(jwks->keys);
    free(jwks);
}


size_t
aa_jwks_count(const aa_jwks_t *jwks)
{
    return jwks->nkeys;
}


size_t
aa_jwks_skipped(const aa_jwks_t *jwks)
{
    return jwks->skipped;
}


/* AA_OK, AA_DECLINED for a key to skip, AA_ERROR when memory runs out. */
static int
aa_jwks_import(json_t *key, aa_jwk_t *k)
{
    size_t            kid_len;
    json_t           *v;
    cjose_err         cerr;
    const char       *kty, *crv, *use, *kid, *alg;
    cjose_jwk_kty_t   ckty;

    memset(k, 0, sizeof(aa_jwk_t));

    if (!json_is_object(key)) {
        return AA_DECLINED;
    }

    kty = json_string_value(json_object_get(key, "kty"));
    if (kty == NULL) {
        return AA_DECLINED;
    }

    if (strcmp(kty, "RSA") == 0) {
        k->kty = AA_JWT_KTY_RSA;
        k->crv = AA_JWT_CRV_NONE;

    } else if (strcmp(kty, "EC") == 0) {
        k->kty = AA_JWT_KTY_EC;

        crv = json_string_value(json_object_get(key, "crv"));
        if (crv == NULL) {
            return AA_DECLINED;
        }

        if (strcmp(crv, "P-256") == 0) {
            k->crv = AA_JWT_CRV_P256;

        } else if (strcmp(crv, "P-384") == 0) {
            k->crv = AA_JWT_CRV_P384;

        } else if (strcmp(crv, "P-521") == 0) {
            k->crv = AA_JWT_CRV_P521;

        } else {
            return AA_DECLINED;
        }

    } else {
        /* "oct" above all: a shared secret is never a verification key */
        return AA_DECLINED;
    }

    v = json_object_get(key, "use");
    if (v != NULL) {
        use = json_string_value(v);
        if (use == NULL || strcmp(use, "sig") != 0) {
            return AA_DECLINED;
        }
    }

    v = json_object_get(key, "key_ops");
    if (v != NULL && !aa_jwt_key_ops_verify(v)) {
        return AA_DECLINED;
    }

    kid = NULL;
    kid_len = 0;

    v = json_object_get(key, "kid");
    if (v != NULL) {
        if (!json_is_string(v)) {
            return AA_DECLINED;
        }

        kid = json_string_value(v);
        kid_len = json_string_length(v);
    }

    alg = NULL;

    v = json_object_get(key, "alg");
    if (v != NULL) {
        alg = json_string_value(v);
        if (alg == NULL) {
            return AA_DECLINED;
        }
    }

    if (!aa_jwk_members_b64(key)) {
        return AA_DECLINED;
    }

    memset(&cerr, 0, sizeof(cjose_err));

    /*
     * cjose reports some malformed keys as CJOSE_ERR_NO_MEMORY, so any
     * failed import is a key to skip.
     */
    k->jwk = cjose_jwk_import_json((cjose_header_t *) key, &cerr);
    if (k->jwk == NULL) {
        return AA_DECLINED;
    }

    ckty = cjose_jwk_get_kty(k->jwk, &cerr);

    if ((k->kty == AA_JWT_KTY_RSA && ckty != CJOSE_JWK_KTY_RSA)
        || (k->kty == AA_JWT_KTY_EC && ckty != CJOSE_JWK_KTY_EC))
    {
        goto skip;
    }

    if (k->kty == AA_JWT_KTY_RSA
        && cjose_jwk_get_keysize(k->jwk, &cerr) < AA_JWT_RSA_MIN_BITS)
    {
        goto skip;
    }

    if (kid != NULL) {
        k->kid = malloc(kid_len + 1);
        if (k->kid == NULL) {
            goto nomem;
        }

        memcpy(k->kid, kid, kid_len + 1);
        k->kid_len = kid_len;
    }

    if (alg != NULL) {
        k->alg = strdup(alg);
        if (k->alg == NULL) {
            goto nomem;
        }
    }

    return AA_OK;

skip:

    aa_jwk_clear(k);
    return AA_DECLINED;

nomem:

    aa_jwk_clear(k);
    return AA_ERROR;
}


static void
aa_jwk_clear(aa_jwk_t *k)
{
    if (k->jwk != NULL) {
        cjose_jwk_release(k->jwk);
    }

    free(k->kid);
    free(k->alg);

    memset(k, 0, sizeof(aa_jwk_t));
}


/*
 * The members cjose base64url-decodes must be strict unpadded base64url:
 * cjose 0.6 aborts on an assertion for a '=' after 4n+1 characters, and a
 * JWKS comes from the network.
 */
static int
aa_jwk_members_b64(json_t *key)
{
    size_t              i, j, len;
    json_t             *v;
    const char         *s;
    static const char  *members[] = {
        "n", "e", "d", "p", "q", "dp", "dq", "qi", "x", "y", "k"
    };

    for (i = 0; i < sizeof(members) / sizeof(members[0]); i++) {
        v = json_object_get(key, members[i]);
        if (v == NULL) {
            continue;
        }

        if (!json_is_string(v)) {
            return 0;
        }

        s = json_string_value(v);
        len = json_string_length(v);

        for (j = 0; j < len; j++) {
            if (!((s[j] >= 'A' && s[j] <= 'Z') || (s[j] >= 'a' && s[j] <= 'z')
                  || (s[j] >= '0' && s[j] <= '9') || s[j] == '-'
                  || s[j] == '_'))
            {
                return 0;
            }
        }
    }

    return 1;
}


static int
aa_jwt_key_ops_verify(json_t *ops)
{
    size_t       i;
    const char  *op;

    if (!json_is_array(ops)) {
        return 0;
    }

    for (i = 0; i < json_array_size(ops); i++) {
        op = json_string_value(json_array_get(ops, i));
        if (op != NULL && strcmp(op, "verify") == 0) {
            return 1;
        }
    }

    return 0;
}


int
aa_jwt_verify(const aa_jwks_t *jwks, const u_char *token, size_t len,
    const aa_str_t *allowed_algs, size_t nalgs, aa_alloc_t *a,
    aa_str_t *payload_json, char *err, size_t errlen)
{
    int                  rc, r;
    size_t               i, kid_len, named, fitting, verified;
    json_t              *hdr, *v;
    uint8_t             *pt;
    size_t               pt_len;
    cjose_err            cerr;
    const char          *kid;
    cjose_jws_t         *good;
    const aa_jwk_t      *k;
    const aa_jwt_alg_t  *alg;

    payload_json->len = 0;
    payload_json->data = NULL;

    if (jwks == NULL) {
        aa_set_err(err, errlen, "no JWKS to verify the token with");
        return AA_DECLINED;
    }

    if (len == 0) {
        aa_set_err(err, errlen, "empty token");
        return AA_DECLINED;
    }

    if (len > AA_JWT_MAX_LEN) {
        aa_set_err(err, errlen, "token longer than %d bytes", AA_JWT_MAX_LEN);
        return AA_DECLINED;
    }

    hdr = aa_jwt_header(token, len, err, errlen);
    if (hdr == NULL) {
        return AA_DECLINED;
    }

    good = NULL;
    rc = AA_DECLINED;

    alg = aa_jwt_pick_alg(hdr, allowed_algs, nalgs, err, errlen);
    if (alg == NULL) {
        goto done;
    }

    kid = NULL;
    kid_len = 0;

    v = json_object_get(hdr, "kid");
    if (v != NULL) {
        if (!json_is_string(v)) {
            aa_set_err(err, errlen, "token header \"kid\" is not a string");
            goto done;
        }

        kid = json_string_value(v);
        kid_len = json_string_length(v);
    }

    named = 0;
    fitting = 0;
    verified = 0;

    for (i = 0; i < jwks->nkeys; i++) {
        k = &jwks->keys[i];

        if (kid != NULL) {
            if (k->kid == NULL || k->kid_len != kid_len
                || memcmp(k->kid, kid, kid_len) != 0)
            {
                continue;
            }

            named++;
        }

        if (!aa_jwt_key_fits(k, alg)) {
            continue;
        }

        fitting++;

        r = aa_jwt_try_key(token, len, k, alg, verified ? NULL : &good);
        if (r == AA_ERROR) {
            aa_set_err(err, errlen, "out of memory verifying the token");
            rc = AA_ERROR;
            goto done;
        }

        if (r == AA_OK) {
            verified++;
        }
    }

    if (kid != NULL && named == 0) {
        aa_set_err(err, errlen, "token \"kid\" is not in the JWKS");
        rc = AA_JWT_UNKNOWN_KID;
        goto done;
    }

    if (fitting == 0) {
        aa_set_err(err, errlen, "no %s key in the JWKS for a %s token",
                   alg->kty == AA_JWT_KTY_RSA ? "RSA" : "EC", alg->name);
        goto done;
    }

    if (verified == 0) {
        aa_set_err(err, errlen, "bad %s signature (%zu key%s tried)",
                   alg->name, fitting, fitting == 1 ? "" : "s");
        goto done;
    }

    if (verified > 1) {
        aa_set_err(err, errlen, "%zu keys verify a token without a "
                   "distinguishing \"kid\"; refused as ambiguous", verified);
        goto done;
    }

    memset(&cerr, 0, sizeof(cjose_err));

    if (!cjose_jws_get_plaintext(good, &pt, &pt_len, &cerr)) {
        aa_set_err(err, errlen, "no payload in the verified token");
        goto done;
    }

    payload_json->data = aa_strdup(a, pt, pt_len);
    if (payload_json->data == NULL) {
        aa_set_err(err, errlen, "out of memory");
        rc = AA_ERROR;
        goto done;
    }

    payload_json->len = pt_len;
    rc = AA_OK;

done:

    if (good != NULL) {
        cjose_jws_release(good);
    }

    json_decref(hdr);

    return rc;
}


/*
 * The protected header of a JWS compact token, decoded by us rather than
 * trusted from cjose, so that "none", JWE, "crit" and duplicate members are
 * refused before any key is used.
 */
static json_t *
aa_jwt_header(const u_char *token, size_t len, char *err, size_t errlen)
{
    u_char        *raw;
    size_t         i, dots, hlen, raw_len, first_dot, last_dot;
    json_t        *hdr;
    json_error_t   jerr;

    dots = 0;
    first_dot = 0;
    last_dot = 0;

    for (i = 0; i < len; i++) {
        if (token[i] == '.') {
            if (dots++ == 0) {
                first_dot = i;
            }

            last_dot = i;
            continue;
        }

        if (!((token[i] >= 'A' && token[i] <= 'Z')
              || (token[i] >= 'a' && token[i] <= 'z')
              || (token[i] >= '0' && token[i] <= '9')
              || token[i] == '-' || token[i] == '_'))
        {
            aa_set_err(err, errlen, "token is not base64url JWS compact");
            return NULL;
        }
    }

    if (dots == 4) {
        aa_set_err(err, errlen, "token is a JWE; only signed tokens are "
                   "accepted");
        return NULL;
    }

    if (dots != 2) {
        aa_set_err(err, errlen, "token has %zu parts, a JWS has 3", dots + 1);
        return NULL;
    }

    hlen = first_dot;

    if (hlen == 0 || first_dot + 1 == last_dot) {
        aa_set_err(err, errlen, "token has an empty header or payload");
        return NULL;
    }

    if (last_dot + 1 == len) {
        aa_set_err(err, errlen, "token is unsigned (empty signature)");
        return NULL;
    }

    if (hlen > aa_base64url_len(AA_JWT_HEADER_MAX)) {
        aa_set_err(err, errlen, "token header larger than %d bytes",
                   AA_JWT_HEADER_MAX);
        return NULL;
    }

    raw = malloc(hlen * 3 / 4 + 3);
    if (raw == NULL) {
        aa_set_err(err, errlen, "out of memory");
        return NULL;
    }

    if (aa_base64_decode(raw, &raw_len, token, hlen) != AA_OK) {
        free(raw);
        aa_set_err(err, errlen, "token header is not base64url");
        return NULL;
    }

    hdr = json_loadb((const char *) raw, raw_len,
                     JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    free(raw);

    if (hdr == NULL) {
        aa_set_err(err, errlen, "token header is not JSON");
        return NULL;
    }

    if (!json_is_object(hdr)) {
        json_decref(hdr);
        aa_set_err(err, errlen, "token header is not a JSON object");
        return NULL;
    }

    if (json_object_get(hdr, "enc") != NULL) {
        json_decref(hdr);
        aa_set_err(err, errlen, "token header has \"enc\" (JWE)");
        return NULL;
    }

    /* we implement no JWS extension, so any critical one is unknown */
    if (json_object_get(hdr, "crit") != NULL) {
        json_decref(hdr);
        aa_set_err(err, errlen, "token header has \"crit\" extensions this "
                   "verifier does not understand");
        return NULL;
    }

    return hdr;
}


static const aa_jwt_alg_t *
aa_jwt_pick_alg(json_t *hdr, const aa_str_t *allowed, size_t nalgs,
    char *err, size_t errlen)
{
    size_t       i, j, name_len;
    json_t      *v;
    const char  *name;

    v = json_object_get(hdr, "alg");
    if (!json_is_string(v)) {
        aa_set_err(err, errlen, "token header has no \"alg\" string");
        return NULL;
    }

    name = json_string_value(v);
    name_len = json_string_length(v);

    if (name_len != strlen(name) || name_len > 16) {
        aa_set_err(err, errlen, "token \"alg\" is not an algorithm name");
        return NULL;
    }

    if (strcmp(name, "none") == 0) {
        aa_set_err(err, errlen, "token \"alg\" is none: unsigned tokens are "
                   "refused");
        return NULL;
    }

    if (name[0] == 'H' && name[1] == 'S') {
        aa_set_err(err, errlen, "token \"alg\" %s is symmetric: refused, "
                   "keys come from the JWKS only", name);
        return NULL;
    }

    for (i = 0; i < nalgs; i++) {
        if (allowed[i].len == name_len
            && memcmp(allowed[i].data, name, name_len) == 0)
        {
            break;
        }
    }

    if (i == nalgs) {
        aa_set_err(err, errlen, "token \"alg\" %s is not in signing_algs",
                   name);
        return NULL;
    }

    for (j = 0; j < sizeof(aa_jwt_algs) / sizeof(aa_jwt_algs[0]); j++) {
        if (strcmp(aa_jwt_algs[j].name, name) == 0) {
            return &aa_jwt_algs[j];
        }
    }

    aa_set_err(err, errlen, "token \"alg\" %s is not supported", name);

    return NULL;
}


static int
aa_jwt_key_fits(const aa_jwk_t *k, const aa_jwt_alg_t *alg)
{
    if (k->kty != alg->kty || k->crv != alg->crv) {
        return 0;
    }

    /* a key that names its algorithm is used for that one only */
    if (k->alg != NULL && strcmp(k->alg, alg->name) != 0) {
        return 0;
    }

    return 1;
}


/*
 * AA_OK when k verifies the token, AA_DECLINED when it does not, AA_ERROR
 * when memory runs out.  A fresh cjose JWS per key, so that no state of an
 * earlier attempt carries over; the one that verified is handed back in
 * *good when good is not NULL.
 */
static int
aa_jwt_try_key(const u_char *token, size_t len, const aa_jwk_t *k,
    const aa_jwt_alg_t *alg, cjose_jws_t **good)
{
    int              rc;
    cjose_err        cerr;
    const char      *halg;
    cjose_jws_t     *jws;
    cjose_header_t  *hdr;

    memset(&cerr, 0, sizeof(cjose_err));

    jws = cjose_jws_import((const char *) token, len, &cerr);
    if (jws == NULL) {
        return cerr.code == CJOSE_ERR_NO_MEMORY ? AA_ERROR : AA_DECLINED;
    }

    rc = AA_DECLINED;

    /* cjose verifies with the header's alg: it must be the one we chose */
    hdr = cjose_jws_get_protected(jws);
    halg = hdr ? cjose_header_get(hdr, CJOSE_HDR_ALG, &cerr) : NULL;

    if (halg != NULL && strcmp(halg, alg->name) == 0
        && cjose_jws_verify(jws, k->jwk, &cerr))
    {
        rc = AA_OK;

    } else if (cerr.code == CJOSE_ERR_NO_MEMORY) {
        rc = AA_ERROR;
    }

    if (rc == AA_OK && good != NULL) {
        *good = jws;
        return rc;
    }

    cjose_jws_release(jws);

    return rc;
}


int
aa_jwt_claims_check(const u_char *payload, size_t len,
    const aa_jwt_expect_t *exp, int64_t now, aa_alloc_t *a,
    aa_jwt_claims_t *out, char *err, size_t errlen)
{
    int          rc, r;
    size_t       nonce_len;
    json_t      *root;
    const char  *nonce;

    root = aa_jwt_load(payload, len, err, errlen);
    if (root == NULL) {
        return AA_DECLINED;
    }

    rc = AA_DECLINED;

    if (aa_jwt_check_common(root, exp, now, 1, out, err, errlen) != AA_OK) {
        goto done;
    }

    if (out->sub.len == 0) {
        aa_set_err(err, errlen, "claim \"sub\" missing");
        goto done;
    }

    if (exp->nonce.len) {
        r = aa_jwt_get_str(root, "nonce", &nonce, &nonce_len);
        if (r == 0) {
            aa_set_err(err, errlen, "claim \"nonce\" missing");
            goto done;
        }

        if (r < 0 || nonce_len != exp->nonce.len
            || aa_memeq_ct((const u_char *) nonce, exp->nonce.data,
                           nonce_len) != 0)
        {
            aa_set_err(err, errlen, "claim \"nonce\" does not match the "
                       "login's nonce");
            goto done;
        }
    }

    if (exp->max_age > 0) {
        if (out->auth_time == 0) {
            aa_set_err(err, errlen, "claim \"auth_time\" missing while "
                       "max_age is set");
            goto done;
        }

        if (out->auth_time < now - exp->max_age
                             - (exp->clock_skew < 0 ? 0 : exp->clock_skew))
        {
            aa_set_err(err, errlen, "claim \"auth_time\" is older than "
                       "max_age");
            goto done;
        }
    }

    rc = aa_jwt_copy_out(root, payload, len, a, out, err, errlen);

done:

    if (rc != AA_OK) {
        memset(out, 0, sizeof(aa_jwt_claims_t));
    }

    json_decref(root);

    return rc;
}


int
aa_jwt_logout_check(const u_char *payload, size_t len,
    const aa_jwt_expect_t *exp, int64_t now, aa_alloc_t *a,
    aa_jwt_claims_t *out, char *err, size_t errlen)
{
    int      rc;
    json_t  *root, *events, *ev;

    root = aa_jwt_load(payload, len, err, errlen);
    if (root == NULL) {
        return AA_DECLINED;
    }

    rc = AA_DECLINED;

    if (aa_jwt_check_common(root, exp, now, 0, out, err, errlen) != AA_OK) {
        goto done;
    }

    events = json_object_get(root, "events");
    if (events == NULL) {
        aa_set_err(err, errlen, "logout token claim \"events\" missing");
        goto done;
    }

    ev = json_is_object(events)
         ? json_object_get(events, AA_JWT_LOGOUT_EVENT) : NULL;

    if (!json_is_object(ev)) {
        aa_set_err(err, errlen, "logout token \"events\" has no "
                   "back-channel logout event object");
        goto done;
    }

    /* a nonce would let an ID token pass as a logout token (spec 2.6) */
    if (json_object_get(root, "nonce") != NULL) {
        aa_set_err(err, errlen, "logout token has a \"nonce\" claim");
        goto done;
    }

    if (out->sub.len == 0 && out->sid.len == 0) {
        aa_set_err(err, errlen, "logout token has neither \"sid\" nor "
                   "\"sub\"");
        goto done;
    }

    rc = aa_jwt_copy_out(root, payload, len, a, out, err, errlen);

done:

    if (rc != AA_OK) {
        memset(out, 0, sizeof(aa_jwt_claims_t));
    }

    json_decref(root);

    return rc;
}


static json_t *
aa_jwt_load(const u_char *payload, size_t len, char *err, size_t errlen)
{
    json_t        *root;
    json_error_t   jerr;

    root = json_loadb((const char *) payload, len,
                      JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (root == NULL) {
        aa_set_err(err, errlen, "token payload is not JSON (or has duplicate "
                   "claims)");
        return NULL;
    }

    if (!json_is_object(root)) {
        json_decref(root);
        aa_set_err(err, errlen, "token payload is not a JSON object");
        return NULL;
    }

    return root;
}


/*
 * What ID and logout tokens share: iss, aud/azp, iat, exp, nbf, and sub
 * and sid when they are well-formed.  out's strings still point into root.
 */
static int
aa_jwt_check_common(json_t *root, const aa_jwt_expect_t *exp, int64_t now,
    int exp_required, aa_jwt_claims_t *out, char *err, size_t errlen)
{
    int          r;
    size_t       slen;
    int64_t      skew, nbf;
    const char  *s;

    memset(out, 0, sizeof(aa_jwt_claims_t));

    skew = exp->clock_skew;
    if (skew < 0) {
        skew = 0;

    } else if (skew > AA_JWT_SKEW_MAX) {
        skew = AA_JWT_SKEW_MAX;
    }

    r = aa_jwt_get_str(root, "iss", &s, &slen);
    if (r <= 0) {
        aa_set_err(err, errlen, "claim \"iss\" missing or not a string");
        return AA_DECLINED;
    }

    if (!aa_jwt_str_eq(s, slen, &exp->issuer)) {
        aa_set_err(err, errlen, "claim \"iss\" differs from the issuer");
        return AA_DECLINED;
    }

    if (aa_jwt_check_aud(root, &exp->client_id, err, errlen) != AA_OK) {
        return AA_DECLINED;
    }

    r = aa_jwt_get_str(root, "sub", &s, &slen);
    if (r < 0 || slen > AA_JWT_SUB_MAX) {
        aa_set_err(err, errlen, "claim \"sub\" is not a string of at most "
                   "%d bytes", AA_JWT_SUB_MAX);
        return AA_DECLINED;
    }

    if (r > 0) {
        out->sub.data = (u_char *) s;
        out->sub.len = slen;
    }

    r = aa_jwt_get_str(root, "sid", &s, &slen);
    if (r < 0 || slen > AA_JWT_SUB_MAX) {
        aa_set_err(err, errlen, "claim \"sid\" is not a string of at most "
                   "%d bytes", AA_JWT_SUB_MAX);
        return AA_DECLINED;
    }

    if (r > 0) {
        out->sid.data = (u_char *) s;
        out->sid.len = slen;
    }

    r = aa_jwt_get_int(root, "iat", &out->iat);
    if (r == 0) {
        aa_set_err(err, errlen, "claim \"iat\" missing");
        return AA_DECLINED;
    }

    if (r < 0) {
        aa_set_err(err, errlen, "claim \"iat\" is not an integer");
        return AA_DECLINED;
    }

    if (out->iat > now + skew) {
        aa_set_err(err, errlen, "claim \"iat\" is in the future");
        return AA_DECLINED;
    }

    r = aa_jwt_get_int(root, "exp", &out->exp);
    if (r < 0) {
        aa_set_err(err, errlen, "claim \"exp\" is not an integer");
        return AA_DECLINED;
    }

    if (r == 0 && exp_required) {
        aa_set_err(err, errlen, "claim \"exp\" missing");
        return AA_DECLINED;
    }

    if (r > 0 && out->exp <= now - skew) {
        aa_set_err(err, errlen, "token expired (\"exp\" is %lld s ago, "
                   "clock_skew %lld s)", (long long) (now - out->exp),
                   (long long) skew);
        return AA_DECLINED;
    }

    r = aa_jwt_get_int(root, "nbf", &nbf);
    if (r < 0) {
        aa_set_err(err, errlen, "claim \"nbf\" is not an integer");
        return AA_DECLINED;
    }

    if (r > 0 && nbf > now + skew) {
        aa_set_err(err, errlen, "token not valid yet (\"nbf\" is in the "
                   "future)");
        return AA_DECLINED;
    }

    r = aa_jwt_get_int(root, "auth_time", &out->auth_time);
    if (r < 0) {
        aa_set_err(err, errlen, "claim \"auth_time\" is not an integer");
        return AA_DECLINED;
    }

    return AA_OK;
}


static int
aa_jwt_check_aud(json_t *root, const aa_str_t *client_id, char *err,
    size_t errlen)
{
    int          r, found;
    size_t       i, n, slen;
    json_t      *aud, *v;
    const char  *s;

    aud = json_object_get(root, "aud");
    if (aud == NULL) {
        aa_set_err(err, errlen, "claim \"aud\" missing");
        return AA_DECLINED;
    }

    found = 0;
    n = 1;

    if (json_is_string(aud)) {
        found = aa_jwt_str_eq(json_string_value(aud), json_string_length(aud),
                              client_id);

    } else if (json_is_array(aud)) {
        n = json_array_size(aud);

        for (i = 0; i < n; i++) {
            v = json_array_get(aud, i);
            if (!json_is_string(v)) {
                aa_set_err(err, errlen, "claim \"aud\" has a non-string "
                           "member");
                return AA_DECLINED;
            }

            if (aa_jwt_str_eq(json_string_value(v), json_string_length(v),
                              client_id))
            {
                found = 1;
            }
        }

    } else {
        aa_set_err(err, errlen, "claim \"aud\" is neither a string nor an "
                   "array");
        return AA_DECLINED;
    }

    if (!found) {
        aa_set_err(err, errlen, "claim \"aud\" does not contain client_id");
        return AA_DECLINED;
    }

    r = aa_jwt_get_str(root, "azp", &s, &slen);
    if (r < 0) {
        aa_set_err(err, errlen, "claim \"azp\" is not a string");
        return AA_DECLINED;
    }

    if (r == 0 && n > 1) {
        aa_set_err(err, errlen, "claim \"azp\" missing with several "
                   "audiences");
        return AA_DECLINED;
    }

    if (r > 0 && !aa_jwt_str_eq(s, slen, client_id)) {
        aa_set_err(err, errlen, "claim \"azp\" differs from client_id");
        return AA_DECLINED;
    }

    return AA_OK;
}


/* 1 string, 0 absent or null, -1 another type. */
static int
aa_jwt_get_str(json_t *root, const char *name, const char **s, size_t *slen)
{
    json_t  *v;

    *s = NULL;
    *slen = 0;

    v = json_object_get(root, name);
    if (v == NULL || json_is_null(v)) {
        return 0;
    }

    if (!json_is_string(v)) {
        return -1;
    }

    *s = json_string_value(v);
    *slen = json_string_length(v);

    return 1;
}


/* 1 integer, 0 absent or null, -1 another type or not a NumericDate. */
static int
aa_jwt_get_int(json_t *root, const char *name, int64_t *v)
{
    json_t  *j;

    *v = 0;

    j = json_object_get(root, name);
    if (j == NULL || json_is_null(j)) {
        return 0;
    }

    /* 0 and negative times are no dates; the bound keeps sums exact */
    if (!json_is_integer(j) || json_integer_value(j) <= 0
        || json_integer_value(j) > ((json_int_t) 1 << 40))
    {
        return -1;
    }

    *v = (int64_t) json_integer_value(j);

    return 1;
}


static int
aa_jwt_str_eq(const char *s, size_t slen, const aa_str_t *want)
{
    return want->len > 0 && slen == want->len
           && memcmp(s, want->data, slen) == 0;
}


static int
aa_jwt_copy_out(json_t *root, const u_char *payload, size_t len,
    aa_alloc_t *a, aa_jwt_claims_t *out, char *err, size_t errlen)
{
    u_char  *p;

    if (out->sub.len) {
        p = aa_strdup(a, out->sub.data, out->sub.len);
        if (p == NULL) {
            goto nomem;
        }

        out->sub.data = p;
    }

    if (out->sid.len) {
        p = aa_strdup(a, out->sid.data, out->sid.len);
        if (p == NULL) {
            goto nomem;
        }

        out->sid.data = p;
    }

    out->payload.data = aa_strdup(a, payload, len);
    if (out->payload.data == NULL) {
        goto nomem;
    }

    out->payload.len = len;

    return AA_OK;

nomem:

    memset(out, 0, sizeof(aa_jwt_claims_t));
    aa_set_err(err, errlen, "out of memory");

    return AA_ERROR;
}
