/*
 * fuzz_pathnorm.c - libFuzzer target for lib/pathnorm: paths from the
 * network never resolve outside the workspace.
 *
 * A fixture workspace (made once per process, removed at exit) holds files,
 * symlinks that stay inside, and symlinks that lead out: to a sibling
 * folder, to a sibling whose name shares the root's prefix ("root-evil"), to
 * /etc, and a loop. Byte 0 of the input picks how the root is spelled (as
 * is, through a symlink, with a trailing "/./"); the rest is the relative
 * path, NUL bytes and all, given to pathnorm_resolve_inside_n().
 *
 * Invariants: a success names an existing file whose real path is the root's
 * real path or below it, and is itself a real path; a refusal gives no path
 * and a message. Lexically, pathnorm_clean() is idempotent and leaves no
 * empty, "." or inner ".." component, and pathnorm_key() of ROOT/PATH is
 * the cleaned PATH whenever that does not climb out.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "fuzz_targets.h"
#include "fuzz_util.h"
#include "pathnorm.h"

/* The fixture: base/{root,outside,root-evil}, base/rootlink -> root. */
struct fuzz_pathnorm_fixture {
    char *base;
    char *roots[3]; /* the root as given: plain, through a symlink, with "/./" */
    char *real_root;
};

static struct fuzz_pathnorm_fixture fuzz_pathnorm_fx;

static void fuzz_pathnorm_teardown(void)
{
    struct fuzz_pathnorm_fixture *fx = &fuzz_pathnorm_fx;
    fuzz_rmtree(fx->base);
    free(fx->base);
    for (int i = 0; i < 3; i++)
        free(fx->roots[i]);
    free(fx->real_root);
    memset(fx, 0, sizeof(*fx));
}

static void fuzz_pathnorm_file(const char *base, const char *rel)
{
    char *p = xasprintf("%s/%s", base, rel);
    fuzz_write_file(p, "x = 1\n", 6);
    free(p);
}

static void fuzz_pathnorm_dir(const char *base, const char *rel)
{
    char *p = xasprintf("%s/%s", base, rel);
    FUZZ_CHECK(mkdir(p, 0700) == 0);
    free(p);
}

static void fuzz_pathnorm_link(const char *base, const char *rel, const char *target)
{
    char *p = xasprintf("%s/%s", base, rel);
    FUZZ_CHECK(symlink(target, p) == 0);
    free(p);
}

static const struct fuzz_pathnorm_fixture *fuzz_pathnorm_setup(void)
{
    struct fuzz_pathnorm_fixture *fx = &fuzz_pathnorm_fx;
    if (fx->base)
        return fx;
    fx->base = fuzz_mkdtemp("pathnorm");
    const char *b = fx->base;
    fuzz_pathnorm_dir(b, "root");
    fuzz_pathnorm_dir(b, "root/sub");
    fuzz_pathnorm_dir(b, "root/sub/deep");
    fuzz_pathnorm_dir(b, "root/.git");
    fuzz_pathnorm_dir(b, "outside");
    fuzz_pathnorm_dir(b, "root-evil");
    fuzz_pathnorm_file(b, "root/a.py");
    fuzz_pathnorm_file(b, "root/sub/b.py");
    fuzz_pathnorm_file(b, "root/sub/deep/c.py");
    fuzz_pathnorm_file(b, "outside/secret.py");
    fuzz_pathnorm_file(b, "root-evil/x.py");
    fuzz_pathnorm_file(b, "secret.py");
    fuzz_pathnorm_link(b, "root/link_in", "sub");
    fuzz_pathnorm_link(b, "root/sub/link_up", "..");
    fuzz_pathnorm_link(b, "root/sub/deep/link_a", "../../a.py");
    fuzz_pathnorm_link(b, "root/link_out", "../outside");
    fuzz_pathnorm_link(b, "root/sub/link_secret", "../../outside/secret.py");
    fuzz_pathnorm_link(b, "root/link_evil", "../root-evil");
    fuzz_pathnorm_link(b, "root/link_etc", "/etc");
    fuzz_pathnorm_link(b, "root/link_loop", "link_loop");
    fuzz_pathnorm_link(b, "root/link_dangling", "nowhere.py");
    char *abs_in = xasprintf("%s/root/sub", b);
    fuzz_pathnorm_link(b, "root/link_abs_in", abs_in);
    free(abs_in);
    char *abs_out = xasprintf("%s/secret.py", b);
    fuzz_pathnorm_link(b, "root/link_abs_out", abs_out);
    free(abs_out);
    fuzz_pathnorm_link(b, "rootlink", "root");
    fx->roots[0] = xasprintf("%s/root", b);
    fx->roots[1] = xasprintf("%s/rootlink", b);
    fx->roots[2] = xasprintf("%s/root/./", b);
    fx->real_root = realpath(fx->roots[0], NULL);
    FUZZ_CHECK(fx->real_root != NULL);
    atexit(fuzz_pathnorm_teardown);
    return fx;
}

/* Lexical invariants of pathnorm_clean() on s (NUL-terminated). */
static void fuzz_pathnorm_check_clean(const char *s)
{
    char *c = pathnorm_clean(s);
    size_t n = strlen(c);
    FUZZ_CHECK(n > 0);
    FUZZ_CHECK(n <= strlen(s) || (n == 1 && (c[0] == '.' || c[0] == '/')));
    char *again = pathnorm_clean(c);
    FUZZ_CHECK(strcmp(again, c) == 0);
    free(again);
    FUZZ_CHECK((s[0] == '/') == (c[0] == '/'));
    if (strcmp(c, "/") != 0 && strcmp(c, ".") != 0) {
        FUZZ_CHECK(c[n - 1] != '/');
        FUZZ_CHECK(strstr(c, "//") == NULL);
        /* components: no ".", and ".." only as a leading run of a relative path */
        bool leading = c[0] != '/';
        const char *p = c[0] == '/' ? c + 1 : c;
        while (*p) {
            const char *e = strchr(p, '/');
            size_t l = e ? (size_t)(e - p) : strlen(p);
            FUZZ_CHECK(l > 0);
            FUZZ_CHECK(!(l == 1 && p[0] == '.'));
            bool dotdot = l == 2 && p[0] == '.' && p[1] == '.';
            FUZZ_CHECK(!dotdot || leading);
            leading = leading && dotdot;
            p += l + (e ? 1 : 0);
        }
    }
    free(c);
}

int fuzz_pathnorm_one(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const struct fuzz_pathnorm_fixture *fx = fuzz_pathnorm_setup();
    const char *root = fx->roots[data[0] % 3];
    const char *rel = (const char *)data + 1;
    size_t rel_len = size - 1;

    char *out = NULL;
    char err[256];
    int rc = pathnorm_resolve_inside_n(root, rel, rel_len, &out, err, sizeof(err));
    if (rc == 0) {
        FUZZ_CHECK(out != NULL);
        size_t lr = strlen(fx->real_root);
        FUZZ_CHECK(strncmp(out, fx->real_root, lr) == 0 && (out[lr] == '\0' || out[lr] == '/'));
        char *again = realpath(out, NULL);
        FUZZ_CHECK(again != NULL && strcmp(again, out) == 0);
        free(again);
        free(out);
    } else {
        FUZZ_CHECK(out == NULL);
        FUZZ_CHECK(err[0] != '\0');
        FUZZ_CHECK(rc == -PYSCOPE_EUSAGE || (rc < 0 && rc > -4096));
    }

    if (memchr(rel, '\0', rel_len) == NULL) {
        char *s = fuzz_strndup((const uint8_t *)rel, rel_len);
        fuzz_pathnorm_check_clean(s);
        if (s[0] != '/') {
            /* the key of ROOT/PATH is the cleaned PATH unless it climbs out */
            char *c = pathnorm_clean(s);
            char *abs = xasprintf("%s/%s", fx->roots[0], s);
            char *key = NULL;
            FUZZ_CHECK(pathnorm_key(abs, fx->roots[0], &key) == 0);
            if (strcmp(c, "..") != 0 && strncmp(c, "../", 3) != 0)
                FUZZ_CHECK(strcmp(key, c) == 0);
            /* either a key inside the root or an absolute path: never a climb */
            FUZZ_CHECK(strcmp(key, "..") != 0 && strncmp(key, "../", 3) != 0);
            free(key);
            free(abs);
            free(c);
        }
        free(s);
    }
    return 0;
}

FUZZ_ENTRY(fuzz_pathnorm_one)
