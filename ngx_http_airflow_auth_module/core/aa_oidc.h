/*
 * OIDC relying-party protocol helpers, without I/O: the discovery document,
 * PKCE, state and nonce, the authorization URL, the token request and its
 * response, and the identity claims of an ID token or a userinfo reply.
 */

#ifndef AA_OIDC_H
#define AA_OIDC_H

#include "aa_core.h"


#define AA_OIDC_DISCOVERY_MAX   262144   /* bytes of discovery JSON */
#define AA_OIDC_RESPONSE_MAX    262144   /* token and userinfo replies */
#define AA_OIDC_URL_MAX         2048     /* an endpoint or issuer URL */
#define AA_OIDC_ALGS_MAX        32
#define AA_OIDC_CLAIM_MAX       1024     /* username, email, name */
#define AA_OIDC_GROUPS_MAX      256
#define AA_OIDC_GROUP_LEN_MAX   256

#define AA_OIDC_RANDOM_BYTES    32       /* state and nonce: 256 bits */
#define AA_OIDC_VERIFIER_BYTES  48       /* PKCE verifier: 64 characters */


typedef struct {
    aa_str_t        issuer;
    aa_str_t        authorization_endpoint;
    aa_str_t        token_endpoint;
    aa_str_t        jwks_uri;
    aa_str_t        userinfo_endpoint;       /* empty when not published */
    aa_str_t        end_session_endpoint;    /* empty when not published */
    aa_strlist_t    signing_algs;  /* id_token_signing_alg_values_supported */
} aa_oidc_discovery_t;


typedef struct {
    aa_str_t        authorization_endpoint;
    aa_str_t        client_id;
    aa_str_t        redirect_uri;
    aa_str_t        scope;           /* "openid ..." */
    aa_str_t        state;
    aa_str_t        nonce;
    aa_str_t        code_challenge;  /* S256 */
} aa_oidc_authz_t;


typedef struct {
    aa_str_t        code;
    aa_str_t        redirect_uri;
    aa_str_t        code_verifier;
    aa_str_t        client_id;
    aa_str_t        client_secret;
    unsigned        secret_in_body:1;    /* client_secret_post */
} aa_oidc_token_req_t;


typedef struct {
    aa_str_t        id_token;
    aa_str_t        access_token;    /* empty when absent */
    aa_str_t        token_type;      /* empty when absent */
    int64_t         expires_in;      /* 0 when absent */
} aa_oidc_tokens_t;


/* Claim names; an empty one takes its default. */
typedef struct {
    aa_str_t        username;        /* preferred_username, then email */
    aa_str_t        email;           /* email */
    aa_str_t        name;            /* name */
    aa_str_t        groups;          /* groups */
} aa_oidc_claim_names_t;


typedef struct {
    aa_str_t        username;        /* empty when no claim gave one */
    aa_str_t        email;
    aa_str_t        name;
    aa_strlist_t    groups;
    unsigned        groups_found:1;  /* the groups claim was present */
    unsigned        username_from_email:1;   /* the fallback was used */
} aa_oidc_identity_t;


/*
 * 1 when url may be an issuer or an endpoint: https://host..., or http://
 * to a loopback host with a port (127.0.0.1, [::1], localhost).  No
 * userinfo, fragment, whitespace or control characters.
 */
int aa_oidc_url_ok(const u_char *url, size_t len);

/*
 * Parses a discovery document.  Its "issuer" must equal the configured
 * issuer byte for byte (OIDC Discovery 4.3), every endpoint must pass
 * aa_oidc_url_ok, and id_token_signing_alg_values_supported must be a
 * non-empty array of strings.  AA_OK, AA_DECLINED with err, AA_ERROR.
 */
int aa_oidc_discovery_parse(const u_char *json, size_t len,
    const aa_str_t *issuer, aa_alloc_t *a, aa_oidc_discovery_t *out,
    char *err, size_t errlen);

/*
 * nbytes random bytes (RAND_bytes) as unpadded base64url, for state and
 * nonce (AA_OIDC_RANDOM_BYTES) and the PKCE verifier
 * (AA_OIDC_VERIFIER_BYTES).  AA_OK or AA_ERROR.
 */
int aa_oidc_random(size_t nbytes, aa_alloc_t *a, aa_str_t *out);

/*
 * The S256 code_challenge of a verifier (RFC 7636 4.2); the verifier must
 * be 43-128 unreserved characters.  AA_OK, AA_DECLINED, AA_ERROR.
 */
int aa_oidc_pkce_challenge(const aa_str_t *verifier, aa_alloc_t *a,
    aa_str_t *challenge);

/* The authorization request URL, every parameter percent-encoded. */
int aa_oidc_authorization_url(const aa_oidc_authz_t *p, aa_alloc_t *a,
    aa_str_t *url);

/*
 * The application/x-www-form-urlencoded body of the authorization-code
 * token request; client_secret is in it only with secret_in_body.
 */
int aa_oidc_token_body(const aa_oidc_token_req_t *r, aa_alloc_t *a,
    aa_str_t *body);

/*
 * The Authorization header value for client_secret_basic: "Basic " and
 * base64(urlencode(id) ":" urlencode(secret)), as RFC 6749 2.3.1 says.
 */
int aa_oidc_basic_auth(const aa_str_t *client_id, const aa_str_t *secret,
    aa_alloc_t *a, aa_str_t *value);

/*
 * Parses a token endpoint reply.  An OAuth error reply is AA_DECLINED with
 * its error code (and a cleaned, cut description) in err; a reply without
 * id_token is AA_DECLINED too.
 */
int aa_oidc_token_response_parse(const u_char *json, size_t len,
    aa_alloc_t *a, aa_oidc_tokens_t *out, char *err, size_t errlen);

/*
 * Takes the identity claims from a verified ID token payload.  A claim
 * that is absent leaves its field empty (groups_found 0), so that userinfo
 * may fill it; a claim of the wrong type or over its bounds is AA_DECLINED.
 */
int aa_oidc_claims_extract(const u_char *json, size_t len,
    const aa_oidc_claim_names_t *names, aa_alloc_t *a,
    aa_oidc_identity_t *id, char *err, size_t errlen);

/*
 * Fills what the ID token left empty from a userinfo reply, whose "sub"
 * must equal the ID token's (OIDC Core 5.3.2), else AA_DECLINED.
 */
int aa_oidc_userinfo_merge(const u_char *json, size_t len,
    const aa_str_t *id_token_sub, const aa_oidc_claim_names_t *names,
    aa_alloc_t *a, aa_oidc_identity_t *id, char *err, size_t errlen);

#endif /* AA_OIDC_H */
