/*
 * keygen.c - "pyscope keygen NAME [--dir DIR]": make a CURVE keypair.
 *
 * Prints only public information: the two paths, the public key and how to
 * install it. The secret never reaches stdout, stderr or a log.
 */
#include "keygen.h"

#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "curve.h"
#include "errors.h"
#include "log.h"
#include "util.h"
#include "xmalloc.h"

void cmd_keygen_help(FILE *out)
{
    fputs("Usage: pyscope keygen NAME [--dir DIR]\n"
          "\n"
          "Create a CURVE keypair for a coordinator, an agent or a submitter:\n"
          "  DIR/NAME.key          the public key (mode 0644): copy it to the coordinator\n"
          "  DIR/NAME.key_secret   the secret key (mode 0600): never leaves this host\n"
          "Existing keys are never overwritten.\n"
          "\n"
          "  --dir DIR    where to write them (default: $XDG_CONFIG_HOME/pyscope/keys,\n"
          "               else ~/.config/pyscope/keys; created with mode 0700)\n"
          "\n"
          "NAME: 1 to 64 letters, digits, '.', '_' or '-' (not starting with '.').\n"
          "To allow the key, copy NAME.key into the coordinator's keys folder:\n"
          "KEYS/agents/ for an agent, KEYS/submitters/ for a user or CI job that\n"
          "submits and queries. See docs/security.md.\n",
          out);
}

/* The default keys folder; new string (caller owns) or NULL when no home is known. */
static char *keygen_default_dir(void)
{
    const char *xdg = getenv("XDG_CONFIG_HOME");
    if (xdg != NULL && xdg[0] == '/')
        return xasprintf("%s/pyscope/keys", xdg);
    const char *home = getenv("HOME");
    if (home == NULL || home[0] != '/') {
        struct passwd *pw = getpwuid(getuid());
        home = pw != NULL ? pw->pw_dir : NULL;
    }
    if (home == NULL || home[0] != '/')
        return NULL;
    return xasprintf("%s/.config/pyscope/keys", home);
}

int cmd_keygen(int argc, char **argv)
{
    enum { O_DIR = 256 };
    static const struct option opts[] = {
        {"dir", required_argument, NULL, O_DIR},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *dir_opt = NULL;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case O_DIR:
            dir_opt = optarg;
            break;
        case 'h':
            cmd_keygen_help(stdout);
            return PYSCOPE_EXIT_OK;
        default:
            return cli_option_error("keygen", c, argv[optind - 1]);
        }
    }
    if (optind != argc - 1) {
        log_error(optind >= argc ? "keygen needs a key NAME" : "keygen takes one NAME");
        fprintf(stderr, "Try 'pyscope keygen --help' for more information.\n");
        return PYSCOPE_EXIT_USAGE;
    }
    const char *name = argv[optind];
    if (dir_opt != NULL && dir_opt[0] == '\0') {
        log_error("--dir needs a folder");
        return PYSCOPE_EXIT_USAGE;
    }
    char *dir = dir_opt != NULL ? xstrdup(dir_opt) : keygen_default_dir();
    if (dir == NULL) {
        log_error("no home folder known: pass --dir DIR");
        return PYSCOPE_EXIT_USAGE;
    }
    char public_key[CURVE_Z85_LEN + 1];
    char err[1024];
    int rc = curve_keygen(dir, name, public_key, err, sizeof(err));
    if (rc < 0) {
        log_error("%s", err);
        free(dir);
        return rc == -PYSCOPE_EUSAGE || rc == -EEXIST ? PYSCOPE_EXIT_USAGE : PYSCOPE_EXIT_INTERNAL;
    }
    printf("Created CURVE keypair \"%s\" in %s\n"
           "  public key file:  %s/%s%s  (share it)\n"
           "  secret key file:  %s/%s%s  (mode 0600: keep it on this host, never share it)\n"
           "  public key:       %s\n"
           "\n"
           "To allow this key, copy the public key file into the coordinator's keys folder:\n"
           "  an agent:         cp %s/%s%s KEYS/agents/\n"
           "  a submitter:      cp %s/%s%s KEYS/submitters/\n"
           "The coordinator picks it up within a second, without a restart.\n",
           name, dir, dir, name, CURVE_PUBLIC_SUFFIX, dir, name, CURVE_SECRET_SUFFIX, public_key,
           dir, name, CURVE_PUBLIC_SUFFIX, dir, name, CURVE_PUBLIC_SUFFIX);
    free(dir);
    return PYSCOPE_EXIT_OK;
}
