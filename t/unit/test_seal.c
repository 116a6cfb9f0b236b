/*
 * The session secrets: key file parsing, key derivation pinned against an
 * independent HKDF, the session cookie (forged, altered and re-encoded
 * values are refused, rotated keys still verify) and AES-256-GCM sealing
 * (fresh IV every time, any altered byte refused).
 */

#include <openssl/crypto.h>

#include "aa_test.h"

#include "aa_codec.h"
#include "aa_seal.h"


/* bytes 0..31, standard alphabet with padding */
#define KEY_OLD  "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
/* bytes 100..139, url-safe alphabet without padding */
#define KEY_NEW  "ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1-f4CBgoOEhYaHiImKiw"

#define AAD      "airflow_auth:s:0123"


static void load_ring(aa_keyring_t *kr, const char *text);
static void unhex(u_char *dst, const char *hex, size_t n);
static u_char with_unused_bit_set(u_char c);


static void
load_ring(aa_keyring_t *kr, const char *text)
{
    char  err[256];

    err[0] = '\0';
    if (aa_keyring_load(kr, (const u_char *) text, strlen(text), err,
                        sizeof(err))
        != AA_OK)
    {
        fail_msg("key ring did not load: %s", err);
    }
}


static void
unhex(u_char *dst, const char *hex, size_t n)
{
    size_t        i;
    unsigned int  b;

    for (i = 0; i < n; i++) {
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &b), 1);
        dst[i] = (u_char) b;
    }
}


/*
 * The last character of 43 base64url characters holds 4 bits of data and 2
 * that must be zero; this sets the lowest, which changes no decoded byte.
 */
static u_char
with_unused_bit_set(u_char c)
{
    const char  *alphabet, *p;

    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
               "0123456789-_";

    p = strchr(alphabet, c);
    assert_non_null(p);
    assert_int_equal((p - alphabet) & 3, 0);

    return (u_char) alphabet[(p - alphabet) | 1];
}


/*
 * Expected values come from a separate HKDF/HMAC written in Python, so the
 * derivation (empty salt, the three info strings) is fixed for every other
 * tool that has to make or read our cookies.
 */
static void
derivation_matches_an_independent_hkdf(void **state)
{
    aa_keyring_t  kr;
    u_char        mac_key[32], enc_key[32], kid[4];

    load_ring(&kr, KEY_OLD "\n");
    assert_int_equal(kr.nkeys, 1);

    unhex(mac_key, "6b0f1b70048c211767021dcd7626f5c7"
                   "ccfad018614d9bd55eca2b4b3ad5a23c", 32);
    unhex(enc_key, "f6215b547ba18f22ea6063180ace9706"
                   "716e107357920829312d422313f809f0", 32);
    unhex(kid, "e3f81c2d", 4);

    assert_memory_equal(kr.keys[0].mac_key, mac_key, 32);
    assert_memory_equal(kr.keys[0].enc_key, enc_key, 32);
    assert_memory_equal(kr.keys[0].kid, kid, 4);

    aa_keyring_wipe(&kr);
}


static void
cookie_matches_an_independent_hmac(void **state)
{
    aa_keyring_t  kr;
    u_char        id[AA_SESSION_ID_LEN], got[AA_SESSION_ID_LEN];
    u_char        cookie[AA_COOKIE_LEN];
    const char   *expected =
        "ERERERERERERERERERERERERERERERERERERERERERE."
        "-sAMlJ1JNiwKhWJTydob3jdhqcPsjReLGsKbPAS7xfM";

    assert_int_equal(AA_COOKIE_LEN, 87);
    assert_int_equal(strlen(expected), AA_COOKIE_LEN);

    load_ring(&kr, KEY_OLD);
    memset(id, 0x11, sizeof(id));

    assert_int_equal(aa_cookie_make(&kr, id, cookie), AA_OK);
    assert_memory_equal(cookie, expected, AA_COOKIE_LEN);

    assert_int_equal(aa_cookie_parse(&kr, (const u_char *) expected,
                                     AA_COOKIE_LEN, got),
                     AA_OK);
    assert_memory_equal(got, id, AA_SESSION_ID_LEN);

    aa_keyring_wipe(&kr);
}


static void
key_file_with_comments_blank_lines_and_crlf_loads(void **state)
{
    aa_keyring_t  kr;
    aa_keyring_t  one;
    const char   *text =
        "# session keys, newest first\r\n"
        "\r\n"
        "   " KEY_NEW "  \r\n"
        "  # the old one stays until every session it sealed has expired\n"
        "\t" KEY_OLD "\r\n"
        "\n";

    load_ring(&kr, text);
    assert_int_equal(kr.nkeys, 2);

    /* the first key of the file is the first of the ring: it seals */
    load_ring(&one, KEY_NEW);
    assert_memory_equal(&kr.keys[0], &one.keys[0], sizeof(aa_key_t));
    aa_keyring_wipe(&one);

    load_ring(&one, KEY_OLD "\n");
    assert_memory_equal(&kr.keys[1], &one.keys[0], sizeof(aa_key_t));

    aa_keyring_wipe(&kr);
    aa_keyring_wipe(&one);
}


static void
key_file_errors_name_the_line(void **state)
{
    size_t         i;
    char           err[256];
    aa_keyring_t   kr;

    static const struct {
        const char  *text;
        const char  *err;
    } cases[] = {
        { "", "no key found" },
        { "\n\r\n   \n", "no key found" },
        { "# only a comment\n#another\n", "no key found" },
        { "# first\n" KEY_OLD "\nAQEBAQEBAQEBAQEBAQEBAQ==\n",
          "line 3: key is 16 bytes, at least 32 are required" },
        { KEY_OLD "\nnot*base64!\n", "line 2: not valid base64" },
        { KEY_OLD "\n" KEY_NEW " " KEY_OLD "\n", "line 2: not valid base64" },
        { "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=x\n",
          "line 1: not valid base64" },
        { "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh\n",
          "line 1: key is 31 bytes, at least 32 are required" },
    };

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(err, 0, sizeof(err));

        assert_int_equal(aa_keyring_load(&kr, (const u_char *) cases[i].text,
                                         strlen(cases[i].text), err,
                                         sizeof(err)),
                         AA_ERROR);
        assert_string_equal(err, cases[i].err);

        /* a failed load leaves nothing usable behind */
        assert_int_equal(kr.nkeys, 0);
    }
}


static void
key_file_holds_at_most_sixteen_keys(void **state)
{
    int           i;
    char          text[2048], err[256];
    size_t        len;
    aa_keyring_t  kr;

    len = 0;
    text[0] = '\0';

    for (i = 0; i < AA_MAX_KEYS; i++) {
        len += snprintf(text + len, sizeof(text) - len, "%s\n", KEY_OLD);
    }

    assert_int_equal(aa_keyring_load(&kr, (u_char *) text, len, err,
                                     sizeof(err)),
                     AA_OK);
    assert_int_equal(kr.nkeys, AA_MAX_KEYS);
    aa_keyring_wipe(&kr);

    len += snprintf(text + len, sizeof(text) - len, "%s\n", KEY_NEW);

    assert_int_equal(aa_keyring_load(&kr, (u_char *) text, len, err,
                                     sizeof(err)),
                     AA_ERROR);
    assert_string_equal(err, "more than 16 keys");
    assert_int_equal(kr.nkeys, 0);
}


static void
key_longer_than_1024_bytes_is_refused(void **state)
{
    char          *text, err[256];
    size_t         len;
    u_char         key[1025];
    aa_keyring_t   kr;

    text = malloc(4096);
    assert_non_null(text);
    memset(key, 0x42, sizeof(key));

    len = aa_base64url_encode((u_char *) text, key, 1024);
    assert_int_equal(aa_keyring_load(&kr, (u_char *) text, len, err,
                                     sizeof(err)),
                     AA_OK);
    assert_int_equal(kr.nkeys, 1);
    aa_keyring_wipe(&kr);

    len = aa_base64url_encode((u_char *) text, key, 1025);
    assert_int_equal(aa_keyring_load(&kr, (u_char *) text, len, err,
                                     sizeof(err)),
                     AA_ERROR);
    assert_string_equal(err, "line 1: key is longer than 1024 bytes");

    memset(text, 'A', 4096);
    assert_int_equal(aa_keyring_load(&kr, (u_char *) text, 4096, err,
                                     sizeof(err)),
                     AA_ERROR);
    assert_string_equal(err, "line 1: key is longer than 1024 bytes");
    assert_int_equal(kr.nkeys, 0);

    free(text);
}


static void
keyring_wipe_clears_every_byte(void **state)
{
    size_t         i;
    aa_keyring_t   kr;
    const u_char  *p;

    load_ring(&kr, KEY_OLD "\n" KEY_NEW);
    aa_keyring_wipe(&kr);

    p = (const u_char *) &kr;
    for (i = 0; i < sizeof(kr); i++) {
        assert_int_equal(p[i], 0);
    }
}


static void
session_ids_are_random(void **state)
{
    u_char  a[AA_SESSION_ID_LEN], b[AA_SESSION_ID_LEN];

    assert_int_equal(aa_session_id_new(a), AA_OK);
    assert_int_equal(aa_session_id_new(b), AA_OK);
    assert_memory_not_equal(a, b, AA_SESSION_ID_LEN);
}


static void
cookie_round_trip(void **state)
{
    int           i;
    aa_keyring_t  kr;
    u_char        id[AA_SESSION_ID_LEN], got[AA_SESSION_ID_LEN];
    u_char        cookie[AA_COOKIE_LEN];

    load_ring(&kr, KEY_NEW);

    for (i = 0; i < 64; i++) {
        assert_int_equal(aa_session_id_new(id), AA_OK);
        assert_int_equal(aa_cookie_make(&kr, id, cookie), AA_OK);
        assert_int_equal(cookie[43], '.');

        memset(got, 0, sizeof(got));
        assert_int_equal(aa_cookie_parse(&kr, cookie, sizeof(cookie), got),
                         AA_OK);
        assert_memory_equal(got, id, AA_SESSION_ID_LEN);
    }

    aa_keyring_wipe(&kr);
}


static void
cookie_from_old_key_verifies_only_while_the_key_is_in_the_ring(void **state)
{
    aa_keyring_t  old, both, fresh;
    u_char        id[AA_SESSION_ID_LEN], got[AA_SESSION_ID_LEN];
    u_char        cookie[AA_COOKIE_LEN], cookie2[AA_COOKIE_LEN];

    load_ring(&old, KEY_OLD);
    load_ring(&both, KEY_NEW "\n" KEY_OLD "\n");
    load_ring(&fresh, KEY_NEW);

    assert_int_equal(aa_session_id_new(id), AA_OK);
    assert_int_equal(aa_cookie_make(&old, id, cookie), AA_OK);

    assert_int_equal(aa_cookie_parse(&both, cookie, sizeof(cookie), got),
                     AA_OK);
    assert_memory_equal(got, id, AA_SESSION_ID_LEN);

    assert_int_equal(aa_cookie_parse(&fresh, cookie, sizeof(cookie), got),
                     AA_DECLINED);

    /* new cookies are signed with the first key only */
    assert_int_equal(aa_cookie_make(&both, id, cookie2), AA_OK);
    assert_memory_not_equal(cookie, cookie2, AA_COOKIE_LEN);
    assert_int_equal(aa_cookie_parse(&fresh, cookie2, sizeof(cookie2), got),
                     AA_OK);
    assert_int_equal(aa_cookie_parse(&old, cookie2, sizeof(cookie2), got),
                     AA_DECLINED);

    aa_keyring_wipe(&old);
    aa_keyring_wipe(&both);
    aa_keyring_wipe(&fresh);
}


static void
every_single_character_change_of_a_cookie_is_refused(void **state)
{
    int           c;
    size_t        i;
    aa_keyring_t  kr;
    u_char        id[AA_SESSION_ID_LEN], got[AA_SESSION_ID_LEN];
    u_char        cookie[AA_COOKIE_LEN], bad[AA_COOKIE_LEN];
    u_char        untouched[AA_SESSION_ID_LEN];

    load_ring(&kr, KEY_NEW "\n" KEY_OLD);

    assert_int_equal(aa_session_id_new(id), AA_OK);
    assert_int_equal(aa_cookie_make(&kr, id, cookie), AA_OK);

    memset(untouched, 0xa5, sizeof(untouched));

    for (i = 0; i < AA_COOKIE_LEN; i++) {
        for (c = 0; c < 256; c++) {
            if (c == cookie[i]) {
                continue;
            }

            memcpy(bad, cookie, sizeof(bad));
            bad[i] = (u_char) c;

            memset(got, 0xa5, sizeof(got));

            if (aa_cookie_parse(&kr, bad, sizeof(bad), got) != AA_DECLINED) {
                fail_msg("cookie with byte %zu set to 0x%02x was accepted",
                         i, c);
            }

            assert_memory_equal(got, untouched, sizeof(got));
        }
    }

    aa_keyring_wipe(&kr);
}


/*
 * A byte string has one unpadded base64url spelling.  The last character of
 * each half carries 2 bits that encode nothing; a cookie where they are set
 * decodes to the same bytes but must still be refused.
 */
static void
non_canonical_base64url_is_refused(void **state)
{
    aa_keyring_t  kr;
    u_char        id[AA_SESSION_ID_LEN], got[AA_SESSION_ID_LEN];
    u_char        cookie[AA_COOKIE_LEN], bad[AA_COOKIE_LEN];
    u_char        decoded[AA_SESSION_ID_LEN + 3], mac[AA_MAC_LEN + 3];
    size_t        n;

    load_ring(&kr, KEY_OLD);

    /* 0xfb 0xff ... gives '+' and '/' in standard base64, '-' '_' in url */
    memset(id, 0xff, sizeof(id));
    id[0] = 0xfb;
    assert_int_equal(aa_cookie_make(&kr, id, cookie), AA_OK);
    assert_int_equal(cookie[0], '-');
    assert_int_equal(cookie[1], '_');
    assert_int_equal(aa_cookie_parse(&kr, cookie, sizeof(cookie), got),
                     AA_OK);

    /* the same bytes, spelt in the standard alphabet */
    memcpy(bad, cookie, sizeof(bad));
    bad[0] = '+';
    assert_int_equal(aa_cookie_parse(&kr, bad, sizeof(bad), got),
                     AA_DECLINED);

    memcpy(bad, cookie, sizeof(bad));
    bad[1] = '/';
    assert_int_equal(aa_cookie_parse(&kr, bad, sizeof(bad), got),
                     AA_DECLINED);

    /* the id's last character with its unused low bits set */
    memcpy(bad, cookie, sizeof(bad));
    bad[42] = with_unused_bit_set(bad[42]);
    assert_int_equal(aa_base64_decode(decoded, &n, bad, 43), AA_OK);
    assert_int_equal(n, AA_SESSION_ID_LEN);
    assert_memory_equal(decoded, id, AA_SESSION_ID_LEN);
    assert_int_equal(aa_cookie_parse(&kr, bad, sizeof(bad), got),
                     AA_DECLINED);

    /* and the MAC's last character likewise */
    memcpy(bad, cookie, sizeof(bad));
    bad[86] = with_unused_bit_set(bad[86]);
    assert_int_equal(aa_base64_decode(decoded, &n, bad + 44, 43), AA_OK);
    assert_int_equal(aa_base64_decode(mac, &n, cookie + 44, 43), AA_OK);
    assert_memory_equal(decoded, mac, AA_MAC_LEN);
    assert_int_equal(aa_cookie_parse(&kr, bad, sizeof(bad), got),
                     AA_DECLINED);

    aa_keyring_wipe(&kr);
}


static void
cookie_of_the_wrong_shape_is_refused(void **state)
{
    aa_keyring_t  kr;
    u_char        id[AA_SESSION_ID_LEN], got[AA_SESSION_ID_LEN];
    u_char        cookie[AA_COOKIE_LEN], buf[AA_COOKIE_LEN + 8];

    load_ring(&kr, KEY_OLD);

    assert_int_equal(aa_session_id_new(id), AA_OK);
    assert_int_equal(aa_cookie_make(&kr, id, cookie), AA_OK);

    assert_int_equal(aa_cookie_parse(&kr, cookie, 0, got), AA_DECLINED);
    assert_int_equal(aa_cookie_parse(&kr, cookie, AA_COOKIE_LEN - 1, got),
                     AA_DECLINED);

    /* trailing padding or junk makes it too long */
    memcpy(buf, cookie, AA_COOKIE_LEN);
    buf[AA_COOKIE_LEN] = '=';
    assert_int_equal(aa_cookie_parse(&kr, buf, AA_COOKIE_LEN + 1, got),
                     AA_DECLINED);

    /* no dot */
    memcpy(buf, cookie, AA_COOKIE_LEN);
    buf[43] = 'A';
    assert_int_equal(aa_cookie_parse(&kr, buf, AA_COOKIE_LEN, got),
                     AA_DECLINED);

    /* the dot one place off */
    memcpy(buf, cookie, AA_COOKIE_LEN);
    buf[43] = cookie[42];
    buf[42] = '.';
    assert_int_equal(aa_cookie_parse(&kr, buf, AA_COOKIE_LEN, got),
                     AA_DECLINED);

    /* halves swapped keep the shape but not the MAC */
    memcpy(buf, cookie + 44, 43);
    buf[43] = '.';
    memcpy(buf + 44, cookie, 43);
    assert_int_equal(aa_cookie_parse(&kr, buf, AA_COOKIE_LEN, got),
                     AA_DECLINED);

    aa_keyring_wipe(&kr);
}


static void
empty_ring_neither_signs_nor_seals(void **state)
{
    aa_keyring_t  kr;
    u_char        id[AA_SESSION_ID_LEN], cookie[AA_COOKIE_LEN];
    u_char        out[64 + AA_SEAL_OVERHEAD];

    memset(&kr, 0, sizeof(kr));
    memset(id, 1, sizeof(id));
    memset(cookie, 'A', sizeof(cookie));
    cookie[43] = '.';

    assert_int_equal(aa_cookie_make(&kr, id, cookie), AA_ERROR);
    assert_int_equal(aa_seal(&kr, NULL, 0, (u_char *) "x", 1, out), AA_ERROR);
    assert_int_equal(aa_cookie_parse(&kr, cookie, sizeof(cookie), id),
                     AA_DECLINED);
}


static void
seal_round_trip(void **state)
{
    size_t         n, len;
    aa_keyring_t   kr, one;
    u_char         sealed[256 + AA_SEAL_OVERHEAD], out[256 + AA_SEAL_OVERHEAD];
    const char    *rec = "{\"v\":1,\"user\":\"alice\"}";

    load_ring(&kr, KEY_NEW "\n" KEY_OLD);
    load_ring(&one, KEY_NEW);
    len = strlen(rec);

    assert_int_equal(aa_seal(&kr, (u_char *) AAD, strlen(AAD),
                             (u_char *) rec, len, sealed),
                     AA_OK);

    assert_int_equal(sealed[0], AA_SEAL_VERSION);
    assert_memory_equal(sealed + 1, one.keys[0].kid, AA_KID_LEN);
    assert_memory_not_equal(sealed + 1 + AA_KID_LEN + AA_SEAL_IV_LEN, rec,
                            len);

    assert_int_equal(aa_unseal(&kr, (u_char *) AAD, strlen(AAD), sealed,
                               len + AA_SEAL_OVERHEAD, out, &n),
                     AA_OK);
    assert_int_equal(n, len);
    assert_memory_equal(out, rec, len);

    /* an empty record seals too */
    assert_int_equal(aa_seal(&kr, NULL, 0, NULL, 0, sealed), AA_OK);
    assert_int_equal(aa_unseal(&kr, NULL, 0, sealed, AA_SEAL_OVERHEAD, out,
                               &n),
                     AA_OK);
    assert_int_equal(n, 0);

    aa_keyring_wipe(&kr);
    aa_keyring_wipe(&one);
}


/* CVE-2021-32791: mod_auth_openidc sealed with a static IV. */
static void
sealing_twice_gives_a_fresh_iv_and_ciphertext(void **state)
{
    size_t         len;
    aa_keyring_t   kr;
    u_char         a[128], b[128];
    const char    *rec = "{\"v\":1,\"user\":\"alice\",\"roles\":[\"Admin\"]}";

    load_ring(&kr, KEY_OLD);
    len = strlen(rec);

    assert_int_equal(aa_seal(&kr, (u_char *) AAD, strlen(AAD),
                             (u_char *) rec, len, a),
                     AA_OK);
    assert_int_equal(aa_seal(&kr, (u_char *) AAD, strlen(AAD),
                             (u_char *) rec, len, b),
                     AA_OK);

    /* same version and kid */
    assert_memory_equal(a, b, 1 + AA_KID_LEN);

    assert_memory_not_equal(a + 1 + AA_KID_LEN, b + 1 + AA_KID_LEN,
                            AA_SEAL_IV_LEN);
    assert_memory_not_equal(a + 1 + AA_KID_LEN + AA_SEAL_IV_LEN,
                            b + 1 + AA_KID_LEN + AA_SEAL_IV_LEN, len);
    assert_memory_not_equal(a + 1 + AA_KID_LEN + AA_SEAL_IV_LEN + len,
                            b + 1 + AA_KID_LEN + AA_SEAL_IV_LEN + len,
                            AA_SEAL_TAG_LEN);

    aa_keyring_wipe(&kr);
}


static void
any_altered_byte_of_a_sealed_record_is_refused(void **state)
{
    int            bit;
    size_t         i, n, len, total;
    aa_keyring_t   kr;
    u_char         sealed[128], bad[128], out[128];
    const char    *rec = "{\"v\":1,\"user\":\"alice\",\"roles\":[\"Admin\"]}";

    load_ring(&kr, KEY_OLD);
    len = strlen(rec);
    total = len + AA_SEAL_OVERHEAD;

    assert_int_equal(aa_seal(&kr, (u_char *) AAD, strlen(AAD),
                             (u_char *) rec, len, sealed),
                     AA_OK);

    for (i = 0; i < total; i++) {
        for (bit = 0; bit < 8; bit++) {
            memcpy(bad, sealed, total);
            bad[i] ^= (u_char) (1 << bit);

            memset(out, 0x5a, sizeof(out));
            n = 12345;

            if (aa_unseal(&kr, (u_char *) AAD, strlen(AAD), bad, total, out,
                          &n)
                != AA_DECLINED)
            {
                fail_msg("byte %zu with bit %d flipped was accepted", i, bit);
            }

            assert_int_equal(n, 12345);

            /* nothing written past the room the caller gave */
            assert_int_equal(out[total], 0x5a);

            /* and no unverified plaintext left behind */
            assert_memory_not_equal(out, rec, len);
        }
    }

    /* truncated at every length */
    for (i = 0; i < total; i++) {
        assert_int_equal(aa_unseal(&kr, (u_char *) AAD, strlen(AAD), sealed,
                                   i, out, &n),
                         AA_DECLINED);
    }

    aa_keyring_wipe(&kr);
}


static void
wrong_aad_is_refused(void **state)
{
    size_t         n, len;
    aa_keyring_t   kr;
    u_char         sealed[128], out[128];
    const char    *rec = "{\"v\":1,\"user\":\"alice\"}";

    load_ring(&kr, KEY_OLD);
    len = strlen(rec);

    assert_int_equal(aa_seal(&kr, (u_char *) AAD, strlen(AAD),
                             (u_char *) rec, len, sealed),
                     AA_OK);

    /* a record moved under another session's key does not open */
    assert_int_equal(aa_unseal(&kr, (u_char *) "airflow_auth:s:0124",
                               strlen(AAD), sealed, len + AA_SEAL_OVERHEAD,
                               out, &n),
                     AA_DECLINED);
    assert_int_equal(aa_unseal(&kr, (u_char *) AAD, strlen(AAD) - 1, sealed,
                               len + AA_SEAL_OVERHEAD, out, &n),
                     AA_DECLINED);
    assert_int_equal(aa_unseal(&kr, NULL, 0, sealed, len + AA_SEAL_OVERHEAD,
                               out, &n),
                     AA_DECLINED);

    assert_int_equal(aa_unseal(&kr, (u_char *) AAD, strlen(AAD), sealed,
                               len + AA_SEAL_OVERHEAD, out, &n),
                     AA_OK);

    aa_keyring_wipe(&kr);
}


static void
record_sealed_with_old_key_opens_after_rotation(void **state)
{
    size_t         n, len;
    aa_keyring_t   old, both, fresh;
    u_char         sealed[128], out[128];
    const char    *rec = "{\"v\":1,\"user\":\"bob\"}";

    load_ring(&old, KEY_OLD);
    load_ring(&both, KEY_NEW "\n" KEY_OLD);
    load_ring(&fresh, KEY_NEW);
    len = strlen(rec);

    assert_int_equal(aa_seal(&old, (u_char *) AAD, strlen(AAD),
                             (u_char *) rec, len, sealed),
                     AA_OK);

    assert_int_equal(aa_unseal(&both, (u_char *) AAD, strlen(AAD), sealed,
                               len + AA_SEAL_OVERHEAD, out, &n),
                     AA_OK);
    assert_int_equal(n, len);
    assert_memory_equal(out, rec, len);

    /* once the old key leaves the file, its records are gone */
    assert_int_equal(aa_unseal(&fresh, (u_char *) AAD, strlen(AAD), sealed,
                               len + AA_SEAL_OVERHEAD, out, &n),
                     AA_DECLINED);

    /* the rotated ring seals with the new key */
    assert_int_equal(aa_seal(&both, (u_char *) AAD, strlen(AAD),
                             (u_char *) rec, len, sealed),
                     AA_OK);
    assert_int_equal(aa_unseal(&fresh, (u_char *) AAD, strlen(AAD), sealed,
                               len + AA_SEAL_OVERHEAD, out, &n),
                     AA_OK);
    assert_int_equal(aa_unseal(&old, (u_char *) AAD, strlen(AAD), sealed,
                               len + AA_SEAL_OVERHEAD, out, &n),
                     AA_DECLINED);

    aa_keyring_wipe(&old);
    aa_keyring_wipe(&both);
    aa_keyring_wipe(&fresh);
}


static void
unknown_version_is_refused(void **state)
{
    size_t         n, len;
    aa_keyring_t   kr;
    u_char         sealed[128], out[128];
    const char    *rec = "{}";

    load_ring(&kr, KEY_OLD);
    len = strlen(rec);

    assert_int_equal(aa_seal(&kr, NULL, 0, (u_char *) rec, len, sealed),
                     AA_OK);

    sealed[0] = 2;
    assert_int_equal(aa_unseal(&kr, NULL, 0, sealed, len + AA_SEAL_OVERHEAD,
                               out, &n),
                     AA_DECLINED);

    sealed[0] = 0;
    assert_int_equal(aa_unseal(&kr, NULL, 0, sealed, len + AA_SEAL_OVERHEAD,
                               out, &n),
                     AA_DECLINED);

    aa_keyring_wipe(&kr);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        AA_TEST(derivation_matches_an_independent_hkdf),
        AA_TEST(cookie_matches_an_independent_hmac),
        AA_TEST(key_file_with_comments_blank_lines_and_crlf_loads),
        AA_TEST(key_file_errors_name_the_line),
        AA_TEST(key_file_holds_at_most_sixteen_keys),
        AA_TEST(key_longer_than_1024_bytes_is_refused),
        AA_TEST(keyring_wipe_clears_every_byte),
        AA_TEST(session_ids_are_random),
        AA_TEST(cookie_round_trip),
        AA_TEST(cookie_from_old_key_verifies_only_while_the_key_is_in_the_ring),
        AA_TEST(every_single_character_change_of_a_cookie_is_refused),
        AA_TEST(non_canonical_base64url_is_refused),
        AA_TEST(cookie_of_the_wrong_shape_is_refused),
        AA_TEST(empty_ring_neither_signs_nor_seals),
        AA_TEST(seal_round_trip),
        AA_TEST(sealing_twice_gives_a_fresh_iv_and_ciphertext),
        AA_TEST(any_altered_byte_of_a_sealed_record_is_refused),
        AA_TEST(wrong_aad_is_refused),
        AA_TEST(record_sealed_with_old_key_opens_after_rotation),
        AA_TEST(unknown_version_is_refused),
    };

    return cmocka_run_group_tests_name("seal", tests, NULL, NULL);
}
