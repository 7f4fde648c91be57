/*
 * confval.h - values of the settings people write by hand.
 *
 * The coordinator's and the agent's config files and suite files
 * (docs/suite-format.md) take switches; they all accept the same words, so a
 * team writes `on` or `yes` wherever it likes: on/off, yes/no, true/false,
 * 1/0, in any case.
 *
 * confval_open() opens such a file for its parser (libinih), refusing a
 * directory: fopen() takes one and every read of it fails, which the parsers
 * saw as an empty file (the daemons started on their defaults) or an I/O error.
 */
#ifndef PYSCOPE_CONFVAL_H
#define PYSCOPE_CONFVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* The words confval_onoff() takes, for messages: "on or off (also yes/no, true/false, 1/0)". */
#define CONFVAL_ONOFF_WORDS "on or off (also yes/no, true/false, 1/0)"

/* A switch's value v (borrowed) into *out. Returns 0, or -1 when v is none of the words
 * (*out unchanged). */
int confval_onoff(const char *v, bool *out);

/* The config file path (borrowed) opened for reading. NULL with errno set and a message in
 * err (errlen bytes) when it cannot be opened or is a directory (EISDIR): the message names
 * the file and, for a directory, the file meant, e.g. "path/NAME" (name: the file's usual
 * name, e.g. "coordinator.conf"; NULL when the file was found by its name). */
FILE *confval_open(const char *path, const char *name, char *err, size_t errlen);

/*
 * A reader of an INI file for libinih's ini_parse_stream() (fgets-like) that counts lines and
 * checks each section header against the one section the file may have: libinih calls the
 * handler only for keys, so an empty unknown section ("[other]") went unnoticed. At an
 * unknown header it stops (returns NULL, which libinih takes as the end of the file) with
 * bad_line set; the caller reports it. Headers are recognised as libinih does: '[' after
 * optional blanks, not a comment, and not an indented line after a key (a continuation).
 */
struct confval_reader {
    FILE *f;             /* borrowed */
    const char *section; /* the only section allowed, e.g. "coordinator" */
    int line;            /* the line the last chunk came from (1-based) */
    bool mid_line;       /* the last chunk did not end its line */
    bool after_key;      /* a key was read since the last header */
    int bad_line;        /* the line of an unknown section header, 0: none */
    char bad_section[64];
};
char *confval_read_line(char *str, int num, void *stream);

#endif
