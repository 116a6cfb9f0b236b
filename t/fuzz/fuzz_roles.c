/*
 * libFuzzer harness: the roles-mapping file.  When it parses, roles are
 * computed for groups cut from the input itself (so that some of them are
 * keys of the mapping), with and without a default role, and the result
 * must be what aa_roles.h promises: valid names, no duplicates, the
 * default role alone or not at all.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aa_roles.h"


#define FUZZ_MAX_GROUPS  8


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_check(const aa_strlist_t *roles, const aa_str_t *def,
    size_t map_size);


static void
fuzz_check(const aa_strlist_t *roles, const aa_str_t *def, size_t map_size)
{
    size_t  i, j;

    if (roles->nelts == 1 && def != NULL && roles->elts[0].len == def->len
        && memcmp(roles->elts[0].data, def->data, def->len) == 0)
    {
        return;
    }

    if (roles->nelts > 0 && map_size == 0) {
        abort();
    }

    for (i = 0; i < roles->nelts; i++) {
        if (!aa_role_name_valid(roles->elts[i].data, roles->elts[i].len)) {
            abort();
        }

        for (j = 0; j < i; j++) {
            if (roles->elts[i].len == roles->elts[j].len
                && memcmp(roles->elts[i].data, roles->elts[j].data,
                          roles->elts[i].len) == 0)
            {
                abort();
            }
        }
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char             err[512];
    size_t           i, start;
    aa_str_t         group[FUZZ_MAX_GROUPS];
    aa_str_t         def = aa_string("Viewer");
    aa_arena_t       arena;
    aa_alloc_t       a;
    aa_strlist_t     groups, roles, with_default;
    aa_roles_map_t  *map;

    err[0] = '\0';

    if (aa_roles_map_parse(data, size, &map, err, sizeof(err)) != AA_OK) {
        if (map != NULL || err[0] == '\0') {
            abort();
        }

        return 0;
    }

    /* groups: the runs between double quotes, the way JSON keys sit */
    groups.elts = group;
    groups.nelts = 0;
    start = 0;

    for (i = 0; i < size && groups.nelts < FUZZ_MAX_GROUPS; i++) {
        if (data[i] == '"') {
            group[groups.nelts].data = (u_char *) data + start;
            group[groups.nelts].len = i - start;
            groups.nelts++;
            start = i + 1;
        }
    }

    aa_arena_init(&arena, &a);

    if (aa_roles_compute(map, &groups, NULL, &a, &roles) != AA_OK) {
        abort();
    }

    fuzz_check(&roles, NULL, aa_roles_map_size(map));

    if (aa_roles_compute(map, &groups, &def, &a, &with_default) != AA_OK) {
        abort();
    }

    fuzz_check(&with_default, &def, aa_roles_map_size(map));

    /* the default role applies exactly when nothing matched */
    if (roles.nelts == 0 ? with_default.nelts != 1
                         : with_default.nelts != roles.nelts)
    {
        abort();
    }

    aa_arena_free(&arena);
    aa_roles_map_free(map);

    return 0;
}
