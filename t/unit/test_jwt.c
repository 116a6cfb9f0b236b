/*
 * ID-token and logout-token verification: the OIDC rows of SECURITY.md that
 * a JWS verifier and a claims check decide, against keys and tokens made
 * once by fixtures/oidc/make_fixtures.py.
 */

#include "aa_test.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "aa_codec.h"
#include "aa_jwt.h"

#include "fixtures/oidc/vectors.h"


#define ERRLEN  256


typedef struct {
    aa_jwks_t      *jwks;
    aa_str_t        payload;
    char            err[ERRLEN];
    int             rc;
} verified_t;


static const aa_str_t  default_algs[] = {
    aa_string("RS256"), aa_string("ES256"), aa_string("PS256")
};


static aa_jwks_t *
jwks_of(const char *json)
{
    char        err[ERRLEN];
    aa_jwks_t  *jwks;

    err[0] = '\0';
    jwks = aa_jwks_parse((const u_char *) json, strlen(json), err,
                         sizeof(err));
    if (jwks == NULL) {
        fail_msg("JWKS refused: %s", err);
    }

    return jwks;
}


/* Verifies token against the JWKS json with the default signing_algs. */
static int
verify_with(void **state, const char *jwks_json, const char *token,
    const aa_str_t *algs, size_t nalgs, aa_str_t *payload, char *err)
{
    int         rc;
    aa_jwks_t  *jwks;

    jwks = jwks_of(jwks_json);
    err[0] = '\0';

    rc = aa_jwt_verify(jwks, (const u_char *) token, strlen(token),
                       algs ? algs : default_algs, algs ? nalgs : 3,
                       AA_POOL(state), payload, err, ERRLEN);

    aa_jwks_free(jwks);

    if (rc != AA_OK) {
        assert_true(err[0] != '\0');
        assert_null(payload->data);
    }

    return rc;
}


static int
verify(void **state, const char *jwks_json, const char *token, char *err)
{
    aa_str_t  payload;

    return verify_with(state, jwks_json, token, NULL, 0, &payload, err);
}


static aa_jwt_expect_t
expect(void)
{
    aa_jwt_expect_t  e;

    memset(&e, 0, sizeof(e));
    e.issuer = aa_test_str(aa_fx_issuer);
    e.client_id = aa_test_str(aa_fx_client_id);
    e.nonce = aa_test_str(aa_fx_nonce);
    e.clock_skew = 60;

    return e;
}


static int
claims(void **state, const char *json, const aa_jwt_expect_t *e,
    int64_t now, aa_jwt_claims_t *out, char *err)
{
    int  rc;

    err[0] = '\0';
    rc = aa_jwt_claims_check((const u_char *) json, strlen(json), e, now,
                             AA_POOL(state), out, err, ERRLEN);
    if (rc != AA_OK) {
        assert_true(err[0] != '\0');
    }

    return rc;
}


static int
claims_str(void **state, const char *json, char *err)
{
    aa_jwt_claims_t  out;
    aa_jwt_expect_t  e = expect();

    return claims(state, json, &e, AA_FX_NOW, &out, err);
}


static int
logout(void **state, const char *json, char *err)
{
    int              rc;
    aa_jwt_claims_t  out;
    aa_jwt_expect_t  e = expect();

    e.nonce.len = 0;
    err[0] = '\0';

    rc = aa_jwt_logout_check((const u_char *) json, strlen(json), &e,
                             AA_FX_NOW, AA_POOL(state), &out, err, ERRLEN);
    if (rc != AA_OK) {
        assert_true(err[0] != '\0');
    }

    return rc;
}


#define ID_CLAIMS(extra)                                                      \
    "{\"iss\":\"https://example.okta.com/oauth2/default\","                   \
    "\"sub\":\"00u1\",\"iat\":1700000000,\"exp\":1700003600,"                 \
    "\"nonce\":\"n-0S6_WzA2Mj\"" extra "}"

#define LOGOUT_EVENTS                                                         \
    "\"events\":{\"http://schemas.openid.net/event/backchannel-logout\":{}}"


/* ---- JWKS ---- */

static void
test_jwks_imports_rsa_and_ec_keys(void **state)
{
    aa_jwks_t  *jwks;

    jwks = jwks_of(aa_fx_jwks);
    assert_int_equal(aa_jwks_count(jwks), 3);
    assert_int_equal(aa_jwks_skipped(jwks), 0);
    aa_jwks_free(jwks);
}


static void
test_jwks_unparseable_key_beside_good_one_is_skipped(void **state)
{
    char        err[ERRLEN];
    aa_str_t    payload;
    aa_jwks_t  *jwks;

    jwks = jwks_of(aa_fx_jwks_bad_beside_good);
    assert_int_equal(aa_jwks_count(jwks), 1);
    assert_int_equal(aa_jwks_skipped(jwks), 5);
    aa_jwks_free(jwks);

    /* the broken key also claims kid rsa1: the good one still verifies */
    assert_int_equal(verify_with(state, aa_fx_jwks_bad_beside_good,
                                 aa_fx_rs256_good, NULL, 0, &payload, err),
                     AA_OK);
}


static void
test_jwks_with_no_usable_key_is_refused(void **state)
{
    char        err[ERRLEN];
    size_t      i;
    aa_jwks_t  *jwks;

    static const char  *bad[] = {
        "", "[]", "{}", "{\"keys\":[]}", "{\"keys\":{}}", "{\"keys\":[1]}",
        "{\"keys\":[],\"keys\":[]}", "not json", aa_fx_jwks_unusable,
        /* cjose 0.6 would abort() on these paddings */
        "{\"keys\":[{\"kty\":\"RSA\",\"e\":\"AQAB\",\"n\":\"AAAAA=AA\"}]}",
        "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"A=\","
        "\"y\":\"AAAA\"}]}",
    };

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        jwks = aa_jwks_parse((const u_char *) bad[i], strlen(bad[i]), err,
                             sizeof(err));
        assert_null(jwks);
        assert_true(err[0] != '\0');
    }

    /* oct, use=enc, key_ops without verify, 1024-bit RSA, OKP */
    err[0] = '\0';
    assert_null(aa_jwks_parse((const u_char *) aa_fx_jwks_unusable,
                              strlen(aa_fx_jwks_unusable), err, sizeof(err)));
    assert_non_null(strstr(err, "5 skipped"));
}


/* ---- signatures ---- */

static void
test_rs256_with_the_right_key_is_accepted(void **state)
{
    char             err[ERRLEN];
    aa_str_t         payload;
    aa_jwt_claims_t  out;
    aa_jwt_expect_t  e = expect();

    assert_int_equal(verify_with(state, aa_fx_jwks, aa_fx_rs256_good, NULL,
                                 0, &payload, err), AA_OK);
    assert_non_null(payload.data);

    assert_int_equal(aa_jwt_claims_check(payload.data, payload.len, &e,
                                         AA_FX_NOW, AA_POOL(state), &out,
                                         err, sizeof(err)), AA_OK);
    assert_string_equal((char *) out.sub.data, "00u1a2b3c4D5e6F7g8h9");
    assert_string_equal((char *) out.sid.data, "sid-7f3a");
    assert_true(out.iat == AA_FX_IAT);
    assert_true(out.exp == AA_FX_EXP);
    assert_int_equal(out.payload.len, payload.len);
}


static void
test_es256_es512_ps256_with_the_right_key_are_accepted(void **state)
{
    char      err[ERRLEN];
    aa_str_t  payload;
    aa_str_t  es512[] = { aa_string("ES512") };

    assert_int_equal(verify(state, aa_fx_jwks, aa_fx_es256_good, err), AA_OK);
    assert_int_equal(verify_with(state, aa_fx_jwks, aa_fx_es512_good, es512,
                                 1, &payload, err), AA_OK);
    assert_int_equal(verify(state, aa_fx_jwks_noalg, aa_fx_ps256_good, err),
                     AA_OK);
}


static void
test_key_with_its_own_alg_is_not_used_for_another(void **state)
{
    char  err[ERRLEN];

    /* rsa1 says "alg": "RS256" in aa_fx_jwks */
    assert_int_equal(verify(state, aa_fx_jwks, aa_fx_ps256_good, err),
                     AA_DECLINED);
    assert_non_null(strstr(err, "no RSA key"));
}


static void
test_bad_signature_is_refused(void **state)
{
    char  err[ERRLEN];

    assert_int_equal(verify(state, aa_fx_jwks, aa_fx_rs256_badsig, err),
                     AA_DECLINED);
    assert_non_null(strstr(err, "bad RS256 signature"));

    assert_int_equal(verify(state, aa_fx_jwks, aa_fx_es256_badsig, err),
                     AA_DECLINED);
    assert_non_null(strstr(err, "bad ES256 signature"));

    assert_int_equal(verify(state, aa_fx_jwks, aa_fx_rs256_tampered, err),
                     AA_DECLINED);
    assert_non_null(strstr(err, "bad RS256 signature"));
}


static void
test_alg_none_is_refused(void **state)
{
    char      err[ERRLEN];
    aa_str_t  payload;
    aa_str_t  with_none[] = { aa_string("none"), aa_string("RS256") };

    assert_int_equal(verify(state, aa_fx_jwks, aa_fx_alg_none, err),
                     AA_DECLINED);
    assert_non_null(strstr(err, "unsigned"));

    /* even with a signature present and "none" in the allow-list */
    assert_int_equal(verify_with(state, aa_fx_jwks, aa_fx_alg_none_sig,
                                 with_none, 2, &payload, err), AA_DECLINED);
    assert_non_null(strstr(err, "none"));
}


static void
test_hs256_keyed_with_the_rsa_public_key_is_refused(void **state)
{
    char      err[ERRLEN];
    aa_str_t  payload;
    aa_str_t  with_hs[] = { aa_string("HS256"), aa_string("RS256") };

    /* keyed with the PEM of rsa1, then with its JWK bytes */
    assert_int_equal(verify(state, aa_fx_jwks, aa_fx_hs256_pem, err),
                     AA_DECLINED);
    assert_non_null(strstr(err, "HS256 is symmetric"));

    assert_int_equal(verify(state, aa_fx_jwks, aa_fx_hs256_jwk, err),
                     AA_DECLINED);
    assert_non_null(strstr(err, "HS256 is symmetric"));

    /* a misconfigured allow-list does not let it through either */
    assert_int_equal(verify_with(state, aa_fx_jwks, aa_fx_hs256_pem, with_hs,
                                 2, &payload, err), AA_DECLINED);
    assert_int_equal(verify_with(state, aa_fx_jwks, aa_fx_hs256_jwk, with_hs,
                                 2, &payload, err), AA_DECLINED);

    /* duplicate "alg" members could hide HS256 from one of two parsers */
    assert_int_equal(verify(state, aa_fx_jwks, aa_fx_dup_alg, err),
                     AA_DECLINED);
}


/*
 * The HS256 vectors are the real attack: HMAC-SHA256 over header.payload
 * keyed with the exact bytes of the RSA public key, so a verifier that let
 * the token pick HMAC with that key as secret would accept them.
 */
static void
hs256_check_vector(const char *token, const char *key)
{
    u_char         md[EVP_MAX_MD_SIZE], sig[128];
    size_t         sig_len;
    unsigned       md_len;
    const char    *dot;

    dot = strrchr(token, '.');
    assert_non_null(dot);

    assert_non_null(HMAC(EVP_sha256(), key, (int) strlen(key),
                         (const u_char *) token, (size_t) (dot - token), md,
                         &md_len));

    sig_len = aa_base64url_encode(sig, md, md_len);
    assert_int_equal(strlen(dot + 1), sig_len);
    assert_memory_equal(dot + 1, sig, sig_len);
}


static void
test_hs256_vectors_are_keyed_with_the_public_key_bytes(void **state)
{
    hs256_check_vector(aa_fx_hs256_pem, aa_fx_rsa1_pem);
    hs256_check_vector(aa_fx_hs256_jwk, aa_fx_rsa1_jwk);

    /* and the PEM really is the public half of the JWKS key rsa1 */
    assert_non_null(strstr(aa_fx_rsa1_pem, "BEGIN PUBLIC KEY"));
    assert_non_null(strstr(aa_fx_rsa1_jwk, "\"kid\": \"rsa1\""));
}


static void
test_null_jwks_refuses(void **state)
{
    char      err[ERRLEN];
    aa_str_t  payload;

    err[0] = '\0';
    assert_int_equal(aa_jwt_verify(NULL, (const u_char *) aa_fx_rs256_good,
                                   strlen(aa_fx_rs256_good), default_algs, 3,
                                   AA_POOL(state), &payload, err,
                                   sizeof(err)), AA_DECLINED);
    assert_true(err[0] != '\0');
}


static void
test_alg_outside_the_allow_list_is_refused(void **state)
{
    char      err[ERRLEN];
    aa_str_t  payload;
    aa_str_t  rs_only[] = { aa_string("RS256") };

    assert_int_equal(verify_with(state, aa_fx_jwks, aa_fx_es256_good,
                                 rs_only, 1, &payload, err), AA_DECLINED);
    assert_non_null(strstr(err, "not in signing_algs"));

    /* ES512 is not among the defaults */
    assert_int_equal(verify(state, aa_fx_jwks, aa_fx_es512_good, err),
                     AA_DECLINED);
    assert_non_null(strstr(err, "not in signing_algs"));
}


static void
test_alg_must_fit_the_key_type_and_curve(void **state)
{
    char  err[ERRLEN];

    /* an RSA signature under "ES256" with the RSA key's kid */
    assert_int_equal(verify(state, aa_fx_jwks, aa_fx_es256_on_rsa_kid, err),
                     AA_DECLINED);
    assert_non_null(strstr(err, "no EC key"));

    /* ES256 pointed at the P-521 key */
    assert_int_equal(verify(state, aa_fx_jwks, aa_fx_es256_on_p521, err),
                     AA_DECLINED);
    assert_non_null(strstr(err, "no EC key"));
}


static void
test_kid_absent_with_a_single_key_is_accepted(void **state)
{
    char  err[ERRLEN];

    assert_int_equal(verify(state, aa_fx_jwks_single_nokid,
                            aa_fx_rs256_nokid, err), AA_OK);
}


static void
test_kid_absent_with_several_keys_needs_exactly_one_to_verify(void **state)
{
    char  err[ERRLEN];

    /* rsa1 and rsa2: only rsa1 verifies, so there is no ambiguity */
    assert_int_equal(verify(state, aa_fx_jwks_two_nokid, aa_fx_rs256_nokid,
                            err), AA_OK);

    /* the same key under two kids: two keys verify, refused */
    assert_int_equal(verify(state, aa_fx_jwks_same_key_twice,
                            aa_fx_rs256_nokid, err), AA_DECLINED);
    assert_non_null(strstr(err, "ambiguous"));

    /* none of them verifies */
    assert_int_equal(verify(state, aa_fx_jwks_two_nokid,
                            aa_fx_rs256_nokid_other, err), AA_DECLINED);
    assert_non_null(strstr(err, "2 keys tried"));
}


static void
test_kid_present_uses_only_that_key(void **state)
{
    char  err[ERRLEN];

    /* a key without "kid" is no candidate for a token that names one */
    assert_int_equal(verify(state, aa_fx_jwks_single_nokid, aa_fx_rs256_good,
                            err), AA_JWT_UNKNOWN_KID);
}


static void
test_unknown_kid_has_its_own_code(void **state)
{
    char  err[ERRLEN];

    assert_int_equal(verify(state, aa_fx_jwks, aa_fx_unknown_kid, err),
                     AA_JWT_UNKNOWN_KID);
    assert_non_null(strstr(err, "not in the JWKS"));
    assert_int_not_equal(AA_JWT_UNKNOWN_KID, AA_DECLINED);
    assert_int_not_equal(AA_JWT_UNKNOWN_KID, AA_ERROR);
}


static void
test_jwe_crit_and_malformed_tokens_are_refused(void **state)
{
    char     err[ERRLEN];
    char    *big;
    size_t   i;

    static const char  *bad[] = {
        "", "a", "a.b", "a.b.c.d", "..", "a..c", ".b.c", "a.b.",
        "e30.e30.c2ln", "bnVsbA.e30.c2ln", "W10.e30.c2ln",
        "eyJhbGciOiJSUzI1NiJ9.e30.c2ln\n", "eyJhbGciOiJSUzI1NiJ9.e30.c2l=",
        "eyJhbGciOiJSUzI1NiJ9.e30.c2ln+",
        "eyJhbGciOjF9.e30.c2ln",
        "eyJhbGciOiJSUzI1NiIsImtpZCI6MX0.e30.c2ln",
    };

    assert_int_equal(verify(state, aa_fx_jwks, aa_fx_jwe, err), AA_DECLINED);
    assert_non_null(strstr(err, "JWE"));

    assert_int_equal(verify(state, aa_fx_jwks, aa_fx_crit, err), AA_DECLINED);
    assert_non_null(strstr(err, "crit"));

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(verify(state, aa_fx_jwks, bad[i], err), AA_DECLINED);
    }

    big = malloc(AA_JWT_MAX_LEN + 2);
    assert_non_null(big);
    memset(big, 'A', AA_JWT_MAX_LEN + 1);
    big[10] = '.';
    big[20] = '.';
    big[AA_JWT_MAX_LEN + 1] = '\0';
    assert_int_equal(verify(state, aa_fx_jwks, big, err), AA_DECLINED);
    assert_non_null(strstr(err, "longer than"));
    free(big);
}


static void
test_errors_do_not_carry_token_contents(void **state)
{
    char  err[ERRLEN];

    assert_int_equal(verify(state, aa_fx_jwks, aa_fx_unknown_kid, err),
                     AA_JWT_UNKNOWN_KID);
    assert_null(strstr(err, "rotated"));

    assert_int_equal(claims_str(state, ID_CLAIMS(",\"aud\":\"other-app\""),
                                err), AA_DECLINED);
    assert_null(strstr(err, "other-app"));
    assert_null(strstr(err, "n-0S6"));
}


/* ---- ID token claims ---- */

static void
test_claims_accepted_with_string_or_array_aud(void **state)
{
    char             err[ERRLEN];
    aa_jwt_claims_t  out;
    aa_jwt_expect_t  e = expect();

    assert_int_equal(claims(state, ID_CLAIMS(",\"aud\":\"0oa1clientABC\""),
                            &e, AA_FX_NOW, &out, err), AA_OK);
    assert_string_equal((char *) out.sub.data, "00u1");
    assert_int_equal(out.sid.len, 0);

    assert_int_equal(claims(state, ID_CLAIMS(",\"aud\":[\"0oa1clientABC\"]"),
                            &e, AA_FX_NOW, &out, err), AA_OK);

    assert_int_equal(claims(state,
                            ID_CLAIMS(",\"aud\":[\"api\",\"0oa1clientABC\"],"
                                      "\"azp\":\"0oa1clientABC\""),
                            &e, AA_FX_NOW, &out, err), AA_OK);
}


static void
test_iss_different_from_the_issuer_is_refused(void **state)
{
    char  err[ERRLEN];

    static const char  *bad[] = {
        "{\"iss\":\"https://example.okta.com\",\"aud\":\"0oa1clientABC\","
        "\"sub\":\"1\",\"iat\":1700000000,\"exp\":1700003600,"
        "\"nonce\":\"n-0S6_WzA2Mj\"}",
        "{\"iss\":\"https://example.okta.com/oauth2/default/\","
        "\"aud\":\"0oa1clientABC\",\"sub\":\"1\",\"iat\":1700000000,"
        "\"exp\":1700003600,\"nonce\":\"n-0S6_WzA2Mj\"}",
        "{\"aud\":\"0oa1clientABC\",\"sub\":\"1\",\"iat\":1700000000,"
        "\"exp\":1700003600,\"nonce\":\"n-0S6_WzA2Mj\"}",
        "{\"iss\":[\"https://example.okta.com/oauth2/default\"],"
        "\"aud\":\"0oa1clientABC\",\"sub\":\"1\",\"iat\":1700000000,"
        "\"exp\":1700003600,\"nonce\":\"n-0S6_WzA2Mj\"}",
    };
    size_t  i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(claims_str(state, bad[i], err), AA_DECLINED);
        assert_non_null(strstr(err, "\"iss\""));
    }
}


static void
test_aud_missing_or_without_client_id_is_refused(void **state)
{
    char    err[ERRLEN];
    size_t  i;

    static const char  *bad[] = {
        ID_CLAIMS(""),
        ID_CLAIMS(",\"aud\":\"0oa1client\""),
        ID_CLAIMS(",\"aud\":[]"),
        ID_CLAIMS(",\"aud\":[\"api\"]"),
        ID_CLAIMS(",\"aud\":[\"0oa1clientABC\",1],\"azp\":\"0oa1clientABC\""),
        ID_CLAIMS(",\"aud\":{\"0oa1clientABC\":1}"),
        ID_CLAIMS(",\"aud\":\"\""),
    };

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(claims_str(state, bad[i], err), AA_DECLINED);
        assert_non_null(strstr(err, "\"aud\""));
    }
}


static void
test_several_aud_need_azp_equal_to_client_id(void **state)
{
    char  err[ERRLEN];

    assert_int_equal(claims_str(state,
                                ID_CLAIMS(",\"aud\":[\"0oa1clientABC\","
                                          "\"api\"]"), err), AA_DECLINED);
    assert_non_null(strstr(err, "\"azp\" missing"));

    assert_int_equal(claims_str(state,
                                ID_CLAIMS(",\"aud\":[\"0oa1clientABC\","
                                          "\"api\"],\"azp\":\"api\""), err),
                     AA_DECLINED);
    assert_non_null(strstr(err, "\"azp\" differs"));

    /* azp present with a single audience must match too */
    assert_int_equal(claims_str(state,
                                ID_CLAIMS(",\"aud\":\"0oa1clientABC\","
                                          "\"azp\":\"api\""), err),
                     AA_DECLINED);
}


static void
test_sub_missing_or_empty_is_refused(void **state)
{
    char  err[ERRLEN];

    static const char  no_sub[] =
        "{\"iss\":\"https://example.okta.com/oauth2/default\","
        "\"aud\":\"0oa1clientABC\",\"iat\":1700000000,\"exp\":1700003600,"
        "\"nonce\":\"n-0S6_WzA2Mj\"}";
    static const char  empty_sub[] =
        "{\"iss\":\"https://example.okta.com/oauth2/default\","
        "\"aud\":\"0oa1clientABC\",\"sub\":\"\",\"iat\":1700000000,"
        "\"exp\":1700003600,\"nonce\":\"n-0S6_WzA2Mj\"}";
    static const char  number_sub[] =
        "{\"iss\":\"https://example.okta.com/oauth2/default\","
        "\"aud\":\"0oa1clientABC\",\"sub\":42,\"iat\":1700000000,"
        "\"exp\":1700003600,\"nonce\":\"n-0S6_WzA2Mj\"}";

    assert_int_equal(claims_str(state, no_sub, err), AA_DECLINED);
    assert_non_null(strstr(err, "\"sub\" missing"));
    assert_int_equal(claims_str(state, empty_sub, err), AA_DECLINED);
    assert_int_equal(claims_str(state, number_sub, err), AA_DECLINED);
}


#define TIMED(times)                                                          \
    "{\"iss\":\"https://example.okta.com/oauth2/default\","                   \
    "\"aud\":\"0oa1clientABC\",\"sub\":\"1\",\"nonce\":\"n-0S6_WzA2Mj\""      \
    times "}"


static void
test_iat_missing_or_not_an_integer_is_refused(void **state)
{
    char  err[ERRLEN];

    assert_int_equal(claims_str(state, TIMED(",\"exp\":1700003600"), err),
                     AA_DECLINED);
    assert_non_null(strstr(err, "\"iat\" missing"));

    assert_int_equal(claims_str(state, TIMED(",\"exp\":1700003600,"
                                             "\"iat\":\"1700000000\""), err),
                     AA_DECLINED);
    assert_int_equal(claims_str(state, TIMED(",\"exp\":1700003600,"
                                             "\"iat\":1700000000.5"), err),
                     AA_DECLINED);

    /* no NumericDate: zero, negative, absurdly far */
    assert_int_equal(claims_str(state, TIMED(",\"exp\":1700003600,"
                                             "\"iat\":0"), err),
                     AA_DECLINED);
    assert_int_equal(claims_str(state, TIMED(",\"exp\":1700003600,"
                                             "\"iat\":-5"), err),
                     AA_DECLINED);
    assert_int_equal(claims_str(state, TIMED(",\"iat\":1700000000,"
                                             "\"exp\":9223372036854775807"),
                                err), AA_DECLINED);

    /* issued an hour from now */
    assert_int_equal(claims_str(state, TIMED(",\"exp\":1700007200,"
                                             "\"iat\":1700003700"), err),
                     AA_DECLINED);
    assert_non_null(strstr(err, "future"));
}


static void
test_exp_in_the_past_beyond_the_skew_is_refused(void **state)
{
    char             err[ERRLEN];
    aa_jwt_claims_t  out;
    aa_jwt_expect_t  e = expect();

    static const char  c[] = TIMED(",\"iat\":1700000000,\"exp\":1700003600");

    /* 59 s after exp with a 60 s skew: still accepted */
    assert_int_equal(claims(state, c, &e, AA_FX_EXP + 59, &out, err), AA_OK);

    assert_int_equal(claims(state, c, &e, AA_FX_EXP + 60, &out, err),
                     AA_DECLINED);
    assert_non_null(strstr(err, "expired"));

    e.clock_skew = 0;
    assert_int_equal(claims(state, c, &e, AA_FX_EXP, &out, err),
                     AA_DECLINED);
    assert_int_equal(claims(state, c, &e, AA_FX_EXP - 1, &out, err), AA_OK);

    assert_int_equal(claims_str(state, TIMED(",\"iat\":1700000000"), err),
                     AA_DECLINED);
    assert_non_null(strstr(err, "\"exp\" missing"));
}


static void
test_signed_expired_token_verifies_but_fails_the_claims(void **state)
{
    char      err[ERRLEN];
    aa_str_t  payload;

    assert_int_equal(verify_with(state, aa_fx_jwks, aa_fx_rs256_expired,
                                 NULL, 0, &payload, err), AA_OK);
    assert_int_equal(claims_str(state, (char *) payload.data, err),
                     AA_DECLINED);
    assert_non_null(strstr(err, "expired"));
}


static void
test_nbf_in_the_future_is_refused(void **state)
{
    char             err[ERRLEN];
    aa_jwt_claims_t  out;
    aa_jwt_expect_t  e = expect();

    static const char  c[] = TIMED(",\"iat\":1700000000,\"exp\":1700003600,"
                                   "\"nbf\":1700000200");

    assert_int_equal(claims(state, c, &e, AA_FX_NOW, &out, err),
                     AA_DECLINED);
    assert_non_null(strstr(err, "nbf"));

    /* within the skew */
    assert_int_equal(claims(state, c, &e, 1700000200 - 60, &out, err), AA_OK);
}


static void
test_nonce_missing_or_different_is_refused(void **state)
{
    char             err[ERRLEN];
    aa_jwt_claims_t  out;
    aa_jwt_expect_t  e = expect();

    static const char  no_nonce[] =
        "{\"iss\":\"https://example.okta.com/oauth2/default\","
        "\"aud\":\"0oa1clientABC\",\"sub\":\"1\",\"iat\":1700000000,"
        "\"exp\":1700003600}";
    static const char  other[] =
        "{\"iss\":\"https://example.okta.com/oauth2/default\","
        "\"aud\":\"0oa1clientABC\",\"sub\":\"1\",\"iat\":1700000000,"
        "\"exp\":1700003600,\"nonce\":\"n-0S6_WzA2Mk\"}";
    static const char  prefix[] =
        "{\"iss\":\"https://example.okta.com/oauth2/default\","
        "\"aud\":\"0oa1clientABC\",\"sub\":\"1\",\"iat\":1700000000,"
        "\"exp\":1700003600,\"nonce\":\"n-0S6_WzA2M\"}";

    assert_int_equal(claims(state, no_nonce, &e, AA_FX_NOW, &out, err),
                     AA_DECLINED);
    assert_non_null(strstr(err, "\"nonce\" missing"));
    assert_int_equal(claims(state, other, &e, AA_FX_NOW, &out, err),
                     AA_DECLINED);
    assert_non_null(strstr(err, "does not match"));
    assert_int_equal(claims(state, prefix, &e, AA_FX_NOW, &out, err),
                     AA_DECLINED);
}


static void
test_max_age_needs_a_recent_auth_time(void **state)
{
    char             err[ERRLEN];
    aa_jwt_claims_t  out;
    aa_jwt_expect_t  e = expect();

    e.max_age = 300;

    assert_int_equal(claims(state, ID_CLAIMS(",\"aud\":\"0oa1clientABC\""),
                            &e, AA_FX_NOW, &out, err), AA_DECLINED);
    assert_non_null(strstr(err, "auth_time"));

    assert_int_equal(claims(state, ID_CLAIMS(",\"aud\":\"0oa1clientABC\","
                                             "\"auth_time\":1699999950"),
                            &e, AA_FX_NOW, &out, err), AA_OK);
    assert_true(out.auth_time == 1699999950);

    assert_int_equal(claims(state, ID_CLAIMS(",\"aud\":\"0oa1clientABC\","
                                             "\"auth_time\":1699990000"),
                            &e, AA_FX_NOW, &out, err), AA_DECLINED);
}


static void
test_payload_that_is_not_a_claims_object_is_refused(void **state)
{
    char    err[ERRLEN];
    size_t  i;

    static const char  *bad[] = {
        "", "null", "[]", "\"x\"", "{", "{\"iss\":1,\"iss\":2}",
        ID_CLAIMS(",\"aud\":\"0oa1clientABC\",\"aud\":\"0oa1clientABC\""),
    };

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(claims_str(state, bad[i], err), AA_DECLINED);
    }
}


/* ---- logout tokens ---- */

#define LOGOUT(extra)                                                         \
    "{\"iss\":\"https://example.okta.com/oauth2/default\","                   \
    "\"iat\":1700000000,\"jti\":\"j1\"" extra "}"


static void
test_logout_token_is_accepted(void **state)
{
    char             err[ERRLEN];
    aa_str_t         payload;
    aa_jwt_claims_t  out;
    aa_jwt_expect_t  e = expect();

    assert_int_equal(verify_with(state, aa_fx_jwks, aa_fx_logout_good, NULL,
                                 0, &payload, err), AA_OK);

    e.nonce.len = 0;
    assert_int_equal(aa_jwt_logout_check(payload.data, payload.len, &e,
                                         AA_FX_NOW, AA_POOL(state), &out, err,
                                         sizeof(err)), AA_OK);
    assert_string_equal((char *) out.sid.data, "sid-7f3a");
    assert_string_equal((char *) out.sub.data, "00u1a2b3c4D5e6F7g8h9");

    /* sid alone, no exp */
    assert_int_equal(logout(state, LOGOUT(",\"aud\":\"0oa1clientABC\","
                                          "\"sid\":\"s\"," LOGOUT_EVENTS),
                            err), AA_OK);
}


static void
test_logout_token_with_alg_none_is_refused(void **state)
{
    char  err[ERRLEN];

    assert_int_equal(verify(state, aa_fx_jwks, aa_fx_logout_none, err),
                     AA_DECLINED);
}


static void
test_logout_token_wrong_aud_or_iss_is_refused(void **state)
{
    char  err[ERRLEN];

    assert_int_equal(logout(state, LOGOUT(",\"aud\":\"api\",\"sid\":\"s\","
                                          LOGOUT_EVENTS), err), AA_DECLINED);
    assert_non_null(strstr(err, "\"aud\""));

    assert_int_equal(logout(state, LOGOUT(",\"sid\":\"s\"," LOGOUT_EVENTS),
                            err), AA_DECLINED);

    assert_int_equal(logout(state,
                            "{\"iss\":\"https://evil.example\","
                            "\"aud\":\"0oa1clientABC\",\"iat\":1700000000,"
                            "\"sid\":\"s\"," LOGOUT_EVENTS "}", err),
                     AA_DECLINED);
    assert_non_null(strstr(err, "\"iss\""));
}


static void
test_logout_token_missing_or_wrong_events_is_refused(void **state)
{
    char    err[ERRLEN];
    size_t  i;

    static const char  *bad[] = {
        LOGOUT(",\"aud\":\"0oa1clientABC\",\"sid\":\"s\""),
        LOGOUT(",\"aud\":\"0oa1clientABC\",\"sid\":\"s\",\"events\":{}"),
        LOGOUT(",\"aud\":\"0oa1clientABC\",\"sid\":\"s\",\"events\":[]"),
        LOGOUT(",\"aud\":\"0oa1clientABC\",\"sid\":\"s\",\"events\":"
               "\"http://schemas.openid.net/event/backchannel-logout\""),
        LOGOUT(",\"aud\":\"0oa1clientABC\",\"sid\":\"s\",\"events\":"
               "{\"http://schemas.openid.net/event/backchannel-logout\":1}"),
        LOGOUT(",\"aud\":\"0oa1clientABC\",\"sid\":\"s\",\"events\":"
               "{\"http://schemas.openid.net/event/logout\":{}}"),
    };

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(logout(state, bad[i], err), AA_DECLINED);
        assert_non_null(strstr(err, "events"));
    }
}


static void
test_logout_token_with_nonce_is_refused(void **state)
{
    char  err[ERRLEN];

    assert_int_equal(logout(state, LOGOUT(",\"aud\":\"0oa1clientABC\","
                                          "\"sid\":\"s\",\"nonce\":\"n\","
                                          LOGOUT_EVENTS), err), AA_DECLINED);
    assert_non_null(strstr(err, "nonce"));

    /* an ID token is not a logout token */
    assert_int_equal(logout(state, ID_CLAIMS(",\"aud\":\"0oa1clientABC\""),
                            err), AA_DECLINED);
}


static void
test_logout_token_needs_sid_or_sub_iat_and_live_exp(void **state)
{
    char  err[ERRLEN];

    assert_int_equal(logout(state, LOGOUT(",\"aud\":\"0oa1clientABC\","
                                          LOGOUT_EVENTS), err), AA_DECLINED);
    assert_non_null(strstr(err, "neither"));

    assert_int_equal(logout(state, LOGOUT(",\"aud\":\"0oa1clientABC\","
                                          "\"sub\":\"u\"," LOGOUT_EVENTS),
                            err), AA_OK);

    assert_int_equal(logout(state,
                            "{\"iss\":\"https://example.okta.com/oauth2/"
                            "default\",\"aud\":\"0oa1clientABC\","
                            "\"sid\":\"s\"," LOGOUT_EVENTS "}", err),
                     AA_DECLINED);
    assert_non_null(strstr(err, "\"iat\" missing"));

    assert_int_equal(logout(state, LOGOUT(",\"aud\":\"0oa1clientABC\","
                                          "\"sid\":\"s\",\"exp\":1699999000,"
                                          LOGOUT_EVENTS), err), AA_DECLINED);
    assert_non_null(strstr(err, "expired"));
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        AA_TEST(test_jwks_imports_rsa_and_ec_keys),
        AA_TEST(test_jwks_unparseable_key_beside_good_one_is_skipped),
        AA_TEST(test_jwks_with_no_usable_key_is_refused),
        AA_TEST(test_rs256_with_the_right_key_is_accepted),
        AA_TEST(test_es256_es512_ps256_with_the_right_key_are_accepted),
        AA_TEST(test_key_with_its_own_alg_is_not_used_for_another),
        AA_TEST(test_bad_signature_is_refused),
        AA_TEST(test_alg_none_is_refused),
        AA_TEST(test_hs256_keyed_with_the_rsa_public_key_is_refused),
        AA_TEST(test_hs256_vectors_are_keyed_with_the_public_key_bytes),
        AA_TEST(test_null_jwks_refuses),
        AA_TEST(test_alg_outside_the_allow_list_is_refused),
        AA_TEST(test_alg_must_fit_the_key_type_and_curve),
        AA_TEST(test_kid_absent_with_a_single_key_is_accepted),
        AA_TEST(test_kid_absent_with_several_keys_needs_exactly_one_to_verify),
        AA_TEST(test_kid_present_uses_only_that_key),
        AA_TEST(test_unknown_kid_has_its_own_code),
        AA_TEST(test_jwe_crit_and_malformed_tokens_are_refused),
        AA_TEST(test_errors_do_not_carry_token_contents),
        AA_TEST(test_claims_accepted_with_string_or_array_aud),
        AA_TEST(test_iss_different_from_the_issuer_is_refused),
        AA_TEST(test_aud_missing_or_without_client_id_is_refused),
        AA_TEST(test_several_aud_need_azp_equal_to_client_id),
        AA_TEST(test_sub_missing_or_empty_is_refused),
        AA_TEST(test_iat_missing_or_not_an_integer_is_refused),
        AA_TEST(test_exp_in_the_past_beyond_the_skew_is_refused),
        AA_TEST(test_signed_expired_token_verifies_but_fails_the_claims),
        AA_TEST(test_nbf_in_the_future_is_refused),
        AA_TEST(test_nonce_missing_or_different_is_refused),
        AA_TEST(test_max_age_needs_a_recent_auth_time),
        AA_TEST(test_payload_that_is_not_a_claims_object_is_refused),
        AA_TEST(test_logout_token_is_accepted),
        AA_TEST(test_logout_token_with_alg_none_is_refused),
        AA_TEST(test_logout_token_wrong_aud_or_iss_is_refused),
        AA_TEST(test_logout_token_missing_or_wrong_events_is_refused),
        AA_TEST(test_logout_token_with_nonce_is_refused),
        AA_TEST(test_logout_token_needs_sid_or_sub_iat_and_live_exp),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
