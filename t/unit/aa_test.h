/*
 * What every cmocka unit test of the core includes: cmocka itself and an
 * arena-backed allocator that each test frees in its teardown.
 */

#ifndef AA_TEST_H
#define AA_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "aa_core.h"


typedef struct {
    aa_arena_t   arena;
    aa_alloc_t   alloc;
} aa_test_pool_t;


static inline int
aa_test_setup(void **state)
{
    aa_test_pool_t  *p;

    p = calloc(1, sizeof(aa_test_pool_t));
    if (p == NULL) {
        return -1;
    }

    aa_arena_init(&p->arena, &p->alloc);
    *state = p;

    return 0;
}


static inline int
aa_test_teardown(void **state)
{
    aa_test_pool_t  *p = *state;

    aa_arena_free(&p->arena);
    free(p);

    return 0;
}


#define AA_TEST(f)  cmocka_unit_test_setup_teardown(f, aa_test_setup,         \
                                                    aa_test_teardown)
#define AA_POOL(state)  (&((aa_test_pool_t *) *(state))->alloc)

#define aa_test_str(s)  ((aa_str_t) { sizeof(s) - 1, (u_char *) (s) })

#endif /* AA_TEST_H */
