/*
 * Redis without I/O: the airflow_auth_redis URL, the key schema, RESP
 * commands as argv (checked byte for byte against hiredis), and the bounded
 * reply reader against well-formed and hostile replies.
 */

#include "aa_test.h"
#include "aa_redis.h"

#include <hiredis/hiredis.h>


typedef struct {
    const char        *url;
    aa_redis_scheme_e  scheme;
    const char        *host;        /* first host, or NULL for unix */
    int                port;
    size_t             nhosts;
    const char        *path;
    const char        *master;
    const char        *username;
    const char        *password;
    int                db;
} url_good_t;


typedef struct {
    const char        *url;
    const char        *fragment;
} url_bad_t;


#define LIT(s)  s, sizeof(s) - 1


static void assert_str(const aa_str_t *s, const char *expected);
static aa_resp_reader_t *reader_with(const char *bytes, size_t len);
static aa_reply_t *one_reply(aa_resp_reader_t *rd);
static void refused(const char *bytes, size_t len, const char *fragment);
static char *repeat(const char *unit, size_t n, const char *tail,
    size_t *len);
static char *wide_tree(size_t children, size_t *len);


static const url_good_t  good_urls[] = {
    { "redis://127.0.0.1:6379/0", AA_REDIS_TCP, "127.0.0.1", 6379, 1,
      NULL, NULL, "", "", 0 },
    { "redis://localhost", AA_REDIS_TCP, "localhost", 6379, 1,
      NULL, NULL, "", "", 0 },
    { "redis://redis.example.com:6380/3", AA_REDIS_TCP, "redis.example.com",
      6380, 1, NULL, NULL, "", "", 3 },
    { "rediss://redis.example.com", AA_REDIS_TLS, "redis.example.com", 6379,
      1, NULL, NULL, "", "", 0 },
    { "REDIS://Host-1", AA_REDIS_TCP, "Host-1", 6379, 1,
      NULL, NULL, "", "", 0 },
    { "Rediss://h:7000/9", AA_REDIS_TLS, "h", 7000, 1,
      NULL, NULL, "", "", 9 },
    { "redis://:s3cret@127.0.0.1:6379/2", AA_REDIS_TCP, "127.0.0.1", 6379, 1,
      NULL, NULL, "", "s3cret", 2 },
    { "redis://airflow:s3cret@10.0.0.5/1", AA_REDIS_TCP, "10.0.0.5", 6379, 1,
      NULL, NULL, "airflow", "s3cret", 1 },
    { "redis://us%65r:p%40ss%3Aw%2Frd%25@h", AA_REDIS_TCP, "h", 6379, 1,
      NULL, NULL, "user", "p@ss:w/rd%", 0 },
    { "redis://user:p@ss/w:rd@h:1234", AA_REDIS_TCP, "h", 1234, 1,
      NULL, NULL, "user", "p@ss/w:rd", 0 },
    { "redis://[::1]:6380", AA_REDIS_TCP, "::1", 6380, 1,
      NULL, NULL, "", "", 0 },
    { "redis://[::1]", AA_REDIS_TCP, "::1", 6379, 1,
      NULL, NULL, "", "", 0 },
    { "redis://[2001:db8::1]:7000/15", AA_REDIS_TCP, "2001:db8::1", 7000, 1,
      NULL, NULL, "", "", 15 },
    { "rediss://u:p@[fe80::1]:6379/0", AA_REDIS_TLS, "fe80::1", 6379, 1,
      NULL, NULL, "u", "p", 0 },
    { "redis://h:65535/65535", AA_REDIS_TCP, "h", 65535, 1,
      NULL, NULL, "", "", 65535 },
    { "redis://h:1", AA_REDIS_TCP, "h", 1, 1, NULL, NULL, "", "", 0 },
    { "redis://h/", AA_REDIS_TCP, "h", 6379, 1, NULL, NULL, "", "", 0 },
    { "redis://h:06379/007", AA_REDIS_TCP, "h", 6379, 1,
      NULL, NULL, "", "", 7 },
    { "redis://redis-master.airflow.svc.cluster.local:6379",
      AA_REDIS_TCP, "redis-master.airflow.svc.cluster.local", 6379, 1,
      NULL, NULL, "", "", 0 },
    { "redis://my_redis", AA_REDIS_TCP, "my_redis", 6379, 1,
      NULL, NULL, "", "", 0 },
    { "redis://:@h", AA_REDIS_TCP, "h", 6379, 1, NULL, NULL, "", "", 0 },
    { "unix:///var/run/redis/redis.sock", AA_REDIS_UNIX, NULL, 0, 0,
      "/var/run/redis/redis.sock", NULL, "", "", 0 },
    { "unix:///tmp/r.sock?db=4", AA_REDIS_UNIX, NULL, 0, 0,
      "/tmp/r.sock", NULL, "", "", 4 },
    { "unix://:pw@/tmp/r.sock", AA_REDIS_UNIX, NULL, 0, 0,
      "/tmp/r.sock", NULL, "", "pw", 0 },
    { "unix://u:p%20w@/tmp/r@x.sock?db=2", AA_REDIS_UNIX, NULL, 0, 0,
      "/tmp/r@x.sock", NULL, "u", "p w", 2 },
    { "sentinel://10.0.0.1:26379,10.0.0.2:26380/mymaster",
      AA_REDIS_SENTINEL, "10.0.0.1", 26379, 2, NULL, "mymaster", "", "", 0 },
    { "sentinel://s1/mymaster/3", AA_REDIS_SENTINEL, "s1", 26379, 1,
      NULL, "mymaster", "", "", 3 },
    { "sentinel://:pw@s1:1,s2:2,s3:3/m", AA_REDIS_SENTINEL, "s1", 1, 3,
      NULL, "m", "", "pw", 0 },
    { "sentinel://[::1]:26380,[::2]/mymaster", AA_REDIS_SENTINEL, "::1",
      26380, 2, NULL, "mymaster", "", "", 0 },
    { "sentinel://s1,s2,s3,s4,s5,s6,s7,s8/m", AA_REDIS_SENTINEL, "s1",
      26379, 8, NULL, "m", "", "", 0 },
    { "sentinel://a:b@s1/airflow-redis.master_1/", AA_REDIS_SENTINEL, "s1",
      26379, 1, NULL, "airflow-redis.master_1", "a", "b", 0 },
};


static const url_bad_t  bad_urls[] = {
    { "http://h", "unknown scheme \"http\"" },
    { "redis+tls://h", "unknown scheme \"redis+tls\"" },
    { "h:6379", "no scheme" },
    { "redis:/h", "no scheme" },
    { "", "no scheme" },
    { "redis://", "empty host" },
    { "redis://:6379", "empty host" },
    { "redis:///0", "empty host" },
    { "redis://[]:6379", "empty host" },
    { "redis://:pw@", "empty host" },
    { "redis://h:0", "bad port \"0\"" },
    { "redis://h:65536", "bad port \"65536\"" },
    { "redis://h:123456", "bad port \"123456\"" },
    { "redis://h:63x9", "bad port \"63x9\"" },
    { "redis://h:", "bad port \"\"" },
    { "redis://h:-1", "bad port \"-1\"" },
    { "redis://h:6379 ", "bad port \"6379 \"" },
    { "redis://h:99999999999999999999", "bad port" },
    { "redis://h/x", "bad database number \"x\"" },
    { "redis://h/65536", "bad database number \"65536\"" },
    { "redis://h/-1", "bad database number \"-1\"" },
    { "redis://h/99999999999999999999", "bad database number" },
    { "redis://h/1/2", "unexpected \"/2\" after the database number" },
    { "redis://h/1?x=2", "unexpected \"?x=2\" after the database number" },
    { "sentinel://s1:26379", "sentinel URL without a master name" },
    { "sentinel://s1:26379/", "sentinel URL without a master name" },
    { "sentinel://s1//0", "sentinel URL without a master name" },
    { "sentinel://s1,s2,s3,s4,s5,s6,s7,s8,s9/m", "more than 8 sentinel hosts" },
    { "sentinel://s1,,s2/m", "empty host" },
    { "sentinel://s1,/m", "empty host" },
    { "sentinel://s1:0/m", "bad port \"0\"" },
    { "sentinel://s1/ma ster", "invalid character in the sentinel master" },
    { "sentinel://s1/m/x", "bad database number \"x\"" },
    { "unix://tmp/r.sock", "unix socket path must be absolute" },
    { "unix://", "unix socket path must be absolute" },
    { "unix://:pw@tmp/r.sock", "unix socket path must be absolute" },
    { "unix:///", "unix socket path is empty" },
    { "unix:///tmp/r.sock?db=x", "bad database number \"x\"" },
    { "unix:///tmp/r.sock?db=70000", "bad database number \"70000\"" },
    { "unix:///tmp/r.sock?timeout=1", "unknown parameter \"timeout=1\"" },
    { "unix:///tmp/a\nb.sock", "control character" },
    { "redis://u:p%4@h", "bad percent-encoding or character in the password" },
    { "redis://u:p%zz@h", "bad percent-encoding or character in the password" },
    { "redis://u:p%@h", "bad percent-encoding or character in the password" },
    { "redis://u%zz:p@h", "bad percent-encoding or character in the user" },
    { "redis://:p w@h", "bad percent-encoding or character in the password" },
    { "redis://:p\tw@h", "bad percent-encoding or character in the password" },
    { "redis://user@h", "credentials must be written user:password@" },
    { "redis://u:@h", "a user name needs a password" },
    { "redis://[::1", "unterminated IPv6 address" },
    { "redis://[::1]x", "unexpected \"x\" after the IPv6 address" },
    { "redis://[zz::1]:6379", "invalid IPv6 address \"zz::1\"" },
    { "redis://[127.0.0.1]", "invalid IPv6 address" },
    { "redis://::1:6379", "empty host" },
    { "redis://h ost", "invalid character in host \"h ost\"" },
    { "redis://h%41", "invalid character in host" },
    { "redis://h?db=1", "invalid character in host \"h?db=1\"" },
};


static void
assert_str(const aa_str_t *s, const char *expected)
{
    if (s->len != strlen(expected)
        || (s->len && memcmp(s->data, expected, s->len) != 0))
    {
        fail_msg("expected \"%s\", got \"%.*s\"", expected, (int) s->len,
                 s->data ? (char *) s->data : "");
    }
}


static void
test_url_good(void **state)
{
    char                   err[256];
    size_t                 i;
    aa_redis_url_t         u;
    const url_good_t      *t;

    for (i = 0; i < sizeof(good_urls) / sizeof(good_urls[0]); i++) {
        t = &good_urls[i];
        err[0] = '\0';

        if (aa_redis_url_parse((const u_char *) t->url, strlen(t->url),
                               AA_POOL(state), &u, err, sizeof(err))
            != AA_OK)
        {
            fail_msg("%s refused: %s", t->url, err);
        }

        assert_int_equal(u.scheme, t->scheme);
        assert_int_equal(u.nhosts, t->nhosts);
        assert_int_equal(u.db, t->db);

        if (t->host) {
            assert_str(&u.hosts[0].host, t->host);
            assert_int_equal(u.hosts[0].port, t->port);
            assert_int_equal(u.path.len, 0);

        } else {
            assert_str(&u.path, t->path);
        }

        if (t->master) {
            assert_str(&u.master, t->master);

        } else {
            assert_int_equal(u.master.len, 0);
        }

        assert_str(&u.username, t->username);
        assert_str(&u.password, t->password);
    }

    assert_true(i >= 25);
}


static void
test_url_bad(void **state)
{
    char              err[256];
    size_t            i;
    aa_redis_url_t    u;
    const url_bad_t  *t;

    for (i = 0; i < sizeof(bad_urls) / sizeof(bad_urls[0]); i++) {
        t = &bad_urls[i];
        err[0] = '\0';

        if (aa_redis_url_parse((const u_char *) t->url, strlen(t->url),
                               AA_POOL(state), &u, err, sizeof(err))
            != AA_ERROR)
        {
            fail_msg("%s accepted", t->url);
        }

        if (strstr(err, t->fragment) == NULL) {
            fail_msg("%s: error \"%s\" does not contain \"%s\"", t->url, err,
                     t->fragment);
        }
    }

    assert_true(i >= 25);
}


static void
test_url_all_fields_of_sentinel_list(void **state)
{
    char            err[256];
    aa_redis_url_t  u;
    const char     *url = "sentinel://:pw@a:1,[::1]:2,c/m/5";

    assert_int_equal(aa_redis_url_parse((const u_char *) url, strlen(url),
                                        AA_POOL(state), &u, err,
                                        sizeof(err)),
                     AA_OK);
    assert_int_equal(u.nhosts, 3);
    assert_str(&u.hosts[0].host, "a");
    assert_int_equal(u.hosts[0].port, 1);
    assert_str(&u.hosts[1].host, "::1");
    assert_int_equal(u.hosts[1].port, 2);
    assert_str(&u.hosts[2].host, "c");
    assert_int_equal(u.hosts[2].port, 26379);
    assert_int_equal(u.db, 5);
}


static void
test_url_binary_password_is_decoded_whole(void **state)
{
    char            err[256];
    aa_redis_url_t  u;
    const char     *url = "redis://:%00%ff%0d%0a@h";

    assert_int_equal(aa_redis_url_parse((const u_char *) url, strlen(url),
                                        AA_POOL(state), &u, err,
                                        sizeof(err)),
                     AA_OK);
    assert_int_equal(u.password.len, 4);
    assert_memory_equal(u.password.data, "\0\xff\r\n", 4);
}


static void
test_url_errors_never_show_the_password(void **state)
{
    char            err[256];
    size_t          i;
    aa_redis_url_t  u;
    const char     *urls[] = {
        "redis://u:Hunter2Secret%zz@h",
        "redis://u:Hunter2Secret@h:bad",
        "redis://u:Hunter2Secret@",
        "redis://u:Hunter2 Secret@h",
        "unix://u:Hunter2Secret@tmp/x",
        "sentinel://u:Hunter2Secret@h",
        "redis://Hunter2Secret@h",
        "redis://u:Hunter2Secret@h/x",
    };

    for (i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
        assert_int_equal(aa_redis_url_parse((const u_char *) urls[i],
                                            strlen(urls[i]), AA_POOL(state),
                                            &u, err, sizeof(err)),
                         AA_ERROR);

        if (strstr(err, "Hunter2") != NULL) {
            fail_msg("%s: the error shows the password: %s", urls[i], err);
        }
    }
}


/* found by fuzz_redis_url: inet_pton() stopped at the NUL */

static void
test_url_nul_inside_ipv6_literal(void **state)
{
    char            err[256];
    aa_redis_url_t  u;

    assert_int_equal(aa_redis_url_parse((const u_char *)
                                        LIT("redis://[::2\0x]"),
                                        AA_POOL(state), &u, err,
                                        sizeof(err)),
                     AA_ERROR);
    assert_non_null(strstr(err, "invalid IPv6 address \"::2?x\""));

    assert_int_equal(aa_redis_url_parse((const u_char *)
                                        LIT("sentinel://[::1]:1,[::2\0\0?"
                                            "[::2]/m"),
                                        AA_POOL(state), &u, err,
                                        sizeof(err)),
                     AA_ERROR);
    assert_non_null(strstr(err, "invalid IPv6 address"));
}


static void
test_url_unix_path_length(void **state)
{
    char            url[200], err[256];
    aa_redis_url_t  u;

    /* "unix://" + "/" + 106 bytes = a 107-byte path: the most sun_path takes */
    snprintf(url, sizeof(url), "unix:///%0106d", 0);
    assert_int_equal(aa_redis_url_parse((const u_char *) url, strlen(url),
                                        AA_POOL(state), &u, err,
                                        sizeof(err)),
                     AA_OK);
    assert_int_equal(u.path.len, 107);

    snprintf(url, sizeof(url), "unix:///%0107d", 0);
    assert_int_equal(aa_redis_url_parse((const u_char *) url, strlen(url),
                                        AA_POOL(state), &u, err,
                                        sizeof(err)),
                     AA_ERROR);
    assert_non_null(strstr(err, "longer than 107 bytes"));
}


static void
test_url_error_text_is_cut_and_printable(void **state)
{
    char            url[300], err[256];
    aa_redis_url_t  u;

    snprintf(url, sizeof(url), "redis://h:%0200d\x01", 1);
    assert_int_equal(aa_redis_url_parse((const u_char *) url, strlen(url),
                                        AA_POOL(state), &u, err,
                                        sizeof(err)),
                     AA_ERROR);
    assert_non_null(strstr(err, "...\""));
    assert_true(strlen(err) < 120);

    assert_int_equal(aa_redis_url_parse((const u_char *) "redis://h/\x1b[31m",
                                        15, AA_POOL(state), &u, err,
                                        sizeof(err)),
                     AA_ERROR);
    assert_null(strchr(err, '\x1b'));
    assert_non_null(strstr(err, "\"?[31m\""));
}


static void
test_session_hash_is_sha256_hex(void **state)
{
    u_char  id[32], out[AA_REDIS_HASH_LEN + 1];
    size_t  i;

    for (i = 0; i < sizeof(id); i++) {
        id[i] = (u_char) i;
    }

    out[AA_REDIS_HASH_LEN] = 'Z';
    assert_int_equal(aa_redis_session_hash(id, sizeof(id), out), AA_OK);

    assert_memory_equal(out, "630dcd2966c4336691125448bbb25b4ff412a49c732db2c8"
                        "abc1b8581bd710dd", AA_REDIS_HASH_LEN);
    assert_int_equal(out[AA_REDIS_HASH_LEN], 'Z');

    assert_int_equal(aa_redis_session_hash((const u_char *) "abc", 3, out),
                     AA_OK);
    assert_memory_equal(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9c"
                        "b410ff61f20015ad", AA_REDIS_HASH_LEN);
}


static void
test_keys(void **state)
{
    u_char    hash[AA_REDIS_HASH_LEN];
    aa_str_t  key;
    aa_str_t  prefix = aa_test_str("airflow_auth:");
    aa_str_t  empty = aa_null_string;
    aa_str_t  user = aa_test_str("alice@corp.com");
    aa_str_t  idp = aa_test_str("okta");
    aa_str_t  sid = aa_test_str("00uX:y");
    aa_str_t  odd = aa_test_str("a\0b\r\n*");

    assert_int_equal(aa_redis_session_hash((const u_char *) "abc", 3, hash),
                     AA_OK);

    assert_int_equal(aa_redis_key_session(&prefix, hash, AA_POOL(state),
                                          &key),
                     AA_OK);
    assert_str(&key, "airflow_auth:s:ba7816bf8f01cfea414140de5dae2223b00361a3"
               "96177a9cb410ff61f20015ad");
    assert_int_equal(key.data[key.len], '\0');

    assert_int_equal(aa_redis_key_user(&prefix, &user, AA_POOL(state), &key),
                     AA_OK);
    assert_str(&key, "airflow_auth:u:alice@corp.com");

    assert_int_equal(aa_redis_key_sid(&prefix, &idp, &sid, AA_POOL(state),
                                      &key),
                     AA_OK);
    assert_str(&key, "airflow_auth:sid:okta:00uX:y");

    assert_int_equal(aa_redis_key_channel(&prefix, AA_POOL(state), &key),
                     AA_OK);
    assert_str(&key, "airflow_auth:inv");

    assert_int_equal(aa_redis_key_channel(&empty, AA_POOL(state), &key),
                     AA_OK);
    assert_str(&key, "inv");

    /* keys are binary strings: nothing is cut or interpreted */
    assert_int_equal(aa_redis_key_user(&empty, &odd, AA_POOL(state), &key),
                     AA_OK);
    assert_int_equal(key.len, 8);
    assert_memory_equal(key.data, "u:a\0b\r\n*", 8);
}


static void
test_glob_escape(void **state)
{
    aa_str_t  out;
    aa_str_t  in = aa_test_str("a*b?c[d]e\\f");
    aa_str_t  plain = aa_test_str("airflow_auth:");
    aa_str_t  empty = aa_null_string;

    assert_int_equal(aa_redis_glob_escape(&in, AA_POOL(state), &out), AA_OK);
    assert_str(&out, "a\\*b\\?c\\[d\\]e\\\\f");
    assert_int_equal(out.data[out.len], '\0');

    assert_int_equal(aa_redis_glob_escape(&plain, AA_POOL(state), &out),
                     AA_OK);
    assert_str(&out, "airflow_auth:");

    assert_int_equal(aa_redis_glob_escape(&empty, AA_POOL(state), &out),
                     AA_OK);
    assert_str(&out, "");
}


/* mod_auth_openidc CVE-2021-32785: values must stay values */

static void
test_resp_matches_hiredis_argv(void **state)
{
    int          n;
    char        *expected;
    size_t       i, k, len, lens[AA_REDIS_MAX_ARGS];
    u_char      *buf, *end;
    aa_str_t     argv[AA_REDIS_MAX_ARGS];
    const char  *cargv[AA_REDIS_MAX_ARGS];

    static const struct {
        size_t       argc;
        const char  *args[6];
        size_t       lens[6];
    } cases[] = {
        { 2, { "GET", "airflow_auth:s:%s %n %x" }, { 3, 23 } },
        { 5, { "SET", "k e y", "v\r\nDEL *\r\n", "EX", "1800" },
          { 3, 5, 11, 2, 4 } },
        { 3, { "SET", "nul", "a\0b\0" }, { 3, 3, 4 } },
        { 3, { "SET", "", "" }, { 3, 0, 0 } },
        { 1, { "PING" }, { 4 } },
        { 4, { "SADD", "u:%p%p%p", "$3\r\n", "*1\r\n" }, { 4, 8, 4, 4 } },
        { 2, { "PUBLISH", "\xff\xfe\x00\x01" }, { 7, 4 } },
    };

    for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {

        for (i = 0; i < cases[k].argc; i++) {
            argv[i].data = (u_char *) cases[k].args[i];
            argv[i].len = cases[k].lens[i];
            cargv[i] = cases[k].args[i];
            lens[i] = cases[k].lens[i];
        }

        n = redisFormatCommandArgv(&expected, (int) cases[k].argc, cargv,
                                   lens);
        assert_true(n > 0);

        len = aa_resp_command_len(cases[k].argc, argv);
        assert_int_equal(len, (size_t) n);

        /* exact size: ASan catches a write past it */
        buf = malloc(len);
        assert_non_null(buf);

        end = aa_resp_command_write(buf, cases[k].argc, argv);
        assert_int_equal(end - buf, len);
        assert_memory_equal(buf, expected, len);

        free(buf);
        redisFreeCommand(expected);
    }
}


static void
test_resp_literal_encoding(void **state)
{
    u_char    buf[64];
    aa_str_t  argv[2] = { aa_test_str("GET"), aa_test_str("%s\r\n") };
    const char  *expect = "*2\r\n$3\r\nGET\r\n$4\r\n%s\r\n\r\n";

    assert_int_equal(aa_resp_command_len(2, argv), strlen(expect));
    assert_int_equal(aa_resp_command_write(buf, 2, argv) - buf,
                     strlen(expect));
    assert_memory_equal(buf, expect, strlen(expect));

    assert_int_equal(aa_resp_command_len(0, argv), 4);
    assert_int_equal(aa_resp_command_write(buf, 0, argv) - buf, 4);
    assert_memory_equal(buf, "*0\r\n", 4);
}


static void
test_resp_len_equals_write_for_many_sizes(void **state)
{
    int          n;
    char        *expected;
    size_t       i, k, argc, len, lens[AA_REDIS_MAX_ARGS];
    u_char      *buf, *data;
    uint32_t     x;
    aa_str_t     argv[AA_REDIS_MAX_ARGS];
    const char  *cargv[AA_REDIS_MAX_ARGS];

    data = malloc(200000);
    assert_non_null(data);

    for (i = 0; i < 200000; i++) {
        data[i] = (u_char) (i * 7 + 3);
    }

    /* lengths around every power of ten, so digit counts change */
    x = 12345;

    for (k = 0; k < 300; k++) {
        argc = 1 + k % AA_REDIS_MAX_ARGS;

        for (i = 0; i < argc; i++) {
            x = x * 1103515245 + 12345;
            len = (x >> 8) % 7;
            len = (size_t[]) { 0, 9, 10, 99, 100, 9999, 100000 }[len]
                  + (x >> 20) % 3;
            argv[i].data = data;
            argv[i].len = len;
            cargv[i] = (const char *) data;
            lens[i] = len;
        }

        n = redisFormatCommandArgv(&expected, (int) argc, cargv, lens);
        assert_true(n > 0);

        len = aa_resp_command_len(argc, argv);
        assert_int_equal(len, (size_t) n);

        buf = malloc(len);
        assert_non_null(buf);
        assert_int_equal(aa_resp_command_write(buf, argc, argv) - buf, len);
        assert_memory_equal(buf, expected, len);

        free(buf);
        redisFreeCommand(expected);
    }

    free(data);
}


/* Reader */

static aa_resp_reader_t *
reader_with(const char *bytes, size_t len)
{
    aa_resp_reader_t  *rd;

    rd = aa_resp_reader_new();
    assert_non_null(rd);
    assert_int_equal(aa_resp_reader_feed(rd, (const u_char *) bytes, len),
                     AA_OK);

    return rd;
}


static aa_reply_t *
one_reply(aa_resp_reader_t *rd)
{
    aa_reply_t  *r;

    if (aa_resp_reader_get(rd, &r) != AA_OK) {
        fail_msg("reader error: %s", aa_resp_reader_error(rd));
    }

    assert_non_null(r);

    return r;
}


static void
refused(const char *bytes, size_t len, const char *fragment)
{
    aa_reply_t        *r;
    aa_resp_reader_t  *rd;

    rd = aa_resp_reader_new();
    assert_non_null(rd);

    if (aa_resp_reader_feed(rd, (const u_char *) bytes, len) == AA_OK) {
        r = (aa_reply_t *) 1;

        if (aa_resp_reader_get(rd, &r) != AA_ERROR) {
            fail_msg("reply %.*s accepted", (int) (len > 40 ? 40 : len),
                     bytes);
        }

        assert_null(r);
    }

    if (strstr(aa_resp_reader_error(rd), fragment) == NULL) {
        fail_msg("reply %.*s: error \"%s\" does not contain \"%s\"",
                 (int) (len > 40 ? 40 : len), bytes,
                 aa_resp_reader_error(rd), fragment);
    }

    /* a failed reader stays failed */
    assert_int_equal(aa_resp_reader_feed(rd, (const u_char *) "+OK\r\n", 5),
                     AA_ERROR);
    assert_int_equal(aa_resp_reader_get(rd, &r), AA_ERROR);

    aa_resp_reader_free(rd);
}


static char *
repeat(const char *unit, size_t n, const char *tail, size_t *len)
{
    char    *s, *p;
    size_t   ulen, tlen, i;

    ulen = strlen(unit);
    tlen = strlen(tail);

    s = malloc(ulen * n + tlen + 1);
    assert_non_null(s);

    for (p = s, i = 0; i < n; i++, p += ulen) {
        memcpy(p, unit, ulen);
    }

    memcpy(p, tail, tlen + 1);
    *len = ulen * n + tlen;

    return s;
}


/* "*1024" holding children arrays of 1024 integers, then nils to fill */

static char *
wide_tree(size_t children, size_t *len)
{
    char    *s, *p;
    size_t   i, j;

    s = malloc(7 + children * (7 + 4 * 1024) + 5 * 1024);
    assert_non_null(s);

    p = s;
    memcpy(p, "*1024\r\n", 7);
    p += 7;

    for (i = 0; i < 1024; i++) {
        if (i < children) {
            memcpy(p, "*1024\r\n", 7);
            p += 7;

            for (j = 0; j < 1024; j++) {
                memcpy(p, ":1\r\n", 4);
                p += 4;
            }

        } else {
            memcpy(p, "$-1\r\n", 5);
            p += 5;
        }
    }

    *len = p - s;

    return s;
}


static void
test_reader_each_type(void **state)
{
    aa_reply_t        *r;
    aa_resp_reader_t  *rd;

    rd = reader_with(LIT("+OK\r\n-ERR wrong type\r\n:42\r\n:-7\r\n"
                         "$5\r\nhello\r\n$0\r\n\r\n$-1\r\n*-1\r\n*0\r\n"));

    r = one_reply(rd);
    assert_int_equal(r->type, AA_REPLY_STATUS);
    assert_int_equal(r->len, 2);
    assert_string_equal(r->str, "OK");
    aa_reply_free(r);

    r = one_reply(rd);
    assert_int_equal(r->type, AA_REPLY_ERROR);
    assert_string_equal(r->str, "ERR wrong type");
    aa_reply_free(r);

    r = one_reply(rd);
    assert_int_equal(r->type, AA_REPLY_INTEGER);
    assert_int_equal(r->integer, 42);
    aa_reply_free(r);

    r = one_reply(rd);
    assert_int_equal(r->type, AA_REPLY_INTEGER);
    assert_int_equal(r->integer, -7);
    aa_reply_free(r);

    r = one_reply(rd);
    assert_int_equal(r->type, AA_REPLY_STRING);
    assert_int_equal(r->len, 5);
    assert_string_equal(r->str, "hello");
    aa_reply_free(r);

    r = one_reply(rd);
    assert_int_equal(r->type, AA_REPLY_STRING);
    assert_int_equal(r->len, 0);
    assert_string_equal(r->str, "");
    aa_reply_free(r);

    r = one_reply(rd);
    assert_int_equal(r->type, AA_REPLY_NIL);
    aa_reply_free(r);

    r = one_reply(rd);
    assert_int_equal(r->type, AA_REPLY_NIL);
    aa_reply_free(r);

    r = one_reply(rd);
    assert_int_equal(r->type, AA_REPLY_ARRAY);
    assert_int_equal(r->elements, 0);
    aa_reply_free(r);

    /* nothing left: OK with no reply */
    r = (aa_reply_t *) 1;
    assert_int_equal(aa_resp_reader_get(rd, &r), AA_OK);
    assert_null(r);

    aa_resp_reader_free(rd);
}


static void
test_reader_binary_bulk(void **state)
{
    aa_reply_t        *r;
    aa_resp_reader_t  *rd;

    rd = reader_with(LIT("$6\r\na\r\n\0%n\r\n"));
    r = one_reply(rd);
    assert_int_equal(r->type, AA_REPLY_STRING);
    assert_int_equal(r->len, 6);
    assert_memory_equal(r->str, "a\r\n\0%n", 6);
    assert_int_equal(r->str[6], '\0');
    aa_reply_free(r);
    aa_resp_reader_free(rd);
}


static void
test_reader_nested_arrays(void **state)
{
    aa_reply_t        *r, *e;
    aa_resp_reader_t  *rd;
    const char        *scan = "*2\r\n$1\r\n0\r\n*3\r\n$4\r\nk:aa\r\n$-1\r\n"
                              "*2\r\n:1\r\n*0\r\n";

    rd = reader_with(scan, strlen(scan));
    r = one_reply(rd);

    assert_int_equal(r->type, AA_REPLY_ARRAY);
    assert_int_equal(r->elements, 2);
    assert_int_equal(r->element[0]->type, AA_REPLY_STRING);
    assert_string_equal(r->element[0]->str, "0");

    e = r->element[1];
    assert_int_equal(e->type, AA_REPLY_ARRAY);
    assert_int_equal(e->elements, 3);
    assert_string_equal(e->element[0]->str, "k:aa");
    assert_int_equal(e->element[1]->type, AA_REPLY_NIL);
    assert_int_equal(e->element[2]->type, AA_REPLY_ARRAY);
    assert_int_equal(e->element[2]->elements, 2);
    assert_int_equal(e->element[2]->element[0]->integer, 1);
    assert_int_equal(e->element[2]->element[1]->type, AA_REPLY_ARRAY);
    assert_int_equal(e->element[2]->element[1]->elements, 0);

    aa_reply_free(r);
    aa_resp_reader_free(rd);
}


static void
test_reader_one_byte_at_a_time(void **state)
{
    size_t             i, len, got;
    aa_reply_t        *r, *replies[4];
    aa_resp_reader_t  *rd;
    const char        *stream = "*3\r\n$3\r\nfoo\r\n:-12\r\n*1\r\n$-1\r\n"
                                "+PONG\r\n$4\r\n\r\n\r\n\r\n-NOAUTH x\r\n";

    len = strlen(stream);
    got = 0;

    rd = aa_resp_reader_new();
    assert_non_null(rd);

    for (i = 0; i < len; i++) {
        assert_int_equal(aa_resp_reader_feed(rd, (const u_char *) stream + i,
                                             1),
                         AA_OK);

        for ( ;; ) {
            assert_int_equal(aa_resp_reader_get(rd, &r), AA_OK);

            if (r == NULL) {
                break;
            }

            assert_true(got < 4);
            replies[got++] = r;
        }

        /* a reply comes out exactly when its last byte arrives */
        assert_int_equal(got, (i + 1 >= 28) + (i + 1 >= 35) + (i + 1 >= 45)
                              + (i + 1 >= 56));
    }

    assert_int_equal(got, 4);

    assert_int_equal(replies[0]->type, AA_REPLY_ARRAY);
    assert_int_equal(replies[0]->elements, 3);
    assert_string_equal(replies[0]->element[0]->str, "foo");
    assert_int_equal(replies[0]->element[1]->integer, -12);
    assert_int_equal(replies[0]->element[2]->element[0]->type, AA_REPLY_NIL);

    assert_int_equal(replies[1]->type, AA_REPLY_STATUS);
    assert_string_equal(replies[1]->str, "PONG");

    assert_int_equal(replies[2]->type, AA_REPLY_STRING);
    assert_int_equal(replies[2]->len, 4);
    assert_memory_equal(replies[2]->str, "\r\n\r\n", 4);

    assert_int_equal(replies[3]->type, AA_REPLY_ERROR);
    assert_string_equal(replies[3]->str, "NOAUTH x");

    for (i = 0; i < got; i++) {
        aa_reply_free(replies[i]);
    }

    aa_resp_reader_free(rd);
}


static void
test_reader_bounds_are_inclusive(void **state)
{
    char              *s, *bulk;
    size_t             len;
    aa_reply_t        *r;
    aa_resp_reader_t  *rd;

    s = repeat(":1\r\n", AA_REDIS_MAX_ELEMENTS, "", &len);
    rd = reader_with("*1024\r\n", 7);
    assert_int_equal(aa_resp_reader_feed(rd, (u_char *) s, len), AA_OK);
    r = one_reply(rd);
    assert_int_equal(r->elements, AA_REDIS_MAX_ELEMENTS);
    assert_int_equal(r->element[AA_REDIS_MAX_ELEMENTS - 1]->integer, 1);
    aa_reply_free(r);
    aa_resp_reader_free(rd);
    free(s);

    bulk = malloc(AA_REDIS_MAX_BULK + 32);
    assert_non_null(bulk);
    len = sprintf(bulk, "$%d\r\n", AA_REDIS_MAX_BULK);
    memset(bulk + len, 'x', AA_REDIS_MAX_BULK);
    memcpy(bulk + len + AA_REDIS_MAX_BULK, "\r\n", 2);
    len += AA_REDIS_MAX_BULK + 2;

    rd = reader_with(bulk, len);
    r = one_reply(rd);
    assert_int_equal(r->len, AA_REDIS_MAX_BULK);
    aa_reply_free(r);
    aa_resp_reader_free(rd);
    free(bulk);

    /* the memory bound is per reply: two replies of 5 MB each pass */
    s = wide_tree(90, &len);
    rd = reader_with(s, len);
    r = one_reply(rd);
    assert_int_equal(r->elements, 1024);
    assert_int_equal(r->element[89]->elements, 1024);
    assert_int_equal(r->element[90]->type, AA_REPLY_NIL);
    aa_reply_free(r);
    assert_int_equal(aa_resp_reader_feed(rd, (u_char *) s, len), AA_OK);
    r = one_reply(rd);
    assert_int_equal(r->elements, 1024);
    aa_reply_free(r);
    aa_resp_reader_free(rd);
    free(s);

    /* eight levels of arrays are what hiredis supports */
    s = repeat("*1\r\n", 8, ":5\r\n", &len);
    rd = reader_with(s, len);
    r = one_reply(rd);
    assert_int_equal(r->type, AA_REPLY_ARRAY);
    aa_reply_free(r);
    aa_resp_reader_free(rd);
    free(s);
}


/* hiredis CVE-2021-32765 and friends */

static void
test_reader_refuses_hostile_replies(void **state)
{
    char    *s, *bulk;
    size_t   len;

    refused(LIT("*2147483647\r\n"), "exceeds the bound of 1024");
    refused(LIT("*1025\r\n"), "array of 1025 elements exceeds the bound");
    refused(LIT("*2\r\n*4096\r\n"), "array of 4096 elements");
    refused(LIT("*9223372036854775807\r\n"), "out of range");
    refused(LIT("*99999999999999999999\r\n"), "Bad multi-bulk length");
    refused(LIT("*-2\r\n"), "out of range");
    refused(LIT("$-2\r\n"), "out of range");
    refused(LIT("$-9223372036854775808\r\n"), "out of range");
    refused(LIT("$1x\r\nab\r\n"), "Bad bulk string length");
    refused(LIT(":12a\r\n"), "Bad integer value");
    refused(LIT("?what\r\n"), "Protocol error, got \"?\" as reply type byte");
    refused(LIT("\0\r\n"), "reply type byte");
    refused(LIT("*1\r\n%1\r\n"), "reply type byte");

    /* a 600000-byte bulk, sent whole */
    bulk = malloc(600032);
    assert_non_null(bulk);
    len = sprintf(bulk, "$600000\r\n");
    memset(bulk + len, 'x', 600000);
    memcpy(bulk + len + 600000, "\r\n", 2);
    refused(bulk, len + 600002, "string of 600000 bytes exceeds the bound");

    /* the same inside an array: the partial array is freed (ASan checks) */
    len = sprintf(bulk, "*3\r\n:1\r\n$600000\r\n");
    memset(bulk + len, 'x', 600000);
    memcpy(bulk + len + 600000, "\r\n", 2);
    refused(bulk, len + 600002, "string of 600000 bytes");
    free(bulk);

    /* nine levels of arrays */
    s = repeat("*1\r\n", 9, ":5\r\n", &len);
    refused(s, len, "depth > 7");
    free(s);

    s = repeat("*1\r\n", 100, "", &len);
    refused(s, len, "depth > 7");
    free(s);

    /*
     * Arrays of 1024 integers: 4 KB on the wire, 56 KB once parsed; 150 of
     * them pass the element and pending bounds but not the memory bound.
     */
    s = wide_tree(150, &len);
    refused(s, len, "once parsed");
    free(s);
}


static void
test_reader_pending_bound(void **state)
{
    u_char            *big;
    aa_resp_reader_t  *rd;

    big = malloc(AA_REDIS_MAX_PENDING);
    assert_non_null(big);
    memset(big, 'a', AA_REDIS_MAX_PENDING);
    big[0] = '+';

    /* a status line that never ends: exactly the bound is buffered... */
    rd = aa_resp_reader_new();
    assert_non_null(rd);
    assert_int_equal(aa_resp_reader_feed(rd, big, AA_REDIS_MAX_PENDING),
                     AA_OK);

    /* ...one byte more is refused */
    assert_int_equal(aa_resp_reader_feed(rd, big + 1, 1), AA_ERROR);
    assert_non_null(strstr(aa_resp_reader_error(rd), "pending"));
    aa_resp_reader_free(rd);

    /* a bulk announced at 2 MB is refused before it is all buffered */
    rd = reader_with("$2000000\r\n", 10);
    assert_int_equal(aa_resp_reader_feed(rd, big, AA_REDIS_MAX_PENDING / 2),
                     AA_OK);
    assert_int_equal(aa_resp_reader_feed(rd, big, AA_REDIS_MAX_PENDING / 2),
                     AA_ERROR);
    aa_resp_reader_free(rd);

    free(big);
}


static void
test_reader_frees_partial_replies(void **state)
{
    aa_reply_t        *r;
    aa_resp_reader_t  *rd;

    /* under ASan with detect_leaks=1 a leak here fails the run */
    rd = reader_with(LIT("*3\r\n*2\r\n$3\r\nabc\r\n:1\r\n$10\r\nabc"));
    assert_int_equal(aa_resp_reader_get(rd, &r), AA_OK);
    assert_null(r);
    aa_resp_reader_free(rd);

    aa_resp_reader_free(NULL);
    aa_reply_free(NULL);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        AA_TEST(test_url_good),
        AA_TEST(test_url_bad),
        AA_TEST(test_url_all_fields_of_sentinel_list),
        AA_TEST(test_url_binary_password_is_decoded_whole),
        AA_TEST(test_url_errors_never_show_the_password),
        AA_TEST(test_url_nul_inside_ipv6_literal),
        AA_TEST(test_url_unix_path_length),
        AA_TEST(test_url_error_text_is_cut_and_printable),
        AA_TEST(test_session_hash_is_sha256_hex),
        AA_TEST(test_keys),
        AA_TEST(test_glob_escape),
        AA_TEST(test_resp_matches_hiredis_argv),
        AA_TEST(test_resp_literal_encoding),
        AA_TEST(test_resp_len_equals_write_for_many_sizes),
        AA_TEST(test_reader_each_type),
        AA_TEST(test_reader_binary_bulk),
        AA_TEST(test_reader_nested_arrays),
        AA_TEST(test_reader_one_byte_at_a_time),
        AA_TEST(test_reader_bounds_are_inclusive),
        AA_TEST(test_reader_refuses_hostile_replies),
        AA_TEST(test_reader_pending_bound),
        AA_TEST(test_reader_frees_partial_replies),
    };

    return cmocka_run_group_tests_name("redis", tests, NULL, NULL);
}
