/*
 * libFuzzer harness: the session record as read back from Redis.  A record
 * that decodes must encode, and that encoding must decode to the same
 * record.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aa_session.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fuzz_str_eq(const aa_str_t *a, const aa_str_t *b);
static int fuzz_list_eq(const aa_strlist_t *a, const aa_strlist_t *b);
static int fuzz_session_eq(const aa_session_t *a, const aa_session_t *b);


static int
fuzz_str_eq(const aa_str_t *a, const aa_str_t *b)
{
    return a->len == b->len
           && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}


static int
fuzz_list_eq(const aa_strlist_t *a, const aa_strlist_t *b)
{
    size_t  i;

    if (a->nelts != b->nelts) {
        return 0;
    }

    for (i = 0; i < a->nelts; i++) {
        if (!fuzz_str_eq(&a->elts[i], &b->elts[i])) {
            return 0;
        }
    }

    return 1;
}


static int
fuzz_session_eq(const aa_session_t *a, const aa_session_t *b)
{
    return fuzz_str_eq(&a->user, &b->user)
           && fuzz_str_eq(&a->email, &b->email)
           && fuzz_str_eq(&a->name, &b->name)
           && fuzz_list_eq(&a->groups, &b->groups)
           && fuzz_list_eq(&a->roles, &b->roles)
           && fuzz_str_eq(&a->idp, &b->idp)
           && fuzz_str_eq(&a->idp_type, &b->idp_type)
           && fuzz_str_eq(&a->sub, &b->sub)
           && fuzz_str_eq(&a->sid, &b->sid)
           && fuzz_str_eq(&a->id_token, &b->id_token)
           && a->created == b->created
           && a->expires == b->expires
           && a->last_seen == b->last_seen
           && a->idle_expires == b->idle_expires;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    aa_str_t      json;
    aa_arena_t    arena;
    aa_alloc_t    a;
    aa_session_t  s, s2;

    aa_arena_init(&arena, &a);

    if (aa_session_decode(data, size, &a, &s) == AA_OK) {

        if (s.user.len == 0) {
            abort();
        }

        if (aa_session_encode(&s, &a, &json) != AA_OK) {
            abort();
        }

        if (aa_session_decode(json.data, json.len, &a, &s2) != AA_OK
            || !fuzz_session_eq(&s, &s2))
        {
            abort();
        }
    }

    aa_arena_free(&arena);

    return 0;
}
