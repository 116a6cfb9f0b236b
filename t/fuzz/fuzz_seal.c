/*
 * libFuzzer harness: AES-256-GCM sealing under a fixed two-key ring.  The
 * input is unsealed as it is (a hostile Redis value), then sealed and
 * unsealed again, which must give it back; the sealed copy must not open
 * under another AAD or with one byte changed.
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

#define FUZZ_AAD    "airflow_auth:s:fuzz"
#define FUZZ_AAD2   "airflow_auth:s:fuzy"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char          err[128];
    size_t        n, sealed_len, pos;
    u_char       *out, *sealed;
    aa_keyring_t  kr;

    if (aa_keyring_load(&kr, (const u_char *) FUZZ_RING,
                        sizeof(FUZZ_RING) - 1, err, sizeof(err))
        != AA_OK)
    {
        abort();
    }

    sealed_len = size + AA_SEAL_OVERHEAD;

    out = malloc(sealed_len);
    sealed = malloc(sealed_len);

    if (out == NULL || sealed == NULL) {
        abort();
    }

    if (aa_unseal(&kr, (const u_char *) FUZZ_AAD, sizeof(FUZZ_AAD) - 1,
                  data, size, out, &n)
        == AA_OK
        && (size < AA_SEAL_OVERHEAD || n != size - AA_SEAL_OVERHEAD))
    {
        abort();
    }

    if (aa_seal(&kr, (const u_char *) FUZZ_AAD, sizeof(FUZZ_AAD) - 1,
                data, size, sealed)
        != AA_OK)
    {
        abort();
    }

    if (aa_unseal(&kr, (const u_char *) FUZZ_AAD, sizeof(FUZZ_AAD) - 1,
                  sealed, sealed_len, out, &n)
        != AA_OK
        || n != size
        || (size && memcmp(out, data, size) != 0))
    {
        abort();
    }

    if (aa_unseal(&kr, (const u_char *) FUZZ_AAD2, sizeof(FUZZ_AAD2) - 1,
                  sealed, sealed_len, out, &n)
        != AA_DECLINED)
    {
        abort();
    }

    pos = size ? data[0] % sealed_len : 0;
    sealed[pos] ^= size ? (data[size - 1] | 1) : 0x80;

    if (aa_unseal(&kr, (const u_char *) FUZZ_AAD, sizeof(FUZZ_AAD) - 1,
                  sealed, sealed_len, out, &n)
        != AA_DECLINED)
    {
        abort();
    }

    free(out);
    free(sealed);
    aa_keyring_wipe(&kr);

    return 0;
}
