/*
 * Flask-AppBuilder AUTH_ROLES_MAPPING: a JSON object from IdP group to a
 * list of Airflow roles.  A user's roles are the union over their groups,
 * in first-seen order without duplicates; the default role (FAB's
 * AUTH_USER_REGISTRATION_ROLE) applies only when no group matched.
 */

#ifndef AA_ROLES_H
#define AA_ROLES_H

#include "aa_core.h"


#define AA_ROLES_MAX_FILE   (1024 * 1024)
#define AA_ROLE_MAX_LEN     256


typedef struct aa_roles_map_s  aa_roles_map_t;


/*
 * Parses the mapping.  It must be a JSON object whose values are arrays of
 * role names; a role name is a non-empty string of at most AA_ROLE_MAX_LEN
 * bytes with no control character and no ','.  Custom role names are
 * allowed.  On failure err says what is wrong and where (line and column
 * for a syntax error, the group for a bad value).
 */
int aa_roles_map_parse(const u_char *json, size_t len, aa_roles_map_t **map,
    char *err, size_t errlen);
void aa_roles_map_free(aa_roles_map_t *map);

/* Number of groups in the mapping. */
size_t aa_roles_map_size(const aa_roles_map_t *map);

/*
 * roles = union of map[g] for g in groups; if empty and default_role is a
 * non-empty string, roles = [default_role].  map may be NULL (no mapping).
 * The result is allocated from a and may be empty.
 */
int aa_roles_compute(const aa_roles_map_t *map, const aa_strlist_t *groups,
    const aa_str_t *default_role, aa_alloc_t *a, aa_strlist_t *roles);

/* 1 when role is a name aa_roles_map_parse would accept. */
int aa_role_name_valid(const u_char *role, size_t len);

#endif /* AA_ROLES_H */
