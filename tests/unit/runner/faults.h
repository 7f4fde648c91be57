/*
 * faults.h - counting the pages a structure touches, for the runner's unit tests that keep
 * pyscope-run's fixed and per-pass costs down (each first touch of a page is a page fault).
 *
 * minor_faults(): this process's minor page faults so far. fresh_process_count(argv0, flag):
 * run this test program again with flag (its main() answers with the count, as its exit
 * status) and return that status: a fresh process, whose allocator no earlier test left
 * with free memory that calloc would clear (faulting there, before the count starts).
 * Counts are glibc's: under ASan (PYSCOPE_TEST_ASAN) its allocator writes shadow pages,
 * and the tests skip.
 */
#ifndef PYSCOPE_TEST_FAULTS_H
#define PYSCOPE_TEST_FAULTS_H

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "asan_build.h"

#ifdef PYSCOPE_TEST_ASAN
#define PYSCOPE_TEST_ASAN_ON 1
#else
#define PYSCOPE_TEST_ASAN_ON 0
#endif

static inline long minor_faults(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_minflt;
}

/* The exit status of this program run again with flag, or -1 when it did not exit. */
static inline int fresh_process_count(const char *argv0, const char *flag)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        execl("/proc/self/exe", argv0, flag, (char *)NULL);
        _exit(98);
    }
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

/* Assert that this program run again with flag counts at most max faults; skips the test
 * under ASan. For cmocka tests (cmocka.h included before this header). */
#define assert_fresh_faults(argv0, flag, max)                                                      \
    do {                                                                                           \
        if (PYSCOPE_TEST_ASAN_ON)                                                                  \
            skip(); /* ASan's allocator writes its own shadow pages: the count is glibc's */       \
        assert_in_range(fresh_process_count(argv0, flag), 0, max);                                 \
    } while (0)

#endif
