/*
 * Redis without I/O: the airflow_auth_redis URL, the key schema, RESP
 * command building (always argv, never a format string) and a bounded
 * reply reader on top of hiredis's redisReader.
 *
 * Keys, under the configured prefix P:
 *   P "s:" hex(SHA-256(id))       sealed session record, TTL = idle timeout
 *   P "u:" user                   set of session hashes of a user
 *   P "sid:" idp ":" sid          set of session hashes of an IdP session
 *   P "inv"                       pub/sub channel of revoked session hashes
 */

#ifndef AA_REDIS_H
#define AA_REDIS_H

#include "aa_core.h"


#define AA_REDIS_HASH_LEN        64     /* hex(SHA-256(id)) */
#define AA_REDIS_MAX_ARGS        16
#define AA_REDIS_MAX_ELEMENTS    1024   /* per array reply */
#define AA_REDIS_MAX_BULK        (512 * 1024)
#define AA_REDIS_MAX_PENDING     (1024 * 1024)   /* unparsed reply bytes */
#define AA_REDIS_MAX_SENTINELS   8


typedef enum {
    AA_REDIS_TCP = 0,
    AA_REDIS_UNIX,
    AA_REDIS_TLS,
    AA_REDIS_SENTINEL
} aa_redis_scheme_e;


typedef struct {
    aa_str_t        host;
    int             port;
} aa_redis_host_t;


typedef struct {
    aa_redis_scheme_e  scheme;
    aa_redis_host_t    hosts[AA_REDIS_MAX_SENTINELS]; /* 1 unless sentinel */
    size_t             nhosts;
    aa_str_t           path;         /* unix socket path */
    aa_str_t           master;       /* sentinel master name */
    aa_str_t           username;     /* empty: AUTH password only */
    aa_str_t           password;     /* empty: no AUTH */
    int                db;           /* 0..65535 */
} aa_redis_url_t;


/*
 * Parses
 *   redis://[[user]:password@]host[:port][/db]      port 6379
 *   rediss://...                                    same, TLS
 *   unix://[[user]:password@]/path/to.sock[?db=N]
 *   sentinel://[[user]:password@]h:p[,h:p...]/master[/db]   port 26379
 * host may be an [IPv6] literal; user and password are percent-decoded.
 * Strings are allocated from a.  err says what is wrong.
 */
int aa_redis_url_parse(const u_char *url, size_t len, aa_alloc_t *a,
    aa_redis_url_t *u, char *err, size_t errlen);

/* hex(SHA-256(id)) into out[AA_REDIS_HASH_LEN]; AA_ERROR if hashing fails. */
int aa_redis_session_hash(const u_char *id, size_t id_len, u_char *out);

/*
 * prefix "s:" hash, prefix "u:" user, prefix "sid:" idp ":" sid,
 * prefix "inv"
 */
int aa_redis_key_session(const aa_str_t *prefix, const u_char *hash,
    aa_alloc_t *a, aa_str_t *key);
int aa_redis_key_user(const aa_str_t *prefix, const aa_str_t *user,
    aa_alloc_t *a, aa_str_t *key);
int aa_redis_key_sid(const aa_str_t *prefix, const aa_str_t *idp,
    const aa_str_t *sid, aa_alloc_t *a, aa_str_t *key);
int aa_redis_key_channel(const aa_str_t *prefix, aa_alloc_t *a,
    aa_str_t *key);

/* Escapes glob characters * ? [ ] \ so prefix can be used in SCAN MATCH. */
int aa_redis_glob_escape(const aa_str_t *in, aa_alloc_t *a, aa_str_t *out);

/* Bytes the RESP encoding of argv takes. */
size_t aa_resp_command_len(size_t argc, const aa_str_t *argv);

/* Writes the RESP encoding of argv at p; returns the end. */
u_char *aa_resp_command_write(u_char *p, size_t argc, const aa_str_t *argv);


/* Replies, as the bounded reader builds them. */

#define AA_REPLY_STRING    1
#define AA_REPLY_ARRAY     2
#define AA_REPLY_INTEGER   3
#define AA_REPLY_NIL       4
#define AA_REPLY_STATUS    5
#define AA_REPLY_ERROR     6

typedef struct aa_reply_s  aa_reply_t;

struct aa_reply_s {
    int             type;
    long long       integer;
    size_t          len;
    u_char         *str;            /* NUL-terminated for convenience */
    size_t          elements;
    aa_reply_t    **element;
};

typedef struct aa_resp_reader_s  aa_resp_reader_t;


aa_resp_reader_t *aa_resp_reader_new(void);
void aa_resp_reader_free(aa_resp_reader_t *rd);

/* AA_ERROR when the bytes buffered but not yet parsed exceed the bound. */
int aa_resp_reader_feed(aa_resp_reader_t *rd, const u_char *buf, size_t len);

/*
 * AA_OK with *reply set to the next complete reply, or to NULL when more
 * bytes are needed; AA_ERROR on a protocol error or a reply over the bounds
 * (more than AA_REDIS_MAX_ELEMENTS elements, a string over
 * AA_REDIS_MAX_BULK).  After AA_ERROR the reader is unusable.
 */
int aa_resp_reader_get(aa_resp_reader_t *rd, aa_reply_t **reply);
const char *aa_resp_reader_error(aa_resp_reader_t *rd);

void aa_reply_free(aa_reply_t *reply);

#endif /* AA_REDIS_H */
