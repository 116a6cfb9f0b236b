/*
 * OIDC protocol helpers: discovery (Okta org and custom authorization
 * server documents), the issuer URL rule, PKCE with RFC 7636's own test
 * vector, state and nonce, the authorization URL, both token-endpoint
 * client authentications, token replies and identity claims.
 */

#include "aa_test.h"

#include "aa_oidc.h"

#include "fixtures/oidc/vectors.h"


#define ERRLEN  256


static int
discover(void **state, const char *json, const char *issuer,
    aa_oidc_discovery_t *d, char *err)
{
    int       rc;
    aa_str_t  iss;

    iss.data = (u_char *) issuer;
    iss.len = strlen(issuer);
    err[0] = '\0';

    rc = aa_oidc_discovery_parse((const u_char *) json, strlen(json), &iss,
                                 AA_POOL(state), d, err, ERRLEN);
    if (rc != AA_OK) {
        assert_true(err[0] != '\0');
        assert_null(d->issuer.data);
    }

    return rc;
}


static int
url_ok(const char *url)
{
    return aa_oidc_url_ok((const u_char *) url, strlen(url));
}


static void
assert_str(const aa_str_t *s, const char *want)
{
    assert_non_null(s->data);
    assert_int_equal(s->len, strlen(want));
    assert_memory_equal(s->data, want, s->len);
}


/* ---- discovery ---- */

static void
test_okta_org_discovery_parses(void **state)
{
    char                 err[ERRLEN];
    aa_oidc_discovery_t  d;

    assert_int_equal(discover(state, aa_fx_okta_org_discovery,
                              "https://example.okta.com", &d, err), AA_OK);
    assert_str(&d.issuer, "https://example.okta.com");
    assert_str(&d.authorization_endpoint,
               "https://example.okta.com/oauth2/v1/authorize");
    assert_str(&d.token_endpoint, "https://example.okta.com/oauth2/v1/token");
    assert_str(&d.jwks_uri, "https://example.okta.com/oauth2/v1/keys");
    assert_str(&d.userinfo_endpoint,
               "https://example.okta.com/oauth2/v1/userinfo");
    assert_str(&d.end_session_endpoint,
               "https://example.okta.com/oauth2/v1/logout");
    assert_int_equal(d.signing_algs.nelts, 1);
    assert_str(&d.signing_algs.elts[0], "RS256");
}


static void
test_okta_custom_authorization_server_discovery_parses(void **state)
{
    char                 err[ERRLEN];
    aa_oidc_discovery_t  d;

    assert_int_equal(discover(state, aa_fx_okta_custom_discovery,
                              "https://example.okta.com/oauth2/default", &d,
                              err), AA_OK);
    assert_str(&d.issuer, "https://example.okta.com/oauth2/default");
    assert_str(&d.token_endpoint,
               "https://example.okta.com/oauth2/default/v1/token");
    assert_str(&d.jwks_uri,
               "https://example.okta.com/oauth2/default/v1/keys");
}


static void
test_discovery_issuer_must_equal_the_configured_one(void **state)
{
    char                 err[ERRLEN];
    aa_oidc_discovery_t  d;

    /* the org document for the custom server's issuer, and vice versa */
    assert_int_equal(discover(state, aa_fx_okta_org_discovery,
                              "https://example.okta.com/oauth2/default", &d,
                              err), AA_DECLINED);
    assert_non_null(strstr(err, "differs"));

    assert_int_equal(discover(state, aa_fx_okta_custom_discovery,
                              "https://example.okta.com", &d, err),
                     AA_DECLINED);

    /* a trailing slash is another issuer */
    assert_int_equal(discover(state, aa_fx_okta_org_discovery,
                              "https://example.okta.com/", &d, err),
                     AA_DECLINED);
}


#define DISCOVERY(iss, authz, token, jwks, extra)                             \
    "{\"issuer\":\"" iss "\",\"authorization_endpoint\":\"" authz "\","       \
    "\"token_endpoint\":\"" token "\",\"jwks_uri\":\"" jwks "\","             \
    "\"id_token_signing_alg_values_supported\":[\"RS256\",\"ES256\"]"        \
    extra "}"


static void
test_discovery_loopback_http_is_accepted(void **state)
{
    char                 err[ERRLEN];
    aa_oidc_discovery_t  d;

    assert_int_equal(discover(state,
                              DISCOVERY("http://127.0.0.1:9000",
                                        "http://127.0.0.1:9000/auth",
                                        "http://127.0.0.1:9000/token",
                                        "http://127.0.0.1:9000/jwks", ""),
                              "http://127.0.0.1:9000", &d, err), AA_OK);
    assert_int_equal(d.userinfo_endpoint.len, 0);
    assert_int_equal(d.end_session_endpoint.len, 0);
    assert_int_equal(d.signing_algs.nelts, 2);

    assert_int_equal(discover(state,
                              DISCOVERY("http://localhost:3000/op",
                                        "http://localhost:3000/op/auth",
                                        "http://localhost:3000/op/token",
                                        "http://localhost:3000/op/jwks",
                                        ",\"end_session_endpoint\":"
                                        "\"http://[::1]:3000/op/end\""),
                              "http://localhost:3000/op", &d, err), AA_OK);
    assert_str(&d.end_session_endpoint, "http://[::1]:3000/op/end");
}


static void
test_discovery_plain_http_endpoint_is_refused(void **state)
{
    char                 err[ERRLEN];
    aa_oidc_discovery_t  d;

    assert_int_equal(discover(state,
                              DISCOVERY("https://idp.example",
                                        "https://idp.example/auth",
                                        "http://idp.example/token",
                                        "https://idp.example/jwks", ""),
                              "https://idp.example", &d, err), AA_DECLINED);
    assert_non_null(strstr(err, "token_endpoint"));

    assert_int_equal(discover(state,
                              DISCOVERY("https://idp.example",
                                        "https://idp.example/auth",
                                        "https://idp.example/token",
                                        "https://idp.example/jwks",
                                        ",\"userinfo_endpoint\":"
                                        "\"http://idp.example/ui\""),
                              "https://idp.example", &d, err), AA_DECLINED);
    assert_non_null(strstr(err, "userinfo_endpoint"));
}


static void
test_discovery_missing_or_malformed_fields_are_refused(void **state)
{
    char                 err[ERRLEN];
    size_t               i;
    aa_oidc_discovery_t  d;

    static const char  *bad[] = {
        "", "[]", "{", "{\"issuer\":\"https://idp.example\"}",
        "{\"issuer\":\"https://idp.example\","
        "\"authorization_endpoint\":\"https://idp.example/a\","
        "\"token_endpoint\":\"https://idp.example/t\","
        "\"jwks_uri\":\"https://idp.example/k\"}",
        DISCOVERY("https://idp.example", "https://idp.example/a",
                  "https://idp.example/t", "https://idp.example/k",
                  ",\"issuer\":\"https://idp.example\""),
        "{\"issuer\":\"https://idp.example\","
        "\"authorization_endpoint\":\"https://idp.example/a\","
        "\"token_endpoint\":\"https://idp.example/t\","
        "\"jwks_uri\":\"https://idp.example/k\","
        "\"id_token_signing_alg_values_supported\":[]}",
        "{\"issuer\":\"https://idp.example\","
        "\"authorization_endpoint\":\"https://idp.example/a\","
        "\"token_endpoint\":\"https://idp.example/t\","
        "\"jwks_uri\":\"https://idp.example/k\","
        "\"id_token_signing_alg_values_supported\":\"RS256\"}",
        DISCOVERY("https://idp.example", "https://idp.example/a",
                  "https://idp.example/t", "https://idp.example/k#x", ""),
        DISCOVERY("https://idp.example", "https://idp.example/a",
                  "https://idp.example/t", "ftp://idp.example/k", ""),
    };

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(discover(state, bad[i], "https://idp.example", &d,
                                  err), AA_DECLINED);
    }
}


static void
test_issuer_url_rule(void **state)
{
    size_t  i;

    static const char  *good[] = {
        "https://example.okta.com", "https://example.okta.com/oauth2/default",
        "https://idp.example:8443/realms/x", "https://[2001:db8::1]/op",
        "http://127.0.0.1:8080", "http://127.0.0.1:8080/op",
        "http://[::1]:3000", "http://localhost:3000/op",
    };
    static const char  *bad[] = {
        "", "https://", "https:///x", "http://idp.example",
        "http://127.0.0.1", "http://127.0.0.1/", "http://localhost",
        "http://[::1]", "http://127.0.0.2:80", "http://localhost.evil:80",
        "http://127.0.0.1:80@evil.example", "https://user@idp.example",
        "https://idp.example/a b", "https://idp.example/\tx",
        "https://idp.example/#frag", "https://idp.example\\@evil",
        "HTTPS://idp.example", "ftp://idp.example", "//idp.example",
        "https://idp.example:0", "https://idp.example:65536",
        "https://idp.example:", "http://127.0.0.1:99999",
        "https://id_p.example", "https://[zz::1]/",
        "http://localhost:3000x",
    };

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        if (!url_ok(good[i])) {
            fail_msg("refused: %s", good[i]);
        }
    }

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (url_ok(bad[i])) {
            fail_msg("accepted: %s", bad[i]);
        }
    }
}


/* ---- PKCE, state, nonce ---- */

static void
test_pkce_s256_matches_rfc7636_appendix_b(void **state)
{
    aa_str_t  challenge;
    aa_str_t  verifier =
                  aa_string("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");

    assert_int_equal(aa_oidc_pkce_challenge(&verifier, AA_POOL(state),
                                            &challenge), AA_OK);
    assert_str(&challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}


static void
test_pkce_verifier_outside_the_rfc_is_refused(void **state)
{
    char      buf[130];
    aa_str_t  v, challenge;

    memset(buf, 'a', sizeof(buf));
    v.data = (u_char *) buf;

    v.len = 42;
    assert_int_equal(aa_oidc_pkce_challenge(&v, AA_POOL(state), &challenge),
                     AA_DECLINED);
    v.len = 129;
    assert_int_equal(aa_oidc_pkce_challenge(&v, AA_POOL(state), &challenge),
                     AA_DECLINED);
    v.len = 128;
    assert_int_equal(aa_oidc_pkce_challenge(&v, AA_POOL(state), &challenge),
                     AA_OK);

    buf[10] = '+';
    assert_int_equal(aa_oidc_pkce_challenge(&v, AA_POOL(state), &challenge),
                     AA_DECLINED);
}


static void
test_random_values_are_long_fresh_and_url_safe(void **state)
{
    size_t    i, j;
    aa_str_t  a, b, verifier, challenge;

    assert_int_equal(aa_oidc_random(AA_OIDC_RANDOM_BYTES, AA_POOL(state), &a),
                     AA_OK);
    assert_int_equal(aa_oidc_random(AA_OIDC_RANDOM_BYTES, AA_POOL(state), &b),
                     AA_OK);

    /* 256 bits as 43 base64url characters; two draws differ */
    assert_int_equal(a.len, 43);
    assert_int_equal(b.len, 43);
    assert_memory_not_equal(a.data, b.data, a.len);

    assert_int_equal(aa_oidc_random(AA_OIDC_VERIFIER_BYTES, AA_POOL(state),
                                    &verifier), AA_OK);
    assert_true(verifier.len >= 43 && verifier.len <= 128);

    for (i = 0; i < verifier.len; i++) {
        j = verifier.data[i];
        assert_true((j >= 'A' && j <= 'Z') || (j >= 'a' && j <= 'z')
                    || (j >= '0' && j <= '9') || j == '-' || j == '_');
    }

    assert_int_equal(aa_oidc_pkce_challenge(&verifier, AA_POOL(state),
                                            &challenge), AA_OK);
    assert_int_equal(challenge.len, 43);

    /* fewer than 128 bits is never handed out */
    assert_int_equal(aa_oidc_random(15, AA_POOL(state), &a), AA_ERROR);
}


/* ---- authorization URL and token request ---- */

static void
test_authorization_url_is_percent_encoded(void **state)
{
    aa_str_t         url;
    aa_oidc_authz_t  p = {
        aa_string("https://example.okta.com/oauth2/v1/authorize"),
        aa_string("0oa1client"),
        aa_string("https://airflow.example/oidc/callback?x=1&y=2"),
        aa_string("openid email profile groups"),
        aa_string("st-ate_~.x"),
        aa_string("n+/="),
        aa_string("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"),
    };

    assert_int_equal(aa_oidc_authorization_url(&p, AA_POOL(state), &url),
                     AA_OK);
    assert_str(&url,
               "https://example.okta.com/oauth2/v1/authorize"
               "?response_type=code&client_id=0oa1client"
               "&redirect_uri=https%3A%2F%2Fairflow.example%2Foidc%2F"
               "callback%3Fx%3D1%26y%3D2"
               "&scope=openid%20email%20profile%20groups"
               "&state=st-ate_~.x&nonce=n%2B%2F%3D"
               "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
               "&code_challenge_method=S256");
}


static void
test_authorization_url_keeps_an_endpoint_query(void **state)
{
    aa_str_t         url;
    aa_oidc_authz_t  p = {
        aa_string("https://idp.example/authorize?tenant=a"),
        aa_string("c"), aa_string("https://rp/cb"), aa_string("openid"),
        aa_string("s"), aa_string("n"), aa_string("ch"),
    };

    assert_int_equal(aa_oidc_authorization_url(&p, AA_POOL(state), &url),
                     AA_OK);
    assert_non_null(strstr((char *) url.data,
                           "/authorize?tenant=a&response_type=code&"));

    /* a missing parameter is a caller's bug, not an empty value */
    p.nonce.len = 0;
    assert_int_equal(aa_oidc_authorization_url(&p, AA_POOL(state), &url),
                     AA_ERROR);
}


static void
test_token_body_for_client_secret_post_and_basic(void **state)
{
    aa_str_t             body;
    aa_oidc_token_req_t  r = {
        aa_string("c0de/+x"),
        aa_string("https://airflow.example/oidc/callback"),
        aa_string("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
        aa_string("my client"),
        aa_string("s3cr&t=1"),
        1,
    };

    assert_int_equal(aa_oidc_token_body(&r, AA_POOL(state), &body), AA_OK);
    assert_str(&body,
               "grant_type=authorization_code&code=c0de%2F%2Bx"
               "&redirect_uri=https%3A%2F%2Fairflow.example%2Foidc%2F"
               "callback"
               "&code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
               "&client_id=my+client&client_secret=s3cr%26t%3D1");

    /* with client_secret_basic the secret stays out of the body */
    r.secret_in_body = 0;
    assert_int_equal(aa_oidc_token_body(&r, AA_POOL(state), &body), AA_OK);
    assert_null(strstr((char *) body.data, "s3cr"));
    assert_null(strstr((char *) body.data, "client_secret"));
    assert_non_null(strstr((char *) body.data, "&client_id=my+client"));
}


static void
test_basic_auth_form_encodes_id_and_secret_first(void **state)
{
    aa_str_t  value;
    aa_str_t  id = aa_string("my:client id");
    aa_str_t  secret = aa_string("s\xc3\xa9" "cr%et+/");
    aa_str_t  plain_id = aa_string("0oa1client");
    aa_str_t  plain_secret = aa_string("secret");

    /* base64("my%3Aclient+id:s%C3%A9cr%25et%2B%2F") */
    assert_int_equal(aa_oidc_basic_auth(&id, &secret, AA_POOL(state),
                                        &value), AA_OK);
    assert_str(&value, "Basic bXklM0FjbGllbnQraWQ6cyVDMyVBOWNyJTI1ZXQlMkIl"
                       "MkY=");

    assert_int_equal(aa_oidc_basic_auth(&plain_id, &plain_secret,
                                        AA_POOL(state), &value), AA_OK);
    assert_str(&value, "Basic MG9hMWNsaWVudDpzZWNyZXQ=");
}


/* ---- token endpoint replies ---- */

static int
token_reply(void **state, const char *json, aa_oidc_tokens_t *t, char *err)
{
    err[0] = '\0';

    return aa_oidc_token_response_parse((const u_char *) json, strlen(json),
                                        AA_POOL(state), t, err, ERRLEN);
}


static void
test_token_reply_with_id_token_is_accepted(void **state)
{
    char              err[ERRLEN];
    aa_oidc_tokens_t  t;

    assert_int_equal(token_reply(state,
                                 "{\"token_type\":\"Bearer\","
                                 "\"expires_in\":3600,"
                                 "\"access_token\":\"at.x.y\","
                                 "\"scope\":\"openid email\","
                                 "\"id_token\":\"h.p.s\"}", &t, err), AA_OK);
    assert_str(&t.id_token, "h.p.s");
    assert_str(&t.access_token, "at.x.y");
    assert_str(&t.token_type, "Bearer");
    assert_true(t.expires_in == 3600);
}


static void
test_token_error_reply_is_declined_with_its_code(void **state)
{
    char              err[ERRLEN];
    aa_oidc_tokens_t  t;

    assert_int_equal(token_reply(state,
                                 "{\"error\":\"invalid_grant\","
                                 "\"error_description\":\"The authorization "
                                 "code is invalid or has expired.\"}",
                                 &t, err), AA_DECLINED);
    assert_non_null(strstr(err, "invalid_grant"));
    assert_non_null(strstr(err, "has expired"));
    assert_null(t.id_token.data);

    /* even beside an id_token; control characters do not reach the log */
    assert_int_equal(token_reply(state,
                                 "{\"error\":\"access_denied\\r\\nX: y\","
                                 "\"id_token\":\"h.p.s\"}", &t, err),
                     AA_DECLINED);
    assert_non_null(strstr(err, "access_deniedX: y"));
    assert_null(strchr(err, '\n'));
}


static void
test_token_reply_without_id_token_is_refused(void **state)
{
    char              err[ERRLEN];
    size_t            i;
    aa_oidc_tokens_t  t;

    static const char  *bad[] = {
        "{\"access_token\":\"a\",\"token_type\":\"Bearer\"}",
        "{\"id_token\":\"\"}", "{\"id_token\":5}", "{\"id_token\":[\"a\"]}",
        "{\"id_token\":\"a\\u0000b\"}", "[]", "", "<html>502</html>",
        "{\"id_token\":\"a\",\"id_token\":\"b\"}",
    };

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(token_reply(state, bad[i], &t, err), AA_DECLINED);
        assert_true(err[0] != '\0');
    }
}


/* ---- identity claims ---- */

static const aa_oidc_claim_names_t  default_names;


static int
extract(void **state, const char *json, const aa_oidc_claim_names_t *names,
    aa_oidc_identity_t *id, char *err)
{
    err[0] = '\0';

    return aa_oidc_claims_extract((const u_char *) json, strlen(json), names,
                                  AA_POOL(state), id, err, ERRLEN);
}


static int
merge(void **state, const char *json, const char *sub,
    const aa_oidc_claim_names_t *names, aa_oidc_identity_t *id, char *err)
{
    aa_str_t  s;

    s.data = (u_char *) sub;
    s.len = strlen(sub);
    err[0] = '\0';

    return aa_oidc_userinfo_merge((const u_char *) json, strlen(json), &s,
                                  names, AA_POOL(state), id, err, ERRLEN);
}


static void
test_claims_with_groups_in_the_id_token(void **state)
{
    char                err[ERRLEN];
    aa_oidc_identity_t  id;

    assert_int_equal(extract(state,
                             "{\"sub\":\"00u1\","
                             "\"preferred_username\":\"alice@example.com\","
                             "\"email\":\"alice.x@example.com\","
                             "\"name\":\"Alice Example\","
                             "\"groups\":[\"airflow-admins\",\"Everyone\"]}",
                             &default_names, &id, err), AA_OK);
    assert_str(&id.username, "alice@example.com");
    assert_str(&id.email, "alice.x@example.com");
    assert_str(&id.name, "Alice Example");
    assert_true(id.groups_found);
    assert_false(id.username_from_email);
    assert_int_equal(id.groups.nelts, 2);
    assert_str(&id.groups.elts[0], "airflow-admins");
    assert_str(&id.groups.elts[1], "Everyone");
}


static void
test_okta_groups_only_in_userinfo(void **state)
{
    char                err[ERRLEN];
    aa_oidc_identity_t  id;

    /* Okta's org server leaves groups out of the ID token */
    assert_int_equal(extract(state,
                             "{\"sub\":\"00u1a2b3c4D5e6F7g8h9\","
                             "\"email\":\"alice@example.com\"}",
                             &default_names, &id, err), AA_OK);
    assert_false(id.groups_found);
    assert_str(&id.username, "alice@example.com");
    assert_true(id.username_from_email);
    assert_int_equal(id.name.len, 0);

    assert_int_equal(merge(state, aa_fx_okta_userinfo_groups,
                           "00u1a2b3c4D5e6F7g8h9", &default_names, &id, err),
                     AA_OK);
    assert_true(id.groups_found);
    assert_int_equal(id.groups.nelts, 3);
    assert_str(&id.groups.elts[1], "airflow-admins");
    assert_str(&id.name, "Alice Example");
    assert_str(&id.username, "alice@example.com");
    assert_false(id.username_from_email);
}


static void
test_userinfo_sub_different_from_the_id_token_is_refused(void **state)
{
    char                err[ERRLEN];
    aa_oidc_identity_t  id;

    assert_int_equal(extract(state, "{\"sub\":\"00u1\"}", &default_names,
                             &id, err), AA_OK);

    assert_int_equal(merge(state, aa_fx_okta_userinfo_groups, "00u1",
                           &default_names, &id, err), AA_DECLINED);
    assert_non_null(strstr(err, "differs"));
    assert_false(id.groups_found);
    assert_int_equal(id.username.len, 0);

    assert_int_equal(merge(state, "{\"groups\":[\"a\"]}", "00u1",
                           &default_names, &id, err), AA_DECLINED);
    assert_non_null(strstr(err, "missing"));
    assert_int_equal(merge(state, "{\"sub\":1,\"groups\":[\"a\"]}", "00u1",
                           &default_names, &id, err), AA_DECLINED);
    assert_int_equal(merge(state, "{\"sub\":\"00u1\",\"groups\":[\"a\"]}", "",
                           &default_names, &id, err), AA_DECLINED);
    assert_false(id.groups_found);
}


static void
test_userinfo_does_not_override_the_id_token(void **state)
{
    char                err[ERRLEN];
    aa_oidc_identity_t  id;

    assert_int_equal(extract(state,
                             "{\"preferred_username\":\"alice\","
                             "\"groups\":[\"g1\"]}",
                             &default_names, &id, err), AA_OK);
    assert_int_equal(merge(state,
                           "{\"sub\":\"s\",\"preferred_username\":\"mallory\","
                           "\"groups\":[\"admins\"],\"email\":\"a@x\"}",
                           "s", &default_names, &id, err), AA_OK);
    assert_str(&id.username, "alice");
    assert_int_equal(id.groups.nelts, 1);
    assert_str(&id.groups.elts[0], "g1");
    assert_str(&id.email, "a@x");
}


static void
test_configured_claim_names_and_string_groups(void **state)
{
    char                   err[ERRLEN];
    aa_oidc_identity_t     id;
    aa_oidc_claim_names_t  names = {
        aa_string("upn"), aa_string("mail"), aa_string("displayName"),
        aa_string("roles"),
    };

    assert_int_equal(extract(state,
                             "{\"upn\":\"bob@corp\",\"mail\":\"b@corp\","
                             "\"displayName\":\"Bob\",\"roles\":\"ops\","
                             "\"preferred_username\":\"x\",\"groups\":[1]}",
                             &names, &id, err), AA_OK);
    assert_str(&id.username, "bob@corp");
    assert_str(&id.email, "b@corp");
    assert_str(&id.name, "Bob");
    assert_int_equal(id.groups.nelts, 1);
    assert_str(&id.groups.elts[0], "ops");

    /* no username claim and no email: nothing to fall back on */
    assert_int_equal(extract(state, "{\"name\":\"N\"}", &names, &id, err),
                     AA_OK);
    assert_int_equal(id.username.len, 0);

    /* an empty groups array is present but empty */
    assert_int_equal(extract(state, "{\"groups\":[\"\"]}", &default_names,
                             &id, err), AA_OK);
    assert_true(id.groups_found);
    assert_int_equal(id.groups.nelts, 0);
}


static void
test_malformed_or_unbounded_claims_are_refused(void **state)
{
    char                err[ERRLEN];
    char               *json, *p;
    size_t              i;
    aa_oidc_identity_t  id;

    static const char  *bad[] = {
        "{\"groups\":{\"a\":1}}", "{\"groups\":[\"a\",2]}",
        "{\"groups\":7}", "{\"preferred_username\":[\"a\"]}",
        "{\"email\":true}", "{\"name\":{}}",
        "{\"preferred_username\":\"a\\u0000b\"}",
        "{\"groups\":[\"a\\u0000b\"]}",
    };

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(extract(state, bad[i], &default_names, &id, err),
                         AA_DECLINED);
        assert_true(err[0] != '\0');
        assert_false(id.groups_found);
    }

    /* one group more than allowed */
    json = malloc(16 + (AA_OIDC_GROUPS_MAX + 1) * 4);
    assert_non_null(json);
    p = json + sprintf(json, "{\"groups\":[");

    for (i = 0; i <= AA_OIDC_GROUPS_MAX; i++) {
        p += sprintf(p, "%s\"g\"", i ? "," : "");
    }

    strcpy(p, "]}");
    assert_int_equal(extract(state, json, &default_names, &id, err),
                     AA_DECLINED);
    assert_non_null(strstr(err, "more than"));
    free(json);

    /* a group name one byte too long */
    json = malloc(32 + AA_OIDC_GROUP_LEN_MAX);
    assert_non_null(json);
    p = json + sprintf(json, "{\"groups\":[\"");
    memset(p, 'g', AA_OIDC_GROUP_LEN_MAX + 1);
    strcpy(p + AA_OIDC_GROUP_LEN_MAX + 1, "\"]}");
    assert_int_equal(extract(state, json, &default_names, &id, err),
                     AA_DECLINED);
    free(json);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        AA_TEST(test_okta_org_discovery_parses),
        AA_TEST(test_okta_custom_authorization_server_discovery_parses),
        AA_TEST(test_discovery_issuer_must_equal_the_configured_one),
        AA_TEST(test_discovery_loopback_http_is_accepted),
        AA_TEST(test_discovery_plain_http_endpoint_is_refused),
        AA_TEST(test_discovery_missing_or_malformed_fields_are_refused),
        AA_TEST(test_issuer_url_rule),
        AA_TEST(test_pkce_s256_matches_rfc7636_appendix_b),
        AA_TEST(test_pkce_verifier_outside_the_rfc_is_refused),
        AA_TEST(test_random_values_are_long_fresh_and_url_safe),
        AA_TEST(test_authorization_url_is_percent_encoded),
        AA_TEST(test_authorization_url_keeps_an_endpoint_query),
        AA_TEST(test_token_body_for_client_secret_post_and_basic),
        AA_TEST(test_basic_auth_form_encodes_id_and_secret_first),
        AA_TEST(test_token_reply_with_id_token_is_accepted),
        AA_TEST(test_token_error_reply_is_declined_with_its_code),
        AA_TEST(test_token_reply_without_id_token_is_refused),
        AA_TEST(test_claims_with_groups_in_the_id_token),
        AA_TEST(test_okta_groups_only_in_userinfo),
        AA_TEST(test_userinfo_sub_different_from_the_id_token_is_refused),
        AA_TEST(test_userinfo_does_not_override_the_id_token),
        AA_TEST(test_configured_claim_names_and_string_groups),
        AA_TEST(test_malformed_or_unbounded_claims_are_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
