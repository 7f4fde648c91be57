/*
 * launch.c - run one command and report its wall time and rusage (benchmark helper).
 *
 * Usage: launch REPORT_FILE COMMAND [ARGS...]
 *
 * Forks, execs COMMAND, waits for it with wait4() and writes one line to
 * REPORT_FILE: "wall_s user_s sys_s maxrss_kib wait_status". Exits 0 when the
 * report was written (whatever COMMAND did), 127 when it could not be.
 *
 * Why not measure from the Python harness directly: on Linux a child's
 * ru_maxrss starts from its parent's high-water mark (fork copies the mm, and
 * exec keeps the old one's peak in the signal struct; vfork/posix_spawn pass the
 * parent's own), so a 13 MiB harness would hide any script smaller than that.
 * This launcher is small, so the command's maxrss is its own.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double launch_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    struct rusage ru;
    double t0, wall;
    int status = 0;
    pid_t pid;
    FILE *out;

    if (argc < 3) {
        fprintf(stderr, "usage: launch REPORT_FILE COMMAND [ARGS...]\n");
        return 127;
    }
    t0 = launch_now();
    pid = fork();
    if (pid < 0) {
        fprintf(stderr, "launch: could not fork: %s\n", strerror(errno));
        return 127;
    }
    if (pid == 0) {
        execvp(argv[2], argv + 2);
        fprintf(stderr, "launch: could not run \"%s\": %s\n", argv[2], strerror(errno));
        _exit(127);
    }
    while (wait4(pid, &status, 0, &ru) < 0) {
        if (errno != EINTR) {
            fprintf(stderr, "launch: wait4 failed: %s\n", strerror(errno));
            return 127;
        }
    }
    wall = launch_now() - t0;
    out = fopen(argv[1], "w");
    if (out == NULL) {
        fprintf(stderr, "launch: could not open \"%s\": %s\n", argv[1], strerror(errno));
        return 127;
    }
    fprintf(out, "%.9f %.6f %.6f %ld %d\n", wall,
            (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6,
            (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6, ru.ru_maxrss, status);
    if (fclose(out) != 0) {
        fprintf(stderr, "launch: could not write \"%s\": %s\n", argv[1], strerror(errno));
        return 127;
    }
    return 0;
}
