/*
 * The session record: JSON round trip, strict decoding of anything that is
 * not exactly a v1 record, the timing rules (absolute and idle expiry,
 * refresh at most once per tenth of the idle timeout), the /whoami object
 * and the comma lists of the identity headers.
 */

#include <jansson.h>

#include "aa_test.h"

#include "aa_session.h"


#define VALID_HEAD                                                            \
    "{\"v\":1,\"user\":\"alice\",\"email\":\"a@example.com\","                \
    "\"name\":\"Alice\",\"groups\":[\"g1\"],\"roles\":[\"Admin\"],"           \
    "\"idp\":\"okta\",\"idp_type\":\"oidc\",\"sub\":\"00u1\",\"sid\":\"s1\","

#define VALID_TIMES                                                           \
    "\"created\":1000,\"expires\":2000,\"last_seen\":1100,"                   \
    "\"idle_expires\":1500"

#define VALID  VALID_HEAD VALID_TIMES "}"


static int decode(void **state, const char *json, size_t len,
    aa_session_t *s);
static void assert_str(aa_str_t s, const char *want);
static char *list_json(const char *field, size_t n);


static aa_str_t  admin_op[] = { aa_string("Admin"), aa_string("Op") };
static aa_str_t  g1_g2[] = { aa_string("g1"), aa_string("g2") };


static int
decode(void **state, const char *json, size_t len, aa_session_t *s)
{
    memset(s, 0, sizeof(aa_session_t));

    return aa_session_decode((const u_char *) json, len, AA_POOL(state), s);
}


static void
assert_str(aa_str_t s, const char *want)
{
    assert_int_equal(s.len, strlen(want));
    assert_non_null(s.data);
    assert_memory_equal(s.data, want, s.len);
}


/* A valid record whose field holds n strings; the caller frees it. */
static char *
list_json(const char *field, size_t n)
{
    char    *p;
    size_t   i, size, len;

    size = sizeof(VALID) + 64 + n * 8;
    p = malloc(size);
    assert_non_null(p);

    len = snprintf(p, size, "{\"v\":1,\"user\":\"u\",\"%s\":[", field);

    for (i = 0; i < n; i++) {
        len += snprintf(p + len, size - len, "%s\"g%zu\"", i ? "," : "", i);
    }

    len += snprintf(p + len, size - len, "],\"%s\":[],%s}",
                    strcmp(field, "groups") == 0 ? "roles" : "groups",
                    VALID_TIMES);

    assert_true(len < size);

    return p;
}


static void
round_trip_keeps_every_field(void **state)
{
    aa_str_t      json;
    aa_session_t  s, r;

    static aa_str_t  groups[] = {
        aa_string("airflow-admins"), aa_string("data-eng"),
        aa_string("\xe3\x83\x87\xe3\x83\xbc\xe3\x82\xbf"),
    };
    static aa_str_t  roles[] = { aa_string("Admin"), aa_string("Op") };

    memset(&s, 0, sizeof(s));
    s.user = (aa_str_t) aa_string("zo\xc3\xab@example.com");
    s.email = (aa_str_t) aa_string("zo\xc3\xab@example.com");
    s.name = (aa_str_t) aa_string("Zo\xc3\xab \xc3\x85ngstr\xc3\xb6m "
                                  "\xe5\xb1\xb1\xe7\x94\xb0 \"Q\" \\ </b>");
    s.groups.elts = groups;
    s.groups.nelts = 3;
    s.roles.elts = roles;
    s.roles.nelts = 2;
    s.idp = (aa_str_t) aa_string("okta");
    s.idp_type = (aa_str_t) aa_string("oidc");
    s.sub = (aa_str_t) aa_string("00u1abcd");
    s.sid = (aa_str_t) aa_string("sid-42");
    s.id_token = (aa_str_t) aa_string("eyJhbGciOiJSUzI1NiJ9.e30.c2ln");
    s.created = 1700000000;
    s.expires = 1700043200;
    s.last_seen = 1700000100;
    s.idle_expires = 1700001900;

    assert_int_equal(aa_session_encode(&s, AA_POOL(state), &json), AA_OK);
    assert_int_equal(decode(state, (char *) json.data, json.len, &r), AA_OK);

    assert_str(r.user, "zo\xc3\xab@example.com");
    assert_str(r.email, "zo\xc3\xab@example.com");
    assert_str(r.name, "Zo\xc3\xab \xc3\x85ngstr\xc3\xb6m "
                       "\xe5\xb1\xb1\xe7\x94\xb0 \"Q\" \\ </b>");
    assert_int_equal(r.groups.nelts, 3);
    assert_str(r.groups.elts[0], "airflow-admins");
    assert_str(r.groups.elts[1], "data-eng");
    assert_str(r.groups.elts[2], "\xe3\x83\x87\xe3\x83\xbc\xe3\x82\xbf");
    assert_int_equal(r.roles.nelts, 2);
    assert_str(r.roles.elts[0], "Admin");
    assert_str(r.roles.elts[1], "Op");
    assert_str(r.idp, "okta");
    assert_str(r.idp_type, "oidc");
    assert_str(r.sub, "00u1abcd");
    assert_str(r.sid, "sid-42");
    assert_str(r.id_token, "eyJhbGciOiJSUzI1NiJ9.e30.c2ln");
    assert_int_equal(r.created, 1700000000);
    assert_int_equal(r.expires, 1700043200);
    assert_int_equal(r.last_seen, 1700000100);
    assert_int_equal(r.idle_expires, 1700001900);
}


static void
encode_writes_the_documented_field_names(void **state)
{
    aa_str_t      json;
    aa_session_t  s;

    memset(&s, 0, sizeof(s));
    s.user = (aa_str_t) aa_string("bob");
    s.idp_type = (aa_str_t) aa_string("cli");
    s.created = 1;
    s.expires = 3;
    s.last_seen = 1;
    s.idle_expires = 2;

    assert_int_equal(aa_session_encode(&s, AA_POOL(state), &json), AA_OK);

    /* the id_token is left out when there is none */
    assert_string_equal((char *) json.data,
        "{\"v\":1,\"user\":\"bob\",\"email\":\"\",\"name\":\"\","
        "\"groups\":[],\"roles\":[],\"idp\":\"\",\"idp_type\":\"cli\","
        "\"sub\":\"\",\"sid\":\"\",\"created\":1,\"expires\":3,"
        "\"last_seen\":1,\"idle_expires\":2}");
    assert_int_equal(json.len, strlen((char *) json.data));
}


static void
encode_refuses_a_record_without_user_or_with_nul(void **state)
{
    aa_str_t      json;
    aa_session_t  s;

    memset(&s, 0, sizeof(s));
    s.expires = 10;
    s.idle_expires = 10;

    assert_int_equal(aa_session_encode(&s, AA_POOL(state), &json), AA_ERROR);

    s.user = (aa_str_t) { 5, (u_char *) "al\0ce" };
    assert_int_equal(aa_session_encode(&s, AA_POOL(state), &json), AA_ERROR);

    /* not UTF-8 */
    s.user = (aa_str_t) aa_string("al\xffice");
    assert_int_equal(aa_session_encode(&s, AA_POOL(state), &json), AA_ERROR);
}


static void
missing_optional_strings_decode_as_empty(void **state)
{
    aa_session_t  s;
    const char   *json =
        "{\"v\":1,\"user\":\"alice\",\"groups\":[],\"roles\":[]," VALID_TIMES
        "}";

    assert_int_equal(decode(state, json, strlen(json), &s), AA_OK);

    assert_str(s.user, "alice");
    assert_str(s.email, "");
    assert_str(s.name, "");
    assert_str(s.idp, "");
    assert_str(s.idp_type, "");
    assert_str(s.sub, "");
    assert_str(s.sid, "");
    assert_str(s.id_token, "");
    assert_int_equal(s.groups.nelts, 0);
    assert_int_equal(s.roles.nelts, 0);
    assert_int_equal(s.expires, 2000);
}


static void
unknown_fields_are_ignored(void **state)
{
    aa_session_t  s;
    const char   *json = VALID_HEAD "\"future\":{\"x\":[1]}," VALID_TIMES "}";

    assert_int_equal(decode(state, json, strlen(json), &s), AA_OK);
    assert_str(s.user, "alice");
}


static void
malformed_records_are_declined(void **state)
{
    size_t        i;
    aa_session_t  s;

    static const struct {
        const char  *why;
        const char  *json;
        size_t       len;
    } cases[] = {

#define BAD(why, json)  { why, json, sizeof(json) - 1 }

        BAD("no closing brace", VALID_HEAD VALID_TIMES),
        BAD("v is 2", "{\"v\":2,\"user\":\"alice\",\"groups\":[],"
            "\"roles\":[]," VALID_TIMES "}"),
        BAD("v is 0", "{\"v\":0,\"user\":\"alice\",\"groups\":[],"
            "\"roles\":[]," VALID_TIMES "}"),
        BAD("v is a string", "{\"v\":\"1\",\"user\":\"alice\",\"groups\":[],"
            "\"roles\":[]," VALID_TIMES "}"),
        BAD("v is a real", "{\"v\":1.0,\"user\":\"alice\",\"groups\":[],"
            "\"roles\":[]," VALID_TIMES "}"),
        BAD("v is true", "{\"v\":true,\"user\":\"alice\",\"groups\":[],"
            "\"roles\":[]," VALID_TIMES "}"),
        BAD("v missing", "{\"user\":\"alice\",\"groups\":[],"
            "\"roles\":[]," VALID_TIMES "}"),
        BAD("user missing", "{\"v\":1,\"groups\":[],"
            "\"roles\":[]," VALID_TIMES "}"),
        BAD("user empty", "{\"v\":1,\"user\":\"\",\"groups\":[],"
            "\"roles\":[]," VALID_TIMES "}"),
        BAD("user null", "{\"v\":1,\"user\":null,\"groups\":[],"
            "\"roles\":[]," VALID_TIMES "}"),
        BAD("user a number", "{\"v\":1,\"user\":5,\"groups\":[],"
            "\"roles\":[]," VALID_TIMES "}"),
        BAD("user an array", "{\"v\":1,\"user\":[\"alice\"],\"groups\":[],"
            "\"roles\":[]," VALID_TIMES "}"),
        BAD("user with NUL", "{\"v\":1,\"user\":\"al\\u0000ice\","
            "\"groups\":[],\"roles\":[]," VALID_TIMES "}"),
        BAD("email a number", VALID_HEAD "\"email\":1," VALID_TIMES "}"),
        BAD("name an object", "{\"v\":1,\"user\":\"a\",\"name\":{},"
            "\"groups\":[],\"roles\":[]," VALID_TIMES "}"),
        BAD("name null", "{\"v\":1,\"user\":\"a\",\"name\":null,"
            "\"groups\":[],\"roles\":[]," VALID_TIMES "}"),
        BAD("idp true", "{\"v\":1,\"user\":\"a\",\"idp\":true,"
            "\"groups\":[],\"roles\":[]," VALID_TIMES "}"),
        BAD("idp_type a number", "{\"v\":1,\"user\":\"a\",\"idp_type\":1,"
            "\"groups\":[],\"roles\":[]," VALID_TIMES "}"),
        BAD("sub an array", "{\"v\":1,\"user\":\"a\",\"sub\":[],"
            "\"groups\":[],\"roles\":[]," VALID_TIMES "}"),
        BAD("sid a number", "{\"v\":1,\"user\":\"a\",\"sid\":7,"
            "\"groups\":[],\"roles\":[]," VALID_TIMES "}"),
        BAD("id_token a number", "{\"v\":1,\"user\":\"a\",\"id_token\":7,"
            "\"groups\":[],\"roles\":[]," VALID_TIMES "}"),
        BAD("sid with NUL", "{\"v\":1,\"user\":\"a\",\"sid\":\"\\u0000\","
            "\"groups\":[],\"roles\":[]," VALID_TIMES "}"),
        BAD("groups a string", "{\"v\":1,\"user\":\"a\",\"groups\":\"g1\","
            "\"roles\":[]," VALID_TIMES "}"),
        BAD("groups missing", "{\"v\":1,\"user\":\"a\","
            "\"roles\":[]," VALID_TIMES "}"),
        BAD("groups holds a number", "{\"v\":1,\"user\":\"a\","
            "\"groups\":[\"g\",1],\"roles\":[]," VALID_TIMES "}"),
        BAD("groups holds null", "{\"v\":1,\"user\":\"a\","
            "\"groups\":[null],\"roles\":[]," VALID_TIMES "}"),
        BAD("groups holds an array", "{\"v\":1,\"user\":\"a\","
            "\"groups\":[[\"g\"]],\"roles\":[]," VALID_TIMES "}"),
        BAD("groups item with NUL", "{\"v\":1,\"user\":\"a\","
            "\"groups\":[\"a\\u0000b\"],\"roles\":[]," VALID_TIMES "}"),
        BAD("roles an object", "{\"v\":1,\"user\":\"a\",\"groups\":[],"
            "\"roles\":{\"Admin\":1}," VALID_TIMES "}"),
        BAD("roles missing", "{\"v\":1,\"user\":\"a\",\"groups\":[],"
            VALID_TIMES "}"),
        BAD("created a string", "{\"v\":1,\"user\":\"a\",\"groups\":[],"
            "\"roles\":[],\"created\":\"1000\",\"expires\":2000,"
            "\"last_seen\":1100,\"idle_expires\":1500}"),
        BAD("expires a real", "{\"v\":1,\"user\":\"a\",\"groups\":[],"
            "\"roles\":[],\"created\":1000,\"expires\":2000.5,"
            "\"last_seen\":1100,\"idle_expires\":1500}"),
        BAD("last_seen null", "{\"v\":1,\"user\":\"a\",\"groups\":[],"
            "\"roles\":[],\"created\":1000,\"expires\":2000,"
            "\"last_seen\":null,\"idle_expires\":1500}"),
        BAD("idle_expires missing", "{\"v\":1,\"user\":\"a\",\"groups\":[],"
            "\"roles\":[],\"created\":1000,\"expires\":2000,"
            "\"last_seen\":1100}"),
        BAD("expires missing", "{\"v\":1,\"user\":\"a\",\"groups\":[],"
            "\"roles\":[],\"created\":1000,"
            "\"last_seen\":1100,\"idle_expires\":1500}"),
        BAD("expires beyond 64 bits", "{\"v\":1,\"user\":\"a\",\"groups\":[],"
            "\"roles\":[],\"created\":1000,\"expires\":99999999999999999999,"
            "\"last_seen\":1100,\"idle_expires\":1500}"),
        BAD("duplicate user", "{\"v\":1,\"user\":\"alice\",\"user\":\"admin\","
            "\"groups\":[],\"roles\":[]," VALID_TIMES "}"),
        BAD("duplicate roles", VALID_HEAD "\"roles\":[\"Viewer\"],"
            VALID_TIMES "}"),
        BAD("duplicate expires", VALID_HEAD VALID_TIMES
            ",\"expires\":99999999}"),
        BAD("truncated", "{\"v\":1,\"user\":\"alice\",\"groups\":[\"g"),
        BAD("truncated after a comma", VALID_HEAD),
        BAD("trailing garbage", VALID "x"),
        BAD("two documents", VALID VALID),
        BAD("an array", "[" VALID "]"),
        BAD("a string", "\"alice\""),
        BAD("a number", "1"),
        BAD("null", "null"),
        BAD("empty", ""),
        BAD("only spaces", "   "),
        BAD("NUL inside the text", "{\"v\":1,\0\"user\":\"a\"}"),
        BAD("not UTF-8", "{\"v\":1,\"user\":\"\xff\",\"groups\":[],"
            "\"roles\":[]," VALID_TIMES "}"),
        BAD("single quotes", "{'v':1,'user':'a'}"),
        BAD("comment", "{\"v\":1,/* x */\"user\":\"a\",\"groups\":[],"
            "\"roles\":[]," VALID_TIMES "}"),

#undef BAD
    };

    /*
     * Each bad record is a good one with the named fault: VALID, or the
     * smallest good record (v, user, groups, roles and the times).
     */
    assert_int_equal(decode(state, VALID, sizeof(VALID) - 1, &s), AA_OK);

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (decode(state, cases[i].json, cases[i].len, &s) != AA_DECLINED) {
            fail_msg("accepted: %s", cases[i].why);
        }
    }
}


static void
lists_hold_at_most_256_items(void **state)
{
    char          *json;
    aa_session_t   s;

    json = list_json("groups", AA_SESSION_MAX_LIST);
    assert_int_equal(decode(state, json, strlen(json), &s), AA_OK);
    assert_int_equal(s.groups.nelts, AA_SESSION_MAX_LIST);
    assert_str(s.groups.elts[255], "g255");
    free(json);

    json = list_json("groups", AA_SESSION_MAX_LIST + 1);
    assert_int_equal(decode(state, json, strlen(json), &s), AA_DECLINED);
    free(json);

    json = list_json("roles", AA_SESSION_MAX_LIST);
    assert_int_equal(decode(state, json, strlen(json), &s), AA_OK);
    assert_int_equal(s.roles.nelts, AA_SESSION_MAX_LIST);
    free(json);

    json = list_json("roles", AA_SESSION_MAX_LIST + 1);
    assert_int_equal(decode(state, json, strlen(json), &s), AA_DECLINED);
    free(json);
}


static void
records_over_64k_are_declined(void **state)
{
    char          *json;
    size_t         len, pad;
    aa_session_t   s;

    /* a valid record padded with spaces to exactly the limit, then one more */
    len = AA_SESSION_MAX_JSON + 1;
    json = malloc(len);
    assert_non_null(json);

    pad = AA_SESSION_MAX_JSON - (sizeof(VALID) - 1);
    memset(json, ' ', pad);
    memcpy(json + pad, VALID, sizeof(VALID) - 1);

    assert_int_equal(decode(state, json, AA_SESSION_MAX_JSON, &s), AA_OK);

    memmove(json + 1, json, AA_SESSION_MAX_JSON);
    json[0] = ' ';
    assert_int_equal(decode(state, json, len, &s), AA_DECLINED);

    free(json);
}


static void
time_check_boundaries(void **state)
{
    aa_session_t  s;

    memset(&s, 0, sizeof(s));
    s.expires = 2000;
    s.idle_expires = 1500;

    assert_int_equal(aa_session_check_time(&s, 0), AA_OK);
    assert_int_equal(aa_session_check_time(&s, 1499), AA_OK);
    assert_int_equal(aa_session_check_time(&s, 1500), AA_DECLINED);
    assert_int_equal(aa_session_check_time(&s, 1501), AA_DECLINED);

    /* the absolute lifetime wins over a later idle expiry */
    s.idle_expires = 3000;
    assert_int_equal(aa_session_check_time(&s, 1999), AA_OK);
    assert_int_equal(aa_session_check_time(&s, 2000), AA_DECLINED);
    assert_int_equal(aa_session_check_time(&s, 2500), AA_DECLINED);
}


static void
refresh_at_most_once_per_tenth_of_idle_timeout(void **state)
{
    aa_session_t  s;

    memset(&s, 0, sizeof(s));
    s.last_seen = 1000;

    /* 30 minutes idle: push the expiry at most every 3 minutes */
    assert_false(aa_session_needs_refresh(&s, 1000, 1800));
    assert_false(aa_session_needs_refresh(&s, 1179, 1800));
    assert_true(aa_session_needs_refresh(&s, 1180, 1800));
    assert_true(aa_session_needs_refresh(&s, 5000, 1800));

    /* a clock that went back does not refresh */
    assert_false(aa_session_needs_refresh(&s, 900, 1800));

    /* below 10 s the step is 1 s, never 0 */
    assert_false(aa_session_needs_refresh(&s, 1000, 5));
    assert_true(aa_session_needs_refresh(&s, 1001, 5));
    assert_false(aa_session_needs_refresh(&s, 1000, 0));
    assert_true(aa_session_needs_refresh(&s, 1001, 0));
}


static void
touch_is_capped_at_the_absolute_expiry(void **state)
{
    aa_session_t  s;

    memset(&s, 0, sizeof(s));
    s.created = 1000;
    s.expires = 10000;
    s.last_seen = 1000;
    s.idle_expires = 2800;

    aa_session_touch(&s, 2000, 1800);
    assert_int_equal(s.last_seen, 2000);
    assert_int_equal(s.idle_expires, 3800);
    assert_int_equal(s.expires, 10000);
    assert_int_equal(aa_session_ttl(&s, 2000), 1800);

    aa_session_touch(&s, 9000, 1800);
    assert_int_equal(s.last_seen, 9000);
    assert_int_equal(s.idle_expires, 10000);
    assert_int_equal(aa_session_ttl(&s, 9000), 1000);

    aa_session_touch(&s, 8200, 1800);
    assert_int_equal(s.idle_expires, 10000);
    assert_int_equal(s.expires, 10000);
}


static void
ttl_is_at_least_one_second(void **state)
{
    aa_session_t  s;

    memset(&s, 0, sizeof(s));
    s.idle_expires = 1500;

    assert_int_equal(aa_session_ttl(&s, 1000), 500);
    assert_int_equal(aa_session_ttl(&s, 1499), 1);
    assert_int_equal(aa_session_ttl(&s, 1500), 1);
    assert_int_equal(aa_session_ttl(&s, 9999), 1);
}


static void
identity_json_is_exact(void **state)
{
    aa_str_t      json;
    aa_session_t  s;

    memset(&s, 0, sizeof(s));
    s.user = (aa_str_t) aa_string("alice");
    s.email = (aa_str_t) aa_string("alice@example.com");
    s.name = (aa_str_t) aa_string("Alice \"Al\" Zo\xc3\xab");
    s.roles.elts = admin_op;
    s.roles.nelts = 2;
    s.groups.elts = g1_g2;
    s.groups.nelts = 2;
    s.idp = (aa_str_t) aa_string("okta");
    s.idp_type = (aa_str_t) aa_string("oidc");
    s.sub = (aa_str_t) aa_string("never-shown");
    s.sid = (aa_str_t) aa_string("never-shown");
    s.id_token = (aa_str_t) aa_string("never.shown.token");
    s.created = 1700000000;
    s.expires = 1700043200;

    assert_int_equal(aa_session_identity_json(&s, AA_POOL(state), &json),
                     AA_OK);

    assert_string_equal((char *) json.data,
        "{\"user\":\"alice\",\"email\":\"alice@example.com\","
        "\"name\":\"Alice \\\"Al\\\" Zo\xc3\xab\",\"roles\":[\"Admin\",\"Op\"],"
        "\"groups\":[\"g1\",\"g2\"],\"idp\":\"okta\",\"idp_type\":\"oidc\","
        "\"expires\":1700043200}");
    assert_int_equal(json.len, strlen((char *) json.data));
}


static void
join_cleans_each_item(void **state)
{
    aa_str_t      out;
    aa_strlist_t  l;

    static aa_str_t  hostile[] = {
        aa_string("Admin"),
        aa_string("Op\r\nX-Airflow-User: root"),
        aa_string("Vi\0ewer"),
    };

    l.elts = admin_op;
    l.nelts = 2;
    assert_int_equal(aa_strlist_join(&l, AA_POOL(state), &out), AA_OK);
    assert_str(out, "Admin,Op");

    l.elts = hostile;
    l.nelts = 3;
    assert_int_equal(aa_strlist_join(&l, AA_POOL(state), &out), AA_OK);
    assert_str(out, "Admin,OpX-Airflow-User: root,Viewer");

    l.elts = NULL;
    l.nelts = 0;
    assert_int_equal(aa_strlist_join(&l, AA_POOL(state), &out), AA_OK);
    assert_str(out, "");
}


static void
split_trims_and_drops_empty_items(void **state)
{
    aa_strlist_t  l;
    const char   *in = " Admin , Op,,\tUser\t, \t ,Viewer";

    assert_int_equal(aa_strlist_split((u_char *) in, strlen(in),
                                      AA_POOL(state), &l),
                     AA_OK);
    assert_int_equal(l.nelts, 4);
    assert_str(l.elts[0], "Admin");
    assert_str(l.elts[1], "Op");
    assert_str(l.elts[2], "User");
    assert_str(l.elts[3], "Viewer");

    assert_int_equal(aa_strlist_split((u_char *) ",,, ,", 5, AA_POOL(state),
                                      &l),
                     AA_OK);
    assert_int_equal(l.nelts, 0);

    assert_int_equal(aa_strlist_split(NULL, 0, AA_POOL(state), &l), AA_OK);
    assert_int_equal(l.nelts, 0);

    assert_int_equal(aa_strlist_split((u_char *) "Op", 2, AA_POOL(state), &l),
                     AA_OK);
    assert_int_equal(l.nelts, 1);
    assert_str(l.elts[0], "Op");
}


static void
has_is_exact_and_case_sensitive(void **state)
{
    aa_strlist_t  l;

    l.elts = admin_op;
    l.nelts = 2;

    assert_true(aa_strlist_has(&l, (u_char *) "Admin", 5));
    assert_true(aa_strlist_has(&l, (u_char *) "Op", 2));
    assert_false(aa_strlist_has(&l, (u_char *) "admin", 5));
    assert_false(aa_strlist_has(&l, (u_char *) "Adm", 3));
    assert_false(aa_strlist_has(&l, (u_char *) "Admins", 6));
    assert_false(aa_strlist_has(&l, (u_char *) "", 0));
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        AA_TEST(round_trip_keeps_every_field),
        AA_TEST(encode_writes_the_documented_field_names),
        AA_TEST(encode_refuses_a_record_without_user_or_with_nul),
        AA_TEST(missing_optional_strings_decode_as_empty),
        AA_TEST(unknown_fields_are_ignored),
        AA_TEST(malformed_records_are_declined),
        AA_TEST(lists_hold_at_most_256_items),
        AA_TEST(records_over_64k_are_declined),
        AA_TEST(time_check_boundaries),
        AA_TEST(refresh_at_most_once_per_tenth_of_idle_timeout),
        AA_TEST(touch_is_capped_at_the_absolute_expiry),
        AA_TEST(ttl_is_at_least_one_second),
        AA_TEST(identity_json_is_exact),
        AA_TEST(join_cleans_each_item),
        AA_TEST(split_trims_and_drops_empty_items),
        AA_TEST(has_is_exact_and_case_sensitive),
    };

    return cmocka_run_group_tests_name("session", tests, NULL, NULL);
}
