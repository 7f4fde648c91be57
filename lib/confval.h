/*
 * confval.h - values of the settings people write by hand.
 *
 * The coordinator's and the agent's config files and suite files
 * (docs/suite-format.md) take switches; they all accept the same words, so a
 * team writes `on` or `yes` wherever it likes: on/off, yes/no, true/false,
 * 1/0, in any case.
 */
#ifndef PYSCOPE_CONFVAL_H
#define PYSCOPE_CONFVAL_H

#include <stdbool.h>

/* The words confval_onoff() takes, for messages: "on or off (also yes/no, true/false, 1/0)". */
#define CONFVAL_ONOFF_WORDS "on or off (also yes/no, true/false, 1/0)"

/* A switch's value v (borrowed) into *out. Returns 0, or -1 when v is none of the words
 * (*out unchanged). */
int confval_onoff(const char *v, bool *out);

#endif
