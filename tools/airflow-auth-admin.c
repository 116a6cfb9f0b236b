/*
 * airflow-auth-admin: the operators' command line over the gateway's
 * sessions in Redis.  It creates a session for a user without an IdP (for
 * service accounts, break-glass access and tests), lists the sessions and
 * revokes them.
 *
 * Everything the nginx module also does (the Redis URL, the key ring, the
 * cookie, sealing, the session JSON, role mapping, key names) goes through
 * the same core functions, so the CLI and the module cannot disagree about
 * the format.  Unlike the module, the CLI may block on Redis: it talks to it
 * with hiredis's synchronous API, always with argv commands.
 *
 * Exit status: 0 done, 1 the work failed (Redis, a user with no role),
 * 2 bad arguments or configuration.
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <openssl/crypto.h>

#include "aa_core.h"
#include "aa_codec.h"
#include "aa_redis.h"
#include "aa_roles.h"
#include "aa_seal.h"
#include "aa_session.h"


#define AA_ADMIN_NAME           "airflow-auth-admin"

#define AA_ADMIN_EXIT_OK        0
#define AA_ADMIN_EXIT_FAILED    1
#define AA_ADMIN_EXIT_USAGE     2

#define AA_ADMIN_CREATE         0x01
#define AA_ADMIN_LIST           0x02
#define AA_ADMIN_REVOKE         0x04
#define AA_ADMIN_ANY            0x07

#define AA_ADMIN_TIMEOUT        5
#define AA_ADMIN_SCAN_COUNT     "500"
#define AA_ADMIN_DEFAULT_REDIS  "redis://127.0.0.1:6379/0"
#define AA_ADMIN_DEFAULT_PREFIX "airflow_auth:"
#define AA_ADMIN_DEFAULT_IDP    "cli"
#define AA_ADMIN_DEFAULT_TTL    43200
/* ten years: far beyond any sane session, far from int64 overflow */
#define AA_ADMIN_MAX_TTL        (10LL * 366 * 86400)
#define AA_ADMIN_SECRET_MAX     (64 * 1024)


typedef struct {
    const char         *redis;
    const char         *secret_file;
    const char         *prefix;
    const char         *user;
    const char         *email;
    const char         *name;
    const char         *groups;
    const char         *roles;
    const char         *roles_mapping;
    const char         *default_role;
    const char         *idp;
    const char         *ttl;
    const char         *idle_timeout;
    const char         *all;
    const char         *help;
    unsigned            command;
} aa_admin_args_t;


typedef struct {
    const char         *name;
    int                 has_value;
    size_t              offset;
    unsigned            commands;
} aa_admin_opt_t;


typedef struct {
    aa_admin_args_t     args;
    aa_arena_t          arena;
    aa_alloc_t          alloc;
    aa_keyring_t        keys;
    aa_str_t            prefix;
    aa_redis_url_t      url;
    int                 url_parsed;
    aa_roles_map_t     *map;
    redisContext       *redis;
    char                where[300];
} aa_admin_t;


typedef struct {
    u_char              hash[AA_REDIS_HASH_LEN + 1];
    aa_session_t        session;
    int                 known;      /* session holds the decoded record */
} aa_admin_row_t;


/* What a scan of the session records keeps. */
typedef struct {
    const aa_str_t     *user;       /* NULL: every user */
    aa_admin_row_t     *rows;
    size_t              nrows;
    size_t              nalloc;
    size_t              unreadable;
} aa_admin_found_t;


typedef int (*aa_admin_page_pt)(aa_admin_t *ad, redisReply *keys,
    void *data);


static void aa_admin_err(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static void aa_admin_usage(FILE *f);
static int aa_admin_parse_args(aa_admin_args_t *args, int argc, char **argv);
static int aa_admin_check_args(aa_admin_args_t *args);
static int aa_admin_parse_seconds(const char *opt, const char *value,
    int64_t *out);
static int aa_admin_read_file(const char *path, size_t max, u_char **buf,
    size_t *len);
static int aa_admin_load_keys(aa_admin_t *ad);
static int aa_admin_load_map(aa_admin_t *ad);
static int aa_admin_str(aa_admin_t *ad, const char *s, aa_str_t *out);

static int aa_admin_connect(aa_admin_t *ad);
static redisContext *aa_admin_connect_to(aa_admin_t *ad, const char *what,
    const aa_str_t *host, int port, const aa_str_t *path);
static int aa_admin_login(aa_admin_t *ad, redisContext *c, int select);
static int aa_admin_sentinel(aa_admin_t *ad);
static int aa_admin_sentinel_ask(aa_admin_t *ad, redisContext *c,
    aa_str_t *host, int *port);
static redisReply *aa_admin_command(aa_admin_t *ad, redisContext *c,
    size_t argc, const aa_str_t *argv);
static int aa_admin_append(redisContext *c, size_t argc, const aa_str_t *argv);
static redisReply *aa_admin_reply(aa_admin_t *ad, redisContext *c);
static int aa_admin_int_command(aa_admin_t *ad, size_t argc,
    const aa_str_t *argv, long long *result);

static int aa_admin_scan(aa_admin_t *ad, const char *suffix,
    aa_admin_page_pt handler, void *data);
static int aa_admin_hash_from_key(aa_admin_t *ad, const char *key,
    size_t len, u_char *hash);
static int aa_admin_open(aa_admin_t *ad, const u_char *hash,
    const u_char *value, size_t len, aa_alloc_t *a, aa_session_t *s);
static int aa_admin_found_add(aa_admin_t *ad, aa_admin_found_t *found,
    const u_char *hash, const aa_session_t *s);
static int aa_admin_found_has(aa_admin_found_t *found, size_t n,
    const u_char *hash);
static int aa_admin_collect_page(aa_admin_t *ad, redisReply *keys,
    void *data);
static int aa_admin_collect(aa_admin_t *ad, const aa_str_t *user,
    aa_admin_found_t *found);
static int aa_admin_row_hash_cmp(const void *a, const void *b);
static int aa_admin_row_list_cmp(const void *a, const void *b);
static void aa_admin_report_unreadable(size_t n);

static int aa_admin_roles(aa_admin_t *ad, const aa_strlist_t *groups,
    aa_strlist_t *roles);
static int aa_admin_create(aa_admin_t *ad);
static int aa_admin_index_user(aa_admin_t *ad, const aa_str_t *user,
    const aa_str_t *hash, int64_t lifetime);
static int aa_admin_list(aa_admin_t *ad);
static void aa_admin_print_field(const u_char *p, size_t len);
static void aa_admin_print_time(int64_t t);
static int aa_admin_revoke_user(aa_admin_t *ad);
static int aa_admin_index_members(aa_admin_t *ad, const aa_str_t *user,
    aa_admin_found_t *found);
static int aa_admin_revoke_rows(aa_admin_t *ad, aa_admin_found_t *found,
    long long *revoked);
static int aa_admin_revoke_all(aa_admin_t *ad);
static int aa_admin_delete_page(aa_admin_t *ad, redisReply *keys,
    void *data);
static int aa_admin_publish(aa_admin_t *ad, const u_char *hash);
static int aa_admin_finish_output(void);


#define aa_admin_opt(name, value, field, commands)                            \
    { name, value, offsetof(aa_admin_args_t, field), commands }

static const aa_admin_opt_t  aa_admin_opts[] = {
    aa_admin_opt("--redis", 1, redis, AA_ADMIN_ANY),
    aa_admin_opt("--secret-file", 1, secret_file, AA_ADMIN_ANY),
    aa_admin_opt("--prefix", 1, prefix, AA_ADMIN_ANY),
    aa_admin_opt("--user", 1, user, AA_ADMIN_ANY),
    aa_admin_opt("--email", 1, email, AA_ADMIN_CREATE),
    aa_admin_opt("--name", 1, name, AA_ADMIN_CREATE),
    aa_admin_opt("--groups", 1, groups, AA_ADMIN_CREATE),
    aa_admin_opt("--roles", 1, roles, AA_ADMIN_CREATE),
    aa_admin_opt("--roles-mapping", 1, roles_mapping, AA_ADMIN_CREATE),
    aa_admin_opt("--default-role", 1, default_role, AA_ADMIN_CREATE),
    aa_admin_opt("--idp", 1, idp, AA_ADMIN_CREATE),
    aa_admin_opt("--ttl", 1, ttl, AA_ADMIN_CREATE),
    aa_admin_opt("--idle-timeout", 1, idle_timeout, AA_ADMIN_CREATE),
    aa_admin_opt("--all", 0, all, AA_ADMIN_REVOKE),
    aa_admin_opt("--help", 0, help, AA_ADMIN_ANY),
    { NULL, 0, 0, 0 }
};


/*
 * One line on stderr whatever the message quotes (a user name, an unknown
 * argument, a Redis error): control bytes are shown as \xNN.
 */
static void
aa_admin_err(const char *fmt, ...)
{
    int      n;
    char     buf[2048];
    size_t   i;
    va_list  args;

    va_start(args, fmt);
    n = vsnprintf(buf, sizeof(buf), fmt, args);
    va_end(args);

    fputs(AA_ADMIN_NAME ": ", stderr);

    for (i = 0; n > 0 && i < (size_t) n && i < sizeof(buf) - 1; i++) {
        if ((u_char) buf[i] < 0x20 || buf[i] == 0x7f) {
            fprintf(stderr, "\\x%02x", (u_char) buf[i]);

        } else {
            fputc(buf[i], stderr);
        }
    }

    fputc('\n', stderr);
}


static void
aa_admin_usage(FILE *f)
{
    fputs(
"usage: " AA_ADMIN_NAME " [--redis URL] --secret-file FILE [--prefix P]\n"
"           session COMMAND [OPTIONS]\n"
"\n"
"Manage the sessions of ngx_http_airflow_auth_module in Redis.\n"
"\n"
"  session create --user U [--email E] [--name N] [--groups G1,G2]\n"
"                 [--roles R1,R2 | --roles-mapping FILE [--default-role R]]\n"
"                 [--idp NAME] [--ttl SECONDS] [--idle-timeout SECONDS]\n"
"      Creates a session and prints its cookie value.  Roles come from\n"
"      --roles, or from the FAB roles mapping applied to --groups (with\n"
"      --default-role, or none, when no group maps); a user with no role\n"
"      is refused, as the gateway would refuse it.  --ttl is the absolute\n"
"      lifetime (default 43200), --idle-timeout defaults to the ttl,\n"
"      --idp to \"cli\".\n"
"\n"
"  session list [--user U]\n"
"      One session per line, tab-separated: session hash, user, roles,\n"
"      idp, expires, idle expiry (ISO 8601, UTC).  Tabs, line breaks and\n"
"      other control characters in values are shown as \\t, \\n, \\xNN.\n"
"\n"
"  session revoke (--user U | --all)\n"
"      Deletes the sessions (of one user, or every session under the\n"
"      prefix), tells the gateways to drop them from their caches and\n"
"      prints how many were revoked.  --all needs no --secret-file.\n"
"\n"
"  --redis URL        redis://[[user]:password@]host[:port][/db] (default\n"
"                     " AA_ADMIN_DEFAULT_REDIS "),\n"
"                     unix://[[user]:password@]/path.sock[?db=N],\n"
"                     sentinel://[[user]:password@]h:p[,h:p...]/master[/db]\n"
"  --secret-file FILE the gateway's airflow_auth_secret_file\n"
"  --prefix P         the gateway's airflow_auth_redis_prefix (default\n"
"                     \"" AA_ADMIN_DEFAULT_PREFIX "\")\n"
"  Every option also takes the form --option=VALUE.\n"
"\n"
"Exit status: 0 done, 1 failed (Redis, user without role), 2 bad usage.\n",
        f);
}


/*
 * Options may come before or after the words "session COMMAND".  A value
 * given as a separate word must not look like an option, so that
 * "--user --all" is a missing value rather than a user named "--all";
 * "--user=--all" says it on purpose.
 */
static int
aa_admin_parse_args(aa_admin_args_t *args, int argc, char **argv)
{
    int                    i, nwords;
    size_t                 n;
    const char            *arg, *eq, *value, **field;
    const aa_admin_opt_t  *opt;

    nwords = 0;

    for (i = 1; i < argc; i++) {
        arg = argv[i];

        if (arg[0] != '-' || arg[1] == '\0') {
            if (nwords == 0) {
                if (strcmp(arg, "session") != 0) {
                    aa_admin_err("unknown command \"%s\" (expected "
                                 "\"session\"); try --help", arg);
                    return AA_ERROR;
                }

            } else if (nwords == 1) {
                if (strcmp(arg, "create") == 0) {
                    args->command = AA_ADMIN_CREATE;

                } else if (strcmp(arg, "list") == 0) {
                    args->command = AA_ADMIN_LIST;

                } else if (strcmp(arg, "revoke") == 0) {
                    args->command = AA_ADMIN_REVOKE;

                } else {
                    aa_admin_err("unknown session command \"%s\" (expected "
                                 "create, list or revoke)", arg);
                    return AA_ERROR;
                }

            } else {
                aa_admin_err("unexpected argument \"%s\"", arg);
                return AA_ERROR;
            }

            nwords++;
            continue;
        }

        eq = strchr(arg, '=');
        n = eq ? (size_t) (eq - arg) : strlen(arg);

        for (opt = aa_admin_opts; opt->name; opt++) {
            if (strlen(opt->name) == n && strncmp(opt->name, arg, n) == 0) {
                break;
            }
        }

        if (opt->name == NULL || arg[1] != '-') {
            aa_admin_err("unknown option \"%.*s\"; try --help", (int) n, arg);
            return AA_ERROR;
        }

        field = (const char **) ((char *) args + opt->offset);

        if (*field != NULL) {
            aa_admin_err("option %s given more than once", opt->name);
            return AA_ERROR;
        }

        if (!opt->has_value) {
            if (eq != NULL) {
                aa_admin_err("option %s takes no value", opt->name);
                return AA_ERROR;
            }

            *field = "";
            continue;
        }

        if (eq != NULL) {
            value = eq + 1;

        } else {
            if (i + 1 >= argc || strncmp(argv[i + 1], "--", 2) == 0) {
                aa_admin_err("option %s needs a value", opt->name);
                return AA_ERROR;
            }

            value = argv[++i];
        }

        *field = value;
    }

    if (args->help) {
        return AA_OK;
    }

    if (nwords == 0) {
        aa_admin_err("missing command; try --help");
        return AA_ERROR;
    }

    if (nwords == 1) {
        aa_admin_err("missing session command (create, list or revoke)");
        return AA_ERROR;
    }

    return aa_admin_check_args(args);
}


static int
aa_admin_check_args(aa_admin_args_t *args)
{
    const char            *cmd, **field;
    const aa_admin_opt_t  *opt;

    cmd = args->command == AA_ADMIN_CREATE ? "create"
          : args->command == AA_ADMIN_LIST ? "list" : "revoke";

    for (opt = aa_admin_opts; opt->name; opt++) {
        field = (const char **) ((char *) args + opt->offset);

        if (*field != NULL && !(opt->commands & args->command)) {
            aa_admin_err("option %s does not apply to \"session %s\"",
                         opt->name, cmd);
            return AA_ERROR;
        }
    }

    switch (args->command) {

    case AA_ADMIN_CREATE:
        if (args->user == NULL) {
            aa_admin_err("session create needs --user");
            return AA_ERROR;
        }

        if (args->roles && args->roles_mapping) {
            aa_admin_err("--roles and --roles-mapping exclude each other");
            return AA_ERROR;
        }

        if (args->roles && args->default_role) {
            aa_admin_err("--default-role goes with --roles-mapping, "
                         "not with --roles");
            return AA_ERROR;
        }

        break;

    case AA_ADMIN_REVOKE:
        if ((args->user == NULL) == (args->all == NULL)) {
            aa_admin_err("session revoke needs either --user or --all");
            return AA_ERROR;
        }

        break;

    default:
        break;
    }

    if (args->user != NULL && args->user[0] == '\0') {
        aa_admin_err("--user must not be empty");
        return AA_ERROR;
    }

    if (args->secret_file == NULL && args->all == NULL) {
        aa_admin_err("missing --secret-file (the gateway's "
                     "airflow_auth_secret_file)");
        return AA_ERROR;
    }

    return AA_OK;
}


static int
aa_admin_parse_seconds(const char *opt, const char *value, int64_t *out)
{
    char       *end;
    long long   n;

    errno = 0;
    n = strtoll(value, &end, 10);

    if (value[0] < '0' || value[0] > '9' || *end != '\0' || errno != 0
        || n < 1 || n > AA_ADMIN_MAX_TTL)
    {
        aa_admin_err("%s must be a whole number of seconds from 1 to %lld",
                     opt, AA_ADMIN_MAX_TTL);
        return AA_ERROR;
    }

    *out = n;

    return AA_OK;
}


/* Reads a whole file into malloc'd memory; the caller frees it. */
static int
aa_admin_read_file(const char *path, size_t max, u_char **buf, size_t *len)
{
    int          fd, err;
    size_t       n;
    ssize_t      r;
    u_char      *p;
    struct stat  st;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1) {
        return AA_ERROR;
    }

    p = NULL;

    if (fstat(fd, &st) == -1) {
        goto failed;
    }

    if (!S_ISREG(st.st_mode) || (size_t) st.st_size > max) {
        errno = S_ISREG(st.st_mode) ? EFBIG : EINVAL;
        goto failed;
    }

    /* one byte more than allowed, to notice a file that grew */
    p = malloc(max + 1);
    if (p == NULL) {
        goto failed;
    }

    n = 0;

    for ( ;; ) {
        r = read(fd, p + n, max + 1 - n);

        if (r == -1) {
            if (errno == EINTR) {
                continue;
            }

            goto failed;
        }

        if (r == 0) {
            break;
        }

        n += r;

        if (n > max) {
            errno = EFBIG;
            goto failed;
        }
    }

    close(fd);

    *buf = p;
    *len = n;

    return AA_OK;

failed:

    err = errno;

    if (p != NULL) {
        OPENSSL_cleanse(p, max + 1);
        free(p);
    }

    close(fd);
    errno = err;

    return AA_ERROR;
}


static int
aa_admin_load_keys(aa_admin_t *ad)
{
    int      rc;
    char     err[256];
    size_t   len;
    u_char  *text;

    if (aa_admin_read_file(ad->args.secret_file, AA_ADMIN_SECRET_MAX, &text,
                           &len)
        != AA_OK)
    {
        aa_admin_err("cannot read secret file \"%s\": %s",
                     ad->args.secret_file, strerror(errno));
        return AA_ERROR;
    }

    err[0] = '\0';
    rc = aa_keyring_load(&ad->keys, text, len, err, sizeof(err));

    OPENSSL_cleanse(text, AA_ADMIN_SECRET_MAX + 1);
    free(text);

    if (rc != AA_OK) {
        aa_keyring_wipe(&ad->keys);
        aa_admin_err("secret file \"%s\": %s", ad->args.secret_file,
                     err[0] ? err : "cannot be used");
        return AA_ERROR;
    }

    return AA_OK;
}


static int
aa_admin_load_map(aa_admin_t *ad)
{
    int      rc;
    char     err[512];
    size_t   len;
    u_char  *text;

    if (aa_admin_read_file(ad->args.roles_mapping, AA_ROLES_MAX_FILE, &text,
                           &len)
        != AA_OK)
    {
        aa_admin_err("cannot read roles mapping \"%s\": %s",
                     ad->args.roles_mapping, strerror(errno));
        return AA_ERROR;
    }

    err[0] = '\0';
    rc = aa_roles_map_parse(text, len, &ad->map, err, sizeof(err));

    free(text);

    if (rc != AA_OK) {
        ad->map = NULL;
        aa_admin_err("roles mapping \"%s\": %s", ad->args.roles_mapping,
                     err[0] ? err : "cannot be used");
        return AA_ERROR;
    }

    return AA_OK;
}


static int
aa_admin_str(aa_admin_t *ad, const char *s, aa_str_t *out)
{
    out->len = strlen(s);
    out->data = aa_strdup(&ad->alloc, (const u_char *) s, out->len);

    if (out->data == NULL) {
        aa_admin_err("out of memory");
        return AA_ERROR;
    }

    return AA_OK;
}


/* Redis: connection. */

static int
aa_admin_connect(aa_admin_t *ad)
{
    switch (ad->url.scheme) {

    case AA_REDIS_TLS:
        /* refused when the arguments are checked; kept for completeness */
        aa_admin_err("TLS is not supported by this build");
        return AA_ERROR;

    case AA_REDIS_SENTINEL:
        return aa_admin_sentinel(ad);

    case AA_REDIS_UNIX:
        ad->redis = aa_admin_connect_to(ad, "redis", NULL, 0,
                                        &ad->url.path);
        break;

    default:
        ad->redis = aa_admin_connect_to(ad, "redis", &ad->url.hosts[0].host,
                                        ad->url.hosts[0].port, NULL);
        break;
    }

    if (ad->redis == NULL) {
        return AA_ERROR;
    }

    return aa_admin_login(ad, ad->redis, 1);
}


/*
 * Connects with the 5 s timeout for both the connect and every command;
 * ad->where names the server in messages (never with the password).
 */
static redisContext *
aa_admin_connect_to(aa_admin_t *ad, const char *what, const aa_str_t *host,
    int port, const aa_str_t *path)
{
    u_char          *s;
    redisContext    *c;
    struct timeval   tv;

    tv.tv_sec = AA_ADMIN_TIMEOUT;
    tv.tv_usec = 0;

    if (path != NULL) {
        snprintf(ad->where, sizeof(ad->where), "%s unix:%.*s", what,
                 (int) path->len, path->data);

        s = aa_strdup(&ad->alloc, path->data, path->len);
        if (s == NULL) {
            aa_admin_err("out of memory");
            return NULL;
        }

        c = redisConnectUnixWithTimeout((const char *) s, tv);

    } else {
        snprintf(ad->where, sizeof(ad->where),
                 memchr(host->data, ':', host->len) ? "%s [%.*s]:%d"
                                                    : "%s %.*s:%d",
                 what, (int) host->len, host->data, port);

        s = aa_strdup(&ad->alloc, host->data, host->len);
        if (s == NULL) {
            aa_admin_err("out of memory");
            return NULL;
        }

        c = redisConnectWithTimeout((const char *) s, port, tv);
    }

    if (c == NULL) {
        aa_admin_err("%s: cannot allocate a connection", ad->where);
        return NULL;
    }

    if (c->err) {
        aa_admin_err("%s: cannot connect: %s", ad->where, c->errstr);
        redisFree(c);
        return NULL;
    }

    if (redisSetTimeout(c, tv) != REDIS_OK) {
        aa_admin_err("%s: cannot set the timeout", ad->where);
        redisFree(c);
        return NULL;
    }

    return c;
}


/*
 * AUTH (with the user name when the URL has one), then SELECT unless this
 * is a sentinel, which has no databases.
 */
static int
aa_admin_login(aa_admin_t *ad, redisContext *c, int select)
{
    u_char       db[16];
    size_t       argc;
    aa_str_t     argv[3];
    redisReply  *r;

    if (ad->url.password.len || ad->url.username.len) {
        argc = 0;
        argv[argc++] = (aa_str_t) aa_string("AUTH");

        if (ad->url.username.len) {
            argv[argc++] = ad->url.username;
        }

        argv[argc++] = ad->url.password;

        r = aa_admin_command(ad, c, argc, argv);
        if (r == NULL) {
            return AA_ERROR;
        }

        freeReplyObject(r);
    }

    if (select && ad->url.db != 0) {
        argv[0] = (aa_str_t) aa_string("SELECT");
        argv[1].data = db;
        argv[1].len = snprintf((char *) db, sizeof(db), "%d", ad->url.db);

        r = aa_admin_command(ad, c, 2, argv);
        if (r == NULL) {
            return AA_ERROR;
        }

        freeReplyObject(r);
    }

    return AA_OK;
}


/*
 * Asks each sentinel in turn where the master is, and takes the first
 * answer that leads to a server which says it is a master (after a
 * failover a sentinel may briefly name the old one).
 */
static int
aa_admin_sentinel(aa_admin_t *ad)
{
    int            port;
    size_t         i;
    aa_str_t       host, argv[1];
    redisReply    *r;
    redisContext  *s, *c;

    for (i = 0; i < ad->url.nhosts; i++) {
        s = aa_admin_connect_to(ad, "sentinel", &ad->url.hosts[i].host,
                                ad->url.hosts[i].port, NULL);
        if (s == NULL) {
            continue;
        }

        if (aa_admin_sentinel_ask(ad, s, &host, &port) != AA_OK) {
            redisFree(s);
            continue;
        }

        redisFree(s);

        c = aa_admin_connect_to(ad, "redis", &host, port, NULL);
        if (c == NULL) {
            continue;
        }

        if (aa_admin_login(ad, c, 1) != AA_OK) {
            redisFree(c);
            continue;
        }

        argv[0] = (aa_str_t) aa_string("ROLE");

        r = aa_admin_command(ad, c, 1, argv);

        if (r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements > 0
            && r->element[0]->type == REDIS_REPLY_STRING
            && strcmp(r->element[0]->str, "master") == 0)
        {
            freeReplyObject(r);
            ad->redis = c;
            return AA_OK;
        }

        if (r != NULL) {
            aa_admin_err("%s: named by the sentinel but not a master",
                         ad->where);
            freeReplyObject(r);
        }

        redisFree(c);
    }

    aa_admin_err("no sentinel gave a reachable master \"%.*s\"",
                 (int) ad->url.master.len, ad->url.master.data);

    return AA_ERROR;
}


static int
aa_admin_sentinel_ask(aa_admin_t *ad, redisContext *c, aa_str_t *host,
    int *port)
{
    int          rc;
    char        *end;
    long         n;
    aa_str_t     argv[3];
    redisReply  *r;

    argv[0] = (aa_str_t) aa_string("SENTINEL");
    argv[1] = (aa_str_t) aa_string("get-master-addr-by-name");
    argv[2] = ad->url.master;

    if (!aa_admin_append(c, 3, argv)) {
        aa_admin_err("%s: %s", ad->where, c->errstr);
        return AA_ERROR;
    }

    r = NULL;

    if (redisGetReply(c, (void **) &r) != REDIS_OK) {
        aa_admin_err("%s: %s", ad->where, c->errstr);
        return AA_ERROR;
    }

    /* a sentinel with its own requirepass: try the URL's credentials */
    if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOAUTH", 6) == 0
        && ad->url.password.len)
    {
        freeReplyObject(r);

        if (aa_admin_login(ad, c, 0) != AA_OK) {
            return AA_ERROR;
        }

        r = aa_admin_command(ad, c, 3, argv);
        if (r == NULL) {
            return AA_ERROR;
        }
    }

    rc = AA_ERROR;

    if (r->type == REDIS_REPLY_ERROR) {
        aa_admin_err("%s: SENTINEL: %s", ad->where, r->str);

    } else if (r->type != REDIS_REPLY_ARRAY || r->elements != 2
               || r->element[0]->type != REDIS_REPLY_STRING
               || r->element[1]->type != REDIS_REPLY_STRING)
    {
        aa_admin_err("%s: does not know master \"%.*s\"", ad->where,
                     (int) ad->url.master.len, ad->url.master.data);

    } else {
        errno = 0;
        n = strtol(r->element[1]->str, &end, 10);

        host->len = r->element[0]->len;
        host->data = aa_strdup(&ad->alloc, (u_char *) r->element[0]->str,
                               host->len);

        if (host->data == NULL) {
            aa_admin_err("out of memory");

        } else if (*end != '\0' || errno || n < 1 || n > 65535
                   || host->len == 0)
        {
            aa_admin_err("%s: gave an unusable master address", ad->where);

        } else {
            *port = (int) n;
            rc = AA_OK;
        }
    }

    freeReplyObject(r);

    return rc;
}


/* Redis: commands, always as argv. */

/*
 * Runs one command; NULL (after saying why) on an I/O error or an error
 * reply.
 */
static redisReply *
aa_admin_command(aa_admin_t *ad, redisContext *c, size_t argc,
    const aa_str_t *argv)
{
    if (!aa_admin_append(c, argc, argv)) {
        aa_admin_err("%s: %s", ad->where, c->errstr);
        return NULL;
    }

    return aa_admin_reply(ad, c);
}


static int
aa_admin_append(redisContext *c, size_t argc, const aa_str_t *argv)
{
    size_t       i;
    size_t       lens[AA_REDIS_MAX_ARGS];
    const char  *args[AA_REDIS_MAX_ARGS];

    if (argc > AA_REDIS_MAX_ARGS) {
        return 0;
    }

    for (i = 0; i < argc; i++) {
        args[i] = argv[i].len ? (const char *) argv[i].data : "";
        lens[i] = argv[i].len;
    }

    return redisAppendCommandArgv(c, (int) argc, args, lens) == REDIS_OK;
}


static redisReply *
aa_admin_reply(aa_admin_t *ad, redisContext *c)
{
    redisReply  *r;

    r = NULL;

    if (redisGetReply(c, (void **) &r) != REDIS_OK || r == NULL) {
        aa_admin_err("%s: %s", ad->where,
                     c->err ? c->errstr : "no reply");
        return NULL;
    }

    if (r->type == REDIS_REPLY_ERROR) {
        aa_admin_err("%s: %s", ad->where, r->str);
        freeReplyObject(r);
        return NULL;
    }

    return r;
}


static int
aa_admin_int_command(aa_admin_t *ad, size_t argc, const aa_str_t *argv,
    long long *result)
{
    redisReply  *r;

    r = aa_admin_command(ad, ad->redis, argc, argv);
    if (r == NULL) {
        return AA_ERROR;
    }

    if (r->type != REDIS_REPLY_INTEGER) {
        aa_admin_err("%s: unexpected reply to %.*s", ad->where,
                     (int) argv[0].len, argv[0].data);
        freeReplyObject(r);
        return AA_ERROR;
    }

    if (result) {
        *result = r->integer;
    }

    freeReplyObject(r);

    return AA_OK;
}


/* Redis: walking the key space. */

/* SCAN MATCH <escaped prefix><suffix>, one page of keys at a time. */
static int
aa_admin_scan(aa_admin_t *ad, const char *suffix, aa_admin_page_pt handler,
    void *data)
{
    int          rc;
    size_t       slen;
    u_char      *p;
    aa_str_t     escaped, pattern, argv[6];
    redisReply  *r;

    if (aa_redis_glob_escape(&ad->prefix, &ad->alloc, &escaped) != AA_OK) {
        aa_admin_err("out of memory");
        return AA_ERROR;
    }

    slen = strlen(suffix);

    p = aa_alloc(&ad->alloc, escaped.len + slen);
    if (p == NULL) {
        aa_admin_err("out of memory");
        return AA_ERROR;
    }

    if (escaped.len) {
        memcpy(p, escaped.data, escaped.len);
    }

    memcpy(p + escaped.len, suffix, slen);

    pattern.data = p;
    pattern.len = escaped.len + slen;

    argv[0] = (aa_str_t) aa_string("SCAN");
    argv[1] = (aa_str_t) aa_string("0");
    argv[2] = (aa_str_t) aa_string("MATCH");
    argv[3] = pattern;
    argv[4] = (aa_str_t) aa_string("COUNT");
    argv[5] = (aa_str_t) aa_string(AA_ADMIN_SCAN_COUNT);

    for ( ;; ) {
        r = aa_admin_command(ad, ad->redis, 6, argv);
        if (r == NULL) {
            return AA_ERROR;
        }

        if (r->type != REDIS_REPLY_ARRAY || r->elements != 2
            || r->element[0]->type != REDIS_REPLY_STRING
            || r->element[1]->type != REDIS_REPLY_ARRAY)
        {
            aa_admin_err("%s: unexpected reply to SCAN", ad->where);
            freeReplyObject(r);
            return AA_ERROR;
        }

        rc = handler(ad, r->element[1], data);

        if (rc != AA_OK || strcmp(r->element[0]->str, "0") == 0) {
            freeReplyObject(r);
            return rc;
        }

        argv[1].len = r->element[0]->len;
        argv[1].data = aa_strdup(&ad->alloc, (u_char *) r->element[0]->str,
                                 argv[1].len);

        freeReplyObject(r);

        if (argv[1].data == NULL) {
            aa_admin_err("out of memory");
            return AA_ERROR;
        }
    }
}


/*
 * A session key is the prefix, "s:" and 64 lower-case hex digits; anything
 * else that matched the pattern is not ours.
 */
static int
aa_admin_hash_from_key(aa_admin_t *ad, const char *key, size_t len,
    u_char *hash)
{
    size_t   i, plen;
    u_char   c;

    plen = ad->prefix.len;

    if (len != plen + 2 + AA_REDIS_HASH_LEN
        || (plen && memcmp(key, ad->prefix.data, plen) != 0)
        || key[plen] != 's' || key[plen + 1] != ':')
    {
        return AA_DECLINED;
    }

    key += plen + 2;

    for (i = 0; i < AA_REDIS_HASH_LEN; i++) {
        c = key[i];

        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return AA_DECLINED;
        }

        hash[i] = c;
    }

    hash[AA_REDIS_HASH_LEN] = '\0';

    return AA_OK;
}


/* Unseals (AAD = the hash) and decodes a record; AA_DECLINED if we can't. */
static int
aa_admin_open(aa_admin_t *ad, const u_char *hash, const u_char *value,
    size_t len, aa_alloc_t *a, aa_session_t *s)
{
    size_t   plain_len;
    u_char  *plain;

    if (len < AA_SEAL_OVERHEAD
        || len > AA_SESSION_MAX_JSON + AA_SEAL_OVERHEAD)
    {
        return AA_DECLINED;
    }

    plain = aa_alloc(a, len);
    if (plain == NULL) {
        return AA_ERROR;
    }

    if (aa_unseal(&ad->keys, hash, AA_REDIS_HASH_LEN, value, len, plain,
                  &plain_len)
        != AA_OK)
    {
        return AA_DECLINED;
    }

    memset(s, 0, sizeof(aa_session_t));

    if (aa_session_decode(plain, plain_len, a, s) != AA_OK) {
        return AA_DECLINED;
    }

    return AA_OK;
}


static int
aa_admin_found_add(aa_admin_t *ad, aa_admin_found_t *found,
    const u_char *hash, const aa_session_t *s)
{
    size_t           n;
    aa_admin_row_t  *rows;

    if (found->nrows == found->nalloc) {
        n = found->nalloc ? found->nalloc * 2 : 64;

        rows = aa_alloc(&ad->alloc, n * sizeof(aa_admin_row_t));
        if (rows == NULL) {
            aa_admin_err("out of memory");
            return AA_ERROR;
        }

        if (found->nrows) {
            memcpy(rows, found->rows, found->nrows * sizeof(aa_admin_row_t));
        }

        found->rows = rows;
        found->nalloc = n;
    }

    rows = &found->rows[found->nrows++];

    memcpy(rows->hash, hash, AA_REDIS_HASH_LEN);
    rows->hash[AA_REDIS_HASH_LEN] = '\0';

    if (s != NULL) {
        rows->session = *s;
        rows->known = 1;

    } else {
        memset(&rows->session, 0, sizeof(aa_session_t));
        rows->known = 0;
    }

    return AA_OK;
}


/* Searches the first n rows, which must be sorted by hash. */
static int
aa_admin_found_has(aa_admin_found_t *found, size_t n, const u_char *hash)
{
    aa_admin_row_t  key;

    if (n == 0) {
        return 0;
    }

    memcpy(key.hash, hash, AA_REDIS_HASH_LEN);
    key.hash[AA_REDIS_HASH_LEN] = '\0';

    return bsearch(&key, found->rows, n, sizeof(aa_admin_row_t),
                   aa_admin_row_hash_cmp)
           != NULL;
}


/*
 * One SCAN page of session keys: GET them all in one pipeline, open each
 * and keep those of the wanted user.  Plaintexts live in a page arena; only
 * kept records are decoded again into the main one.
 */
static int
aa_admin_collect_page(aa_admin_t *ad, redisReply *keys, void *data)
{
    int                rc, orc;
    size_t             i, n, j;
    u_char           (*hashes)[AA_REDIS_HASH_LEN + 1];
    aa_str_t           argv[2];
    aa_arena_t         page;
    aa_alloc_t         tmp;
    redisReply        *r, *key;
    aa_session_t       s;
    aa_admin_found_t  *found;

    found = data;

    if (keys->elements == 0) {
        return AA_OK;
    }

    aa_arena_init(&page, &tmp);

    rc = AA_ERROR;

    hashes = aa_alloc(&tmp, keys->elements * sizeof(*hashes));
    if (hashes == NULL) {
        aa_admin_err("out of memory");
        goto failed;
    }

    n = 0;

    for (i = 0; i < keys->elements; i++) {
        key = keys->element[i];

        if (key->type != REDIS_REPLY_STRING
            || aa_admin_hash_from_key(ad, key->str, key->len, hashes[n])
               != AA_OK)
        {
            continue;
        }

        argv[0] = (aa_str_t) aa_string("GET");
        argv[1].data = (u_char *) key->str;
        argv[1].len = key->len;

        if (!aa_admin_append(ad->redis, 2, argv)) {
            aa_admin_err("%s: %s", ad->where, ad->redis->errstr);
            goto failed;
        }

        n++;
    }

    for (j = 0; j < n; j++) {
        r = aa_admin_reply(ad, ad->redis);
        if (r == NULL) {
            goto failed;
        }

        if (r->type == REDIS_REPLY_NIL) {
            /* expired or deleted since SCAN saw it */
            freeReplyObject(r);
            continue;
        }

        orc = AA_DECLINED;

        if (r->type == REDIS_REPLY_STRING) {
            orc = aa_admin_open(ad, hashes[j], (u_char *) r->str, r->len,
                                &tmp, &s);
        }

        if (orc == AA_ERROR) {
            freeReplyObject(r);
            aa_admin_err("out of memory");
            goto failed;
        }

        if (orc == AA_DECLINED) {
            found->unreadable++;
            freeReplyObject(r);
            continue;
        }

        if (found->user != NULL
            && (s.user.len != found->user->len
                || memcmp(s.user.data, found->user->data, s.user.len) != 0))
        {
            freeReplyObject(r);
            continue;
        }

        orc = aa_admin_open(ad, hashes[j], (u_char *) r->str, r->len,
                            &ad->alloc, &s);

        freeReplyObject(r);

        if (orc != AA_OK) {
            aa_admin_err("out of memory");
            goto failed;
        }

        if (aa_admin_found_add(ad, found, hashes[j], &s) != AA_OK) {
            goto failed;
        }
    }

    rc = AA_OK;

failed:

    aa_arena_free(&page);

    return rc;
}


/*
 * Every readable session (of one user, or all), sorted by hash without the
 * duplicates SCAN may return.
 */
static int
aa_admin_collect(aa_admin_t *ad, const aa_str_t *user,
    aa_admin_found_t *found)
{
    size_t  i, n;

    memset(found, 0, sizeof(aa_admin_found_t));
    found->user = user;

    if (aa_admin_scan(ad, "s:*", aa_admin_collect_page, found) != AA_OK) {
        return AA_ERROR;
    }

    if (found->nrows < 2) {
        return AA_OK;
    }

    qsort(found->rows, found->nrows, sizeof(aa_admin_row_t),
          aa_admin_row_hash_cmp);

    n = 1;

    for (i = 1; i < found->nrows; i++) {
        if (strcmp((char *) found->rows[i].hash,
                   (char *) found->rows[n - 1].hash) != 0)
        {
            found->rows[n++] = found->rows[i];
        }
    }

    found->nrows = n;

    return AA_OK;
}


static int
aa_admin_row_hash_cmp(const void *a, const void *b)
{
    const aa_admin_row_t  *x = a, *y = b;

    return strcmp((const char *) x->hash, (const char *) y->hash);
}


/* By user, then oldest first. */
static int
aa_admin_row_list_cmp(const void *a, const void *b)
{
    int                    rc;
    size_t                 n;
    const aa_admin_row_t  *x = a, *y = b;

    n = x->session.user.len < y->session.user.len ? x->session.user.len
                                                  : y->session.user.len;

    rc = n ? memcmp(x->session.user.data, y->session.user.data, n) : 0;

    if (rc == 0 && x->session.user.len != y->session.user.len) {
        rc = x->session.user.len < y->session.user.len ? -1 : 1;
    }

    if (rc == 0 && x->session.created != y->session.created) {
        rc = x->session.created < y->session.created ? -1 : 1;
    }

    if (rc == 0) {
        rc = aa_admin_row_hash_cmp(a, b);
    }

    return rc;
}


static void
aa_admin_report_unreadable(size_t n)
{
    if (n) {
        aa_admin_err("%zu session%s could not be opened with these keys", n,
                     n == 1 ? "" : "s");
    }
}


/* session create */

/*
 * --roles as given, or the mapping applied to the groups as the gateway
 * applies it at login.  Empty roles are refused here, as the gateway
 * refuses such a user.
 */
static int
aa_admin_roles(aa_admin_t *ad, const aa_strlist_t *groups,
    aa_strlist_t *roles)
{
    size_t    i;
    aa_str_t  def, *defp;

    if (ad->args.roles != NULL) {
        if (aa_strlist_split((u_char *) ad->args.roles,
                             strlen(ad->args.roles), &ad->alloc, roles)
            != AA_OK)
        {
            aa_admin_err("out of memory");
            return AA_ERROR;
        }

        if (roles->nelts == 0) {
            aa_admin_err("--roles needs at least one role name");
            return AA_ERROR;
        }

        for (i = 0; i < roles->nelts; i++) {
            if (!aa_role_name_valid(roles->elts[i].data, roles->elts[i].len)) {
                aa_admin_err("--roles: invalid role name \"%.*s\"",
                             (int) roles->elts[i].len, roles->elts[i].data);
                return AA_ERROR;
            }
        }

        return AA_OK;
    }

    defp = NULL;

    /* "none" means no default role, as in airflow_auth_default_role */
    if (ad->args.default_role != NULL
        && strcmp(ad->args.default_role, "none") != 0)
    {
        def.data = (u_char *) ad->args.default_role;
        def.len = strlen(ad->args.default_role);

        if (!aa_role_name_valid(def.data, def.len)) {
            aa_admin_err("--default-role: invalid role name \"%s\"",
                         ad->args.default_role);
            return AA_ERROR;
        }

        defp = &def;
    }

    if (ad->args.roles_mapping != NULL && aa_admin_load_map(ad) != AA_OK) {
        return AA_ERROR;
    }

    if (aa_roles_compute(ad->map, groups, defp, &ad->alloc, roles) != AA_OK) {
        aa_admin_err("out of memory");
        return AA_ERROR;
    }

    return AA_OK;
}


static int
aa_admin_create(aa_admin_t *ad)
{
    int64_t        now, ttl, idle;
    long long      added;
    u_char         id[AA_SESSION_ID_LEN], cookie[AA_COOKIE_LEN];
    u_char         hash[AA_REDIS_HASH_LEN], ex[32];
    aa_str_t       json, sealed, key, hstr, argv[6];
    redisReply    *r;
    aa_strlist_t   groups, roles;
    aa_session_t   s;

    ttl = AA_ADMIN_DEFAULT_TTL;

    if (ad->args.ttl != NULL
        && aa_admin_parse_seconds("--ttl", ad->args.ttl, &ttl) != AA_OK)
    {
        return AA_ADMIN_EXIT_USAGE;
    }

    idle = ttl;

    if (ad->args.idle_timeout != NULL
        && aa_admin_parse_seconds("--idle-timeout", ad->args.idle_timeout,
                                  &idle)
           != AA_OK)
    {
        return AA_ADMIN_EXIT_USAGE;
    }

    if (ad->args.idp != NULL && ad->args.idp[0] == '\0') {
        aa_admin_err("--idp must not be empty");
        return AA_ADMIN_EXIT_USAGE;
    }

    memset(&s, 0, sizeof(aa_session_t));

    groups.elts = NULL;
    groups.nelts = 0;

    if (ad->args.groups != NULL
        && aa_strlist_split((u_char *) ad->args.groups,
                            strlen(ad->args.groups), &ad->alloc, &groups)
           != AA_OK)
    {
        aa_admin_err("out of memory");
        return AA_ADMIN_EXIT_FAILED;
    }

    if (groups.nelts > AA_SESSION_MAX_LIST) {
        aa_admin_err("--groups: more than %d groups", AA_SESSION_MAX_LIST);
        return AA_ADMIN_EXIT_USAGE;
    }

    if (aa_admin_roles(ad, &groups, &roles) != AA_OK) {
        return AA_ADMIN_EXIT_USAGE;
    }

    if (roles.nelts == 0) {
        aa_admin_err("user \"%s\" gets no role (%s); the gateway refuses "
                     "such a user, give --roles or --default-role",
                     ad->args.user,
                     ad->args.roles_mapping ? "no group maps to a role"
                                            : "no --roles-mapping");
        return AA_ADMIN_EXIT_FAILED;
    }

    if (aa_admin_str(ad, ad->args.user, &s.user) != AA_OK
        || aa_admin_str(ad, ad->args.email ? ad->args.email : "", &s.email)
           != AA_OK
        || aa_admin_str(ad, ad->args.name ? ad->args.name : "", &s.name)
           != AA_OK
        || aa_admin_str(ad, ad->args.idp ? ad->args.idp
                                         : AA_ADMIN_DEFAULT_IDP, &s.idp)
           != AA_OK
        || aa_admin_str(ad, "cli", &s.idp_type) != AA_OK
        || aa_admin_str(ad, "", &s.sub) != AA_OK
        || aa_admin_str(ad, "", &s.sid) != AA_OK
        || aa_admin_str(ad, "", &s.id_token) != AA_OK)
    {
        return AA_ADMIN_EXIT_FAILED;
    }

    s.groups = groups;
    s.roles = roles;

    now = time(NULL);

    s.created = now;
    s.expires = now + ttl;
    aa_session_touch(&s, now, idle);

    if (aa_session_encode(&s, &ad->alloc, &json) != AA_OK) {
        aa_admin_err("cannot encode the session record (every value must "
                     "be valid UTF-8 without NUL)");
        return AA_ADMIN_EXIT_USAGE;
    }

    if (aa_session_id_new(id) != AA_OK) {
        aa_admin_err("cannot get random bytes for the session id");
        return AA_ADMIN_EXIT_FAILED;
    }

    if (aa_redis_session_hash(id, AA_SESSION_ID_LEN, hash) != AA_OK) {
        aa_admin_err("cannot hash the session id");
        return AA_ADMIN_EXIT_FAILED;
    }

    hstr.data = hash;
    hstr.len = AA_REDIS_HASH_LEN;

    sealed.len = json.len + AA_SEAL_OVERHEAD;
    sealed.data = aa_alloc(&ad->alloc, sealed.len);

    if (sealed.data == NULL
        || aa_redis_key_session(&ad->prefix, hash, &ad->alloc, &key) != AA_OK)
    {
        aa_admin_err("out of memory");
        goto failed;
    }

    if (aa_seal(&ad->keys, hash, AA_REDIS_HASH_LEN, json.data, json.len,
                sealed.data)
        != AA_OK
        || aa_cookie_make(&ad->keys, id, cookie) != AA_OK)
    {
        aa_admin_err("cannot seal the session record");
        goto failed;
    }

    OPENSSL_cleanse(id, sizeof(id));

    if (aa_admin_connect(ad) != AA_OK) {
        goto failed;
    }

    argv[0] = (aa_str_t) aa_string("SET");
    argv[1] = key;
    argv[2] = sealed;
    argv[3] = (aa_str_t) aa_string("NX");
    argv[4] = (aa_str_t) aa_string("EX");
    argv[5].data = ex;
    argv[5].len = snprintf((char *) ex, sizeof(ex), "%lld",
                           (long long) aa_session_ttl(&s, now));

    r = aa_admin_command(ad, ad->redis, 6, argv);
    if (r == NULL) {
        goto failed;
    }

    added = r->type == REDIS_REPLY_STATUS;
    freeReplyObject(r);

    if (!added) {
        /* 2^-256: a broken RNG rather than bad luck */
        aa_admin_err("a session with this id already exists");
        goto failed;
    }

    if (aa_admin_index_user(ad, &s.user, &hstr, s.expires - now) != AA_OK) {
        /* no half-made session left behind */
        argv[0] = (aa_str_t) aa_string("DEL");
        (void) aa_admin_int_command(ad, 2, argv, NULL);
        goto failed;
    }

    fwrite(cookie, 1, AA_COOKIE_LEN, stdout);
    fputc('\n', stdout);

    OPENSSL_cleanse(cookie, sizeof(cookie));

    return aa_admin_finish_output();

failed:

    OPENSSL_cleanse(id, sizeof(id));
    OPENSSL_cleanse(cookie, sizeof(cookie));

    return AA_ADMIN_EXIT_FAILED;
}


/*
 * Adds the hash to the user's index.  The index must outlive the longest
 * session in it, so it gets this session's absolute lifetime when it is
 * new or would expire sooner; an index the gateway keeps without a TTL is
 * left that way.  (EXPIRE ... GT cannot do this: it treats a key without
 * TTL as never expiring, so a fresh set would never get one.)
 */
static int
aa_admin_index_user(aa_admin_t *ad, const aa_str_t *user,
    const aa_str_t *hash, int64_t lifetime)
{
    u_char     secs[32];
    aa_str_t   key, argv[3];
    long long  ttl;

    if (aa_redis_key_user(&ad->prefix, user, &ad->alloc, &key) != AA_OK) {
        aa_admin_err("out of memory");
        return AA_ERROR;
    }

    argv[0] = (aa_str_t) aa_string("TTL");
    argv[1] = key;

    if (aa_admin_int_command(ad, 2, argv, &ttl) != AA_OK) {
        return AA_ERROR;
    }

    argv[0] = (aa_str_t) aa_string("SADD");
    argv[2] = *hash;

    if (aa_admin_int_command(ad, 3, argv, NULL) != AA_OK) {
        return AA_ERROR;
    }

    /* -2: there was no index; -1: it has no TTL */
    if (ttl != -2 && (ttl == -1 || ttl >= lifetime)) {
        return AA_OK;
    }

    argv[0] = (aa_str_t) aa_string("EXPIRE");
    argv[2].data = secs;
    argv[2].len = snprintf((char *) secs, sizeof(secs), "%lld",
                           (long long) lifetime);

    return aa_admin_int_command(ad, 3, argv, NULL);
}


/* session list */

static int
aa_admin_list(aa_admin_t *ad)
{
    size_t             i;
    aa_str_t           user, roles;
    aa_admin_row_t    *row;
    aa_admin_found_t   found;

    if (ad->args.user != NULL && aa_admin_str(ad, ad->args.user, &user)
                                 != AA_OK)
    {
        return AA_ADMIN_EXIT_FAILED;
    }

    if (aa_admin_connect(ad) != AA_OK) {
        return AA_ADMIN_EXIT_FAILED;
    }

    if (aa_admin_collect(ad, ad->args.user ? &user : NULL, &found) != AA_OK) {
        return AA_ADMIN_EXIT_FAILED;
    }

    if (found.nrows > 1) {
        qsort(found.rows, found.nrows, sizeof(aa_admin_row_t),
              aa_admin_row_list_cmp);
    }

    for (i = 0; i < found.nrows; i++) {
        row = &found.rows[i];

        if (aa_strlist_join(&row->session.roles, &ad->alloc, &roles)
            != AA_OK)
        {
            aa_admin_err("out of memory");
            return AA_ADMIN_EXIT_FAILED;
        }

        fputs((char *) row->hash, stdout);
        fputc('\t', stdout);
        aa_admin_print_field(row->session.user.data, row->session.user.len);
        fputc('\t', stdout);
        aa_admin_print_field(roles.data, roles.len);
        fputc('\t', stdout);
        aa_admin_print_field(row->session.idp.data, row->session.idp.len);
        fputc('\t', stdout);
        aa_admin_print_time(row->session.expires);
        fputc('\t', stdout);
        aa_admin_print_time(row->session.idle_expires);
        fputc('\n', stdout);
    }

    aa_admin_report_unreadable(found.unreadable);

    return aa_admin_finish_output();
}


/* Keeps one session per line whatever a value holds. */
static void
aa_admin_print_field(const u_char *p, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        switch (p[i]) {

        case '\\':
            fputs("\\\\", stdout);
            break;

        case '\t':
            fputs("\\t", stdout);
            break;

        case '\n':
            fputs("\\n", stdout);
            break;

        case '\r':
            fputs("\\r", stdout);
            break;

        default:
            if (p[i] < 0x20 || p[i] == 0x7f) {
                printf("\\x%02x", p[i]);

            } else {
                fputc(p[i], stdout);
            }
        }
    }
}


static void
aa_admin_print_time(int64_t t)
{
    char       buf[64];
    time_t     tt;
    struct tm  tm;

    tt = (time_t) t;

    if (gmtime_r(&tt, &tm) == NULL
        || strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
    {
        printf("%lld", (long long) t);
        return;
    }

    fputs(buf, stdout);
}


/* session revoke */

/*
 * The user's sessions are found by scanning the records, so that they are
 * found even when the index has expired or missed one, plus whatever the
 * index lists that no other user owns (records we cannot open included:
 * the index says they are this user's).
 */
static int
aa_admin_revoke_user(aa_admin_t *ad)
{
    aa_str_t          user, key, argv[2];
    long long         revoked;
    aa_admin_found_t  found;

    if (aa_admin_str(ad, ad->args.user, &user) != AA_OK) {
        return AA_ADMIN_EXIT_FAILED;
    }

    if (aa_admin_connect(ad) != AA_OK) {
        return AA_ADMIN_EXIT_FAILED;
    }

    if (aa_admin_collect(ad, &user, &found) != AA_OK
        || aa_admin_index_members(ad, &user, &found) != AA_OK)
    {
        return AA_ADMIN_EXIT_FAILED;
    }

    if (aa_admin_revoke_rows(ad, &found, &revoked) != AA_OK) {
        return AA_ADMIN_EXIT_FAILED;
    }

    if (aa_redis_key_user(&ad->prefix, &user, &ad->alloc, &key) != AA_OK) {
        aa_admin_err("out of memory");
        return AA_ADMIN_EXIT_FAILED;
    }

    argv[0] = (aa_str_t) aa_string("DEL");
    argv[1] = key;

    if (aa_admin_int_command(ad, 2, argv, NULL) != AA_OK) {
        return AA_ADMIN_EXIT_FAILED;
    }

    aa_admin_report_unreadable(found.unreadable);

    printf("revoked %lld session(s)\n", revoked);

    return aa_admin_finish_output();
}


static int
aa_admin_index_members(aa_admin_t *ad, const aa_str_t *user,
    aa_admin_found_t *found)
{
    int           rc, orc;
    size_t        i, nfound;
    aa_str_t      key, skey, argv[2];
    aa_arena_t    page;
    aa_alloc_t    tmp;
    redisReply   *members, *m, *r;
    aa_session_t  s;

    if (aa_redis_key_user(&ad->prefix, user, &ad->alloc, &key) != AA_OK) {
        aa_admin_err("out of memory");
        return AA_ERROR;
    }

    argv[0] = (aa_str_t) aa_string("SMEMBERS");
    argv[1] = key;

    members = aa_admin_command(ad, ad->redis, 2, argv);
    if (members == NULL) {
        return AA_ERROR;
    }

    aa_arena_init(&page, &tmp);

    rc = AA_ERROR;

    /* rows added below break the hash order, so search only the scanned */
    nfound = found->nrows;

    if (members->type != REDIS_REPLY_ARRAY) {
        aa_admin_err("%s: unexpected reply to SMEMBERS", ad->where);
        goto failed;
    }

    for (i = 0; i < members->elements; i++) {
        m = members->element[i];

        if (m->type != REDIS_REPLY_STRING || m->len != AA_REDIS_HASH_LEN
            || strspn(m->str, "0123456789abcdef") != AA_REDIS_HASH_LEN
            || aa_admin_found_has(found, nfound, (u_char *) m->str))
        {
            continue;
        }

        if (aa_redis_key_session(&ad->prefix, (u_char *) m->str, &tmp, &skey)
            != AA_OK)
        {
            aa_admin_err("out of memory");
            goto failed;
        }

        argv[0] = (aa_str_t) aa_string("GET");
        argv[1] = skey;

        r = aa_admin_command(ad, ad->redis, 2, argv);
        if (r == NULL) {
            goto failed;
        }

        orc = AA_DECLINED;

        if (r->type == REDIS_REPLY_STRING) {
            orc = aa_admin_open(ad, (u_char *) m->str, (u_char *) r->str,
                                r->len, &tmp, &s);
        }

        freeReplyObject(r);

        if (orc == AA_ERROR) {
            aa_admin_err("out of memory");
            goto failed;
        }

        /* a stale or corrupt index must not revoke someone else */
        if (orc == AA_OK
            && (s.user.len != user->len
                || memcmp(s.user.data, user->data, user->len) != 0))
        {
            continue;
        }

        if (aa_admin_found_add(ad, found, (u_char *) m->str, NULL) != AA_OK) {
            goto failed;
        }
    }

    rc = AA_OK;

failed:

    aa_arena_free(&page);
    freeReplyObject(members);

    return rc;
}


/*
 * Deletes each session, drops it from its IdP-session index, then tells
 * every gateway to forget it: publishing after the delete means a cache
 * that refetches finds nothing.
 */
static int
aa_admin_revoke_rows(aa_admin_t *ad, aa_admin_found_t *found,
    long long *revoked)
{
    size_t           i;
    aa_str_t         key, argv[3];
    long long        n;
    aa_admin_row_t  *row;

    *revoked = 0;

    for (i = 0; i < found->nrows; i++) {
        row = &found->rows[i];

        if (aa_redis_key_session(&ad->prefix, row->hash, &ad->alloc, &key)
            != AA_OK)
        {
            aa_admin_err("out of memory");
            return AA_ERROR;
        }

        argv[0] = (aa_str_t) aa_string("DEL");
        argv[1] = key;

        if (aa_admin_int_command(ad, 2, argv, &n) != AA_OK) {
            return AA_ERROR;
        }

        *revoked += n;

        if (row->known && row->session.sid.len) {
            if (aa_redis_key_sid(&ad->prefix, &row->session.idp,
                                 &row->session.sid, &ad->alloc, &key)
                != AA_OK)
            {
                aa_admin_err("out of memory");
                return AA_ERROR;
            }

            argv[0] = (aa_str_t) aa_string("SREM");
            argv[1] = key;
            argv[2].data = row->hash;
            argv[2].len = AA_REDIS_HASH_LEN;

            if (aa_admin_int_command(ad, 3, argv, NULL) != AA_OK) {
                return AA_ERROR;
            }
        }

        if (aa_admin_publish(ad, row->hash) != AA_OK) {
            return AA_ERROR;
        }
    }

    return AA_OK;
}


/*
 * Every session record, user index and IdP-session index under the prefix;
 * nothing else there (a SAML replay cache, say) is touched.
 */
static int
aa_admin_revoke_all(aa_admin_t *ad)
{
    long long  revoked;

    if (aa_admin_connect(ad) != AA_OK) {
        return AA_ADMIN_EXIT_FAILED;
    }

    revoked = 0;

    if (aa_admin_scan(ad, "s:*", aa_admin_delete_page, &revoked) != AA_OK
        || aa_admin_scan(ad, "u:*", aa_admin_delete_page, NULL) != AA_OK
        || aa_admin_scan(ad, "sid:*", aa_admin_delete_page, NULL) != AA_OK)
    {
        return AA_ADMIN_EXIT_FAILED;
    }

    printf("revoked %lld session(s)\n", revoked);

    return aa_admin_finish_output();
}


/*
 * DELs one SCAN page in a pipeline.  For session keys (revoked != NULL)
 * counts those that still existed and then publishes their hashes; the
 * PUBLISHes wait until every DEL reply is read, so replies stay in order.
 */
static int
aa_admin_delete_page(aa_admin_t *ad, redisReply *keys, void *data)
{
    int           rc;
    size_t        i, n, j;
    u_char      (*hashes)[AA_REDIS_HASH_LEN + 1];
    aa_str_t      argv[2];
    long long    *revoked;
    aa_arena_t    page;
    aa_alloc_t    tmp;
    redisReply   *r, *key;

    revoked = data;

    if (keys->elements == 0) {
        return AA_OK;
    }

    aa_arena_init(&page, &tmp);

    rc = AA_ERROR;

    hashes = aa_alloc(&tmp, keys->elements * sizeof(*hashes));
    if (hashes == NULL) {
        aa_admin_err("out of memory");
        goto failed;
    }

    n = 0;

    for (i = 0; i < keys->elements; i++) {
        key = keys->element[i];

        if (key->type != REDIS_REPLY_STRING) {
            continue;
        }

        /* an empty hash marks a key that is not a session record */
        if (revoked == NULL
            || aa_admin_hash_from_key(ad, key->str, key->len, hashes[n])
               != AA_OK)
        {
            hashes[n][0] = '\0';
        }

        argv[0] = (aa_str_t) aa_string("DEL");
        argv[1].data = (u_char *) key->str;
        argv[1].len = key->len;

        if (!aa_admin_append(ad->redis, 2, argv)) {
            aa_admin_err("%s: %s", ad->where, ad->redis->errstr);
            goto failed;
        }

        n++;
    }

    for (i = 0; i < n; i++) {
        r = aa_admin_reply(ad, ad->redis);
        if (r == NULL) {
            goto failed;
        }

        /* already gone (expired, or revoked by someone else): not ours */
        if (r->type != REDIS_REPLY_INTEGER || r->integer != 1) {
            hashes[i][0] = '\0';
        }

        freeReplyObject(r);
    }

    for (j = 0; j < n; j++) {
        if (hashes[j][0] == '\0') {
            continue;
        }

        (*revoked)++;

        if (aa_admin_publish(ad, hashes[j]) != AA_OK) {
            goto failed;
        }
    }

    rc = AA_OK;

failed:

    aa_arena_free(&page);

    return rc;
}


static int
aa_admin_publish(aa_admin_t *ad, const u_char *hash)
{
    aa_str_t  channel, argv[3];

    if (aa_redis_key_channel(&ad->prefix, &ad->alloc, &channel) != AA_OK) {
        aa_admin_err("out of memory");
        return AA_ERROR;
    }

    argv[0] = (aa_str_t) aa_string("PUBLISH");
    argv[1] = channel;
    argv[2].data = (u_char *) hash;
    argv[2].len = AA_REDIS_HASH_LEN;

    return aa_admin_int_command(ad, 3, argv, NULL);
}


static int
aa_admin_finish_output(void)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        aa_admin_err("cannot write the output: %s", strerror(errno));
        return AA_ADMIN_EXIT_FAILED;
    }

    return AA_ADMIN_EXIT_OK;
}


int
main(int argc, char **argv)
{
    int         rc;
    char        err[256];
    aa_admin_t  ad;

    memset(&ad, 0, sizeof(aa_admin_t));
    aa_arena_init(&ad.arena, &ad.alloc);

    rc = AA_ADMIN_EXIT_USAGE;

    if (aa_admin_parse_args(&ad.args, argc, argv) != AA_OK) {
        goto done;
    }

    if (ad.args.help) {
        aa_admin_usage(stdout);
        rc = aa_admin_finish_output();
        goto done;
    }

    if (ad.args.redis == NULL) {
        ad.args.redis = AA_ADMIN_DEFAULT_REDIS;
    }

    if (ad.args.prefix == NULL) {
        ad.args.prefix = AA_ADMIN_DEFAULT_PREFIX;
    }

    err[0] = '\0';

    /* the URL may hold a password: the message never repeats it */
    if (aa_redis_url_parse((const u_char *) ad.args.redis,
                           strlen(ad.args.redis), &ad.alloc, &ad.url, err,
                           sizeof(err))
        != AA_OK)
    {
        aa_admin_err("bad --redis URL: %s", err[0] ? err : "cannot parse");
        goto done;
    }

    ad.url_parsed = 1;

    if (ad.url.scheme == AA_REDIS_TLS) {
        aa_admin_err("TLS is not supported by this build (rediss:// URL)");
        goto done;
    }

    if (aa_admin_str(&ad, ad.args.prefix, &ad.prefix) != AA_OK) {
        rc = AA_ADMIN_EXIT_FAILED;
        goto done;
    }

    if (ad.args.secret_file != NULL && aa_admin_load_keys(&ad) != AA_OK) {
        goto done;
    }

    switch (ad.args.command) {

    case AA_ADMIN_CREATE:
        rc = aa_admin_create(&ad);
        break;

    case AA_ADMIN_LIST:
        rc = aa_admin_list(&ad);
        break;

    default:
        rc = ad.args.all ? aa_admin_revoke_all(&ad)
                         : aa_admin_revoke_user(&ad);
        break;
    }

done:

    if (ad.redis != NULL) {
        redisFree(ad.redis);
    }

    if (ad.map != NULL) {
        aa_roles_map_free(ad.map);
    }

    if (ad.url_parsed && ad.url.password.len) {
        OPENSSL_cleanse(ad.url.password.data, ad.url.password.len);
    }

    aa_keyring_wipe(&ad.keys);
    aa_arena_free(&ad.arena);

    return rc;
}
