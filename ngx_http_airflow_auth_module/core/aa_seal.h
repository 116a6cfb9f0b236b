/*
 * Session secrets: the key ring read from airflow_auth_secret_file, the
 * cookie that carries a session id and its HMAC, and AES-256-GCM sealing of
 * the session record kept in Redis.
 *
 * Every line of the secret file is a base64 key of at least 32 bytes.  Each
 * key gives, through HKDF-SHA256, a MAC key, an encryption key and a 4-byte
 * key id.  The first key seals and signs; all keys verify and open, so keys
 * rotate with a reload and no session is lost.
 */

#ifndef AA_SEAL_H
#define AA_SEAL_H

#include "aa_core.h"
#include "aa_codec.h"


#define AA_SECRET_MIN_LEN     32
#define AA_MAX_KEYS           16
#define AA_SESSION_ID_LEN     32
#define AA_MAC_LEN            32
#define AA_KID_LEN            4

/* base64url(id) "." base64url(mac): 43 + 1 + 43 */
#define AA_COOKIE_LEN                                                         \
    (aa_base64url_len(AA_SESSION_ID_LEN) + 1 + aa_base64url_len(AA_MAC_LEN))

/* version(1) kid(4) iv(12) ciphertext tag(16) */
#define AA_SEAL_VERSION       1
#define AA_SEAL_IV_LEN        12
#define AA_SEAL_TAG_LEN       16
#define AA_SEAL_OVERHEAD                                                      \
    (1 + AA_KID_LEN + AA_SEAL_IV_LEN + AA_SEAL_TAG_LEN)


typedef struct {
    u_char          mac_key[32];
    u_char          enc_key[32];
    u_char          kid[AA_KID_LEN];
} aa_key_t;


typedef struct {
    aa_key_t                keys[AA_MAX_KEYS];
    size_t                  nkeys;

    /*
     * An HMAC context per key, keyed once at load: a cookie check reuses
     * it instead of fetching the algorithm and keying HMAC every time.
     */
    struct evp_mac_ctx_st  *mac[AA_MAX_KEYS];
} aa_keyring_t;


/*
 * Parses the secret file's text: one base64 key per line (either alphabet),
 * blank lines and lines starting with '#' ignored, CR LF accepted.  Fails
 * with a message in err for a short key, bad base64, too many keys or no
 * key at all.  kr may be uninitialised; a loaded ring holds OpenSSL
 * contexts, so every successful load is paired with aa_keyring_wipe(),
 * which frees them and cleanses the keys.
 */
int aa_keyring_load(aa_keyring_t *kr, const u_char *text, size_t len,
    char *err, size_t errlen);
void aa_keyring_wipe(aa_keyring_t *kr);

/* Fills id with AA_SESSION_ID_LEN random bytes (OpenSSL RAND_bytes). */
int aa_session_id_new(u_char *id);

/* Writes AA_COOKIE_LEN bytes: the id and its MAC under the first key. */
int aa_cookie_make(const aa_keyring_t *kr, const u_char *id, u_char *out);

/*
 * AA_OK and the id when the value has the cookie's exact shape and its MAC
 * verifies (constant time) under any key; AA_DECLINED otherwise.
 */
int aa_cookie_parse(const aa_keyring_t *kr, const u_char *value, size_t len,
    u_char *id);

/* Seals under the first key with a fresh random IV; out has len + OVERHEAD. */
int aa_seal(const aa_keyring_t *kr, const u_char *aad, size_t aad_len,
    const u_char *in, size_t len, u_char *out);

/*
 * Opens with the key named by the kid; out has room for len bytes and gets
 * len - AA_SEAL_OVERHEAD of them.  AA_DECLINED for a wrong key, tag, version
 * or size.
 */
int aa_unseal(const aa_keyring_t *kr, const u_char *aad, size_t aad_len,
    const u_char *in, size_t len, u_char *out, size_t *out_len);

#endif /* AA_SEAL_H */
