/*
 * libFuzzer harness: the session cookie parser under a fixed two-key ring.
 * Besides surviving any input, a cookie made from the input's first bytes
 * must parse back to them, and with one byte changed must never parse to
 * another id.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aa_codec.h"
#include "aa_seal.h"


#define FUZZ_RING                                                             \
    "# fuzz ring: never a real secret\n"                                      \
    "ZnV6eiByaW5nLCBmaXJzdCBrZXk6IDAxMjM0NTY3ODlhYmNkZWY=\n"                  \
    "ZnV6eiByaW5nLCBzZWNvbmQga2V5OiBmZWRjYmE5ODc2NTQzMjEw\n"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char          err[128];
    size_t        pos;
    u_char        id[AA_SESSION_ID_LEN], cookie[AA_COOKIE_LEN];
    aa_keyring_t  kr;

    if (aa_keyring_load(&kr, (const u_char *) FUZZ_RING,
                        sizeof(FUZZ_RING) - 1, err, sizeof(err))
        != AA_OK)
    {
        abort();
    }

    if (aa_cookie_parse(&kr, data, size, id) == AA_OK
        && size != AA_COOKIE_LEN)
    {
        abort();
    }

    if (size >= AA_SESSION_ID_LEN) {

        if (aa_cookie_make(&kr, data, cookie) != AA_OK
            || aa_cookie_parse(&kr, cookie, AA_COOKIE_LEN, id) != AA_OK
            || memcmp(id, data, AA_SESSION_ID_LEN) != 0)
        {
            abort();
        }

        if (size > AA_SESSION_ID_LEN) {
            pos = data[AA_SESSION_ID_LEN] % AA_COOKIE_LEN;
            cookie[pos] ^= data[size - 1] | 1;

            if (aa_cookie_parse(&kr, cookie, AA_COOKIE_LEN, id) == AA_OK
                && memcmp(id, data, AA_SESSION_ID_LEN) != 0)
            {
                abort();
            }
        }
    }

    aa_keyring_wipe(&kr);

    return 0;
}
