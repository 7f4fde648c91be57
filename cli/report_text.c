/*
 * report_text.c - the terminal report (docs/DESIGN.md §8).
 *
 * Every string that came from the script's world (file and function names,
 * arguments, suggestion messages) goes through put_safe(), which escapes
 * control characters so a hostile name cannot drive the terminal. Numbers are
 * printed with fixed precision in the C locale, so the output is byte-stable.
 */
#include "report_text.h"

#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "contended.h"
#include "history.h"
#include "jsonutil.h"
#include "pathnorm.h"
#include "sanitize.h"
#include "xmalloc.h"

#define RULE      "----------------------------------------"
#define MIB       (1024.0 * 1024.0)
#define C_BOLD    "\033[1m"
#define C_RED     "\033[1;31m"
#define C_YELLOW  "\033[33m"
#define C_CYAN    "\033[36m"
#define C_DIM     "\033[2m"
#define C_RESET   "\033[0m"
#define MAX_TOP   1000
#define WRAP_COLS 80 /* suggestions are word-wrapped to this width (fixed: byte-stable) */

void report_text_options_init(struct report_text_options *opt)
{
    memset(opt, 0, sizeof(*opt));
    opt->color = false;
    opt->top = 5;
}

/* Colour helpers: return the escape, or "" without colour. */
static const char *col(const struct report_text_options *opt, const char *code)
{
    return opt->color ? code : "";
}

/*
 * Write the n bytes at s (borrowed, UTF-8 or raw bytes) with control characters
 * escaped as \xNN; C1 controls (U+0080..U+009F) are escaped as \u00NN.
 */
static void put_safe_n(FILE *out, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    for (; p < end; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            fprintf(out, "\\x%02x", *p);
        } else if (*p == 0xc2 && p + 1 < end && p[1] >= 0x80 && p[1] <= 0x9f) {
            fprintf(out, "\\u%04x", p[1]);
            p++;
        } else {
            fputc(*p, out);
        }
    }
}

static void put_safe(FILE *out, const char *s)
{
    put_safe_n(out, s, strlen(s));
}

/* Display width of n bytes of UTF-8: one column per code point (good enough here). */
static size_t text_cols(const char *s, size_t n)
{
    size_t cols = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xc0) != 0x80)
            cols++;
    return cols;
}

/*
 * Write msg (borrowed) word-wrapped to WRAP_COLS, starting at column start; lines
 * after the first (and the message's own line breaks) start with indent.
 */
static void put_wrapped(FILE *out, const char *msg, size_t start, const char *indent)
{
    size_t col = start, indent_cols = strlen(indent);
    bool line_empty = true;
    const char *p = msg;
    while (*p) {
        if (*p == '\n') {
            fputc('\n', out);
            fputs(indent, out);
            col = indent_cols;
            line_empty = true;
            p++;
            continue;
        }
        if (*p == ' ') {
            p++;
            continue;
        }
        size_t n = strcspn(p, " \n");
        size_t w = text_cols(p, n);
        if (!line_empty && col + 1 + w > WRAP_COLS) {
            fputc('\n', out);
            fputs(indent, out);
            col = indent_cols;
            line_empty = true;
        }
        if (!line_empty) {
            fputc(' ', out);
            col++;
        }
        put_safe_n(out, p, n);
        col += w;
        line_empty = false;
        p += n;
    }
}

/*
 * One metric of the run: summary.<name>.<stat>, else (for the median) the value of
 * the last measured run. Returns true and sets *out when known.
 */
static bool metric(const json_t *report, const char *name, const char *stat, double *out)
{
    const json_t *s = json_object_get(json_object_get(report, "summary"), name);
    if (json_get_finite(s, stat, out))
        return true;
    if (strcmp(stat, "median") != 0)
        return false;
    const json_t *runs = json_object_get(report, "runs");
    size_t n = json_array_size(runs);
    return n > 0 && json_get_finite(json_array_get(runs, n - 1), name, out);
}

/* Number of measured runs: summary.wall_s.n, else the length of "runs". */
static long long run_count(const json_t *report)
{
    long long n;
    const json_t *s = json_object_get(json_object_get(report, "summary"), "wall_s");
    if (json_get_integer(s, "n", &n) && n >= 0)
        return n;
    return (long long)json_array_size(json_object_get(report, "runs"));
}

static void print_title(FILE *out, const char *title, const struct report_text_options *opt)
{
    fprintf(out, "%s%s%s\n%s\n", col(opt, C_BOLD), title, col(opt, C_RESET), RULE);
}

static void print_script(FILE *out, const json_t *report)
{
    const json_t *script = json_object_get(report, "script");
    const char *name = json_get_string(script, "key", NULL);
    if (!name)
        name = json_get_string(script, "path", NULL);
    if (!name)
        return;
    fputs("Script         : ", out);
    put_safe(out, name);
    const json_t *args = json_object_get(script, "args");
    size_t i;
    const json_t *a;
    json_array_foreach(args, i, a)
    {
        if (json_is_string(a)) {
            fputc(' ', out);
            put_safe(out, json_string_value(a));
        }
    }
    fputc('\n', out);
}

static void print_python(FILE *out, const json_t *report)
{
    const json_t *py = json_object_get(report, "python");
    const char *impl = json_get_string(py, "implementation", NULL);
    const char *version = json_get_string(py, "version", NULL);
    const char *venv = json_get_string(py, "venv", NULL);
    const char *hostname = json_get_string(json_object_get(report, "host"), "hostname", NULL);
    if (!version)
        return;
    if (!impl || strcmp(impl, "cpython") == 0)
        impl = "CPython";
    else if (strcmp(impl, "pypy") == 0)
        impl = "PyPy";
    fputs("Python         : ", out);
    put_safe(out, impl);
    fputc(' ', out);
    put_safe(out, version);
    if (venv) {
        fputs(" (venv ", out);
        put_safe(out, venv);
        fputc(')', out);
    }
    if (hostname) {
        fputs(" on ", out);
        put_safe(out, hostname);
    }
    fputc('\n', out);
}

static void print_mode(FILE *out, const json_t *report)
{
    const json_t *profile = json_object_get(report, "profile");
    const json_t *options = json_object_get(report, "options");
    const char *mode = json_get_string(profile, "mode", NULL);
    if (!mode)
        mode = json_get_string(options, "mode", NULL);
    if (!mode)
        return;
    fputs("Mode           : ", out);
    put_safe(out, mode);
    double interval;
    long long samples;
    if (strcmp(mode, "sample") == 0) {
        bool has_iv = json_get_finite(profile, "interval_s", &interval) ||
                      json_get_finite(options, "interval_s", &interval);
        bool has_n = json_get_integer(profile, "samples", &samples);
        if (has_iv || has_n) {
            fputs(" (", out);
            if (has_iv)
                fprintf(out, "every %g ms%s", interval * 1000.0, has_n ? ", " : "");
            if (has_n)
                fprintf(out, "%lld samples", samples);
            fputc(')', out);
        }
    } else if (strcmp(mode, "trace") == 0) {
        fputs(" (exact call counts)", out);
    }
    fputc('\n', out);
    const char *note = json_get_string(profile, "overhead_note", NULL);
    if (note && *note) {
        fputs("Overhead       : ", out);
        put_wrapped(out, note, 17, "                 ");
        fputc('\n', out);
    }
}

static void print_time(FILE *out, const json_t *report, long long n)
{
    double median, min, max, stdev;
    fputs("Execution Time : ", out);
    if (!metric(report, "wall_s", "median", &median)) {
        fputs("n/a\n", out);
        return;
    }
    fprintf(out, "%.4f seconds", median);
    if (n > 1) {
        long long warmup = 0;
        fprintf(out, " (median of %lld runs", n);
        if (json_get_integer(json_object_get(report, "options"), "warmup", &warmup) && warmup > 0)
            fprintf(out, ", %lld warmup%s discarded", warmup, warmup == 1 ? "" : "s");
        fputc(')', out);
    }
    fputc('\n', out);
    if (n > 1 && metric(report, "wall_s", "min", &min) && metric(report, "wall_s", "max", &max)) {
        fprintf(out, "  Min / Max    : %.4f / %.4f seconds", min, max);
        if (median > 0)
            fprintf(out, " (spread %.2f %%", (max - min) / median * 100.0);
        else
            fputs(" (", out);
        if (metric(report, "wall_s", "stdev", &stdev))
            fprintf(out, "%sstdev %.4f s", median > 0 ? ", " : "", stdev);
        fputs(")\n", out);
    }
}

static void print_cpu_mem(FILE *out, const json_t *report, long long n)
{
    double v, max;
    fputs("Average CPU    : ", out);
    if (metric(report, "cpu_pct", "median", &v))
        fprintf(out, "%.2f %%%s\n", v, n > 1 ? " (median)" : "");
    else
        fputs("n/a\n", out);
    fputs("Peak Memory    : ", out);
    if (metric(report, "peak_rss_bytes", "median", &v)) {
        fprintf(out, "%.2f MiB", v / MIB);
        if (n > 1 && metric(report, "peak_rss_bytes", "max", &max))
            fprintf(out, " (median; max %.2f MiB)", max / MIB);
        fputc('\n', out);
    } else {
        fputs("n/a\n", out);
    }
    char *instr = history_instructions_text(report);
    if (instr) {
        fputs("Instructions   : ", out);
        put_safe(out, instr);
        fputc('\n', out);
        free(instr);
    }
}

/* "Contention : ..." (lib/contended.h), when the repeats measured waiting for a CPU. */
static void print_contention(FILE *out, const json_t *report, const struct report_text_options *opt)
{
    struct contended_summary s;
    if (contended_summarize(report, &s) < 0)
        return;
    bool busy = contended_wall(&s);
    fprintf(out, "Contention     : %swaited for a CPU %.1f %% of wall time%s",
            busy ? col(opt, C_YELLOW) : "", s.queued_pct, busy ? col(opt, C_RESET) : "");
    if (s.n > 1)
        fputs(" (median)", out);
    fputs(contended_summed_note(s.queued_pct, 0), out);
    if (s.n_contended)
        fprintf(out, ", %zu of %zu repeat%s mostly queued", s.n_contended, s.n,
                s.n == 1 ? "" : "s");
    if (s.has_load) {
        long long cores;
        fprintf(out, "; load %.1f", s.load1);
        if (json_get_integer(json_object_get(report, "host"), "cores", &cores) && cores > 0)
            fprintf(out, " on %lld core%s", cores, cores == 1 ? "" : "s");
    }
    if (s.has_steal && s.steal_pct >= 0.05)
        fprintf(out, "; steal %.1f %%", s.steal_pct);
    if (s.has_ctx)
        fprintf(out, "; %.0f preemptions", s.ctx_involuntary);
    fputc('\n', out);
}

char *report_text_outcome(const json_t *report)
{
    const json_t *status = json_object_get(report, "status");
    const char *outcome = json_get_string(status, "outcome", NULL);
    long long code, sig;
    double timeout;
    if (!outcome || strcmp(outcome, "ok") == 0)
        return NULL;
    const json_t *intr = json_object_get(status, "interrupted");
    if (strcmp(outcome, "interrupted") == 0 && json_is_object(intr)) {
        const char *name = json_get_string(intr, "name", NULL);
        long long done = 0, planned = 0;
        json_get_integer(intr, "runs_measured", &done);
        json_get_integer(intr, "runs_planned", &planned);
        long long counted;
        const char *during = json_get_string(intr, "during", NULL);
        if (during && strcmp(during, "instructions") == 0 &&
            json_get_integer(intr, "instructions_counted", &counted))
            return xasprintf("Interrupted by %s while counting instructions under valgrind: "
                             "%lld of %lld measured run%s complete, %lld of %lld instruction "
                             "count%s; partial report",
                             name ? name : "?", done, planned, planned == 1 ? "" : "s", counted,
                             planned, planned == 1 ? "" : "s");
        char *how;
        if (json_get_integer(status, "signal", &sig)) {
            const char *abbrev = sig > 0 && sig < 128 ? sigabbrev_np((int)sig) : NULL;
            how = abbrev ? xasprintf("script killed by signal %lld (SIG%s)", sig, abbrev)
                         : xasprintf("script killed by signal %lld", sig);
        } else if (json_get_integer(status, "exit_code", &code)) {
            how = xasprintf("script exited with status %lld", code);
        } else {
            how = xstrdup("the script did not start");
        }
        char *text = xasprintf("Interrupted by %s (passed on to the script): %lld of %lld "
                               "measured run%s, %s; partial report",
                               name ? name : "?", done, planned, planned == 1 ? "" : "s", how);
        free(how);
        return text;
    }
    if (strcmp(outcome, "timeout") == 0) {
        if (json_get_finite(json_object_get(report, "options"), "timeout_s", &timeout))
            return xasprintf("Timed out after %g s: killed", timeout);
        return xstrdup("Timed out: killed");
    }
    if (json_get_integer(status, "signal", &sig)) {
        const char *abbrev = sig > 0 && sig < 128 ? sigabbrev_np((int)sig) : NULL;
        if (abbrev)
            return xasprintf("Script killed by signal %lld (SIG%s)", sig, abbrev);
        return xasprintf("Script killed by signal %lld", sig);
    }
    if (json_get_integer(status, "exit_code", &code))
        return xasprintf("Script exited with status %lld", code);
    return xstrdup("Script failed");
}

/* Print "file:name" of a function entry (borrowed), as the first version did. */
static void print_function_name(FILE *out, const json_t *fn)
{
    const char *file = json_get_string(fn, "file", NULL);
    const char *name = json_get_string(fn, "name", NULL);
    const char *key = json_get_string(fn, "key", NULL);
    if (name && file && strcmp(file, "~") != 0) {
        put_safe(out, file);
        fputc(':', out);
        put_safe(out, name);
    } else if (name) {
        put_safe(out, name);
    } else if (key) {
        put_safe(out, key);
    } else {
        fputs("(unknown function)", out);
    }
}

/* A library function (standard library, package, built-in, frozen module) that does
 * next to nothing itself: a wrapper such as threading's Thread._bootstrap or the
 * import machinery, listed in the JSON and HTML but not among the text's hotspots. */
static bool is_library_wrapper(const json_t *fn, const char *py_prefix)
{
    const char *file = json_get_string(fn, "file", NULL);
    double self_pct, self_s, total_s;
    if (!file) /* the key starts with the file */
        file = json_get_string(fn, "key", NULL);
    if (!file || !pathnorm_is_library(file, py_prefix))
        return false;
    if (json_get_finite(fn, "self_pct", &self_pct))
        return self_pct < 1.0;
    return json_get_finite(fn, "self_s", &self_s) && json_get_finite(fn, "total_s", &total_s) &&
           self_s <= 0.01 * total_s;
}

/* How many threads fn ran in, from the profile's stacks (0 when unknown). */
static size_t threads_of(const json_t *profile, const json_t *fn)
{
    const char *key = json_get_string(fn, "key", NULL);
    json_t *seen = json_object();
    size_t i, k;
    const json_t *st, *f;
    json_array_foreach(json_object_get(profile, "stacks"), i, st)
    {
        const char *thread = json_get_string(st, "thread", NULL);
        if (!key || !thread)
            continue;
        json_array_foreach(json_object_get(st, "frames"), k, f)
        {
            const char *fk = json_string_value(f);
            if (fk && strcmp(fk, key) == 0) {
                json_object_set_new(seen, thread, json_true());
                break;
            }
        }
    }
    size_t n = json_object_size(seen);
    json_decref(seen);
    return n;
}

/* " (140.7 % of wall time, summed over 2 threads)": a share above 100% is the time
 * of several threads at once. */
static void print_share(FILE *out, const json_t *profile, const json_t *fn, double pct,
                        const char *what)
{
    if (pct <= 100.05) {
        fprintf(out, " (%.1f %%%s)", pct, what);
        return;
    }
    size_t n = threads_of(profile, fn);
    if (n > 1)
        fprintf(out, " (%.1f %% of wall time, summed over %zu threads)", pct, n);
    else
        fprintf(out, " (%.1f %% of wall time, summed over threads)", pct);
}

static void print_hotspots(FILE *out, const json_t *report, const struct report_text_options *opt)
{
    const json_t *profile = json_object_get(report, "profile");
    const json_t *functions = json_object_get(profile, "functions");
    const char *py_prefix = json_get_string(json_object_get(report, "python"), "prefix", NULL);
    size_t total = json_array_size(functions);
    size_t top = opt->top < 0 ? 0 : (size_t)(opt->top > MAX_TOP ? MAX_TOP : opt->top);
    size_t shown = 0;

    fputc('\n', out);
    print_title(out, "Top Hotspots", opt);
    if (total == 0)
        fputs("No function data recorded (the script may have run too briefly to sample)\n", out);
    for (size_t i = 0; i < total && shown < top; i++) {
        const json_t *fn = json_array_get(functions, i);
        double v, pct;
        long long calls;
        if (is_library_wrapper(fn, py_prefix))
            continue;
        if (shown++ > 0)
            fputc('\n', out);
        fputs(col(opt, C_BOLD), out);
        print_function_name(out, fn);
        fprintf(out, "%s\n", col(opt, C_RESET));
        if (json_get_integer(fn, "calls", &calls))
            fprintf(out, "  Calls      : %lld\n", calls);
        if (json_get_finite(fn, "self_s", &v)) {
            fprintf(out, "  Self Time  : %.4f seconds", v);
            if (json_get_finite(fn, "self_pct", &pct))
                print_share(out, profile, fn, pct, "");
            fputc('\n', out);
        }
        if (json_get_finite(fn, "total_s", &v)) {
            fprintf(out, "  Total Time : %.4f seconds", v);
            if (json_get_finite(fn, "total_pct", &pct))
                print_share(out, profile, fn, pct, " of runtime");
            fputc('\n', out);
        }
    }
    if (total > shown && shown > 0)
        fprintf(out, "\n%s... %zu more function%s in the JSON and HTML reports%s\n",
                col(opt, C_DIM), total - shown, total - shown == 1 ? "" : "s", col(opt, C_RESET));
    /* Only worth saying when the script did start child processes. */
    if (json_is_false(json_object_get(profile, "children_followed")) &&
        json_integer_value(json_object_get(profile, "forks")) > 0)
        fprintf(out,
                "%s(child processes are not profiled: their time counts in Execution Time)%s\n",
                col(opt, C_DIM), col(opt, C_RESET));
}

static void print_suggestions(FILE *out, const json_t *report,
                              const struct report_text_options *opt)
{
    const json_t *list = json_object_get(report, "suggestions");
    size_t i, printed = 0;
    const json_t *s;

    fputc('\n', out);
    print_title(out, "Optimization Suggestions", opt);
    json_array_foreach(list, i, s)
    {
        const char *msg = json_get_string(s, "message", NULL);
        if (!msg)
            continue;
        fprintf(out, "%s\u2022%s ", col(opt, C_YELLOW), col(opt, C_RESET));
        put_wrapped(out, msg, 2, "  ");
        fputc('\n', out);
        printed++;
    }
    if (printed == 0)
        fputs("No suggestions: nothing stood out in this run\n", out);
}

static void print_files(FILE *out, const json_t *report, const struct report_text_options *opt)
{
    const json_t *files = json_object_get(report, "files");
    const char *json_path = opt->json_path ? opt->json_path : json_get_string(files, "json", NULL);
    const char *html_path = opt->html_path ? opt->html_path : json_get_string(files, "html", NULL);
    if (!json_path && !html_path)
        return;
    fputc('\n', out);
    if (json_path) {
        fprintf(out, "JSON report saved to : %s", col(opt, C_CYAN));
        put_safe(out, json_path);
        fprintf(out, "%s\n", col(opt, C_RESET));
    }
    if (html_path) {
        fprintf(out, "HTML report saved to : %s", col(opt, C_CYAN));
        put_safe(out, html_path);
        fprintf(out, "%s\n", col(opt, C_RESET));
    }
}

static void print_regression(FILE *out, const json_t *report, const char *outcome,
                             const struct report_text_options *opt)
{
    const json_t *regression = json_object_get(report, "regression");
    if (json_is_object(regression) && opt->print_regression) {
        fputc('\n', out);
        opt->print_regression(out, regression, opt->color);
    } else if (outcome && json_is_null(regression)) {
        /* the CLI sets "regression": null when it skipped the check */
        fputc('\n', out);
        print_title(out, "Performance Regression Check", opt);
        fputs("Skipped: the script did not finish normally, so its timings are not compared\n",
              out);
    }
}

void report_text_print(FILE *out, const json_t *raw, const struct report_text_options *opt)
{
    /* Function names, paths and messages come from the script: every field
     * printed below is the sanitiser's display form (lib/sanitize.h). */
    json_t *report = sanitize_json_copy(raw, SANITIZE_KEEP_NEWLINES);
    struct report_text_options defaults;
    if (!opt) {
        report_text_options_init(&defaults);
        opt = &defaults;
    }
    long long n = run_count(report);
    char *outcome = report_text_outcome(report);

    print_title(out, "PyScope Performance Report", opt);
    print_script(out, report);
    print_python(out, report);
    print_mode(out, report);
    print_time(out, report, n);
    print_cpu_mem(out, report, n);
    print_contention(out, report, opt);
    if (outcome)
        fprintf(out, "%s%s%s\n", col(opt, C_RED), outcome, col(opt, C_RESET));
    print_hotspots(out, report, opt);
    print_suggestions(out, report, opt);
    print_files(out, report, opt);
    print_regression(out, report, outcome, opt);
    free(outcome);
    json_decref(report);
}
