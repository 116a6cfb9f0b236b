/*
 * libFuzzer harness: Redis replies, as a hostile or broken server sends
 * them.  The first four bytes give the sizes of the chunks the rest is fed
 * in (0 meaning all of it), so that replies split anywhere are tried.
 * Every complete reply must respect the bounds in aa_redis.h.  The input
 * is also cut into a command's argv at every '\n': the command written
 * must be as long as announced and must read back as those arguments.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aa_redis.h"


#define FUZZ_CHUNKS  4


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_check(const aa_reply_t *r, int depth);
static void fuzz_command(const uint8_t *data, size_t size);


static void
fuzz_check(const aa_reply_t *r, int depth)
{
    size_t  i;

    if (r == NULL || depth > 8) {
        abort();
    }

    switch (r->type) {

    case AA_REPLY_STRING:
    case AA_REPLY_STATUS:
    case AA_REPLY_ERROR:
        if (r->str == NULL || r->len > AA_REDIS_MAX_BULK
            || r->str[r->len] != '\0')
        {
            abort();
        }
        break;

    case AA_REPLY_ARRAY:
        if (r->elements > AA_REDIS_MAX_ELEMENTS
            || (r->elements > 0 && r->element == NULL))
        {
            abort();
        }

        for (i = 0; i < r->elements; i++) {
            fuzz_check(r->element[i], depth + 1);
        }
        break;

    case AA_REPLY_INTEGER:
    case AA_REPLY_NIL:
        break;

    default:
        abort();
    }
}


static void
fuzz_command(const uint8_t *data, size_t size)
{
    size_t             argc, i, start, len;
    u_char            *buf;
    aa_str_t           argv[AA_REDIS_MAX_ARGS];
    aa_reply_t        *r;
    aa_resp_reader_t  *rd;

    argc = 0;
    start = 0;

    for (i = 0; i <= size && argc < AA_REDIS_MAX_ARGS; i++) {
        if (i == size || data[i] == '\n') {
            argv[argc].data = (u_char *) data + start;
            argv[argc].len = i - start;
            argc++;
            start = i + 1;
        }
    }

    len = aa_resp_command_len(argc, argv);

    buf = malloc(len);
    if (buf == NULL) {
        abort();
    }

    if (aa_resp_command_write(buf, argc, argv) != buf + len) {
        abort();
    }

    rd = aa_resp_reader_new();
    if (rd == NULL) {
        abort();
    }

    if (aa_resp_reader_feed(rd, buf, len) != AA_OK
        || aa_resp_reader_get(rd, &r) != AA_OK
        || r == NULL
        || r->type != AA_REPLY_ARRAY
        || r->elements != argc)
    {
        abort();
    }

    for (i = 0; i < argc; i++) {
        if (r->element[i]->type != AA_REPLY_STRING
            || r->element[i]->len != argv[i].len
            || (argv[i].len
                && memcmp(r->element[i]->str, argv[i].data, argv[i].len)))
        {
            abort();
        }
    }

    aa_reply_free(r);
    aa_resp_reader_free(rd);
    free(buf);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t             chunk[FUZZ_CHUNKS], i, n, off;
    aa_reply_t        *r;
    aa_resp_reader_t  *rd;

    /* within the bulk bound: libFuzzer's inputs stay far below it */
    if (size <= AA_REDIS_MAX_BULK) {
        fuzz_command(data, size);
    }

    for (i = 0; i < FUZZ_CHUNKS; i++) {
        chunk[i] = (i < size && data[i] != 0) ? data[i] : SIZE_MAX;
    }

    off = size < FUZZ_CHUNKS ? size : FUZZ_CHUNKS;

    rd = aa_resp_reader_new();
    if (rd == NULL) {
        abort();
    }

    for (i = 0; off < size; i++) {
        n = chunk[i % FUZZ_CHUNKS];
        if (n > size - off) {
            n = size - off;
        }

        if (aa_resp_reader_feed(rd, data + off, n) != AA_OK) {
            break;
        }

        off += n;

        for ( ;; ) {
            if (aa_resp_reader_get(rd, &r) != AA_OK) {
                if (r != NULL || aa_resp_reader_error(rd)[0] == '\0') {
                    abort();
                }

                goto done;
            }

            if (r == NULL) {
                break;
            }

            fuzz_check(r, 0);
            aa_reply_free(r);
        }
    }

done:

    aa_resp_reader_free(rd);

    return 0;
}
