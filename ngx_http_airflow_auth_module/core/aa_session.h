/*
 * The session record: what a signed-in user is, kept sealed in Redis as
 * JSON.  Times are Unix seconds.  A record is valid while now < expires
 * (absolute lifetime) and now < idle_expires (last_seen + idle timeout).
 */

#ifndef AA_SESSION_H
#define AA_SESSION_H

#include "aa_core.h"


#define AA_SESSION_VERSION      1
#define AA_SESSION_MAX_JSON     (64 * 1024)
#define AA_SESSION_MAX_LIST     256


typedef struct {
    aa_str_t        user;
    aa_str_t        email;
    aa_str_t        name;
    aa_strlist_t    groups;
    aa_strlist_t    roles;
    aa_str_t        idp;
    aa_str_t        idp_type;       /* "oidc", "saml" or "cli" */
    aa_str_t        sub;
    aa_str_t        sid;
    aa_str_t        id_token;       /* optional, for id_token_hint */
    int64_t         created;
    int64_t         expires;
    int64_t         last_seen;
    int64_t         idle_expires;
} aa_session_t;


/* JSON text, allocated from a.  Fails on a record with no user. */
int aa_session_encode(const aa_session_t *s, aa_alloc_t *a, aa_str_t *out);

/*
 * Parses and type-checks a record ("v" must be AA_SESSION_VERSION, "user" a
 * non-empty string, lists arrays of strings no longer than
 * AA_SESSION_MAX_LIST, times integers).  Strings are copied into a.
 * AA_DECLINED for anything malformed.
 */
int aa_session_decode(const u_char *json, size_t len, aa_alloc_t *a,
    aa_session_t *s);

/* AA_OK while valid at now, AA_DECLINED once either expiry has passed. */
int aa_session_check_time(const aa_session_t *s, int64_t now);

/*
 * True when the idle expiry should be pushed forward: at most once per
 * tenth of the idle timeout.
 */
int aa_session_needs_refresh(const aa_session_t *s, int64_t now,
    int64_t idle_timeout);

/*
 * Moves last_seen to now and idle_expires to now + idle_timeout, capped at
 * expires.
 */
void aa_session_touch(aa_session_t *s, int64_t now, int64_t idle_timeout);

/* Seconds Redis should keep the record: idle_expires - now, at least 1. */
int64_t aa_session_ttl(const aa_session_t *s, int64_t now);

/*
 * The caller's identity as a JSON object (user, email, name, roles, groups,
 * idp, idp_type, expires), for /whoami.  Allocated from a.
 */
int aa_session_identity_json(const aa_session_t *s, aa_alloc_t *a,
    aa_str_t *out);

/* Joins a list with "," into a, with aa_header_clean applied to each item. */
int aa_strlist_join(const aa_strlist_t *l, aa_alloc_t *a, aa_str_t *out);

/* Splits "a,b,,c" into trimmed, non-empty items allocated from a. */
int aa_strlist_split(const u_char *s, size_t len, aa_alloc_t *a,
    aa_strlist_t *out);

/* 1 when the list holds an element equal to s (case-sensitive). */
int aa_strlist_has(const aa_strlist_t *l, const u_char *s, size_t len);

#endif /* AA_SESSION_H */
