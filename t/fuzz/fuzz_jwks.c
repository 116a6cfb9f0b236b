/*
 * libFuzzer harness: a JWKS document.  When it parses, at least one key
 * was imported and the counts add up to no more than the keys offered;
 * every cjose key must be released by aa_jwks_free (leak detection).
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aa_jwt.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char        err[256];
    aa_jwks_t  *jwks;

    err[0] = '\0';

    jwks = aa_jwks_parse(data, size, err, sizeof(err));
    if (jwks == NULL) {
        if (err[0] == '\0') {
            abort();
        }

        return 0;
    }

    if (aa_jwks_count(jwks) == 0 || aa_jwks_count(jwks) > AA_JWKS_MAX_KEYS
        || aa_jwks_count(jwks) + aa_jwks_skipped(jwks) > size)
    {
        abort();
    }

    aa_jwks_free(jwks);

    return 0;
}
