/*
 * The allocator hook and the arena that non-nginx users of the core (the
 * CLI, unit tests, fuzzers) hand to it.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aa_core.h"


struct aa_arena_block_s {
    aa_arena_block_t  *next;
    /* max_align_t keeps what follows aligned for any type */
    max_align_t        data[];
};


static void *aa_arena_alloc(void *data, size_t size);


static void *
aa_arena_alloc(void *data, size_t size)
{
    aa_arena_t        *arena = data;
    aa_arena_block_t  *b;

    if (size > SIZE_MAX - sizeof(aa_arena_block_t)) {
        return NULL;
    }

    b = malloc(sizeof(aa_arena_block_t) + size);
    if (b == NULL) {
        return NULL;
    }

    b->next = arena->blocks;
    arena->blocks = b;

    return b->data;
}


void
aa_arena_init(aa_arena_t *arena, aa_alloc_t *alloc)
{
    arena->blocks = NULL;
    alloc->alloc = aa_arena_alloc;
    alloc->data = arena;
}


void
aa_arena_free(aa_arena_t *arena)
{
    aa_arena_block_t  *b, *next;

    for (b = arena->blocks; b; b = next) {
        next = b->next;
        free(b);
    }

    arena->blocks = NULL;
}


void *
aa_alloc(aa_alloc_t *a, size_t size)
{
    return a->alloc(a->data, size ? size : 1);
}


u_char *
aa_strdup(aa_alloc_t *a, const u_char *s, size_t len)
{
    u_char  *p;

    p = aa_alloc(a, len + 1);
    if (p == NULL) {
        return NULL;
    }

    if (len) {
        memcpy(p, s, len);
    }

    p[len] = '\0';

    return p;
}


void
aa_set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list  args;

    if (err == NULL || errlen == 0) {
        return;
    }

    va_start(args, fmt);
    vsnprintf(err, errlen, fmt, args);
    va_end(args);
}
