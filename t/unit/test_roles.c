/*
 * Role mapping: Flask-AppBuilder's AUTH_ROLES_MAPPING semantics, and the
 * messages an operator gets for a mapping file that is wrong.
 */

#include "aa_test.h"
#include "aa_roles.h"


#define FAB_EXAMPLE                                                           \
    "{\"airflow-admins\": [\"Admin\"], \"data-eng\": [\"User\", \"Op\"]}"


static aa_roles_map_t *parse_ok(const char *json);
static void parse_fails(const char *json, size_t len, const char *fragment);
static void assert_roles(const aa_strlist_t *roles, size_t n, ...);
static aa_strlist_t compute(aa_alloc_t *a, const aa_roles_map_t *map,
    const char *default_role, size_t n, ...);


static aa_roles_map_t *
parse_ok(const char *json)
{
    char             err[256];
    aa_roles_map_t  *map;

    err[0] = '\0';
    map = NULL;

    if (aa_roles_map_parse((const u_char *) json, strlen(json), &map, err,
                           sizeof(err))
        != AA_OK)
    {
        fail_msg("mapping %s refused: %s", json, err);
    }

    assert_non_null(map);

    return map;
}


static void
parse_fails(const char *json, size_t len, const char *fragment)
{
    char             err[512];
    aa_roles_map_t  *map;

    err[0] = '\0';
    map = (aa_roles_map_t *) 1;

    assert_int_equal(aa_roles_map_parse((const u_char *) json, len, &map,
                                        err, sizeof(err)),
                     AA_ERROR);
    assert_null(map);

    if (strstr(err, fragment) == NULL) {
        fail_msg("mapping %.*s: error \"%s\" does not contain \"%s\"",
                 (int) (len > 80 ? 80 : len), json, err, fragment);
    }
}


static void
assert_roles(const aa_strlist_t *roles, size_t n, ...)
{
    size_t       i;
    va_list      args;
    const char  *s;

    if (roles->nelts != n) {
        fail_msg("expected %zu roles, got %zu", n, roles->nelts);
    }

    va_start(args, n);

    for (i = 0; i < n; i++) {
        s = va_arg(args, const char *);

        if (roles->elts[i].len != strlen(s)
            || memcmp(roles->elts[i].data, s, roles->elts[i].len) != 0)
        {
            va_end(args);
            fail_msg("role %zu: expected \"%s\", got \"%.*s\"", i, s,
                     (int) roles->elts[i].len, roles->elts[i].data);
        }

        /* NUL-terminated copies, so they outlive the map */
        assert_int_equal(roles->elts[i].data[roles->elts[i].len], '\0');
    }

    va_end(args);
}


static aa_strlist_t
compute(aa_alloc_t *a, const aa_roles_map_t *map, const char *default_role,
    size_t n, ...)
{
    size_t        i;
    va_list       args;
    const char   *s;
    aa_str_t      def;
    aa_strlist_t  groups, roles;

    groups.nelts = n;
    groups.elts = aa_alloc(a, (n ? n : 1) * sizeof(aa_str_t));
    assert_non_null(groups.elts);

    va_start(args, n);

    for (i = 0; i < n; i++) {
        s = va_arg(args, const char *);
        groups.elts[i].data = (u_char *) s;
        groups.elts[i].len = strlen(s);
    }

    va_end(args);

    def.data = (u_char *) default_role;
    def.len = default_role ? strlen(default_role) : 0;

    assert_int_equal(aa_roles_compute(map, &groups,
                                      default_role ? &def : NULL, a, &roles),
                     AA_OK);

    return roles;
}


static void
test_fab_example_admins_get_admin(void **state)
{
    aa_roles_map_t  *map;
    aa_strlist_t     roles;

    map = parse_ok(FAB_EXAMPLE);
    assert_int_equal(aa_roles_map_size(map), 2);

    roles = compute(AA_POOL(state), map, NULL, 1, "airflow-admins");
    assert_roles(&roles, 1, "Admin");

    roles = compute(AA_POOL(state), map, NULL, 1, "data-eng");
    assert_roles(&roles, 2, "User", "Op");

    aa_roles_map_free(map);
}


static void
test_union_in_first_seen_order(void **state)
{
    aa_roles_map_t  *map;
    aa_strlist_t     roles;

    map = parse_ok(FAB_EXAMPLE);

    roles = compute(AA_POOL(state), map, NULL, 2, "data-eng",
                    "airflow-admins");
    assert_roles(&roles, 3, "User", "Op", "Admin");

    roles = compute(AA_POOL(state), map, NULL, 2, "airflow-admins",
                    "data-eng");
    assert_roles(&roles, 3, "Admin", "User", "Op");

    aa_roles_map_free(map);
}


static void
test_duplicates_collapse(void **state)
{
    aa_roles_map_t  *map;
    aa_strlist_t     roles;

    map = parse_ok("{\"a\": [\"User\", \"Viewer\", \"User\"],"
                   " \"b\": [\"Viewer\", \"Op\", \"User\"]}");

    roles = compute(AA_POOL(state), map, NULL, 3, "a", "b", "a");
    assert_roles(&roles, 3, "User", "Viewer", "Op");

    aa_roles_map_free(map);
}


static void
test_group_match_is_exact_and_case_sensitive(void **state)
{
    aa_roles_map_t  *map;
    aa_strlist_t     roles;

    map = parse_ok(FAB_EXAMPLE);

    roles = compute(AA_POOL(state), map, NULL, 6, "Airflow-Admins",
                    "airflow-admin", "airflow-admins ", "data", "data-eng-x",
                    "");
    assert_roles(&roles, 0);

    aa_roles_map_free(map);
}


static void
test_unknown_groups_are_ignored(void **state)
{
    aa_roles_map_t  *map;
    aa_strlist_t     roles;

    map = parse_ok(FAB_EXAMPLE);

    roles = compute(AA_POOL(state), map, NULL, 3, "everyone", "data-eng",
                    "contractors");
    assert_roles(&roles, 2, "User", "Op");

    aa_roles_map_free(map);
}


static void
test_default_role_only_when_nothing_matched(void **state)
{
    aa_roles_map_t  *map;
    aa_strlist_t     roles;

    map = parse_ok(FAB_EXAMPLE);

    roles = compute(AA_POOL(state), map, "Viewer", 1, "everyone");
    assert_roles(&roles, 1, "Viewer");

    roles = compute(AA_POOL(state), map, "Viewer", 0);
    assert_roles(&roles, 1, "Viewer");

    roles = compute(AA_POOL(state), map, "Viewer", 2, "everyone",
                    "data-eng");
    assert_roles(&roles, 2, "User", "Op");

    /* an empty default role is "none": the user gets nothing */
    roles = compute(AA_POOL(state), map, "", 1, "everyone");
    assert_roles(&roles, 0);

    roles = compute(AA_POOL(state), map, NULL, 1, "everyone");
    assert_roles(&roles, 0);

    aa_roles_map_free(map);
}


static void
test_group_with_empty_list_counts_as_no_match(void **state)
{
    aa_roles_map_t  *map;
    aa_strlist_t     roles;

    map = parse_ok("{\"suspended\": [], \"data-eng\": [\"User\"]}");

    roles = compute(AA_POOL(state), map, "Public", 1, "suspended");
    assert_roles(&roles, 1, "Public");

    roles = compute(AA_POOL(state), map, "Public", 2, "suspended",
                    "data-eng");
    assert_roles(&roles, 1, "User");

    aa_roles_map_free(map);
}


static void
test_no_mapping_means_default_only(void **state)
{
    aa_strlist_t  roles;

    roles = compute(AA_POOL(state), NULL, "Viewer", 2, "airflow-admins",
                    "data-eng");
    assert_roles(&roles, 1, "Viewer");

    roles = compute(AA_POOL(state), NULL, NULL, 1, "airflow-admins");
    assert_roles(&roles, 0);

    assert_int_equal(aa_roles_map_size(NULL), 0);
    aa_roles_map_free(NULL);
}


static void
test_null_group_list(void **state)
{
    aa_str_t         def = aa_test_str("Viewer");
    aa_roles_map_t  *map;
    aa_strlist_t     roles;

    map = parse_ok(FAB_EXAMPLE);

    assert_int_equal(aa_roles_compute(map, NULL, &def, AA_POOL(state),
                                      &roles),
                     AA_OK);
    assert_roles(&roles, 1, "Viewer");

    aa_roles_map_free(map);
}


static void
test_custom_and_unicode_role_names(void **state)
{
    aa_roles_map_t  *map;
    aa_strlist_t     roles;

    map = parse_ok("{\"ml\": [\"ML Engineer\", \"dag-owner:team_a\","
                   " \"R\\u00f4le\"], \"CN=Ops,OU=Groups,DC=corp\": [\"Op\"]}");

    roles = compute(AA_POOL(state), map, NULL, 2, "ml",
                    "CN=Ops,OU=Groups,DC=corp");
    assert_roles(&roles, 4, "ML Engineer", "dag-owner:team_a", "R\xc3\xb4le",
                 "Op");

    aa_roles_map_free(map);
}


static void
test_empty_object_is_valid(void **state)
{
    aa_roles_map_t  *map;
    aa_strlist_t     roles;

    map = parse_ok("  {}\n");
    assert_int_equal(aa_roles_map_size(map), 0);

    roles = compute(AA_POOL(state), map, "Public", 1, "anything");
    assert_roles(&roles, 1, "Public");

    aa_roles_map_free(map);
}


static void
test_result_outlives_the_map(void **state)
{
    aa_roles_map_t  *map;
    aa_strlist_t     roles;

    map = parse_ok(FAB_EXAMPLE);
    roles = compute(AA_POOL(state), map, NULL, 1, "data-eng");
    aa_roles_map_free(map);

    /* under ASan this reads freed memory if the roles point into jansson */
    assert_roles(&roles, 2, "User", "Op");
}


static void
test_non_object_refused(void **state)
{
    const char  *msg = "the mapping must be a JSON object of group -> "
                       "list of roles";

    parse_fails("[\"Admin\"]", 9, msg);
    parse_fails("\"Admin\"", 7, msg);
    parse_fails("42", 2, msg);
    parse_fails("null", 4, msg);
    parse_fails("true", 4, msg);
}


static void
test_value_not_a_list_refused(void **state)
{
    const char  *msg = "group \"data-eng\": value must be a list of role "
                       "names";

    parse_fails("{\"data-eng\": \"User\"}", 20, msg);
    parse_fails("{\"data-eng\": {\"User\": 1}}", 25, msg);
    parse_fails("{\"data-eng\": null}", 18, msg);
    parse_fails("{\"ok\": [\"User\"], \"data-eng\": 3}", 31, msg);
}


static void
test_non_string_role_refused(void **state)
{
    parse_fails("{\"x\": [\"User\", 7]}", 18,
                "group \"x\": role 2 is not a string");
    parse_fails("{\"x\": [[\"Admin\"]]}", 18,
                "group \"x\": role 1 is not a string");
    parse_fails("{\"x\": [\"A\", \"B\", null]}", 23,
                "group \"x\": role 3 is not a string");
}


static void
test_invalid_role_names_refused(void **state)
{
    char         json[600];
    char         frag[300];
    const char  *why = " (empty, longer than 256 bytes, or contains a "
                       "control character or ',')";

    snprintf(frag, sizeof(frag), "group \"x\": invalid role name \"a,b\"%s",
             why);
    parse_fails("{\"x\": [\"a,b\"]}", 14, frag);

    snprintf(frag, sizeof(frag), "group \"x\": invalid role name \"\"%s",
             why);
    parse_fails("{\"x\": [\"User\", \"\"]}", 19, frag);

    /* control characters are shown escaped, not written into the log */
    parse_fails("{\"x\": [\"Ad\\nmin\"]}", 18,
                "group \"x\": invalid role name \"Ad\\x0amin\"");
    parse_fails("{\"x\": [\"Ad\\rmin\"]}", 18, "invalid role name");
    parse_fails("{\"x\": [\"Ad\\u007fmin\"]}", 22, "invalid role name");
    parse_fails("{\"x\": [\"\\t\"]}", 13, "invalid role name");

    /* 256 bytes pass, 257 do not */
    snprintf(json, sizeof(json), "{\"x\": [\"%0256d\"]}", 0);
    aa_roles_map_free(parse_ok(json));

    snprintf(json, sizeof(json), "{\"x\": [\"%0257d\"]}", 0);
    parse_fails(json, strlen(json), "group \"x\": invalid role name \"000");
    parse_fails(json, strlen(json), "...\"");
}


static void
test_duplicate_keys_refused(void **state)
{
    parse_fails("{\"a\": [\"User\"], \"a\": [\"Admin\"]}", 32,
                "duplicate object key");
}


static void
test_syntax_errors_name_line_and_column(void **state)
{
    parse_fails("{\n  \"a\": [\"User\"],\n  \"b\": [\"Op\",]\n}", 35,
                "line 3, column ");
    parse_fails("{\"a\": [\"User\"]} x", 17, "end of file expected");
    parse_fails("{\"a\": [\"User\"]}{}", 17, "line 1, column ");
    parse_fails("{\"a\": [\"User\"]", 15, "line 1, column ");
    parse_fails("", 0, "the mapping is empty");
    parse_fails(" \n\t", 3, "the mapping is empty");
    parse_fails("{\"a\": [\"Us\\u0000er\"]}", 21, "JSON_ALLOW_NUL");
    parse_fails("{\"a\": [\"\xff\"]}", 11, "unable to decode byte 0xff");
    parse_fails("{\"a\": [\"User\"]}\0", 16, "line 1, column ");
}


static void
test_syntax_error_column_is_exact(void **state)
{
    char             err[256];
    aa_roles_map_t  *map;

    /* jansson counts columns in characters from 1: the stray '}' is 7 */
    assert_int_equal(aa_roles_map_parse((const u_char *) "{\n\n  \"a\" }", 10,
                                        &map, err, sizeof(err)),
                     AA_ERROR);
    if (strncmp(err, "line 3, column 7: ", 18) != 0) {
        fail_msg("unexpected error \"%s\"", err);
    }
}


static void
test_oversized_file_refused(void **state)
{
    char             err[128];
    size_t           len;
    u_char          *big;
    aa_roles_map_t  *map;

    len = AA_ROLES_MAX_FILE + 1;
    big = malloc(len);
    assert_non_null(big);

    memset(big, ' ', len);
    big[0] = '{';
    big[len - 1] = '}';

    parse_fails((const char *) big, len, "larger than 1048576 bytes");

    /* the same padding one byte shorter is a valid, empty mapping */
    big[len - 2] = '}';
    assert_int_equal(aa_roles_map_parse(big, len - 1, &map, err, sizeof(err)),
                     AA_OK);
    aa_roles_map_free(map);

    free(big);
}


static void
test_role_name_valid(void **state)
{
    char  name[AA_ROLE_MAX_LEN + 2];

    assert_true(aa_role_name_valid((const u_char *) "Admin", 5));
    assert_true(aa_role_name_valid((const u_char *) "ML Engineer", 11));
    assert_true(aa_role_name_valid((const u_char *) "R\xc3\xb4le", 5));
    assert_false(aa_role_name_valid((const u_char *) "", 0));
    assert_false(aa_role_name_valid((const u_char *) "a,b", 3));
    assert_false(aa_role_name_valid((const u_char *) "a\nb", 3));
    assert_false(aa_role_name_valid((const u_char *) "a\0b", 3));
    assert_false(aa_role_name_valid((const u_char *) "a\x7f", 2));

    memset(name, 'R', sizeof(name));
    assert_true(aa_role_name_valid((const u_char *) name, AA_ROLE_MAX_LEN));
    assert_false(aa_role_name_valid((const u_char *) name,
                                    AA_ROLE_MAX_LEN + 1));
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        AA_TEST(test_fab_example_admins_get_admin),
        AA_TEST(test_union_in_first_seen_order),
        AA_TEST(test_duplicates_collapse),
        AA_TEST(test_group_match_is_exact_and_case_sensitive),
        AA_TEST(test_unknown_groups_are_ignored),
        AA_TEST(test_default_role_only_when_nothing_matched),
        AA_TEST(test_group_with_empty_list_counts_as_no_match),
        AA_TEST(test_no_mapping_means_default_only),
        AA_TEST(test_null_group_list),
        AA_TEST(test_custom_and_unicode_role_names),
        AA_TEST(test_empty_object_is_valid),
        AA_TEST(test_result_outlives_the_map),
        AA_TEST(test_non_object_refused),
        AA_TEST(test_value_not_a_list_refused),
        AA_TEST(test_non_string_role_refused),
        AA_TEST(test_invalid_role_names_refused),
        AA_TEST(test_duplicate_keys_refused),
        AA_TEST(test_syntax_errors_name_line_and_column),
        AA_TEST(test_syntax_error_column_is_exact),
        AA_TEST(test_oversized_file_refused),
        AA_TEST(test_role_name_valid),
    };

    return cmocka_run_group_tests_name("roles", tests, NULL, NULL);
}
