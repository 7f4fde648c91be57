/*
 * fault.c - PYSCOPE_FAULT: named fault points for the crash tests.
 *
 * Design notes: the armed set is process-wide state (like log.c's level), set
 * up by a constructor so that no main() has to remember to call anything and
 * a hook stays one line. The daemons are single-threaded where the points
 * are, so the hit counters need no lock.
 */
#include "fault.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errors.h"
#include "log.h"

bool fault_armed = false;

/* The armed points; filled once before main(). */
static struct fault_set fault_state;

int fault_parse(const char *spec, struct fault_set *set, char *err, size_t errlen)
{
    memset(set, 0, sizeof(*set));
    if (spec == NULL)
        return 0;
    const char *p = spec;
    while (*p) {
        size_t len = strcspn(p, ",");
        const char *item = p;
        p += len;
        if (*p == ',')
            p++;
        if (len == 0) {
            pyscope_set_err(err, errlen, "empty item in \"%.*s\"", (int)len, item);
            return -PYSCOPE_EUSAGE;
        }
        if (set->n == FAULT_MAX) {
            pyscope_set_err(err, errlen, "more than 8 points in \"%.*s\"", (int)len, item);
            return -PYSCOPE_EUSAGE;
        }
        struct fault_arm *a = &set->arm[set->n];
        size_t nl = strcspn(item, ":,");
        if (nl == 0 || nl >= FAULT_NAME_MAX) {
            pyscope_set_err(err, errlen, "a point name has 1 to 31 characters in \"%.*s\"",
                            (int)len, item);
            return -PYSCOPE_EUSAGE;
        }
        for (size_t i = 0; i < nl; i++) {
            char c = item[i];
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
                pyscope_set_err(err, errlen, "a point name is made of [a-z0-9_] in \"%.*s\"",
                                (int)len, item);
                return -PYSCOPE_EUSAGE;
            }
        }
        memcpy(a->name, item, nl);
        a->name[nl] = '\0';
        if (nl < len) { /* ":N" */
            const char *num = item + nl + 1;
            size_t numlen = len - nl - 1;
            unsigned long v = 0;
            bool good = numlen > 0 && numlen <= 10;
            for (size_t i = 0; good && i < numlen; i++) {
                good = num[i] >= '0' && num[i] <= '9';
                v = v * 10 + (unsigned long)(num[i] - '0');
            }
            if (!good || v == 0 || v > 1000000000ul) {
                pyscope_set_err(err, errlen,
                                "N in point:N is a whole number from 1 to 1000000000 in \"%.*s\"",
                                (int)len, item);
                return -PYSCOPE_EUSAGE;
            }
            a->at = v;
        }
        set->n++;
    }
    return 0;
}

bool fault_count(struct fault_set *set, const char *point)
{
    for (size_t i = 0; i < set->n; i++) {
        struct fault_arm *a = &set->arm[i];
        if (a->at != 0 && strcmp(a->name, point) == 0)
            return ++a->hits == a->at;
    }
    return false;
}

bool fault_set_has_switch(const struct fault_set *set, const char *name)
{
    for (size_t i = 0; i < set->n; i++)
        if (set->arm[i].at == 0 && strcmp(set->arm[i].name, name) == 0)
            return true;
    return false;
}

void fault_hit(const char *point)
{
    if (!fault_count(&fault_state, point))
        return;
    log_warn("fault point \"%s\" reached (PYSCOPE_FAULT): killing this process", point);
    raise(SIGKILL);
}

bool fault_switch(const char *name)
{
    return fault_set_has_switch(&fault_state, name);
}

/* Read PYSCOPE_FAULT before main(); a bad value stops the program. */
__attribute__((constructor)) static void fault_init(void)
{
    const char *spec = getenv("PYSCOPE_FAULT");
    if (spec == NULL || *spec == '\0')
        return;
    char err[256];
    if (fault_parse(spec, &fault_state, err, sizeof(err)) < 0) {
        dprintf(2, "pyscope: error: bad PYSCOPE_FAULT: %s (unset it, or write point:N,...)\n", err);
        _exit(PYSCOPE_EXIT_USAGE);
    }
    fault_armed = fault_state.n > 0;
    if (fault_armed)
        dprintf(2, "pyscope: warning: PYSCOPE_FAULT=\"%s\": fault injection armed (a test hook)\n",
                spec);
}
