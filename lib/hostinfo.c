/*
 * hostinfo.c - the host identity and its drift fields.
 *
 * Fingerprint recipe: SHA-256 over the compact JSON array
 *   ["pyscope.host/1", cpu_model, cores, mem_half_gib, os, kernel, arch, hostname]
 * where mem_half_gib is mem_bytes rounded to the nearest 0.5 GiB (so a few
 * MiB of firmware reservation after a BIOS update do not make a new host), and
 * the first 16 hex digits are kept. The hostname is part of the identity: two
 * machines with the same hardware and OS are still two hosts with their own
 * noise, and the farm must tell them apart; renaming a machine therefore starts
 * a new series. The kernel release is part of it too, because kernel updates
 * (scheduler, mitigations) move timings; the governor and load are not.
 */
#include "hostinfo.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "errors.h"
#include "hash.h"
#include "xmalloc.h"

/* Largest system file read (a /proc/cpuinfo of a very large machine fits). */
#define HOSTINFO_FILE_MAX (4 * 1024 * 1024)
/* Memory is rounded to this granularity for the fingerprint: 0.5 GiB. */
#define HOSTINFO_MEM_GRAIN (INT64_C(1) << 29)

/* Read root+path as a new NUL-terminated string (caller owns), or NULL. */
static char *read_text(const char *root, const char *path)
{
    char *full = xasprintf("%s%s", root ? root : "", path);
    int fd = open(full, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    free(full);
    if (fd < 0)
        return NULL;
    size_t cap = 4096, len = 0;
    char *buf = xmalloc(cap);
    for (;;) {
        if (len + 1 >= cap) {
            if (cap >= HOSTINFO_FILE_MAX)
                break; /* keep what fits: the fields sought come first */
            cap *= 2;
            buf = xrealloc(buf, cap);
        }
        ssize_t n = read(fd, buf + len, cap - len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            free(buf);
            close(fd);
            return NULL;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    buf[len] = '\0';
    return buf;
}

/* Return a new copy of s[0..n) without leading and trailing white space. */
static char *trim_dup(const char *s, size_t n)
{
    while (n > 0 && isspace((unsigned char)*s)) {
        s++;
        n--;
    }
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        n--;
    return xstrndup(s, n);
}

/*
 * Find the first "key : value" line of text whose key (trimmed) is key.
 * Returns the new trimmed value (caller owns), or NULL.
 */
static char *colon_field(const char *text, const char *key)
{
    size_t klen = strlen(key);
    for (const char *line = text; line && *line;) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        const char *colon = memchr(line, ':', len);
        if (colon) {
            size_t kl = (size_t)(colon - line);
            while (kl > 0 && isspace((unsigned char)line[kl - 1]))
                kl--;
            if (kl == klen && memcmp(line, key, klen) == 0) {
                char *v = trim_dup(colon + 1, len - (size_t)(colon + 1 - line));
                if (v[0])
                    return v;
                free(v);
            }
        }
        line = eol ? eol + 1 : NULL;
    }
    return NULL;
}

char *hostinfo_parse_cpu_model(const char *cpuinfo)
{
    /* x86 first, then MIPS, old ARM, POWER, and the ARM board name */
    static const char *const keys[] = {"model name", "cpu model", "Processor", "cpu", "Hardware"};
    if (!cpuinfo)
        return NULL;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        char *v = colon_field(cpuinfo, keys[i]);
        if (v)
            return v;
    }
    return NULL;
}

int64_t hostinfo_parse_mem_total(const char *meminfo)
{
    if (!meminfo)
        return -1;
    char *v = colon_field(meminfo, "MemTotal");
    if (!v)
        return -1;
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    int64_t mult = 1;
    while (isspace((unsigned char)*end))
        end++;
    if (strcmp(end, "kB") == 0 || strcmp(end, "KB") == 0 || strcmp(end, "kb") == 0)
        mult = 1024;
    else if (*end != '\0')
        n = -1;
    bool ok = errno == 0 && end != v && n >= 0 && n <= INT64_MAX / mult;
    free(v);
    return ok ? (int64_t)n * mult : -1;
}

/* Unquote an os-release value (shell-like: "..." with \ escapes, or '...'). New string. */
static char *unquote(const char *v, size_t n)
{
    char *s = trim_dup(v, n);
    size_t len = strlen(s);
    if (len >= 1 && (s[0] == '"' || s[0] == '\'')) {
        char q = s[0];
        size_t w = 0;
        for (size_t r = 1; r < len && s[r] != q; r++) {
            if (q == '"' && s[r] == '\\' && r + 1 < len)
                r++;
            s[w++] = s[r];
        }
        s[w] = '\0';
    }
    return s;
}

/* Value of KEY=VALUE in os-release text, unquoted; new string or NULL. */
static char *os_release_field(const char *text, const char *key)
{
    size_t klen = strlen(key);
    for (const char *line = text; line && *line;) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        if (len > klen && memcmp(line, key, klen) == 0 && line[klen] == '=') {
            char *v = unquote(line + klen + 1, len - klen - 1);
            if (v[0])
                return v;
            free(v);
        }
        line = eol ? eol + 1 : NULL;
    }
    return NULL;
}

char *hostinfo_parse_os_release(const char *text)
{
    if (!text)
        return NULL;
    char *pretty = os_release_field(text, "PRETTY_NAME");
    if (pretty)
        return pretty;
    char *name = os_release_field(text, "NAME");
    char *version = os_release_field(text, "VERSION");
    char *res = NULL;
    if (name && version)
        res = xasprintf("%s %s", name, version);
    else if (name)
        res = xstrdup(name);
    free(name);
    free(version);
    return res;
}

char *hostinfo_parse_governor(const char *text)
{
    if (!text)
        return NULL;
    char *v = trim_dup(text, strlen(text));
    if (!v[0]) {
        free(v);
        return NULL;
    }
    return v;
}

int hostinfo_parse_loadavg(const char *text, double out[3])
{
    if (!text)
        return -PYSCOPE_EPARSE;
    const char *p = text;
    for (int i = 0; i < 3; i++) {
        char *end;
        errno = 0;
        double v = strtod(p, &end);
        if (end == p || errno != 0 || !isfinite(v) || v < 0)
            return -PYSCOPE_EPARSE;
        if (*end && !isspace((unsigned char)*end))
            return -PYSCOPE_EPARSE;
        out[i] = v;
        p = end;
    }
    return 0;
}

/* Set key to a new string copy of s (borrowed), or null when s is NULL or not UTF-8. */
static void set_string(json_t *obj, const char *key, const char *s)
{
    json_t *v = s ? json_string(s) : NULL;
    json_object_set_new(obj, key, v ? v : json_null());
}

json_t *hostinfo_collect_at(const char *root)
{
    json_t *h = json_object();
    json_object_set_new(h, "fingerprint", json_null());

    struct utsname u;
    bool have_uname = uname(&u) == 0;
    set_string(h, "hostname", have_uname ? u.nodename : NULL);

    char *text = read_text(root, "/proc/cpuinfo");
    char *s = hostinfo_parse_cpu_model(text);
    set_string(h, "cpu_model", s);
    free(s);
    free(text);

    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    json_object_set_new(h, "cores", cores > 0 ? json_integer(cores) : json_null());

    text = read_text(root, "/proc/meminfo");
    int64_t mem = hostinfo_parse_mem_total(text);
    json_object_set_new(h, "mem_bytes", mem >= 0 ? json_integer(mem) : json_null());
    free(text);

    text = read_text(root, "/etc/os-release");
    if (!text)
        text = read_text(root, "/usr/lib/os-release");
    s = hostinfo_parse_os_release(text);
    set_string(h, "os", s);
    free(s);
    free(text);

    set_string(h, "kernel", have_uname ? u.release : NULL);
    set_string(h, "arch", have_uname ? u.machine : NULL);

    text = read_text(root, "/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor");
    s = hostinfo_parse_governor(text);
    set_string(h, "governor", s);
    free(s);
    free(text);

    text = read_text(root, "/proc/loadavg");
    double load[3];
    if (hostinfo_parse_loadavg(text, load) == 0)
        json_object_set_new(h, "loadavg", json_pack("[fff]", load[0], load[1], load[2]));
    else
        json_object_set_new(h, "loadavg", json_null());
    free(text);

    char *fp = hostinfo_fingerprint(h);
    json_object_set_new(h, "fingerprint", json_string(fp));
    free(fp);
    return h;
}

char *hostinfo_parse_boot_id(const char *text)
{
    if (!text)
        return NULL;
    char *v = trim_dup(text, strlen(text));
    size_t n = strlen(v);
    bool ok = n > 0 && n <= 64;
    for (size_t i = 0; ok && i < n; i++)
        ok = (v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'f') || v[i] == '-';
    if (!ok) {
        free(v);
        return NULL;
    }
    return v;
}

char *hostinfo_boot_id(const char *root)
{
    char *text = read_text(root, "/proc/sys/kernel/random/boot_id");
    char *id = hostinfo_parse_boot_id(text);
    free(text);
    return id;
}

json_t *hostinfo_collect(void)
{
    return hostinfo_collect_at(NULL);
}

/* A new copy of host's string field key, or null. */
static json_t *copy_string(const json_t *host, const char *key)
{
    json_t *v = json_object_get(host, key);
    if (json_is_string(v))
        return json_stringn_nocheck(json_string_value(v), json_string_length(v));
    return json_null();
}

/* A new copy of host's non-negative integer field key, or null. */
static json_t *copy_count(const json_t *host, const char *key)
{
    json_t *v = json_object_get(host, key);
    if (json_is_integer(v) && json_integer_value(v) >= 0)
        return json_integer(json_integer_value(v));
    return json_null();
}

char *hostinfo_fingerprint(const json_t *host)
{
    json_t *mem = json_object_get(host, "mem_bytes");
    json_t *half_gib = json_null();
    if (json_is_integer(mem) && json_integer_value(mem) >= 0) {
        json_int_t m = json_integer_value(mem);
        json_decref(half_gib);
        half_gib = json_integer(m / HOSTINFO_MEM_GRAIN +
                                (m % HOSTINFO_MEM_GRAIN >= HOSTINFO_MEM_GRAIN / 2 ? 1 : 0));
    }
    json_t *ident = json_array();
    json_array_append_new(ident, json_string(HOSTINFO_FINGERPRINT_VERSION));
    json_array_append_new(ident, copy_string(host, "cpu_model"));
    json_array_append_new(ident, copy_count(host, "cores"));
    json_array_append_new(ident, half_gib);
    json_array_append_new(ident, copy_string(host, "os"));
    json_array_append_new(ident, copy_string(host, "kernel"));
    json_array_append_new(ident, copy_string(host, "arch"));
    json_array_append_new(ident, copy_string(host, "hostname"));
    char *canon = json_dumps(ident, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(ident);
    if (!canon)
        abort(); /* only on out of memory */
    char hex[HASH_SHA256_HEX_SIZE];
    hash_sha256_hex(canon, strlen(canon), hex);
    free(canon);
    return xstrndup(hex, HOSTINFO_FINGERPRINT_LEN);
}
