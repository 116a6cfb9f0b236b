/*
 * The session secrets at work: the key ring from the secret file, the
 * session cookie (id and HMAC, checked before any Redis call) and AES-256-GCM
 * sealing of the record kept in Redis.
 *
 * All three keys of a ring entry come from the raw secret through
 * HKDF-SHA256 with an empty salt and a distinct info string, so the MAC key
 * and the encryption key are independent and the key id says nothing about
 * either.
 */

#include <limits.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "aa_codec.h"
#include "aa_seal.h"


/* A longer line is a mistake, not a key; it also bounds the stack buffer. */
#define AA_SECRET_MAX_LEN     1024
#define AA_SECRET_MAX_LINE    (((AA_SECRET_MAX_LEN + 2) / 3) * 4)

#define AA_B64URL_ID_LEN      aa_base64url_len(AA_SESSION_ID_LEN)
#define AA_B64URL_MAC_LEN     aa_base64url_len(AA_MAC_LEN)

/* Big enough for any sealed record the session code builds. */
#define AA_SEAL_MAX_IN        (INT_MAX / 2)


static int aa_hkdf(const u_char *secret, size_t len, const char *info,
    u_char *out, size_t out_len);
static int aa_key_derive(aa_key_t *key, const u_char *secret, size_t len);
static int aa_key_mac(aa_keyring_t *kr, size_t i);
static int aa_keyring_line(aa_keyring_t *kr, const u_char *p, size_t len,
    size_t lineno, char *err, size_t errlen);
static int aa_cookie_macs(const aa_keyring_t *kr, const u_char *id,
    u_char macs[][AA_MAC_LEN], size_t n);
static int aa_base64url_strict(u_char *dst, size_t dst_len,
    const u_char *src, size_t len);
static int aa_unseal_key(const aa_key_t *key, const u_char *aad,
    size_t aad_len, const u_char *in, size_t len, u_char *out);


static int
aa_hkdf(const u_char *secret, size_t len, const char *info, u_char *out,
    size_t out_len)
{
    int            rc;
    EVP_KDF       *kdf;
    OSSL_PARAM     params[4];
    EVP_KDF_CTX   *kctx;

    kdf = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_HKDF, NULL);
    if (kdf == NULL) {
        return AA_ERROR;
    }

    kctx = EVP_KDF_CTX_new(kdf);
    EVP_KDF_free(kdf);

    if (kctx == NULL) {
        return AA_ERROR;
    }

    /* no salt parameter: RFC 5869 treats it as HashLen zero bytes */
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
                                                 (char *) "SHA256", 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
                                                  (void *) secret, len);
    params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
                                                  (void *) info,
                                                  strlen(info));
    params[3] = OSSL_PARAM_construct_end();

    rc = EVP_KDF_derive(kctx, out, out_len, params) == 1 ? AA_OK : AA_ERROR;

    EVP_KDF_CTX_free(kctx);

    return rc;
}


static int
aa_key_derive(aa_key_t *key, const u_char *secret, size_t len)
{
    if (aa_hkdf(secret, len, "airflow-auth mac v1", key->mac_key,
                sizeof(key->mac_key))
        != AA_OK)
    {
        return AA_ERROR;
    }

    if (aa_hkdf(secret, len, "airflow-auth enc v1", key->enc_key,
                sizeof(key->enc_key))
        != AA_OK)
    {
        return AA_ERROR;
    }

    return aa_hkdf(secret, len, "airflow-auth kid v1", key->kid,
                   sizeof(key->kid));
}


static int
aa_keyring_line(aa_keyring_t *kr, const u_char *p, size_t len, size_t lineno,
    char *err, size_t errlen)
{
    int      rc;
    size_t   n;
    u_char   secret[AA_SECRET_MAX_LINE * 3 / 4 + 3];

    if (len > AA_SECRET_MAX_LINE) {
        aa_set_err(err, errlen, "line %zu: key is longer than %d bytes",
                   lineno, AA_SECRET_MAX_LEN);
        return AA_ERROR;
    }

    if (kr->nkeys == AA_MAX_KEYS) {
        aa_set_err(err, errlen, "more than %d keys", AA_MAX_KEYS);
        return AA_ERROR;
    }

    if (aa_base64_decode(secret, &n, p, len) != AA_OK) {
        OPENSSL_cleanse(secret, sizeof(secret));
        aa_set_err(err, errlen, "line %zu: not valid base64", lineno);
        return AA_ERROR;
    }

    if (n > AA_SECRET_MAX_LEN) {
        OPENSSL_cleanse(secret, sizeof(secret));
        aa_set_err(err, errlen, "line %zu: key is longer than %d bytes",
                   lineno, AA_SECRET_MAX_LEN);
        return AA_ERROR;
    }

    if (n < AA_SECRET_MIN_LEN) {
        OPENSSL_cleanse(secret, sizeof(secret));
        aa_set_err(err, errlen,
                   "line %zu: key is %zu bytes, at least %d are required",
                   lineno, n, AA_SECRET_MIN_LEN);
        return AA_ERROR;
    }

    rc = aa_key_derive(&kr->keys[kr->nkeys], secret, n);

    OPENSSL_cleanse(secret, sizeof(secret));

    if (rc == AA_OK) {
        rc = aa_key_mac(kr, kr->nkeys);
    }

    if (rc != AA_OK) {
        aa_set_err(err, errlen, "line %zu: key derivation failed", lineno);
        return AA_ERROR;
    }

    kr->nkeys++;

    return AA_OK;
}


int
aa_keyring_load(aa_keyring_t *kr, const u_char *text, size_t len,
    char *err, size_t errlen)
{
    size_t         lineno;
    const u_char  *p, *end, *eol, *s, *e;

    /* kr may hold garbage: nothing in it is freed here */
    memset(kr, 0, sizeof(aa_keyring_t));

    p = text;
    end = text + len;
    lineno = 0;

    while (p < end) {
        lineno++;

        eol = memchr(p, '\n', end - p);
        if (eol == NULL) {
            eol = end;
        }

        s = p;
        e = eol;
        p = (eol < end) ? eol + 1 : end;

        while (s < e && (*s == ' ' || *s == '\t')) {
            s++;
        }

        while (e > s && (e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t')) {
            e--;
        }

        if (s == e || *s == '#') {
            continue;
        }

        if (aa_keyring_line(kr, s, e - s, lineno, err, errlen) != AA_OK) {
            goto failed;
        }
    }

    if (kr->nkeys == 0) {
        aa_set_err(err, errlen, "no key found");
        goto failed;
    }

    return AA_OK;

failed:

    aa_keyring_wipe(kr);

    return AA_ERROR;
}


/* Keys HMAC-SHA256 with key i, once. */
static int
aa_key_mac(aa_keyring_t *kr, size_t i)
{
    EVP_MAC      *mac;
    OSSL_PARAM    params[2];
    EVP_MAC_CTX  *ctx;

    mac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
    if (mac == NULL) {
        return AA_ERROR;
    }

    ctx = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac);

    if (ctx == NULL) {
        return AA_ERROR;
    }

    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                 (char *) "SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();

    if (EVP_MAC_init(ctx, kr->keys[i].mac_key, sizeof(kr->keys[i].mac_key),
                     params)
        != 1)
    {
        EVP_MAC_CTX_free(ctx);
        return AA_ERROR;
    }

    kr->mac[i] = ctx;

    return AA_OK;
}


void
aa_keyring_wipe(aa_keyring_t *kr)
{
    size_t  i;

    for (i = 0; i < AA_MAX_KEYS; i++) {
        if (kr->mac[i]) {
            EVP_MAC_CTX_free(kr->mac[i]);
        }
    }

    OPENSSL_cleanse(kr, sizeof(aa_keyring_t));
}


int
aa_session_id_new(u_char *id)
{
    return RAND_bytes(id, AA_SESSION_ID_LEN) == 1 ? AA_OK : AA_ERROR;
}


/*
 * HMAC-SHA256(mac_key, id) under each of the first n keys of the ring.
 * EVP_MAC_init() with no key starts over with the key the context has.
 */
static int
aa_cookie_macs(const aa_keyring_t *kr, const u_char *id,
    u_char macs[][AA_MAC_LEN], size_t n)
{
    size_t        i, mac_len;
    EVP_MAC_CTX  *ctx;

    for (i = 0; i < n; i++) {
        ctx = kr->mac[i];

        if (ctx == NULL
            || EVP_MAC_init(ctx, NULL, 0, NULL) != 1
            || EVP_MAC_update(ctx, id, AA_SESSION_ID_LEN) != 1
            || EVP_MAC_final(ctx, macs[i], &mac_len, AA_MAC_LEN) != 1
            || mac_len != AA_MAC_LEN)
        {
            return AA_ERROR;
        }
    }

    return AA_OK;
}


int
aa_cookie_make(const aa_keyring_t *kr, const u_char *id, u_char *out)
{
    u_char  *p;
    u_char   mac[1][AA_MAC_LEN];

    if (kr->nkeys == 0) {
        return AA_ERROR;
    }

    if (aa_cookie_macs(kr, id, mac, 1) != AA_OK) {
        return AA_ERROR;
    }

    p = out;
    p += aa_base64url_encode(p, id, AA_SESSION_ID_LEN);
    *p++ = '.';
    aa_base64url_encode(p, mac[0], AA_MAC_LEN);

    return AA_OK;
}


/*
 * Decodes exactly dst_len bytes from unpadded base64url and refuses every
 * other spelling (the other alphabet, padding, stray low bits in the last
 * character), so a cookie has one encoding and cannot be varied.
 */
static int
aa_base64url_strict(u_char *dst, size_t dst_len, const u_char *src,
    size_t len)
{
    size_t    i, n;
    u_char    c, v;
    uint32_t  acc;
    unsigned  bits;

    if (len != aa_base64url_len(dst_len)) {
        return AA_ERROR;
    }

    acc = 0;
    bits = 0;
    n = 0;

    for (i = 0; i < len; i++) {
        c = src[i];

        if (c >= 'A' && c <= 'Z') {
            v = c - 'A';

        } else if (c >= 'a' && c <= 'z') {
            v = c - 'a' + 26;

        } else if (c >= '0' && c <= '9') {
            v = c - '0' + 52;

        } else if (c == '-') {
            v = 62;

        } else if (c == '_') {
            v = 63;

        } else {
            return AA_ERROR;
        }

        acc = (acc << 6) | v;
        bits += 6;

        if (bits >= 8) {
            bits -= 8;
            dst[n++] = (u_char) (acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }

    if (n != dst_len || acc != 0) {
        return AA_ERROR;
    }

    return AA_OK;
}


int
aa_cookie_parse(const aa_keyring_t *kr, const u_char *value, size_t len,
    u_char *id)
{
    int     diff;
    size_t  i;
    u_char  got[AA_SESSION_ID_LEN], mac[AA_MAC_LEN];
    u_char  macs[AA_MAX_KEYS][AA_MAC_LEN];

    if (kr->nkeys == 0 || kr->nkeys > AA_MAX_KEYS) {
        return AA_DECLINED;
    }

    if (len != AA_COOKIE_LEN || value[AA_B64URL_ID_LEN] != '.') {
        return AA_DECLINED;
    }

    if (aa_base64url_strict(got, sizeof(got), value, AA_B64URL_ID_LEN)
        != AA_OK
        || aa_base64url_strict(mac, sizeof(mac), value + AA_B64URL_ID_LEN + 1,
                               AA_B64URL_MAC_LEN)
           != AA_OK)
    {
        return AA_DECLINED;
    }

    if (aa_cookie_macs(kr, got, macs, kr->nkeys) != AA_OK) {
        OPENSSL_cleanse(macs, sizeof(macs));
        return AA_DECLINED;
    }

    /* every key is compared, whichever matches, so timing names none */
    diff = 1;

    for (i = 0; i < kr->nkeys; i++) {
        diff &= aa_memeq_ct(macs[i], mac, AA_MAC_LEN) != 0;
    }

    /* the right MAC for an attacker's id is worth keeping off the stack */
    OPENSSL_cleanse(macs, sizeof(macs));

    if (diff) {
        return AA_DECLINED;
    }

    memcpy(id, got, AA_SESSION_ID_LEN);

    return AA_OK;
}


int
aa_seal(const aa_keyring_t *kr, const u_char *aad, size_t aad_len,
    const u_char *in, size_t len, u_char *out)
{
    int               rc, n;
    u_char           *iv, *ct;
    const aa_key_t   *key;
    EVP_CIPHER_CTX   *ctx;

    if (kr->nkeys == 0 || len > AA_SEAL_MAX_IN || aad_len > AA_SEAL_MAX_IN) {
        return AA_ERROR;
    }

    key = &kr->keys[0];

    out[0] = AA_SEAL_VERSION;
    memcpy(out + 1, key->kid, AA_KID_LEN);
    iv = out + 1 + AA_KID_LEN;
    ct = iv + AA_SEAL_IV_LEN;

    if (RAND_bytes(iv, AA_SEAL_IV_LEN) != 1) {
        return AA_ERROR;
    }

    ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL) {
        return AA_ERROR;
    }

    rc = AA_ERROR;

    if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key->enc_key, iv)
        != 1)
    {
        goto failed;
    }

    if (aad_len
        && EVP_EncryptUpdate(ctx, NULL, &n, aad, (int) aad_len) != 1)
    {
        goto failed;
    }

    if (len && EVP_EncryptUpdate(ctx, ct, &n, in, (int) len) != 1) {
        goto failed;
    }

    if (EVP_EncryptFinal_ex(ctx, ct + len, &n) != 1) {
        goto failed;
    }

    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, AA_SEAL_TAG_LEN,
                            ct + len)
        != 1)
    {
        goto failed;
    }

    rc = AA_OK;

failed:

    EVP_CIPHER_CTX_free(ctx);

    return rc;
}


/* AA_OK, AA_DECLINED when the tag does not verify, AA_ERROR on OpenSSL. */
static int
aa_unseal_key(const aa_key_t *key, const u_char *aad, size_t aad_len,
    const u_char *in, size_t len, u_char *out)
{
    int              rc, n;
    size_t           ct_len;
    const u_char    *iv, *ct, *tag;
    EVP_CIPHER_CTX  *ctx;

    iv = in + 1 + AA_KID_LEN;
    ct = iv + AA_SEAL_IV_LEN;
    ct_len = len - AA_SEAL_OVERHEAD;
    tag = ct + ct_len;

    ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL) {
        return AA_ERROR;
    }

    rc = AA_ERROR;

    if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key->enc_key, iv)
        != 1)
    {
        goto failed;
    }

    if (aad_len
        && EVP_DecryptUpdate(ctx, NULL, &n, aad, (int) aad_len) != 1)
    {
        goto failed;
    }

    if (ct_len && EVP_DecryptUpdate(ctx, out, &n, ct, (int) ct_len) != 1) {
        goto failed;
    }

    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, AA_SEAL_TAG_LEN,
                            (void *) tag)
        != 1)
    {
        goto failed;
    }

    rc = EVP_DecryptFinal_ex(ctx, out + ct_len, &n) == 1 ? AA_OK
                                                         : AA_DECLINED;

failed:

    EVP_CIPHER_CTX_free(ctx);

    return rc;
}


int
aa_unseal(const aa_keyring_t *kr, const u_char *aad, size_t aad_len,
    const u_char *in, size_t len, u_char *out, size_t *out_len)
{
    int     rc;
    size_t  i;

    if (len < AA_SEAL_OVERHEAD || len > AA_SEAL_MAX_IN
        || aad_len > AA_SEAL_MAX_IN || in[0] != AA_SEAL_VERSION)
    {
        return AA_DECLINED;
    }

    /* two secrets may share a 32-bit kid: try each key that carries it */
    rc = AA_DECLINED;

    for (i = 0; i < kr->nkeys && i < AA_MAX_KEYS; i++) {
        if (memcmp(kr->keys[i].kid, in + 1, AA_KID_LEN) != 0) {
            continue;
        }

        rc = aa_unseal_key(&kr->keys[i], aad, aad_len, in, len, out);
        if (rc == AA_OK) {
            *out_len = len - AA_SEAL_OVERHEAD;
            return AA_OK;
        }

        if (rc == AA_ERROR) {
            break;
        }
    }

    /* plaintext that failed its tag must not be left for anyone to use */
    OPENSSL_cleanse(out, len - AA_SEAL_OVERHEAD);

    return rc;
}
