/*
 * Types shared by the nginx-free core: strings, string lists, an allocator
 * hook and the result codes.  The core never includes nginx headers, so the
 * unit tests, the fuzzers and airflow-auth-admin link it on their own.
 */

#ifndef AA_CORE_H
#define AA_CORE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>


#define AA_OK         0
#define AA_ERROR     -1
#define AA_DECLINED  -5


/* Same layout as ngx_str_t, so the glue can pass one for the other. */
typedef struct {
    size_t          len;
    u_char         *data;
} aa_str_t;


typedef struct {
    aa_str_t       *elts;
    size_t          nelts;
} aa_strlist_t;


/*
 * Where the core puts what it returns.  nginx passes a pool-backed alloc, the
 * CLI and the tests an aa_arena_t; nothing handed out this way is freed
 * one by one.
 */
typedef struct {
    void         *(*alloc)(void *data, size_t size);
    void           *data;
} aa_alloc_t;


typedef struct aa_arena_block_s  aa_arena_block_t;

typedef struct {
    aa_arena_block_t  *blocks;
} aa_arena_t;


#define aa_string(s)  { sizeof(s) - 1, (u_char *) s }
#define aa_null_string  { 0, NULL }


void aa_arena_init(aa_arena_t *arena, aa_alloc_t *alloc);
void aa_arena_free(aa_arena_t *arena);

void *aa_alloc(aa_alloc_t *a, size_t size);
u_char *aa_strdup(aa_alloc_t *a, const u_char *s, size_t len);

/* Copies msg into err (errlen >= 1), always NUL-terminated. */
void aa_set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif /* AA_CORE_H */
