/*
 * confval.c - values of the settings people write by hand (see confval.h).
 */
#include "confval.h"

#include <stddef.h>
#include <strings.h>

int confval_onoff(const char *v, bool *out)
{
    static const char *const on[] = {"on", "yes", "true", "1"};
    static const char *const off[] = {"off", "no", "false", "0"};
    if (!v)
        return -1;
    for (size_t i = 0; i < sizeof(on) / sizeof(on[0]); i++) {
        if (strcasecmp(v, on[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(v, off[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -1;
}
