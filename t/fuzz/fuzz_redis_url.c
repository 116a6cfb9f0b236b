/*
 * libFuzzer harness: the airflow_auth_redis URL.  A URL that parses must
 * give what aa_redis.h promises; one that does not must say why.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aa_redis.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char            err[256];
    size_t          i;
    aa_arena_t      arena;
    aa_alloc_t      a;
    aa_redis_url_t  u;

    aa_arena_init(&arena, &a);
    err[0] = '\0';

    if (aa_redis_url_parse(data, size, &a, &u, err, sizeof(err)) != AA_OK) {
        if (err[0] == '\0' || strlen(err) >= sizeof(err)) {
            abort();
        }

        goto done;
    }

    if (u.db < 0 || u.db > 65535) {
        abort();
    }

    if (u.scheme == AA_REDIS_UNIX) {
        if (u.nhosts != 0 || u.path.len < 2 || u.path.data[0] != '/') {
            abort();
        }

    } else {
        if (u.nhosts < 1 || u.nhosts > AA_REDIS_MAX_SENTINELS
            || (u.scheme != AA_REDIS_SENTINEL && u.nhosts != 1)
            || (u.scheme == AA_REDIS_SENTINEL) != (u.master.len > 0))
        {
            abort();
        }

        for (i = 0; i < u.nhosts; i++) {
            if (u.hosts[i].host.len == 0
                || u.hosts[i].port < 1 || u.hosts[i].port > 65535
                || memchr(u.hosts[i].host.data, '[', u.hosts[i].host.len)
                || memchr(u.hosts[i].host.data, ']', u.hosts[i].host.len)
                || memchr(u.hosts[i].host.data, '@', u.hosts[i].host.len))
            {
                abort();
            }
        }
    }

    if (u.username.len > 0 && u.password.len == 0) {
        abort();
    }

done:

    aa_arena_free(&arena);

    return 0;
}
