/*
 * OIDC relying-party protocol helpers: what the login and callback
 * handlers build and parse, kept free of nginx and of I/O so that each
 * rule is unit-tested and fuzzed on its own.
 */

#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "aa_codec.h"
#include "aa_oidc.h"


#define AA_OIDC_CLAIM_NAME_MAX  128
#define AA_OIDC_RANDOM_MAX      96      /* 128 base64url characters */
#define AA_OIDC_ERR_TEXT        128     /* IdP error text kept in err */


typedef struct {
    const char      *name;
    const aa_str_t  *value;
} aa_oidc_param_t;


static int aa_oidc_loopback_ok(const u_char *auth, size_t len);
static int aa_oidc_host_ok(const u_char *auth, size_t len);
static int aa_oidc_port_ok(const u_char *p, size_t len);
static json_t *aa_oidc_load(const u_char *json, size_t len, size_t max,
    const char *what, char *err, size_t errlen);
static int aa_oidc_get_url(json_t *root, const char *name, int required,
    aa_alloc_t *a, aa_str_t *out, char *err, size_t errlen);
static int aa_oidc_get_string(json_t *root, const char *name, size_t max,
    aa_alloc_t *a, aa_str_t *out);
static size_t aa_oidc_escape(u_char *dst, const u_char *src, size_t len,
    int form);
static int aa_oidc_query(const u_char *prefix, size_t prefix_len,
    const aa_oidc_param_t *params, size_t n, int form, aa_alloc_t *a,
    aa_str_t *out);
static void aa_oidc_clean_text(char *dst, size_t size, const char *src);
static int aa_oidc_claim_name(const aa_str_t *name, const char *def,
    char *buf);
static int aa_oidc_identity_fill(json_t *root,
    const aa_oidc_claim_names_t *names, aa_alloc_t *a,
    aa_oidc_identity_t *id, char *err, size_t errlen);
static int aa_oidc_groups(json_t *v, const char *claim, aa_alloc_t *a,
    aa_oidc_identity_t *id, char *err, size_t errlen);


int
aa_oidc_url_ok(const u_char *url, size_t len)
{
    size_t   i, start, end;

    if (len == 0 || len > AA_OIDC_URL_MAX) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (url[i] <= 0x20 || url[i] >= 0x7f || url[i] == '#'
            || url[i] == '\\')
        {
            return 0;
        }
    }

    if (len > 8 && memcmp(url, "https://", 8) == 0) {
        start = 8;

    } else if (len > 7 && memcmp(url, "http://", 7) == 0) {
        start = 7;

    } else {
        return 0;
    }

    for (end = start; end < len; end++) {
        if (url[end] == '/' || url[end] == '?') {
            break;
        }
    }

    if (end == start || memchr(url + start, '@', end - start) != NULL) {
        return 0;
    }

    if (start == 7) {
        return aa_oidc_loopback_ok(url + start, end - start);
    }

    return aa_oidc_host_ok(url + start, end - start);
}


/* http:// only to 127.0.0.1, [::1] or localhost, and with a port. */
static int
aa_oidc_loopback_ok(const u_char *auth, size_t len)
{
    size_t       i, n;
    const char  *hosts[] = { "127.0.0.1:", "[::1]:", "localhost:" };

    for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
        n = strlen(hosts[i]);

        if (len > n && memcmp(auth, hosts[i], n) == 0) {
            return aa_oidc_port_ok(auth + n, len - n);
        }
    }

    return 0;
}


/* A DNS name, IPv4 address or [IPv6] literal, then an optional port. */
static int
aa_oidc_host_ok(const u_char *auth, size_t len)
{
    size_t  i;

    if (auth[0] == '[') {
        for (i = 1; i < len && auth[i] != ']'; i++) {
            if (aa_hex_digit(auth[i]) < 0 && auth[i] != ':'
                && auth[i] != '.')
            {
                return 0;
            }
        }

        if (i == len || i == 1) {
            return 0;
        }

        i++;

    } else {
        for (i = 0; i < len && auth[i] != ':'; i++) {
            if (!((auth[i] >= 'a' && auth[i] <= 'z')
                  || (auth[i] >= 'A' && auth[i] <= 'Z')
                  || (auth[i] >= '0' && auth[i] <= '9')
                  || auth[i] == '-' || auth[i] == '.'))
            {
                return 0;
            }
        }

        if (i == 0) {
            return 0;
        }
    }

    if (i == len) {
        return 1;
    }

    if (auth[i] != ':') {
        return 0;
    }

    return aa_oidc_port_ok(auth + i + 1, len - i - 1);
}


static int
aa_oidc_port_ok(const u_char *p, size_t len)
{
    size_t    i;
    unsigned  port;

    if (len == 0 || len > 5) {
        return 0;
    }

    port = 0;

    for (i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return 0;
        }

        port = port * 10 + (p[i] - '0');
    }

    return port >= 1 && port <= 65535;
}


int
aa_oidc_discovery_parse(const u_char *json, size_t len,
    const aa_str_t *issuer, aa_alloc_t *a, aa_oidc_discovery_t *out,
    char *err, size_t errlen)
{
    int       rc;
    size_t    i, n;
    json_t   *root, *algs, *v;
    aa_str_t  *alg;

    memset(out, 0, sizeof(aa_oidc_discovery_t));

    root = aa_oidc_load(json, len, AA_OIDC_DISCOVERY_MAX, "discovery",
                        err, errlen);
    if (root == NULL) {
        return AA_DECLINED;
    }

    rc = aa_oidc_get_url(root, "issuer", 1, a, &out->issuer, err, errlen);
    if (rc != AA_OK) {
        goto failed;
    }

    rc = AA_DECLINED;

    if (out->issuer.len != issuer->len
        || memcmp(out->issuer.data, issuer->data, issuer->len) != 0)
    {
        aa_set_err(err, errlen, "discovery \"issuer\" differs from the "
                   "configured issuer");
        goto failed;
    }

    rc = aa_oidc_get_url(root, "authorization_endpoint", 1, a,
                         &out->authorization_endpoint, err, errlen);
    if (rc != AA_OK) {
        goto failed;
    }

    rc = aa_oidc_get_url(root, "token_endpoint", 1, a, &out->token_endpoint,
                         err, errlen);
    if (rc != AA_OK) {
        goto failed;
    }

    rc = aa_oidc_get_url(root, "jwks_uri", 1, a, &out->jwks_uri, err,
                         errlen);
    if (rc != AA_OK) {
        goto failed;
    }

    rc = aa_oidc_get_url(root, "userinfo_endpoint", 0, a,
                         &out->userinfo_endpoint, err, errlen);
    if (rc != AA_OK) {
        goto failed;
    }

    rc = aa_oidc_get_url(root, "end_session_endpoint", 0, a,
                         &out->end_session_endpoint, err, errlen);
    if (rc != AA_OK) {
        goto failed;
    }

    rc = AA_DECLINED;

    algs = json_object_get(root, "id_token_signing_alg_values_supported");
    n = json_array_size(algs);

    if (!json_is_array(algs) || n == 0 || n > AA_OIDC_ALGS_MAX) {
        aa_set_err(err, errlen, "discovery "
                   "\"id_token_signing_alg_values_supported\" is not an "
                   "array of 1 to %d names", AA_OIDC_ALGS_MAX);
        goto failed;
    }

    out->signing_algs.elts = aa_alloc(a, n * sizeof(aa_str_t));
    if (out->signing_algs.elts == NULL) {
        goto nomem;
    }

    for (i = 0; i < n; i++) {
        v = json_array_get(algs, i);
        alg = &out->signing_algs.elts[i];

        if (!json_is_string(v) || json_string_length(v) == 0
            || json_string_length(v) > 16)
        {
            aa_set_err(err, errlen, "discovery "
                       "\"id_token_signing_alg_values_supported\" has a "
                       "member that is no algorithm name");
            goto failed;
        }

        alg->len = json_string_length(v);
        alg->data = aa_strdup(a, (const u_char *) json_string_value(v),
                              alg->len);
        if (alg->data == NULL) {
            goto nomem;
        }
    }

    out->signing_algs.nelts = n;

    json_decref(root);

    return AA_OK;

nomem:

    aa_set_err(err, errlen, "out of memory");
    rc = AA_ERROR;

failed:

    json_decref(root);
    memset(out, 0, sizeof(aa_oidc_discovery_t));

    return rc;
}


static json_t *
aa_oidc_load(const u_char *json, size_t len, size_t max, const char *what,
    char *err, size_t errlen)
{
    json_t        *root;
    json_error_t   jerr;

    if (len > max) {
        aa_set_err(err, errlen, "%s reply larger than %zu bytes", what, max);
        return NULL;
    }

    root = json_loadb((const char *) json, len,
                      JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (root == NULL) {
        aa_set_err(err, errlen, "%s reply is not JSON: line %d: %s", what,
                   jerr.line, jerr.text);
        return NULL;
    }

    if (!json_is_object(root)) {
        json_decref(root);
        aa_set_err(err, errlen, "%s reply is not a JSON object", what);
        return NULL;
    }

    return root;
}


static int
aa_oidc_get_url(json_t *root, const char *name, int required, aa_alloc_t *a,
    aa_str_t *out, char *err, size_t errlen)
{
    json_t  *v;

    v = json_object_get(root, name);

    if (v == NULL || json_is_null(v)) {
        if (!required) {
            return AA_OK;
        }

        aa_set_err(err, errlen, "discovery \"%s\" missing", name);
        return AA_DECLINED;
    }

    if (!json_is_string(v)
        || !aa_oidc_url_ok((const u_char *) json_string_value(v),
                           json_string_length(v)))
    {
        aa_set_err(err, errlen, "discovery \"%s\" is not an https:// URL "
                   "(or http:// to a loopback address with a port)", name);
        return AA_DECLINED;
    }

    out->len = json_string_length(v);
    out->data = aa_strdup(a, (const u_char *) json_string_value(v),
                          out->len);
    if (out->data == NULL) {
        aa_set_err(err, errlen, "out of memory");
        return AA_ERROR;
    }

    return AA_OK;
}


int
aa_oidc_random(size_t nbytes, aa_alloc_t *a, aa_str_t *out)
{
    u_char  buf[AA_OIDC_RANDOM_MAX];

    if (nbytes < 16 || nbytes > AA_OIDC_RANDOM_MAX) {
        return AA_ERROR;
    }

    if (RAND_bytes(buf, (int) nbytes) != 1) {
        return AA_ERROR;
    }

    out->data = aa_alloc(a, aa_base64url_len(nbytes) + 1);
    if (out->data == NULL) {
        OPENSSL_cleanse(buf, sizeof(buf));
        return AA_ERROR;
    }

    out->len = aa_base64url_encode(out->data, buf, nbytes);
    out->data[out->len] = '\0';

    OPENSSL_cleanse(buf, sizeof(buf));

    return AA_OK;
}


int
aa_oidc_pkce_challenge(const aa_str_t *verifier, aa_alloc_t *a,
    aa_str_t *challenge)
{
    u_char    c;
    size_t    i;
    u_char    md[EVP_MAX_MD_SIZE];
    unsigned  md_len;

    if (verifier->len < 43 || verifier->len > 128) {
        return AA_DECLINED;
    }

    for (i = 0; i < verifier->len; i++) {
        c = verifier->data[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
              || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'
              || c == '~'))
        {
            return AA_DECLINED;
        }
    }

    if (EVP_Digest(verifier->data, verifier->len, md, &md_len, EVP_sha256(),
                   NULL) != 1)
    {
        return AA_ERROR;
    }

    challenge->data = aa_alloc(a, aa_base64url_len(md_len) + 1);
    if (challenge->data == NULL) {
        return AA_ERROR;
    }

    challenge->len = aa_base64url_encode(challenge->data, md, md_len);
    challenge->data[challenge->len] = '\0';

    return AA_OK;
}


/*
 * Percent-encodes all but RFC 3986 unreserved characters; with form, a
 * space becomes '+' (application/x-www-form-urlencoded).  With dst ==
 * NULL returns the size that would be written.
 */
static size_t
aa_oidc_escape(u_char *dst, const u_char *src, size_t len, int form)
{
    u_char        c;
    size_t        i, n;
    static const  u_char  hex[] = "0123456789ABCDEF";

    n = 0;

    for (i = 0; i < len; i++) {
        c = src[i];

        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
            || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'
            || c == '~')
        {
            if (dst) {
                dst[n] = c;
            }

            n++;
            continue;
        }

        if (c == ' ' && form) {
            if (dst) {
                dst[n] = '+';
            }

            n++;
            continue;
        }

        if (dst) {
            dst[n] = '%';
            dst[n + 1] = hex[c >> 4];
            dst[n + 2] = hex[c & 0x0f];
        }

        n += 3;
    }

    return n;
}


/* prefix, then name=value pairs joined by '&'. */
static int
aa_oidc_query(const u_char *prefix, size_t prefix_len,
    const aa_oidc_param_t *params, size_t n, int form, aa_alloc_t *a,
    aa_str_t *out)
{
    size_t   i, size;
    u_char  *p;

    size = prefix_len;

    for (i = 0; i < n; i++) {
        if (params[i].value->len == 0) {
            return AA_ERROR;
        }

        size += (i ? 1 : 0) + strlen(params[i].name) + 1
                + aa_oidc_escape(NULL, params[i].value->data,
                                 params[i].value->len, form);
    }

    out->data = aa_alloc(a, size + 1);
    if (out->data == NULL) {
        return AA_ERROR;
    }

    p = out->data;

    if (prefix_len) {
        memcpy(p, prefix, prefix_len);
        p += prefix_len;
    }

    for (i = 0; i < n; i++) {
        if (i) {
            *p++ = '&';
        }

        memcpy(p, params[i].name, strlen(params[i].name));
        p += strlen(params[i].name);
        *p++ = '=';
        p += aa_oidc_escape(p, params[i].value->data, params[i].value->len,
                            form);
    }

    *p = '\0';
    out->len = p - out->data;

    return AA_OK;
}


int
aa_oidc_authorization_url(const aa_oidc_authz_t *p, aa_alloc_t *a,
    aa_str_t *url)
{
    int       rc;
    u_char   *prefix;
    size_t    len;
    aa_str_t  code = aa_string("code");
    aa_str_t  s256 = aa_string("S256");

    aa_oidc_param_t  params[] = {
        { "response_type", &code },
        { "client_id", &p->client_id },
        { "redirect_uri", &p->redirect_uri },
        { "scope", &p->scope },
        { "state", &p->state },
        { "nonce", &p->nonce },
        { "code_challenge", &p->code_challenge },
        { "code_challenge_method", &s256 },
    };

    len = p->authorization_endpoint.len;
    if (len == 0) {
        return AA_ERROR;
    }

    prefix = malloc(len + 1);
    if (prefix == NULL) {
        return AA_ERROR;
    }

    /* an endpoint may carry a query of its own (OAuth 2.0, 3.1) */
    memcpy(prefix, p->authorization_endpoint.data, len);
    prefix[len] = memchr(prefix, '?', len) ? '&' : '?';

    rc = aa_oidc_query(prefix, len + 1, params,
                       sizeof(params) / sizeof(params[0]), 0, a, url);

    free(prefix);

    return rc;
}


int
aa_oidc_token_body(const aa_oidc_token_req_t *r, aa_alloc_t *a,
    aa_str_t *body)
{
    aa_str_t  grant = aa_string("authorization_code");

    aa_oidc_param_t  params[] = {
        { "grant_type", &grant },
        { "code", &r->code },
        { "redirect_uri", &r->redirect_uri },
        { "code_verifier", &r->code_verifier },
        { "client_id", &r->client_id },
        { "client_secret", &r->client_secret },
    };

    return aa_oidc_query(NULL, 0, params,
                         sizeof(params) / sizeof(params[0])
                         - (r->secret_in_body ? 0 : 1), 1, a, body);
}


int
aa_oidc_basic_auth(const aa_str_t *client_id, const aa_str_t *secret,
    aa_alloc_t *a, aa_str_t *value)
{
    int      n;
    u_char  *raw, *p;
    size_t   raw_len;

    if (client_id->len == 0 || secret->len == 0) {
        return AA_ERROR;
    }

    raw_len = aa_oidc_escape(NULL, client_id->data, client_id->len, 1) + 1
              + aa_oidc_escape(NULL, secret->data, secret->len, 1);

    if (raw_len > 65536) {
        return AA_ERROR;
    }

    raw = malloc(raw_len);
    if (raw == NULL) {
        return AA_ERROR;
    }

    p = raw + aa_oidc_escape(raw, client_id->data, client_id->len, 1);
    *p++ = ':';
    aa_oidc_escape(p, secret->data, secret->len, 1);

    value->data = aa_alloc(a, sizeof("Basic ") - 1 + (raw_len + 2) / 3 * 4
                              + 1);
    if (value->data == NULL) {
        OPENSSL_cleanse(raw, raw_len);
        free(raw);
        return AA_ERROR;
    }

    memcpy(value->data, "Basic ", sizeof("Basic ") - 1);
    n = EVP_EncodeBlock(value->data + sizeof("Basic ") - 1, raw,
                        (int) raw_len);

    OPENSSL_cleanse(raw, raw_len);
    free(raw);

    value->len = sizeof("Basic ") - 1 + (size_t) n;

    return AA_OK;
}


int
aa_oidc_token_response_parse(const u_char *json, size_t len,
    aa_alloc_t *a, aa_oidc_tokens_t *out, char *err, size_t errlen)
{
    int          rc;
    char         code[AA_OIDC_ERR_TEXT], desc[AA_OIDC_ERR_TEXT];
    json_t      *root, *v;
    const char  *s;

    memset(out, 0, sizeof(aa_oidc_tokens_t));

    root = aa_oidc_load(json, len, AA_OIDC_RESPONSE_MAX, "token endpoint",
                        err, errlen);
    if (root == NULL) {
        return AA_DECLINED;
    }

    rc = AA_DECLINED;

    v = json_object_get(root, "error");
    if (v != NULL) {
        s = json_string_value(v);
        aa_oidc_clean_text(code, sizeof(code), s ? s : "(not a string)");

        s = json_string_value(json_object_get(root, "error_description"));
        aa_oidc_clean_text(desc, sizeof(desc), s ? s : "");

        aa_set_err(err, errlen, "token endpoint error \"%s\"%s%s%s", code,
                   desc[0] ? " (" : "", desc, desc[0] ? ")" : "");
        goto done;
    }

    rc = aa_oidc_get_string(root, "id_token", 0, a, &out->id_token);
    if (rc == AA_ERROR) {
        goto nomem;
    }

    if (rc != AA_OK || out->id_token.len == 0) {
        aa_set_err(err, errlen, "token endpoint reply has no \"id_token\"");
        rc = AA_DECLINED;
        goto done;
    }

    rc = aa_oidc_get_string(root, "access_token", 0, a, &out->access_token);
    if (rc == AA_OK) {
        rc = aa_oidc_get_string(root, "token_type", 64, a, &out->token_type);
    }

    if (rc == AA_ERROR) {
        goto nomem;
    }

    if (rc != AA_OK) {
        aa_set_err(err, errlen, "token endpoint reply has a malformed "
                   "\"access_token\" or \"token_type\"");
        goto done;
    }

    v = json_object_get(root, "expires_in");
    if (json_is_integer(v) && json_integer_value(v) > 0) {
        out->expires_in = (int64_t) json_integer_value(v);
    }

    rc = AA_OK;
    goto done;

nomem:

    aa_set_err(err, errlen, "out of memory");
    rc = AA_ERROR;

done:

    if (rc != AA_OK) {
        memset(out, 0, sizeof(aa_oidc_tokens_t));
    }

    json_decref(root);

    return rc;
}


/*
 * AA_OK with the string (absent: empty), AA_DECLINED for another type, an
 * embedded NUL or more than max bytes (0: AA_OIDC_RESPONSE_MAX), AA_ERROR.
 */
static int
aa_oidc_get_string(json_t *root, const char *name, size_t max,
    aa_alloc_t *a, aa_str_t *out)
{
    json_t  *v;

    out->len = 0;
    out->data = NULL;

    v = json_object_get(root, name);
    if (v == NULL || json_is_null(v)) {
        return AA_OK;
    }

    if (!json_is_string(v)
        || json_string_length(v) != strlen(json_string_value(v))
        || json_string_length(v) > (max ? max : AA_OIDC_RESPONSE_MAX))
    {
        return AA_DECLINED;
    }

    out->len = json_string_length(v);
    out->data = aa_strdup(a, (const u_char *) json_string_value(v), out->len);
    if (out->data == NULL) {
        out->len = 0;
        return AA_ERROR;
    }

    return AA_OK;
}


/* The IdP's own words go to our log: printable ASCII only, and cut. */
static void
aa_oidc_clean_text(char *dst, size_t size, const char *src)
{
    size_t  i, n;

    n = 0;

    for (i = 0; src[i] != '\0' && n + 1 < size; i++) {
        if (src[i] >= 0x20 && src[i] < 0x7f && src[i] != '"') {
            dst[n++] = src[i];
        }
    }

    dst[n] = '\0';
}


int
aa_oidc_claims_extract(const u_char *json, size_t len,
    const aa_oidc_claim_names_t *names, aa_alloc_t *a,
    aa_oidc_identity_t *id, char *err, size_t errlen)
{
    int      rc;
    json_t  *root;

    memset(id, 0, sizeof(aa_oidc_identity_t));

    root = aa_oidc_load(json, len, AA_OIDC_RESPONSE_MAX, "ID token claims",
                        err, errlen);
    if (root == NULL) {
        return AA_DECLINED;
    }

    rc = aa_oidc_identity_fill(root, names, a, id, err, errlen);

    json_decref(root);

    if (rc != AA_OK) {
        memset(id, 0, sizeof(aa_oidc_identity_t));
    }

    return rc;
}


int
aa_oidc_userinfo_merge(const u_char *json, size_t len,
    const aa_str_t *id_token_sub, const aa_oidc_claim_names_t *names,
    aa_alloc_t *a, aa_oidc_identity_t *id, char *err, size_t errlen)
{
    int                 rc;
    json_t             *root, *sub;
    aa_oidc_identity_t  merged;

    root = aa_oidc_load(json, len, AA_OIDC_RESPONSE_MAX, "userinfo", err,
                        errlen);
    if (root == NULL) {
        return AA_DECLINED;
    }

    rc = AA_DECLINED;

    sub = json_object_get(root, "sub");

    if (!json_is_string(sub)) {
        aa_set_err(err, errlen, "userinfo \"sub\" missing");
        goto done;
    }

    if (id_token_sub->len == 0 || json_string_length(sub) != id_token_sub->len
        || memcmp(json_string_value(sub), id_token_sub->data,
                  id_token_sub->len) != 0)
    {
        aa_set_err(err, errlen, "userinfo \"sub\" differs from the ID "
                   "token's");
        goto done;
    }

    /* what the ID token said stays; userinfo only fills the gaps */
    merged = *id;

    rc = aa_oidc_identity_fill(root, names, a, &merged, err, errlen);
    if (rc == AA_OK) {
        *id = merged;
    }

done:

    json_decref(root);

    return rc;
}


/* name (or def when empty) NUL-terminated in buf; 0 when too long. */
static int
aa_oidc_claim_name(const aa_str_t *name, const char *def, char *buf)
{
    if (name == NULL || name->len == 0) {
        strcpy(buf, def);
        return 1;
    }

    if (name->len >= AA_OIDC_CLAIM_NAME_MAX
        || memchr(name->data, '\0', name->len) != NULL)
    {
        return 0;
    }

    memcpy(buf, name->data, name->len);
    buf[name->len] = '\0';

    return 1;
}


/*
 * Sets each of id's fields that is still empty from root; a username taken
 * from the email fallback gives way to a real username claim.
 */
static int
aa_oidc_identity_fill(json_t *root, const aa_oidc_claim_names_t *names,
    aa_alloc_t *a, aa_oidc_identity_t *id, char *err, size_t errlen)
{
    int        rc;
    char       cname[4][AA_OIDC_CLAIM_NAME_MAX];
    size_t     i;
    aa_str_t   v;
    aa_str_t  *field[3];

    if (!aa_oidc_claim_name(&names->username, "preferred_username",
                            cname[0])
        || !aa_oidc_claim_name(&names->email, "email", cname[1])
        || !aa_oidc_claim_name(&names->name, "name", cname[2])
        || !aa_oidc_claim_name(&names->groups, "groups", cname[3]))
    {
        aa_set_err(err, errlen, "a configured claim name is longer than %d "
                   "bytes", AA_OIDC_CLAIM_NAME_MAX - 1);
        return AA_DECLINED;
    }

    field[0] = &id->username;
    field[1] = &id->email;
    field[2] = &id->name;

    for (i = 0; i < 3; i++) {
        if (field[i]->len && !(i == 0 && id->username_from_email)) {
            continue;
        }

        rc = aa_oidc_get_string(root, cname[i], AA_OIDC_CLAIM_MAX, a, &v);
        if (rc == AA_ERROR) {
            aa_set_err(err, errlen, "out of memory");
            return AA_ERROR;
        }

        if (rc != AA_OK) {
            aa_set_err(err, errlen, "claim \"%s\" is not a string of at "
                       "most %d bytes", cname[i], AA_OIDC_CLAIM_MAX);
            return AA_DECLINED;
        }

        if (v.len) {
            *field[i] = v;

            if (i == 0) {
                id->username_from_email = 0;
            }
        }
    }

    if (id->username.len == 0 && id->email.len) {
        id->username = id->email;
        id->username_from_email = 1;
    }

    if (!id->groups_found && json_object_get(root, cname[3]) != NULL) {
        return aa_oidc_groups(json_object_get(root, cname[3]), cname[3], a,
                              id, err, errlen);
    }

    return AA_OK;
}


static int
aa_oidc_groups(json_t *v, const char *claim, aa_alloc_t *a,
    aa_oidc_identity_t *id, char *err, size_t errlen)
{
    size_t     i, n, len;
    json_t    *g;
    aa_str_t  *group;

    if (json_is_null(v)) {
        return AA_OK;
    }

    if (json_is_string(v)) {
        n = 1;

    } else if (json_is_array(v)) {
        n = json_array_size(v);

    } else {
        aa_set_err(err, errlen, "claim \"%s\" is neither a string nor an "
                   "array", claim);
        return AA_DECLINED;
    }

    if (n > AA_OIDC_GROUPS_MAX) {
        aa_set_err(err, errlen, "claim \"%s\" has more than %d groups",
                   claim, AA_OIDC_GROUPS_MAX);
        return AA_DECLINED;
    }

    id->groups.elts = aa_alloc(a, (n ? n : 1) * sizeof(aa_str_t));
    if (id->groups.elts == NULL) {
        aa_set_err(err, errlen, "out of memory");
        return AA_ERROR;
    }

    id->groups.nelts = 0;

    for (i = 0; i < n; i++) {
        g = json_is_array(v) ? json_array_get(v, i) : v;

        if (!json_is_string(g)) {
            aa_set_err(err, errlen, "claim \"%s\" has a member that is not "
                       "a string", claim);
            return AA_DECLINED;
        }

        len = json_string_length(g);

        if (len > AA_OIDC_GROUP_LEN_MAX
            || len != strlen(json_string_value(g)))
        {
            aa_set_err(err, errlen, "claim \"%s\" has a group longer than "
                       "%d bytes or with a NUL", claim,
                       AA_OIDC_GROUP_LEN_MAX);
            return AA_DECLINED;
        }

        if (len == 0) {
            continue;
        }

        group = &id->groups.elts[id->groups.nelts];
        group->len = len;
        group->data = aa_strdup(a, (const u_char *) json_string_value(g),
                                len);
        if (group->data == NULL) {
            aa_set_err(err, errlen, "out of memory");
            return AA_ERROR;
        }

        id->groups.nelts++;
    }

    id->groups_found = 1;

    return AA_OK;
}
