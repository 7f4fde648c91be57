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

/* A key a config file set, and its line (confval_check_key). */
struct confval_key {
    char *name; /* owned */
    int line;   /* where it was set */
};

/*
 * A reader of an INI file for libinih's ini_parse_stream() (fgets-like) that counts lines and
 * checks each section header against the one section the file may have: libinih calls the
 * handler only for keys, so an empty unknown section ("[other]") went unnoticed. At an
 * unknown header it stops (returns NULL, which libinih takes as the end of the file) with
 * bad_line set; the caller reports it. Headers are recognised as libinih does: '[' after
 * optional blanks, not a comment, and not an indented line after a key (a continuation).
 * It keeps the keys confval_check_key() saw: confval_reader_release() frees them.
 */
struct confval_reader {
    FILE *f;             /* borrowed */
    const char *section; /* the only section allowed, e.g. "coordinator" */
    int line;            /* the line the last chunk came from (1-based) */
    bool mid_line;       /* the last chunk did not end its line */
    bool after_key;      /* a key was read since the last header */
    bool continued;      /* the last line is an indented continuation of the key before */
    int key_line;        /* the line of the last key (not a continuation) */
    int bad_line;        /* the line of an unknown section header, 0: none */
    char bad_section[64];
    struct confval_key *keys; /* the keys set so far, for confval_check_key() (owned) */
    size_t n_keys;
};
char *confval_read_line(char *str, int num, void *stream);

/*
 * Called by the handler for each key name (borrowed) it is given, before applying it. A key
 * set twice would have the later line override the earlier one without a word, so the second
 * is refused. The file has one section (the reader's; a header may repeat it, and the agent's
 * keys before any header are its too), so a key counts once in the whole file; may_repeat
 * exempts a key that adds up (the agent's label). libinih also hands an indented line after a
 * key to the handler as that key again (a "continuation"), which replaced the value as
 * silently: that is refused for every key. Returns 0, or -1 with err saying the line that set
 * the key first (or that this line is a continuation); the caller adds the file and the line.
 */
int confval_check_key(struct confval_reader *r, const char *name, bool may_repeat, char *err,
                      size_t errlen);

/* Free what the reader keeps (the keys seen), leaving it reusable. */
void confval_reader_release(struct confval_reader *r);

#endif
