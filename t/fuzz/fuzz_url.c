/*
 * libFuzzer harness: the return-URL check.  Whatever it accepts must be a
 * path on our host, before and after one more percent-decoding: a leading
 * '/', not "//" or "/\", no backslash and no control character.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aa_url.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_assert_path(const u_char *p, size_t len);
static int fuzz_hex(u_char c);


static void
fuzz_assert_path(const u_char *p, size_t len)
{
    size_t  i;

    if (len == 0 || p[0] != '/') {
        abort();
    }

    if (len > 1 && (p[1] == '/' || p[1] == '\\')) {
        abort();
    }

    for (i = 0; i < len; i++) {
        if (p[i] < 0x20 || p[i] == 0x7f || p[i] == '\\') {
            abort();
        }
    }
}


static int
fuzz_hex(u_char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') {
        return (c | 0x20) - 'a' + 10;
    }

    return -1;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t   i, n;
    u_char  *decoded;

    if (!aa_return_url_ok(data, size)) {
        return 0;
    }

    if (size > AA_RETURN_URL_MAX) {
        abort();
    }

    fuzz_assert_path(data, size);

    decoded = malloc(size);
    if (decoded == NULL) {
        abort();
    }

    for (i = 0, n = 0; i < size; i++) {
        if (data[i] == '%' && i + 2 < size && fuzz_hex(data[i + 1]) >= 0
            && fuzz_hex(data[i + 2]) >= 0)
        {
            decoded[n++] = (u_char) (fuzz_hex(data[i + 1]) << 4
                                     | fuzz_hex(data[i + 2]));
            i += 2;

        } else {
            decoded[n++] = data[i];
        }
    }

    fuzz_assert_path(decoded, n);

    free(decoded);

    return 0;
}
