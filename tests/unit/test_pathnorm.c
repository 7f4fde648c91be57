/* test_pathnorm.c - lexical cleaning, keys, project roots and traversal refusal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errors.h"
#include "pathnorm.h"
#include "xmalloc.h"

struct fixture {
    char *dir; /* real path of a fresh temporary folder */
};

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    struct fixture *fx = xcalloc(1, sizeof(*fx));
    char tmpl[] = "/tmp/pyscope_pathnorm_XXXXXX";
    char *d = mkdtemp(tmpl);
    if (!d)
        return -1;
    fx->dir = realpath(d, NULL);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    char *cmd = xasprintf("rm -rf '%s'", fx->dir);
    int rc = system(cmd);
    free(cmd);
    free(fx->dir);
    free(fx);
    return rc == 0 ? 0 : -1;
}

static void check_clean(const char *in, const char *want)
{
    char *got = pathnorm_clean(in);
    if (strcmp(got, want) != 0)
        print_error("clean(\"%s\") = \"%s\", want \"%s\"\n", in, got, want);
    assert_string_equal(got, want);
    free(got);
}

static void test_clean(void **state)
{
    (void)state;
    check_clean("", ".");
    check_clean(".", ".");
    check_clean("/", "/");
    check_clean("//", "/");
    check_clean("a/b", "a/b");
    check_clean("a//b/", "a/b");
    check_clean("./a/./b/.", "a/b");
    check_clean("a/../b", "b");
    check_clean("a/..", ".");
    check_clean("..", "..");
    check_clean("../../a", "../../a");
    check_clean("a/../../b", "../b");
    check_clean("/..", "/");
    check_clean("/../../etc/passwd", "/etc/passwd");
    check_clean("/a/b/../../..", "/");
    check_clean("/a/./b//c/../d/", "/a/b/d");
    check_clean("...", "...");
    check_clean("a/.../..b/b..", "a/.../..b/b..");
    check_clean(".hidden/./x", ".hidden/x");
}

static void check_key(const char *path, const char *root, const char *want)
{
    char *got = NULL;
    assert_int_equal(pathnorm_key(path, root, &got), 0);
    if (strcmp(got, want) != 0)
        print_error("key(\"%s\", \"%s\") = \"%s\", want \"%s\"\n", path, root ? root : "(null)",
                    got, want);
    assert_string_equal(got, want);
    free(got);
}

static void test_key(void **state)
{
    (void)state;
    check_key("/home/me/proj/examples/slow.py", "/home/me/proj", "examples/slow.py");
    check_key("/home/me/proj/./examples//slow.py", "/home/me/proj/", "examples/slow.py");
    check_key("/home/me/proj/a/../b.py", "/home/me/proj", "b.py");
    check_key("/home/me/projx/b.py", "/home/me/proj", "/home/me/projx/b.py");
    check_key("/home/me/proj/../other/c.py", "/home/me/proj", "/home/me/other/c.py");
    check_key("/usr/lib/python3.11/re.py", "/home/me/proj", "/usr/lib/python3.11/re.py");
    check_key("/home/me/proj", "/home/me/proj", ".");
    check_key("/x/y.py", "/", "x/y.py");
    check_key("/x//y.py", NULL, "/x/y.py");
    char *out = (char *)1;
    assert_int_equal(pathnorm_key("rel/y.py", "/x", &out), -PYSCOPE_EUSAGE);
    assert_null(out);
    assert_int_equal(pathnorm_key("/x/y.py", "rel", &out), -PYSCOPE_EUSAGE);
    assert_null(out);
}

static void test_find_root(void **state)
{
    struct fixture *fx = *state;
    char *proj = xasprintf("%s/proj", fx->dir);
    char *deep = xasprintf("%s/proj/a/b/c", fx->dir);
    char *git = xasprintf("%s/proj/.git", fx->dir);
    char *wt = xasprintf("%s/proj/a/wt", fx->dir);
    char *wtgit = xasprintf("%s/proj/a/wt/.git", fx->dir);
    char *cmd = xasprintf("mkdir -p '%s' '%s' '%s'", deep, git, wt);
    assert_int_equal(system(cmd), 0);
    write_file(wtgit, "gitdir: /elsewhere\n");

    char *root = pathnorm_find_root(deep);
    assert_non_null(root);
    assert_string_equal(root, proj);
    free(root);

    /* .git as a file (worktree) counts, and is nearer */
    char *inwt = xasprintf("%s/./", wt);
    root = pathnorm_find_root(inwt);
    assert_non_null(root);
    assert_string_equal(root, wt);
    free(root);

    /* the folder itself */
    root = pathnorm_find_root(proj);
    assert_string_equal(root, proj);
    free(root);

    /* relative start folder, from the current folder */
    char *cwd = getcwd(NULL, 0);
    assert_int_equal(chdir(proj), 0);
    root = pathnorm_find_root("a/b");
    assert_string_equal(root, proj);
    free(root);
    assert_int_equal(chdir(cwd), 0);
    free(cwd);

    /* no .git anywhere up to / (unless the machine has one above /tmp) */
    struct stat st;
    if (stat("/.git", &st) != 0 && stat("/tmp/.git", &st) != 0) {
        root = pathnorm_find_root(fx->dir);
        assert_null(root);
    }
    free(inwt);
    free(cmd);
    free(wtgit);
    free(wt);
    free(git);
    free(deep);
    free(proj);
}

/* Build root/ with a.py, sub/b.py and symlinks in and out of it. */
static char *make_tree(const struct fixture *fx)
{
    char *root = xasprintf("%s/root", fx->dir);
    char *cmd = xasprintf("mkdir -p '%s/sub' '%s/outside' && cd '%s' && "
                          "echo x > a.py && echo y > sub/b.py && echo s > ../outside/secret && "
                          "ln -s ../outside/secret leak && ln -s ../outside outdir && "
                          "ln -s a.py inlink && ln -s ../a.py sub/up && ln -s / slash && "
                          "ln -s '%s/outside/secret' abslink && ln -s loop1 loop2 && "
                          "ln -s loop2 loop1",
                          root, fx->dir, root, fx->dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    return root;
}

static void expect_ok(const char *root, const char *rel, const char *want_suffix)
{
    char err[256] = "";
    char *out = NULL;
    int rc = pathnorm_resolve_inside(root, rel, &out, err, sizeof(err));
    if (rc != 0)
        print_error("resolve(\"%s\") failed: %d %s\n", rel, rc, err);
    assert_int_equal(rc, 0);
    char *want = xasprintf("%s/%s", root, want_suffix);
    assert_string_equal(out, want);
    free(want);
    free(out);
}

static void expect_refused(const char *root, const char *rel, int want_rc)
{
    char err[256] = "";
    char *out = (char *)1;
    int rc = pathnorm_resolve_inside(root, rel, &out, err, sizeof(err));
    if (rc != want_rc)
        print_error("resolve(\"%s\") = %d (%s), want %d\n", rel, rc, err, want_rc);
    assert_int_equal(rc, want_rc);
    assert_null(out);
    assert_true(strlen(err) > 0);
}

static void test_resolve_inside(void **state)
{
    struct fixture *fx = *state;
    char *root = make_tree(fx);

    expect_ok(root, "a.py", "a.py");
    expect_ok(root, "./sub//b.py", "sub/b.py");
    expect_ok(root, "sub/../a.py", "a.py");
    expect_ok(root, "inlink", "a.py");
    expect_ok(root, "sub/up", "a.py");

    /* dot-dot escapes */
    expect_refused(root, "..", -PYSCOPE_EUSAGE);
    expect_refused(root, "../outside/secret", -PYSCOPE_EUSAGE);
    expect_refused(root, "sub/../../outside/secret", -PYSCOPE_EUSAGE);
    expect_refused(root, "./../root/a.py", -PYSCOPE_EUSAGE);
    expect_refused(root, "sub/../../../../../../etc/passwd", -PYSCOPE_EUSAGE);
    /* absolute paths, even ones inside root */
    expect_refused(root, "/etc/passwd", -PYSCOPE_EUSAGE);
    char *abs_inside = xasprintf("%s/a.py", root);
    expect_refused(root, abs_inside, -PYSCOPE_EUSAGE);
    free(abs_inside);
    expect_refused(root, "//etc/passwd", -PYSCOPE_EUSAGE);
    /* symlinks leading out */
    expect_refused(root, "leak", -PYSCOPE_EUSAGE);
    expect_refused(root, "abslink", -PYSCOPE_EUSAGE);
    expect_refused(root, "outdir/secret", -PYSCOPE_EUSAGE);
    expect_refused(root, "slash/etc/passwd", -PYSCOPE_EUSAGE);
    /* empty, missing, loops */
    expect_refused(root, "", -PYSCOPE_EUSAGE);
    expect_refused(root, "missing.py", -ENOENT);
    expect_refused(root, "loop1", -ELOOP);

    /* the root itself resolves through symlinks, and a missing root is an error */
    char *via = xasprintf("%s/viaroot", fx->dir);
    assert_int_equal(symlink(root, via), 0);
    char err[256];
    char *out = NULL;
    assert_int_equal(pathnorm_resolve_inside(via, "sub/b.py", &out, err, sizeof(err)), 0);
    char *want = xasprintf("%s/sub/b.py", root);
    assert_string_equal(out, want);
    free(want);
    free(out);
    free(via);
    assert_int_equal(
        pathnorm_resolve_inside("/nonexistent/pyscope", "a.py", &out, err, sizeof(err)), -ENOENT);
    assert_null(out);
    /* no error buffer is fine */
    assert_int_equal(pathnorm_resolve_inside(root, "../x", &out, NULL, 0), -PYSCOPE_EUSAGE);
    free(root);
}

static void test_resolve_nul_and_length(void **state)
{
    struct fixture *fx = *state;
    char *root = make_tree(fx);
    char err[256];
    char *out = NULL;

    /* "a.py\0../../etc/passwd": a NUL byte anywhere is refused */
    static const char nul[] = "a.py\0../../etc/passwd";
    assert_int_equal(pathnorm_resolve_inside_n(root, nul, sizeof(nul) - 1, &out, err, sizeof(err)),
                     -PYSCOPE_EUSAGE);
    assert_null(out);
    assert_non_null(strstr(err, "NUL"));
    assert_int_equal(pathnorm_resolve_inside_n(root, "\0", 1, &out, err, sizeof(err)),
                     -PYSCOPE_EUSAGE);
    /* the explicit length is honoured: "a.pyXXX" cut at 4 */
    assert_int_equal(pathnorm_resolve_inside_n(root, "a.pyXXX", 4, &out, err, sizeof(err)), 0);
    free(out);

    /* over the cap */
    size_t big = PATHNORM_REL_MAX + 1;
    char *longp = xmalloc(big + 1);
    memset(longp, 'a', big);
    longp[big] = '\0';
    assert_int_equal(pathnorm_resolve_inside(root, longp, &out, err, sizeof(err)), -PYSCOPE_EUSAGE);
    assert_non_null(strstr(err, "too long"));
    /* under the cap but a component over NAME_MAX: the kernel says so */
    longp[1000] = '\0';
    assert_int_equal(pathnorm_resolve_inside(root, longp, &out, err, sizeof(err)), -ENAMETOOLONG);
    /* many "../" under the cap still cannot escape */
    size_t n = 0;
    while (n + 3 <= 4000) {
        memcpy(longp + n, "../", 3);
        n += 3;
    }
    longp[n] = '\0';
    assert_int_equal(pathnorm_resolve_inside(root, longp, &out, err, sizeof(err)), -PYSCOPE_EUSAGE);
    /* "sub/../" repeated stays inside and resolves */
    n = 0;
    while (n + 7 <= 3000) {
        memcpy(longp + n, "sub/../", 7);
        n += 7;
    }
    memcpy(longp + n, "a.py", 5);
    assert_int_equal(pathnorm_resolve_inside(root, longp, &out, err, sizeof(err)), 0);
    free(out);
    /* a small error buffer is truncated, not overrun */
    char tiny[8];
    assert_int_equal(pathnorm_resolve_inside(root, "../zzzzzzzzzzzz", &out, tiny, sizeof(tiny)),
                     -PYSCOPE_EUSAGE);
    assert_int_equal(strlen(tiny), sizeof(tiny) - 1);
    free(longp);
    free(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean),
        cmocka_unit_test(test_key),
        cmocka_unit_test_setup_teardown(test_find_root, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resolve_inside, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resolve_nul_and_length, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
