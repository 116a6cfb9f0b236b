/*
 * Role mapping: parses airflow_auth_roles_mapping (Flask-AppBuilder's
 * AUTH_ROLES_MAPPING as JSON) once at configuration time, and turns a
 * user's IdP groups into Airflow roles at every login.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "aa_roles.h"


/* Group and role names echoed in messages are cut to this many bytes. */
#define AA_ROLES_ERR_NAME  64


struct aa_roles_map_s {
    json_t         *root;
};


static int aa_roles_check_group(const char *group, size_t group_len,
    json_t *roles, char *err, size_t errlen);
static void aa_roles_quote(char *buf, size_t size, const char *s, size_t len);
static int aa_roles_add(aa_strlist_t *roles, size_t max, const char *role,
    size_t len, aa_alloc_t *a);


int
aa_roles_map_parse(const u_char *json, size_t len, aa_roles_map_t **map,
    char *err, size_t errlen)
{
    size_t           i, group_len;
    json_t          *root, *roles;
    const char      *group;
    json_error_t     jerr;
    aa_roles_map_t  *m;

    *map = NULL;

    if (len > AA_ROLES_MAX_FILE) {
        aa_set_err(err, errlen, "the mapping is larger than %d bytes",
                   AA_ROLES_MAX_FILE);
        return AA_ERROR;
    }

    /*
     * JSON_DECODE_ANY lets a scalar at the top parse, so that it gets the
     * "must be an object" message rather than a syntax error.
     */
    root = json_loadb((const char *) json, len,
                      JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (root == NULL) {
        for (i = 0; i < len; i++) {
            if (json[i] != ' ' && json[i] != '\t' && json[i] != '\r'
                && json[i] != '\n')
            {
                break;
            }
        }

        if (i == len) {
            aa_set_err(err, errlen, "the mapping is empty: write {} for "
                       "no group");
            return AA_ERROR;
        }

        aa_set_err(err, errlen, "line %d, column %d: %s",
                   jerr.line, jerr.column, jerr.text);
        return AA_ERROR;
    }

    if (!json_is_object(root)) {
        aa_set_err(err, errlen,
                   "the mapping must be a JSON object of group -> "
                   "list of roles");
        goto failed;
    }

    json_object_keylen_foreach(root, group, group_len, roles) {
        if (aa_roles_check_group(group, group_len, roles, err, errlen)
            != AA_OK)
        {
            goto failed;
        }
    }

    m = malloc(sizeof(aa_roles_map_t));
    if (m == NULL) {
        aa_set_err(err, errlen, "out of memory");
        goto failed;
    }

    m->root = root;
    *map = m;

    return AA_OK;

failed:

    json_decref(root);
    return AA_ERROR;
}


static int
aa_roles_check_group(const char *group, size_t group_len, json_t *roles,
    char *err, size_t errlen)
{
    char         gname[AA_ROLES_ERR_NAME * 4 + 8];
    char         rname[AA_ROLES_ERR_NAME * 4 + 8];
    size_t       i;
    json_t      *role;
    const char  *s;

    if (!json_is_array(roles)) {
        aa_roles_quote(gname, sizeof(gname), group, group_len);
        aa_set_err(err, errlen,
                   "group %s: value must be a list of role names", gname);
        return AA_ERROR;
    }

    json_array_foreach(roles, i, role) {

        if (!json_is_string(role)) {
            aa_roles_quote(gname, sizeof(gname), group, group_len);
            aa_set_err(err, errlen, "group %s: role %zu is not a string",
                       gname, i + 1);
            return AA_ERROR;
        }

        s = json_string_value(role);

        if (!aa_role_name_valid((const u_char *) s,
                                json_string_length(role)))
        {
            aa_roles_quote(gname, sizeof(gname), group, group_len);
            aa_roles_quote(rname, sizeof(rname), s, json_string_length(role));
            aa_set_err(err, errlen,
                       "group %s: invalid role name %s (empty, longer than "
                       "%d bytes, or contains a control character or ',')",
                       gname, rname, AA_ROLE_MAX_LEN);
            return AA_ERROR;
        }
    }

    return AA_OK;
}


/*
 * Quotes a name for an error message: the file may hold control characters
 * and huge strings, and the message ends up in a log line.
 */
static void
aa_roles_quote(char *buf, size_t size, const char *s, size_t len)
{
    int      cut;
    size_t   i, n;
    u_char   c;

    cut = len > AA_ROLES_ERR_NAME;
    if (cut) {
        len = AA_ROLES_ERR_NAME;
    }

    n = 0;
    buf[n++] = '"';

    for (i = 0; i < len && n + 8 < size; i++) {
        c = (u_char) s[i];

        if (c < 0x20 || c == 0x7f || c == '"' || c == '\\') {
            n += snprintf(buf + n, size - n, "\\x%02x", c);

        } else {
            buf[n++] = c;
        }
    }

    if (cut && n + 4 < size) {
        memcpy(buf + n, "...", 3);
        n += 3;
    }

    buf[n++] = '"';
    buf[n] = '\0';
}


void
aa_roles_map_free(aa_roles_map_t *map)
{
    if (map == NULL) {
        return;
    }

    json_decref(map->root);
    free(map);
}


size_t
aa_roles_map_size(const aa_roles_map_t *map)
{
    if (map == NULL) {
        return 0;
    }

    return json_object_size(map->root);
}


int
aa_roles_compute(const aa_roles_map_t *map, const aa_strlist_t *groups,
    const aa_str_t *default_role, aa_alloc_t *a, aa_strlist_t *roles)
{
    size_t   i, j, max;
    json_t  *list, *role;

    roles->elts = NULL;
    roles->nelts = 0;

    /* The result holds at most every role listed under the user's groups. */
    max = 0;

    if (map != NULL && groups != NULL) {
        for (i = 0; i < groups->nelts; i++) {
            list = json_object_getn(map->root,
                                    (const char *) groups->elts[i].data,
                                    groups->elts[i].len);
            if (list != NULL) {
                max += json_array_size(list);
            }
        }
    }

    if (max == 0 && default_role != NULL && default_role->len > 0) {
        max = 1;
    }

    if (max == 0) {
        return AA_OK;
    }

    if (max > SIZE_MAX / sizeof(aa_str_t)) {
        return AA_ERROR;
    }

    roles->elts = aa_alloc(a, max * sizeof(aa_str_t));
    if (roles->elts == NULL) {
        return AA_ERROR;
    }

    if (map != NULL && groups != NULL) {
        for (i = 0; i < groups->nelts; i++) {
            list = json_object_getn(map->root,
                                    (const char *) groups->elts[i].data,
                                    groups->elts[i].len);
            if (list == NULL) {
                continue;
            }

            json_array_foreach(list, j, role) {
                if (aa_roles_add(roles, max, json_string_value(role),
                                 json_string_length(role), a)
                    != AA_OK)
                {
                    return AA_ERROR;
                }
            }
        }
    }

    /* FAB's AUTH_USER_REGISTRATION_ROLE: only when no group matched. */
    if (roles->nelts == 0 && default_role != NULL && default_role->len > 0) {
        return aa_roles_add(roles, max, (const char *) default_role->data,
                            default_role->len, a);
    }

    return AA_OK;
}


static int
aa_roles_add(aa_strlist_t *roles, size_t max, const char *role, size_t len,
    aa_alloc_t *a)
{
    size_t   i;
    u_char  *p;

    for (i = 0; i < roles->nelts; i++) {
        if (roles->elts[i].len == len
            && memcmp(roles->elts[i].data, role, len) == 0)
        {
            return AA_OK;
        }
    }

    if (roles->nelts == max) {
        return AA_ERROR;
    }

    /* Copied: a reload may free the map while the result is still used. */
    p = aa_strdup(a, (const u_char *) role, len);
    if (p == NULL) {
        return AA_ERROR;
    }

    roles->elts[roles->nelts].data = p;
    roles->elts[roles->nelts].len = len;
    roles->nelts++;

    return AA_OK;
}


int
aa_role_name_valid(const u_char *role, size_t len)
{
    size_t  i;

    if (len == 0 || len > AA_ROLE_MAX_LEN) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (role[i] < 0x20 || role[i] == 0x7f || role[i] == ',') {
            return 0;
        }
    }

    return 1;
}
