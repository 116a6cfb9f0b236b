/*
 * Redis without I/O: the airflow_auth_redis URL, the key schema, RESP
 * commands built from argv (a value can never become part of a format
 * string, unlike mod_auth_openidc's CVE-2021-32785), and a reply reader
 * that lets hiredis parse but builds the replies itself, so that it can
 * bound their size (hiredis CVE-2021-32765).
 */

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <hiredis/read.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "aa_codec.h"
#include "aa_redis.h"


#define AA_REDIS_PORT            6379
#define AA_REDIS_SENTINEL_PORT   26379
#define AA_REDIS_MAX_DB          65535
#define AA_REDIS_MAX_HOST        255

/* sizeof(((struct sockaddr_un *) 0)->sun_path) - 1 on Linux */
#define AA_REDIS_MAX_UNIX_PATH   107

/* Text of the URL echoed in a message is cut to this many bytes. */
#define AA_REDIS_ERR_TEXT        40

/*
 * Memory one reply may take once parsed.  The element and bulk bounds alone
 * allow nested arrays whose size grows with each level, and a 7-byte
 * "*1024\r\n" costs 8 KB of pointers, so the whole tree is bounded too.
 */
#define AA_RESP_MAX_REPLY_MEM    (8 * 1024 * 1024)


struct aa_resp_reader_s {
    redisReader                *reader;
    redisReplyObjectFunctions   fn;
    size_t                      reply_mem;
    int                         failed;
    char                        err[128];
};


static int aa_redis_url_unix(const u_char *p, const u_char *end,
    aa_alloc_t *a, aa_redis_url_t *u, char *err, size_t errlen);
static int aa_redis_url_tcp(const u_char *p, const u_char *end, int port,
    aa_alloc_t *a, aa_redis_url_t *u, char *err, size_t errlen);
static int aa_redis_url_sentinel(const u_char *p, const u_char *end,
    aa_alloc_t *a, aa_redis_url_t *u, char *err, size_t errlen);
static int aa_redis_parse_userinfo(const u_char *p, const u_char *end,
    aa_alloc_t *a, aa_redis_url_t *u, char *err, size_t errlen);
static int aa_redis_percent_decode(const u_char *p, const u_char *end,
    aa_alloc_t *a, aa_str_t *out);
static int aa_redis_parse_host(const u_char *p, const u_char *end,
    int default_port, aa_alloc_t *a, aa_redis_host_t *h, char *err,
    size_t errlen);
static int aa_redis_parse_port(const u_char *p, const u_char *end,
    int *port, char *err, size_t errlen);
static int aa_redis_parse_db(const u_char *p, const u_char *end, int *db,
    char *err, size_t errlen);
static const char *aa_redis_err_text(char *buf, size_t size,
    const u_char *p, const u_char *end);
static const u_char *aa_redis_find(const u_char *p, const u_char *end,
    u_char c);
static const u_char *aa_redis_find_last(const u_char *p, const u_char *end,
    u_char c);

static int aa_redis_make_key(aa_str_t *key, aa_alloc_t *a, size_t n, ...);
static size_t aa_resp_uint_len(size_t n);
static u_char *aa_resp_write_line(u_char *p, u_char type, size_t n);

static void *aa_resp_create_string(const redisReadTask *task, char *str,
    size_t len);
static void *aa_resp_create_array(const redisReadTask *task, int elements);
static void *aa_resp_create_integer(const redisReadTask *task,
    long long value);
static void *aa_resp_create_nil(const redisReadTask *task);
static void aa_resp_free_object(void *obj);
static aa_reply_t *aa_resp_node(const redisReadTask *task, int type,
    size_t extra);
static int aa_resp_attach(const redisReadTask *task, aa_reply_t *r);


/* URL */

int
aa_redis_url_parse(const u_char *url, size_t len, aa_alloc_t *a,
    aa_redis_url_t *u, char *err, size_t errlen)
{
    char           text[AA_REDIS_ERR_TEXT + 8];
    size_t         slen;
    const u_char  *p, *end;

    memset(u, 0, sizeof(aa_redis_url_t));

    end = url + len;

    for (p = url; p + 3 <= end; p++) {
        if (p[0] == ':' && p[1] == '/' && p[2] == '/') {
            break;
        }
    }

    if (p + 3 > end) {
        aa_set_err(err, errlen, "no scheme: expected redis://, rediss://, "
                   "unix:// or sentinel://");
        return AA_ERROR;
    }

    slen = p - url;
    p += 3;

    if (slen == 5 && strncasecmp((const char *) url, "redis", 5) == 0) {
        u->scheme = AA_REDIS_TCP;
        return aa_redis_url_tcp(p, end, AA_REDIS_PORT, a, u, err, errlen);
    }

    if (slen == 6 && strncasecmp((const char *) url, "rediss", 6) == 0) {
        u->scheme = AA_REDIS_TLS;
        return aa_redis_url_tcp(p, end, AA_REDIS_PORT, a, u, err, errlen);
    }

    if (slen == 4 && strncasecmp((const char *) url, "unix", 4) == 0) {
        u->scheme = AA_REDIS_UNIX;
        return aa_redis_url_unix(p, end, a, u, err, errlen);
    }

    if (slen == 8 && strncasecmp((const char *) url, "sentinel", 8) == 0) {
        u->scheme = AA_REDIS_SENTINEL;
        return aa_redis_url_sentinel(p, end, a, u, err, errlen);
    }

    aa_set_err(err, errlen, "unknown scheme %s: expected redis://, "
               "rediss://, unix:// or sentinel://",
               aa_redis_err_text(text, sizeof(text), url, p - 3));
    return AA_ERROR;
}


/* unix://[[user]:password@]/path/to.sock[?db=N] */

static int
aa_redis_url_unix(const u_char *p, const u_char *end, aa_alloc_t *a,
    aa_redis_url_t *u, char *err, size_t errlen)
{
    char           text[AA_REDIS_ERR_TEXT + 8];
    const u_char  *q, *path;

    if (p < end && *p != '/') {
        /* The path starts at the first "@/": a path may hold '@' too. */
        for (q = p; q + 1 < end; q++) {
            if (q[0] == '@' && q[1] == '/') {
                break;
            }
        }

        if (q + 1 >= end) {
            aa_set_err(err, errlen, "unix socket path must be absolute: "
                       "unix:///path/to/redis.sock");
            return AA_ERROR;
        }

        if (aa_redis_parse_userinfo(p, q, a, u, err, errlen) != AA_OK) {
            return AA_ERROR;
        }

        p = q + 1;
    }

    if (p == end) {
        aa_set_err(err, errlen, "unix socket path must be absolute: "
                   "unix:///path/to/redis.sock");
        return AA_ERROR;
    }

    path = p;
    q = aa_redis_find(p, end, '?');

    if (q - path < 2) {
        aa_set_err(err, errlen, "unix socket path is empty");
        return AA_ERROR;
    }

    if (q - path > AA_REDIS_MAX_UNIX_PATH) {
        aa_set_err(err, errlen, "unix socket path is longer than %d bytes",
                   AA_REDIS_MAX_UNIX_PATH);
        return AA_ERROR;
    }

    for (p = path; p < q; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            aa_set_err(err, errlen,
                       "unix socket path contains a control character");
            return AA_ERROR;
        }
    }

    u->path.data = aa_strdup(a, path, q - path);
    if (u->path.data == NULL) {
        aa_set_err(err, errlen, "out of memory");
        return AA_ERROR;
    }

    u->path.len = q - path;

    if (q == end) {
        return AA_OK;
    }

    q++;

    if (end - q < 3 || memcmp(q, "db=", 3) != 0) {
        aa_set_err(err, errlen, "unknown parameter %s: only ?db=N is "
                   "accepted", aa_redis_err_text(text, sizeof(text), q, end));
        return AA_ERROR;
    }

    return aa_redis_parse_db(q + 3, end, &u->db, err, errlen);
}


/* redis://[[user]:password@]host[:port][/db], rediss:// likewise */

static int
aa_redis_url_tcp(const u_char *p, const u_char *end, int port, aa_alloc_t *a,
    aa_redis_url_t *u, char *err, size_t errlen)
{
    const u_char  *at, *slash;

    /*
     * A host never holds '@', so the last one ends the credentials, and a
     * password with a stray '/' or '@' is still taken whole.
     */
    at = aa_redis_find_last(p, end, '@');

    if (at != NULL) {
        if (aa_redis_parse_userinfo(p, at, a, u, err, errlen) != AA_OK) {
            return AA_ERROR;
        }

        p = at + 1;
    }

    slash = aa_redis_find(p, end, '/');

    if (aa_redis_parse_host(p, slash, port, a, &u->hosts[0], err, errlen)
        != AA_OK)
    {
        return AA_ERROR;
    }

    u->nhosts = 1;

    if (slash == end) {
        return AA_OK;
    }

    return aa_redis_parse_db(slash + 1, end, &u->db, err, errlen);
}


/* sentinel://[[user]:password@]h:p[,h:p...]/master[/db] */

static int
aa_redis_url_sentinel(const u_char *p, const u_char *end, aa_alloc_t *a,
    aa_redis_url_t *u, char *err, size_t errlen)
{
    const u_char  *at, *slash, *comma, *master;

    at = aa_redis_find_last(p, end, '@');

    if (at != NULL) {
        if (aa_redis_parse_userinfo(p, at, a, u, err, errlen) != AA_OK) {
            return AA_ERROR;
        }

        p = at + 1;
    }

    slash = aa_redis_find(p, end, '/');

    for ( ;; ) {
        comma = aa_redis_find(p, slash, ',');

        if (u->nhosts == AA_REDIS_MAX_SENTINELS) {
            aa_set_err(err, errlen, "more than %d sentinel hosts",
                       AA_REDIS_MAX_SENTINELS);
            return AA_ERROR;
        }

        if (aa_redis_parse_host(p, comma, AA_REDIS_SENTINEL_PORT, a,
                                &u->hosts[u->nhosts], err, errlen)
            != AA_OK)
        {
            return AA_ERROR;
        }

        u->nhosts++;

        if (comma == slash) {
            break;
        }

        p = comma + 1;
    }

    if (slash == end || slash + 1 == end || slash[1] == '/') {
        aa_set_err(err, errlen, "sentinel URL without a master name: "
                   "sentinel://host:port[,host:port...]/master[/db]");
        return AA_ERROR;
    }

    master = slash + 1;
    slash = aa_redis_find(master, end, '/');

    for (p = master; p < slash; p++) {
        if (*p <= 0x20 || *p >= 0x7f || *p == '?' || *p == '#'
            || *p == '%' || *p == ',')
        {
            aa_set_err(err, errlen, "invalid character in the sentinel "
                       "master name (0x%02x)", *p);
            return AA_ERROR;
        }
    }

    u->master.data = aa_strdup(a, master, slash - master);
    if (u->master.data == NULL) {
        aa_set_err(err, errlen, "out of memory");
        return AA_ERROR;
    }

    u->master.len = slash - master;

    if (slash == end) {
        return AA_OK;
    }

    return aa_redis_parse_db(slash + 1, end, &u->db, err, errlen);
}


/* [user]:password, both percent-encoded */

static int
aa_redis_parse_userinfo(const u_char *p, const u_char *end, aa_alloc_t *a,
    aa_redis_url_t *u, char *err, size_t errlen)
{
    const u_char  *colon;

    colon = aa_redis_find(p, end, ':');

    if (colon == end) {
        aa_set_err(err, errlen, "credentials must be written "
                   "user:password@ or :password@");
        return AA_ERROR;
    }

    if (aa_redis_percent_decode(p, colon, a, &u->username) != AA_OK) {
        aa_set_err(err, errlen, "bad percent-encoding or character in the "
                   "user name");
        return AA_ERROR;
    }

    if (aa_redis_percent_decode(colon + 1, end, a, &u->password) != AA_OK) {
        aa_set_err(err, errlen, "bad percent-encoding or character in the "
                   "password");
        return AA_ERROR;
    }

    if (u->username.len > 0 && u->password.len == 0) {
        aa_set_err(err, errlen, "a user name needs a password");
        return AA_ERROR;
    }

    return AA_OK;
}


/*
 * Raw spaces and control characters are refused: they are a sign of a
 * pasted or mangled value.  Encoded, any byte goes.
 */
static int
aa_redis_percent_decode(const u_char *p, const u_char *end, aa_alloc_t *a,
    aa_str_t *out)
{
    const u_char  *q;

    out->len = 0;
    out->data = NULL;

    if (p == end) {
        return AA_OK;
    }

    for (q = p; q < end; q++) {
        if (*q <= 0x20 || *q == 0x7f) {
            return AA_ERROR;
        }
    }

    out->data = aa_alloc(a, end - p + 1);
    if (out->data == NULL) {
        return AA_ERROR;
    }

    if (aa_percent_decode(out->data, &out->len, p, end - p) != AA_OK) {
        return AA_ERROR;
    }

    out->data[out->len] = '\0';

    return AA_OK;
}


/* host[:port] or [ipv6][:port] */

static int
aa_redis_parse_host(const u_char *p, const u_char *end, int default_port,
    aa_alloc_t *a, aa_redis_host_t *h, char *err, size_t errlen)
{
    char           text[AA_REDIS_ERR_TEXT + 8];
    char           addr[INET6_ADDRSTRLEN + 1];
    u_char         in6[16];
    const u_char  *host, *q;

    if (p == end) {
        aa_set_err(err, errlen, "empty host");
        return AA_ERROR;
    }

    if (*p == '[') {
        host = p + 1;
        q = aa_redis_find(host, end, ']');

        if (q == end) {
            aa_set_err(err, errlen, "unterminated IPv6 address %s",
                       aa_redis_err_text(text, sizeof(text), p, end));
            return AA_ERROR;
        }

        if (q == host) {
            aa_set_err(err, errlen, "empty host");
            return AA_ERROR;
        }

        /* inet_pton() reads a C string: a NUL inside would cut it short */
        for (p = host; p < q; p++) {
            if (aa_hex_digit(*p) < 0 && *p != ':' && *p != '.') {
                break;
            }
        }

        if (p < q || (size_t) (q - host) >= sizeof(addr)) {
            aa_set_err(err, errlen, "invalid IPv6 address %s",
                       aa_redis_err_text(text, sizeof(text), host, q));
            return AA_ERROR;
        }

        memcpy(addr, host, q - host);
        addr[q - host] = '\0';

        if (inet_pton(AF_INET6, addr, in6) != 1) {
            aa_set_err(err, errlen, "invalid IPv6 address %s",
                       aa_redis_err_text(text, sizeof(text), host, q));
            return AA_ERROR;
        }

        h->host.data = aa_strdup(a, host, q - host);
        h->host.len = q - host;
        q++;

        if (q < end && *q != ':') {
            aa_set_err(err, errlen, "unexpected %s after the IPv6 address",
                       aa_redis_err_text(text, sizeof(text), q, end));
            return AA_ERROR;
        }

    } else {
        host = p;
        q = aa_redis_find(host, end, ':');

        if (q == host) {
            aa_set_err(err, errlen, "empty host");
            return AA_ERROR;
        }

        if (q - host > AA_REDIS_MAX_HOST) {
            aa_set_err(err, errlen, "host is longer than %d bytes",
                       AA_REDIS_MAX_HOST);
            return AA_ERROR;
        }

        for (p = host; p < q; p++) {
            if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
                  || (*p >= '0' && *p <= '9')
                  || *p == '-' || *p == '.' || *p == '_'))
            {
                aa_set_err(err, errlen, "invalid character in host %s",
                           aa_redis_err_text(text, sizeof(text), host, q));
                return AA_ERROR;
            }
        }

        h->host.data = aa_strdup(a, host, q - host);
        h->host.len = q - host;
    }

    if (h->host.data == NULL) {
        aa_set_err(err, errlen, "out of memory");
        return AA_ERROR;
    }

    if (q == end) {
        h->port = default_port;
        return AA_OK;
    }

    return aa_redis_parse_port(q + 1, end, &h->port, err, errlen);
}


static int
aa_redis_parse_port(const u_char *p, const u_char *end, int *port,
    char *err, size_t errlen)
{
    char           text[AA_REDIS_ERR_TEXT + 8];
    int            n;
    const u_char  *q;

    n = 0;

    for (q = p; q < end; q++) {
        if (*q < '0' || *q > '9' || q - p == 5) {
            goto failed;
        }

        n = n * 10 + (*q - '0');
    }

    if (q == p || n == 0 || n > 65535) {
        goto failed;
    }

    *port = n;

    return AA_OK;

failed:

    aa_set_err(err, errlen, "bad port %s: expected 1-65535",
               aa_redis_err_text(text, sizeof(text), p, end));
    return AA_ERROR;
}


/* "" (database 0, as after a bare trailing '/') or 0-65535 */

static int
aa_redis_parse_db(const u_char *p, const u_char *end, int *db, char *err,
    size_t errlen)
{
    char           text[AA_REDIS_ERR_TEXT + 8];
    int            n;
    const u_char  *q;

    n = 0;

    for (q = p; q < end && *q >= '0' && *q <= '9'; q++) {
        n = n * 10 + (*q - '0');

        if (n > AA_REDIS_MAX_DB) {
            aa_set_err(err, errlen, "bad database number %s: expected "
                       "0-%d", aa_redis_err_text(text, sizeof(text), p, end),
                       AA_REDIS_MAX_DB);
            return AA_ERROR;
        }
    }

    if (q == p && q < end) {
        aa_set_err(err, errlen, "bad database number %s: expected 0-%d",
                   aa_redis_err_text(text, sizeof(text), p, end),
                   AA_REDIS_MAX_DB);
        return AA_ERROR;
    }

    if (q < end) {
        aa_set_err(err, errlen, "unexpected %s after the database number",
                   aa_redis_err_text(text, sizeof(text), q, end));
        return AA_ERROR;
    }

    *db = n;

    return AA_OK;
}


/*
 * Quotes part of the URL for a message, cut and with anything unprintable
 * as '?'.  Callers never pass the credentials.
 */
static const char *
aa_redis_err_text(char *buf, size_t size, const u_char *p, const u_char *end)
{
    size_t  i, n;

    n = end - p;
    if (n > size - 6) {
        n = size - 6;
    }

    buf[0] = '"';

    for (i = 0; i < n; i++) {
        buf[i + 1] = (p[i] >= 0x20 && p[i] < 0x7f) ? p[i] : '?';
    }

    if ((size_t) (end - p) > n) {
        memcpy(buf + n + 1, "...\"", 5);

    } else {
        memcpy(buf + n + 1, "\"", 2);
    }

    return buf;
}


static const u_char *
aa_redis_find(const u_char *p, const u_char *end, u_char c)
{
    const u_char  *q;

    q = memchr(p, c, end - p);

    return q ? q : end;
}


static const u_char *
aa_redis_find_last(const u_char *p, const u_char *end, u_char c)
{
    while (end > p) {
        end--;

        if (*end == c) {
            return end;
        }
    }

    return NULL;
}


/* Keys */

int
aa_redis_session_hash(const u_char *id, size_t id_len, u_char *out)
{
    u_char        md[EVP_MAX_MD_SIZE];
    unsigned int  md_len;

    if (EVP_Digest(id, id_len, md, &md_len, EVP_sha256(), NULL) != 1
        || md_len != 32)
    {
        return AA_ERROR;
    }

    aa_hex_encode(out, md, 32);

    return AA_OK;
}


int
aa_redis_key_session(const aa_str_t *prefix, const u_char *hash,
    aa_alloc_t *a, aa_str_t *key)
{
    return aa_redis_make_key(key, a, 3, prefix->data, prefix->len,
                             "s:", (size_t) 2,
                             hash, (size_t) AA_REDIS_HASH_LEN);
}


int
aa_redis_key_user(const aa_str_t *prefix, const aa_str_t *user,
    aa_alloc_t *a, aa_str_t *key)
{
    return aa_redis_make_key(key, a, 3, prefix->data, prefix->len,
                             "u:", (size_t) 2, user->data, user->len);
}


int
aa_redis_key_sid(const aa_str_t *prefix, const aa_str_t *idp,
    const aa_str_t *sid, aa_alloc_t *a, aa_str_t *key)
{
    return aa_redis_make_key(key, a, 5, prefix->data, prefix->len,
                             "sid:", (size_t) 4, idp->data, idp->len,
                             ":", (size_t) 1, sid->data, sid->len);
}


int
aa_redis_key_channel(const aa_str_t *prefix, aa_alloc_t *a, aa_str_t *key)
{
    return aa_redis_make_key(key, a, 2, prefix->data, prefix->len,
                             "inv", (size_t) 3);
}


/* Concatenates n (const void *, size_t) pairs, NUL-terminated. */

static int
aa_redis_make_key(aa_str_t *key, aa_alloc_t *a, size_t n, ...)
{
    size_t       i, len, total;
    u_char      *p;
    va_list      args;
    const void  *s;

    total = 0;

    va_start(args, n);

    for (i = 0; i < n; i++) {
        (void) va_arg(args, const void *);
        len = va_arg(args, size_t);

        if (len > SIZE_MAX - 1 - total) {
            va_end(args);
            return AA_ERROR;
        }

        total += len;
    }

    va_end(args);

    key->data = aa_alloc(a, total + 1);
    if (key->data == NULL) {
        return AA_ERROR;
    }

    p = key->data;

    va_start(args, n);

    for (i = 0; i < n; i++) {
        s = va_arg(args, const void *);
        len = va_arg(args, size_t);

        if (len) {
            memcpy(p, s, len);
            p += len;
        }
    }

    va_end(args);

    *p = '\0';
    key->len = total;

    return AA_OK;
}


int
aa_redis_glob_escape(const aa_str_t *in, aa_alloc_t *a, aa_str_t *out)
{
    size_t   i, n;
    u_char   c, *p;

    n = 0;

    for (i = 0; i < in->len; i++) {
        c = in->data[i];
        n += (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\')
             ? 2 : 1;
    }

    out->data = aa_alloc(a, n + 1);
    if (out->data == NULL) {
        return AA_ERROR;
    }

    p = out->data;

    for (i = 0; i < in->len; i++) {
        c = in->data[i];

        if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') {
            *p++ = '\\';
        }

        *p++ = c;
    }

    *p = '\0';
    out->len = n;

    return AA_OK;
}


/* RESP commands */

static size_t
aa_resp_uint_len(size_t n)
{
    size_t  len;

    len = 1;

    while (n >= 10) {
        n /= 10;
        len++;
    }

    return len;
}


/* type byte, decimal n, CR LF; no NUL, the buffer is sized exactly */

static u_char *
aa_resp_write_line(u_char *p, u_char type, size_t n)
{
    size_t  len, i;

    *p++ = type;

    len = aa_resp_uint_len(n);

    for (i = len; i > 0; i--) {
        p[i - 1] = (u_char) ('0' + n % 10);
        n /= 10;
    }

    p += len;
    *p++ = '\r';
    *p++ = '\n';

    return p;
}


size_t
aa_resp_command_len(size_t argc, const aa_str_t *argv)
{
    size_t  i, len;

    len = 1 + aa_resp_uint_len(argc) + 2;

    for (i = 0; i < argc; i++) {
        len += 1 + aa_resp_uint_len(argv[i].len) + 2 + argv[i].len + 2;
    }

    return len;
}


u_char *
aa_resp_command_write(u_char *p, size_t argc, const aa_str_t *argv)
{
    size_t  i;

    p = aa_resp_write_line(p, '*', argc);

    for (i = 0; i < argc; i++) {
        p = aa_resp_write_line(p, '$', argv[i].len);

        if (argv[i].len) {
            memcpy(p, argv[i].data, argv[i].len);
            p += argv[i].len;
        }

        *p++ = '\r';
        *p++ = '\n';
    }

    return p;
}


/* Replies */

aa_resp_reader_t *
aa_resp_reader_new(void)
{
    aa_resp_reader_t  *rd;

    rd = calloc(1, sizeof(aa_resp_reader_t));
    if (rd == NULL) {
        return NULL;
    }

    rd->fn.createString = aa_resp_create_string;
    rd->fn.createArray = aa_resp_create_array;
    rd->fn.createInteger = aa_resp_create_integer;
    rd->fn.createNil = aa_resp_create_nil;
    rd->fn.freeObject = aa_resp_free_object;

    rd->reader = redisReaderCreateWithFunctions(&rd->fn);
    if (rd->reader == NULL) {
        free(rd);
        return NULL;
    }

    /* hiredis copies this into every task it hands to the callbacks. */
    rd->reader->privdata = rd;

    return rd;
}


void
aa_resp_reader_free(aa_resp_reader_t *rd)
{
    if (rd == NULL) {
        return;
    }

    /* This frees a partly built reply through aa_resp_free_object. */
    redisReaderFree(rd->reader);
    free(rd);
}


int
aa_resp_reader_feed(aa_resp_reader_t *rd, const u_char *buf, size_t len)
{
    size_t  pending;

    if (rd->failed) {
        return AA_ERROR;
    }

    if (len == 0) {
        return AA_OK;
    }

    pending = rd->reader->len - rd->reader->pos;

    if (len > AA_REDIS_MAX_PENDING - pending) {
        aa_set_err(rd->err, sizeof(rd->err), "more than %d bytes of reply "
                   "pending", AA_REDIS_MAX_PENDING);
        rd->failed = 1;
        return AA_ERROR;
    }

    if (redisReaderFeed(rd->reader, (const char *) buf, len) != REDIS_OK) {
        rd->failed = 1;
        return AA_ERROR;
    }

    return AA_OK;
}


int
aa_resp_reader_get(aa_resp_reader_t *rd, aa_reply_t **reply)
{
    void  *obj;

    *reply = NULL;

    if (rd->failed) {
        return AA_ERROR;
    }

    obj = NULL;

    if (redisReaderGetReply(rd->reader, &obj) != REDIS_OK) {
        rd->failed = 1;
        return AA_ERROR;
    }

    *reply = obj;

    return AA_OK;
}


const char *
aa_resp_reader_error(aa_resp_reader_t *rd)
{
    if (rd->err[0] != '\0') {
        return rd->err;
    }

    if (rd->reader->errstr[0] != '\0') {
        return rd->reader->errstr;
    }

    return "no error";
}


void
aa_reply_free(aa_reply_t *reply)
{
    size_t  i;

    if (reply == NULL) {
        return;
    }

    /* Depth is bounded by hiredis (7 levels of nesting). */
    for (i = 0; i < reply->elements; i++) {
        aa_reply_free(reply->element[i]);
    }

    free(reply->element);
    free(reply->str);
    free(reply);
}


/*
 * The hiredis callbacks.  Returning NULL makes the reader fail, after it
 * freed through aa_resp_free_object what was built of the reply so far;
 * rd->err then says which bound was hit.
 */

static void *
aa_resp_create_string(const redisReadTask *task, char *str, size_t len)
{
    int                type;
    aa_reply_t        *r;
    aa_resp_reader_t  *rd = task->privdata;

    if (len > AA_REDIS_MAX_BULK) {
        aa_set_err(rd->err, sizeof(rd->err), "string of %zu bytes exceeds "
                   "the bound of %d", len, AA_REDIS_MAX_BULK);
        return NULL;
    }

    switch (task->type) {

    case REDIS_REPLY_STATUS:
        type = AA_REPLY_STATUS;
        break;

    case REDIS_REPLY_ERROR:
        type = AA_REPLY_ERROR;
        break;

    default:
        type = AA_REPLY_STRING;
        break;
    }

    r = aa_resp_node(task, type, len + 1);
    if (r == NULL) {
        return NULL;
    }

    r->str = malloc(len + 1);
    if (r->str == NULL) {
        aa_set_err(rd->err, sizeof(rd->err), "out of memory");
        free(r);
        return NULL;
    }

    if (len) {
        memcpy(r->str, str, len);
    }

    r->str[len] = '\0';
    r->len = len;

    if (aa_resp_attach(task, r) != AA_OK) {
        aa_reply_free(r);
        return NULL;
    }

    return r;
}


static void *
aa_resp_create_array(const redisReadTask *task, int elements)
{
    aa_reply_t        *r;
    aa_resp_reader_t  *rd = task->privdata;

    if (elements < 0 || elements > AA_REDIS_MAX_ELEMENTS) {
        aa_set_err(rd->err, sizeof(rd->err), "array of %d elements exceeds "
                   "the bound of %d", elements, AA_REDIS_MAX_ELEMENTS);
        return NULL;
    }

    r = aa_resp_node(task, AA_REPLY_ARRAY,
                     (size_t) elements * sizeof(aa_reply_t *));
    if (r == NULL) {
        return NULL;
    }

    if (elements > 0) {
        r->element = calloc(elements, sizeof(aa_reply_t *));
        if (r->element == NULL) {
            aa_set_err(rd->err, sizeof(rd->err), "out of memory");
            free(r);
            return NULL;
        }
    }

    r->elements = elements;

    if (aa_resp_attach(task, r) != AA_OK) {
        aa_reply_free(r);
        return NULL;
    }

    return r;
}


static void *
aa_resp_create_integer(const redisReadTask *task, long long value)
{
    aa_reply_t  *r;

    r = aa_resp_node(task, AA_REPLY_INTEGER, 0);
    if (r == NULL) {
        return NULL;
    }

    r->integer = value;

    if (aa_resp_attach(task, r) != AA_OK) {
        aa_reply_free(r);
        return NULL;
    }

    return r;
}


static void *
aa_resp_create_nil(const redisReadTask *task)
{
    aa_reply_t  *r;

    r = aa_resp_node(task, AA_REPLY_NIL, 0);
    if (r == NULL) {
        return NULL;
    }

    if (aa_resp_attach(task, r) != AA_OK) {
        aa_reply_free(r);
        return NULL;
    }

    return r;
}


static void
aa_resp_free_object(void *obj)
{
    aa_reply_free(obj);
}


/* A zeroed node, charged with extra bytes to the reply's memory bound. */

static aa_reply_t *
aa_resp_node(const redisReadTask *task, int type, size_t extra)
{
    size_t             cost;
    aa_reply_t        *r;
    aa_resp_reader_t  *rd = task->privdata;

    if (task->parent == NULL) {
        rd->reply_mem = 0;
    }

    cost = sizeof(aa_reply_t) + extra;

    if (cost > AA_RESP_MAX_REPLY_MEM - rd->reply_mem) {
        aa_set_err(rd->err, sizeof(rd->err), "reply larger than %d bytes "
                   "once parsed", AA_RESP_MAX_REPLY_MEM);
        return NULL;
    }

    rd->reply_mem += cost;

    r = calloc(1, sizeof(aa_reply_t));
    if (r == NULL) {
        aa_set_err(rd->err, sizeof(rd->err), "out of memory");
        return NULL;
    }

    r->type = type;

    return r;
}


static int
aa_resp_attach(const redisReadTask *task, aa_reply_t *r)
{
    aa_reply_t        *parent;
    aa_resp_reader_t  *rd = task->privdata;

    if (task->parent == NULL) {
        return AA_OK;
    }

    parent = task->parent->obj;

    /* hiredis keeps idx below the count it gave us; checked all the same. */
    if (parent == NULL || parent->type != AA_REPLY_ARRAY || task->idx < 0
        || (size_t) task->idx >= parent->elements
        || parent->element[task->idx] != NULL)
    {
        aa_set_err(rd->err, sizeof(rd->err), "reply element out of place");
        return AA_ERROR;
    }

    parent->element[task->idx] = r;

    return AA_OK;
}
