/*
 * fault.h - named fault points: a test hook that kills the process at an exact line.
 *
 * The crash tests (tests/integration/test_fault_*.sh) need a kill -9 at a precise
 * step of the result's path (spool write, send, COMMIT, ack, spool delete), not
 * only at random moments. The daemons call fault_point("name") at those steps.
 * PYSCOPE_FAULT arms them, a comma-separated list:
 *
 *   PYSCOPE_FAULT=agent_after_send:25          SIGKILL on the 25th pass of that point
 *   PYSCOPE_FAULT=coord_before_commit:3,x:1    several points (up to FAULT_MAX)
 *   PYSCOPE_FAULT=agent_unsafe_delete          a switch (no :N), read with fault_enabled()
 *
 * A point that fires logs "fault point ... reached" and raises SIGKILL: as abrupt
 * as kill -9 from outside, with nothing flushed or cleaned. Switches break a
 * guarantee on purpose, for the negative controls that prove a test can fail.
 * The variable is read once, before main() (a constructor); a malformed value
 * stops the program with exit status 2 (a typo must not make a fault test pass
 * vacuously). Unarmed, fault_point() costs one load and one branch. The points
 * and switches in use are listed in docs/reliability.md ("Fault injection").
 */
#ifndef PYSCOPE_FAULT_H
#define PYSCOPE_FAULT_H

#include <stdbool.h>
#include <stddef.h>

#define FAULT_MAX      8  /* points armed at once */
#define FAULT_NAME_MAX 32 /* bytes of a point's name, NUL included */

/* One armed point: fire on the at-th hit (at = 0: a switch, never fires). */
struct fault_arm {
    char name[FAULT_NAME_MAX];
    unsigned long at;   /* 1..1e9, or 0 for a switch */
    unsigned long hits; /* passes so far */
};

/* A parsed PYSCOPE_FAULT value. */
struct fault_set {
    struct fault_arm arm[FAULT_MAX];
    size_t n;
};

/*
 * True when PYSCOPE_FAULT armed anything. Process-wide, written once by the
 * constructor in fault.c before main() and only read afterwards.
 */
extern bool fault_armed;

/*
 * Parse spec (borrowed; NULL or "" arms nothing) into *set. Names are
 * [a-z0-9_], 1..31 characters; N is 1..1000000000. Returns 0, or
 * -PYSCOPE_EUSAGE with the problem in err.
 */
int fault_parse(const char *spec, struct fault_set *set, char *err, size_t errlen);

/*
 * Count one pass of point in set; true when this pass is the one it is armed
 * for (the caller dies). Pure: no signal, no log.
 */
bool fault_count(struct fault_set *set, const char *point);

/* True when set names the switch name (armed without :N). */
bool fault_set_has_switch(const struct fault_set *set, const char *name);

/* Slow path of fault_point(): count, and SIGKILL this process when due. */
void fault_hit(const char *point);

/* Slow path of fault_enabled(). */
bool fault_switch(const char *name);

/* A fault point: dies here when PYSCOPE_FAULT says so (point: a literal). */
static inline void fault_point(const char *point)
{
    if (__builtin_expect(fault_armed, 0))
        fault_hit(point);
}

/* True when PYSCOPE_FAULT turns switch name on (name: a literal). */
static inline bool fault_enabled(const char *name)
{
    return __builtin_expect(fault_armed, 0) && fault_switch(name);
}

#endif
