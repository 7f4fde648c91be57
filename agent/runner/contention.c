/*
 * contention.c - run-queue delay of the child's threads, steal, CPU pressure,
 * load and frequency around one repeat (contention.h).
 *
 * Design notes: everything is read from /proc and /sys with pread/read into
 * stack buffers: the probe runs in the supervisor's wait loop (every 50 ms)
 * and must neither allocate (but the folder's stream, once) nor disturb the
 * measured child. The task folder and the first CONTENTION_OPEN_MAX
 * threads' schedstat stay open from poll to poll: a poll is a listing and a
 * pread per thread (it was an open, two reads and a close per thread, and
 * the folder opened and closed). Thread delays only grow, so each thread
 * keeps its largest reading; the total is their sum.
 */
#include "contention.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Read path into buf (terminated); returns the length or -1. */
static ssize_t read_text(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t len = 0;
    while (len + 1 < size) {
        ssize_t n = read(fd, buf + len, size - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    buf[len] = '\0';
    return (ssize_t)len;
}

int contention_parse_schedstat(const char *text, uint64_t *cpu_ns, uint64_t *delay_ns)
{
    unsigned long long c, d, slices;
    if (!text || sscanf(text, "%llu %llu %llu", &c, &d, &slices) != 3)
        return -1;
    *cpu_ns = c;
    *delay_ns = d;
    return 0;
}

int contention_parse_steal(const char *text, uint64_t *ticks)
{
    /* cpu  user nice system idle iowait irq softirq steal guest guest_nice */
    unsigned long long v[8];
    if (!text || strncmp(text, "cpu ", 4) != 0 ||
        sscanf(text + 4, "%llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
               &v[4], &v[5], &v[6], &v[7]) != 8)
        return -1;
    *ticks = v[7];
    return 0;
}

int contention_parse_psi(const char *text, uint64_t *us)
{
    if (!text || strncmp(text, "some ", 5) != 0)
        return -1;
    const char *t = strstr(text, "total=");
    const char *nl = strchr(text, '\n');
    if (!t || (nl && t > nl))
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(t + 6, &end, 10);
    if (end == t + 6 || errno)
        return -1;
    *us = v;
    return 0;
}

int contention_parse_cpuinfo_mhz(const char *text, double *mhz)
{
    double sum = 0;
    int n = 0;
    for (const char *p = text; p && (p = strstr(p, "cpu MHz")) != NULL; p += 7) {
        const char *colon = strchr(p, ':');
        const char *nl = strchr(p, '\n');
        if (!colon || (nl && colon > nl))
            continue;
        char *end;
        double v = strtod(colon + 1, &end);
        if (end != colon + 1 && v > 0) {
            sum += v;
            n++;
        }
    }
    if (n == 0)
        return -1;
    *mhz = sum / n;
    return 0;
}

void contention_begin(struct contention_probe *p)
{
    p->pid = 0;
    p->schedstat_ok = false;
    p->nthreads = 0;
    p->task_dir = NULL;
    p->nopen = 0;
    char buf[512];
    p->steal_ok = read_text("/proc/stat", buf, sizeof(buf)) > 0 &&
                  contention_parse_steal(buf, &p->steal_ticks0) == 0;
    p->psi_ok = read_text("/proc/pressure/cpu", buf, sizeof(buf)) > 0 &&
                contention_parse_psi(buf, &p->psi_us0) == 0;
}

/* The slot of tid (new when unseen and there is room), or NULL. */
static struct contention_thread *thread_slot(struct contention_probe *p, pid_t tid)
{
    for (size_t i = 0; i < p->nthreads; i++)
        if (p->threads[i].tid == tid)
            return &p->threads[i];
    if (p->nthreads == CONTENTION_MAX_THREADS)
        return NULL;
    struct contention_thread *t = &p->threads[p->nthreads++];
    memset(t, 0, sizeof(*t));
    t->tid = tid;
    t->fd = -1;
    return t;
}

/* tid's schedstat into buf: through the descriptor its slot t keeps (NULL: no
 * slot yet), else opened, and then kept when t is given and there is room.
 * Returns the length, or -1. */
static ssize_t read_schedstat(struct contention_probe *p, struct contention_thread *t, pid_t pid,
                              long tid, char *buf, size_t size)
{
    if (t && t->fd >= 0) {
        ssize_t n = pread(t->fd, buf, size - 1, 0);
        if (n > 0) {
            buf[n] = '\0';
            return n;
        }
        close(t->fd); /* gone, or another thread with its number: opened again */
        t->fd = -1;
        p->nopen--;
    }
    char path[96];
    snprintf(path, sizeof(path), "/proc/%d/task/%ld/schedstat", (int)pid, tid);
    if (!t || p->nopen >= CONTENTION_OPEN_MAX)
        return read_text(path, buf, size);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = pread(fd, buf, size - 1, 0);
    if (n <= 0) {
        close(fd);
        return -1;
    }
    buf[n] = '\0';
    t->fd = fd;
    p->nopen++;
    return n;
}

/* The slot of tid when it has one. */
static struct contention_thread *thread_find(struct contention_probe *p, pid_t tid)
{
    for (size_t i = 0; i < p->nthreads; i++)
        if (p->threads[i].tid == tid)
            return &p->threads[i];
    return NULL;
}

/* Polls that look at a new thread's name: the profiler names its thread just
 * after creating it, so the first look may come too early. */
#define CONTENTION_NAME_LOOKS 3

void contention_poll(struct contention_probe *p, pid_t pid)
{
    char path[96], buf[128];
    if (p->task_dir && p->pid != pid)
        contention_release(p); /* another process: its own folder and files */
    p->pid = pid;
    DIR *d = p->task_dir;
    if (d) {
        rewinddir(d);
    } else {
        snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
        if (!(d = opendir(path)))
            return;
        p->task_dir = d;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char *end;
        long tid = strtol(e->d_name, &end, 10);
        if (end == e->d_name || *end != '\0' || tid <= 0)
            continue;
        struct contention_thread *t = thread_find(p, (pid_t)tid);
        uint64_t cpu_ns, delay_ns;
        if (read_schedstat(p, t, pid, tid, buf, sizeof(buf)) <= 0 ||
            contention_parse_schedstat(buf, &cpu_ns, &delay_ns) < 0)
            continue;
        p->schedstat_ok = true;
        if (!t && !(t = thread_slot(p, (pid_t)tid)))
            continue;
        if (tid != pid && !t->sampler && t->name_looks < CONTENTION_NAME_LOOKS) {
            t->name_looks++;
            snprintf(path, sizeof(path), "/proc/%d/task/%ld/comm", (int)pid, tid);
            if (read_text(path, buf, sizeof(buf)) > 0)
                t->sampler =
                    strncmp(buf, CONTENTION_SAMPLER_NAME, sizeof(CONTENTION_SAMPLER_NAME) - 1) == 0;
        }
        if (delay_ns > t->delay_ns)
            t->delay_ns = delay_ns;
    }
}

void contention_release(struct contention_probe *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nthreads; i++)
        if (p->threads[i].fd >= 0) {
            close(p->threads[i].fd);
            p->threads[i].fd = -1;
        }
    p->nopen = 0;
    if (p->task_dir)
        closedir(p->task_dir);
    p->task_dir = NULL;
}

/* Mean scaling_cur_freq over the CPUs, in MHz; -1 when there is none. */
static int sysfs_mhz(double *mhz)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    double sum = 0;
    int n = 0;
    char path[96], buf[64];
    for (long c = 0; c < ncpu && c < 4096; c++) {
        snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%ld/cpufreq/scaling_cur_freq", c);
        if (read_text(path, buf, sizeof(buf)) <= 0)
            continue;
        double khz = strtod(buf, NULL);
        if (khz > 0) {
            sum += khz / 1000.0;
            n++;
        }
    }
    if (n == 0)
        return -1;
    *mhz = sum / n;
    return 0;
}

void contention_end(struct contention_probe *p, struct contention *out)
{
    memset(out, 0, sizeof(*out));
    if (p->schedstat_ok) {
        uint64_t total = 0;
        for (size_t i = 0; i < p->nthreads; i++)
            if (!p->threads[i].sampler)
                total += p->threads[i].delay_ns;
        out->has_run_delay = true;
        out->run_delay_s = (double)total / 1e9;
    }
    char buf[512];
    uint64_t v;
    long hz = sysconf(_SC_CLK_TCK);
    if (p->steal_ok && hz > 0 && read_text("/proc/stat", buf, sizeof(buf)) > 0 &&
        contention_parse_steal(buf, &v) == 0 && v >= p->steal_ticks0) {
        out->has_steal = true;
        out->steal_s = (double)(v - p->steal_ticks0) / (double)hz;
    }
    if (p->psi_ok && read_text("/proc/pressure/cpu", buf, sizeof(buf)) > 0 &&
        contention_parse_psi(buf, &v) == 0 && v >= p->psi_us0) {
        out->has_cpu_pressure = true;
        out->cpu_pressure_s = (double)(v - p->psi_us0) / 1e6;
    }
    double load[1];
    if (getloadavg(load, 1) == 1) {
        out->has_load1 = true;
        out->load1 = load[0];
    }
    if (sysfs_mhz(&out->cpu_mhz) == 0) {
        out->has_cpu_mhz = true;
    } else {
        /* /proc/cpuinfo is ~1 KiB a CPU: read it whole for up to 64 of them */
        static char info[65536];
        if (read_text("/proc/cpuinfo", info, sizeof(info)) > 0 &&
            contention_parse_cpuinfo_mhz(info, &out->cpu_mhz) == 0)
            out->has_cpu_mhz = true;
    }
}
