/*
 * Runs a libFuzzer harness as a plain program: every file named on the
 * command line, or found directly in a directory named there, goes once
 * through LLVMFuzzerTestOneInput.  This is how the seed corpora are
 * replayed in the normal test run, with gcc and without clang; a crash or
 * an abort() in the harness is the failure.
 */

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path, const char *prog);
static int replay_dir(const char *path, const char *prog, size_t *n);
static int replay_no_dots(const struct dirent *d);


static int
replay_file(const char *path, const char *prog)
{
    FILE         *f;
    size_t        size;
    uint8_t      *data;
    struct stat   st;

    f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
        return -1;
    }

    if (fstat(fileno(f), &st) != 0) {
        fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
        fclose(f);
        return -1;
    }

    size = (size_t) st.st_size;

    /* exactly size bytes, so that ASan sees a read past the input */
    data = malloc(size ? size : 1);
    if (data == NULL) {
        fprintf(stderr, "%s: %s: out of memory\n", prog, path);
        fclose(f);
        return -1;
    }

    if (size && fread(data, 1, size, f) != size) {
        fprintf(stderr, "%s: %s: short read\n", prog, path);
        free(data);
        fclose(f);
        return -1;
    }

    fclose(f);

    LLVMFuzzerTestOneInput(data, size);

    free(data);

    return 0;
}


static int
replay_no_dots(const struct dirent *d)
{
    return d->d_name[0] != '.';
}


static int
replay_dir(const char *path, const char *prog, size_t *n)
{
    int              i, count, rc;
    char            *file;
    size_t           len;
    struct stat      st;
    struct dirent  **names;

    count = scandir(path, &names, replay_no_dots, alphasort);
    if (count < 0) {
        fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
        return -1;
    }

    rc = 0;

    for (i = 0; i < count; i++) {
        len = strlen(path) + 1 + strlen(names[i]->d_name) + 1;

        file = malloc(len);
        if (file == NULL) {
            rc = -1;
            break;
        }

        snprintf(file, len, "%s/%s", path, names[i]->d_name);

        if (stat(file, &st) == 0 && S_ISREG(st.st_mode)) {
            if (replay_file(file, prog) != 0) {
                rc = -1;
            } else {
                (*n)++;
            }
        }

        free(file);
    }

    for (i = 0; i < count; i++) {
        free(names[i]);
    }

    free(names);

    return rc;
}


int
main(int argc, char **argv)
{
    int           i, rc;
    size_t        n;
    const char   *prog;
    struct stat   st;

    prog = strrchr(argv[0], '/');
    prog = prog ? prog + 1 : argv[0];

    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE|DIR...\n", prog);
        return 2;
    }

    n = 0;
    rc = 0;

    for (i = 1; i < argc; i++) {

        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "%s: %s: %s\n", prog, argv[i], strerror(errno));
            rc = 1;
            continue;
        }

        if (S_ISDIR(st.st_mode)) {
            if (replay_dir(argv[i], prog, &n) != 0) {
                rc = 1;
            }

            continue;
        }

        if (replay_file(argv[i], prog) != 0) {
            rc = 1;
            continue;
        }

        n++;
    }

    printf("%s: replayed %zu inputs\n", prog, n);

    return rc;
}
