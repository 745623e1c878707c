/*
 * replay_main.c - runs a fuzz target's LLVMFuzzerTestOneInput over files, without libFuzzer.
 *
 *   replay_fuzz_X [DIR|FILE ...]
 *
 * With no argument it replays the target's own corpus (EKEY_FUZZ_CORPUS, set by
 * tests/fuzz/Makefile.inc), which is how `make check` runs it. Each input runs in a forked
 * child, so one failing input (an abort from FUZZ_ASSERT, a sanitizer report, a signal) is
 * named and counted and the others still run. FUZZ_REPLAY_NOFORK=1 runs everything in this
 * process (for gdb or valgrind). Prints "N passed, N failed"; exits 1 on any failure or when
 * there was nothing to replay.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fuzz.h"

static int passed, failed, nofork;

/* Reads a whole file into an exact-size heap buffer (no slack for overreads to hide in). */
static unsigned char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    long len;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0
        && (buf = malloc(len > 0 ? (size_t)len : 1)) != NULL
        && fread(buf, 1, (size_t)len, f) == (size_t)len) {
        *n = (size_t)len;
    }
    else {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    return buf;
}

static void run_file(const char *path)
{
    size_t n = 0;
    unsigned char *buf = slurp(path, &n);
    int status = 0;
    pid_t pid;

    if (buf == NULL) {
        fprintf(stderr, "FAIL %s: cannot read: %s\n", path, strerror(errno));
        failed++;
        return;
    }
    if (nofork) {
        LLVMFuzzerTestOneInput(buf, n);
        free(buf);
        passed++;
        return;
    }
    fflush(NULL);
    if ((pid = fork()) == 0) {
        LLVMFuzzerTestOneInput(buf, n);
        free(buf);
        exit(0);                    /* not _exit: a sanitizer build runs its leak check */
    }
    free(buf);
    if (pid < 0 || waitpid(pid, &status, 0) != pid) {
        fprintf(stderr, "FAIL %s: fork/wait failed\n", path);
        failed++;
    }
    else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        passed++;
    }
    else {
        fprintf(stderr, "FAIL %s: %s %d\n", path, WIFSIGNALED(status) ? "signal" : "exit",
                WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
        failed++;
    }
}

static int skip_name(const char *name)
{
    return name[0] == '.';
}

static void run_path(const char *path)
{
    struct dirent **names;
    struct stat sb;
    int i, k;

    if (stat(path, &sb) != 0) {
        fprintf(stderr, "FAIL %s: %s\n", path, strerror(errno));
        failed++;
        return;
    }
    if (!S_ISDIR(sb.st_mode)) {
        run_file(path);
        return;
    }
    if ((k = scandir(path, &names, NULL, alphasort)) < 0) {
        fprintf(stderr, "FAIL %s: %s\n", path, strerror(errno));
        failed++;
        return;
    }
    for (i = 0; i < k; i++) {
        char *full = malloc(strlen(path) + strlen(names[i]->d_name) + 2);
        if (full != NULL && !skip_name(names[i]->d_name)) {
            sprintf(full, "%s/%s", path, names[i]->d_name);
            if (stat(full, &sb) == 0 && S_ISREG(sb.st_mode))
                run_file(full);
        }
        free(full);
        free(names[i]);
    }
    free(names);
}

int main(int argc, char **argv)
{
    const char *nf = getenv("FUZZ_REPLAY_NOFORK");
    int i;

    nofork = nf != NULL && strcmp(nf, "1") == 0;
    if (argc > 1) {
        for (i = 1; i < argc; i++)
            run_path(argv[i]);
    }
    else {
#ifdef EKEY_FUZZ_CORPUS
        run_path(EKEY_FUZZ_CORPUS);
#else
        fprintf(stderr, "usage: %s DIR|FILE ...\n", argv[0]);
        return 2;
#endif
    }
    printf("%s: %d passed, %d failed\n", argv[0], passed, failed);
    if (passed + failed == 0)
        fprintf(stderr, "%s: no input replayed\n", argv[0]);
    return failed == 0 && passed > 0 ? 0 : 1;
}
