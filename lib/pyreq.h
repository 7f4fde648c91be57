/*
 * pyreq.h - which Python a job asks for, and whether an interpreter is it
 * (docs/pythons.md).
 *
 * A request is what `pyscope submit --python` and a suite's `python =` give:
 *   - a version: "3", "3.12" or "3.12.1" (1 to 3 dot-separated numbers),
 *     matched by components: "3.12" is any 3.12.x, "3.12.1" only that one;
 *   - an interpreter's absolute path ("/opt/py/bin/python3"), matched against
 *     the path the agent runs it by and its sys.executable;
 *   - "" : no request (the agent's default interpreter).
 * Anything else is refused with a reason (pyreq_check).
 */
#ifndef PYSCOPE_PYREQ_H
#define PYSCOPE_PYREQ_H

#include <stdbool.h>
#include <stddef.h>

#define PYREQ_MAX 256 /* bytes of a request */

/* 0 when req is a valid request ("" included), else -1 with why (a phrase). */
int pyreq_check(const char *req, char *why, size_t whylen);

/*
 * Whether the interpreter with version ("3.12.1"), sys.executable and the
 * path the agent runs it by (either may be NULL) is what req asks for. ""
 * matches nothing here: the caller picks its default for it.
 */
bool pyreq_match(const char *req, const char *version, const char *executable, const char *path);

#endif
