/*
 * keygen.h - "pyscope keygen NAME [--dir DIR]": make a CURVE keypair.
 *
 * Writes DIR/NAME.key (public, 0644) and DIR/NAME.key_secret (secret, 0600)
 * with curve_keygen() and says where they are and how to allow the public
 * key on the coordinator (docs/security.md). DIR defaults to
 * $XDG_CONFIG_HOME/pyscope/keys, else ~/.config/pyscope/keys.
 */
#ifndef PYSCOPE_CLI_KEYGEN_H
#define PYSCOPE_CLI_KEYGEN_H

#include <stdio.h>

/*
 * Run the command; argv[0] is "keygen" (borrowed). Returns the exit status:
 * 0 ok, 2 usage (bad option or name, the key already exists), 4 could not
 * write the files.
 */
int cmd_keygen(int argc, char **argv);
/* Print the command's help on out (borrowed). */
void cmd_keygen_help(FILE *out);

#endif
