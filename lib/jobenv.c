/*
 * jobenv.c - which environment variables a suite may set (jobenv.h).
 */
#include "jobenv.h"

#include <stdio.h>
#include <string.h>

bool jobenv_listed(const char *list, const char *name, size_t len)
{
    for (const char *p = list; p && *p;) {
        size_t n = strcspn(p, " ,\t");
        if (n == len && strncmp(p, name, len) == 0)
            return true;
        p += n;
        p += strspn(p, " ,\t");
    }
    return false;
}

const char *jobenv_name_refused(const char *name, size_t len)
{
    /* glibc's unsecure environment variables (sysdeps/generic/unsecvars.h), LD_* below */
    static const char libc[] = "GCONV_PATH GETCONF_DIR GLIBC_TUNABLES HOSTALIASES LOCALDOMAIN "
                               "LOCPATH MALLOC_TRACE NIS_PATH NLSPATH RESOLV_HOST_CONF "
                               "RES_OPTIONS TZDIR";
    static const char python[] = "PYTHONPATH PYTHONHOME PYTHONSTARTUP PYTHONUSERBASE "
                                 "PYTHONEXECUTABLE PYTHONPLATLIBDIR PYTHONPYCACHEPREFIX "
                                 "PYTHONBREAKPOINT";
    static const char agent[] = "PATH VIRTUAL_ENV HOME TMPDIR USER LOGNAME";
    if (len >= 8 && strncmp(name, "PYSCOPE_", 8) == 0)
        return "PYSCOPE_* variables are PyScope's own settings (the runner's, fault injection), "
               "not the script's";
    if (len >= 3 && strncmp(name, "LD_", 3) == 0)
        return "LD_* variables steer the dynamic loader (LD_PRELOAD, LD_LIBRARY_PATH, LD_AUDIT "
               "load code into the runner, which could then forge its measurements)";
    if (jobenv_listed(libc, name, len))
        return "it makes the C library load files or code from elsewhere into the runner "
               "(glibc ignores it in setuid programs for that reason)";
    if (jobenv_listed(python, name, len))
        return "it changes where Python loads code from (the runner chooses the interpreter and "
               "loads its profiler that way); put modules in the workspace or the agent's "
               "virtualenv";
    if (jobenv_listed(agent, name, len))
        return "the agent sets it (which interpreter runs, the job user's home and /tmp); "
               "configure the agent instead (python, run_as, job_env)";
    return NULL;
}

size_t jobenv_name_len(const char *entry)
{
    return strcspn(entry, "=");
}

const char *jobenv_check(const char *entry, char *why, size_t n)
{
    size_t len = jobenv_name_len(entry);
    if (entry[len] != '=') {
        snprintf(why, n, "\"%.64s\" is not NAME=VALUE", entry);
        return why;
    }
    if (len == 0) {
        snprintf(why, n, "a variable needs a name before '=' (NAME=VALUE)");
        return why;
    }
    if (len > JOBENV_MAX_NAME) {
        snprintf(why, n, "variable name longer than %u bytes", JOBENV_MAX_NAME);
        return why;
    }
    for (size_t i = 0; i < len; i++) {
        char c = entry[i];
        bool letter = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
        if (!letter && !(i > 0 && c >= '0' && c <= '9')) {
            snprintf(why, n,
                     "\"%.*s\" is not a variable name (letters, digits and _, not starting "
                     "with a digit)",
                     (int)(len > 64 ? 64 : len), entry);
            return why;
        }
    }
    const char *refused = jobenv_name_refused(entry, len);
    if (refused) {
        snprintf(why, n, "%.*s may not be set by a suite: %s", (int)len, entry, refused);
        return why;
    }
    const char *v = entry + len + 1;
    if (strlen(v) > JOBENV_MAX_VALUE) {
        snprintf(why, n, "the value of %.*s is longer than %u bytes", (int)len, entry,
                 JOBENV_MAX_VALUE);
        return why;
    }
    for (const unsigned char *u = (const unsigned char *)v; *u; u++) {
        if (*u < 0x20 || *u == 0x7f) {
            snprintf(why, n, "the value of %.*s holds a control character", (int)len, entry);
            return why;
        }
    }
    return NULL;
}

long jobenv_check_list(const char *const *env, size_t n_env, char *why, size_t n)
{
    if (n_env > JOBENV_MAX_VARS) {
        snprintf(why, n, "%zu variables (at most %u)", n_env, JOBENV_MAX_VARS);
        return (long)n_env;
    }
    for (size_t i = 0; i < n_env; i++) {
        if (jobenv_check(env[i], why, n))
            return (long)i;
        size_t len = jobenv_name_len(env[i]);
        for (size_t k = 0; k < i; k++) {
            if (jobenv_name_len(env[k]) == len && strncmp(env[k], env[i], len) == 0) {
                snprintf(why, n, "%.*s is set twice", (int)len, env[i]);
                return (long)i;
            }
        }
    }
    return -1;
}
