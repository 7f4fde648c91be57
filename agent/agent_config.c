/*
 * agent_config.c - pyscope-agent's settings from defaults, an INI file and argv.
 */
#include "agent_config.h"

#include <errno.h>
#include <getopt.h>
#include <ini.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "confval.h"
#include "curve.h"
#include "errors.h"
#include "log.h"
#include "xmalloc.h"

#define AGENT_DEFAULT_MEMORY (2ull * 1024 * 1024 * 1024)
#define AGENT_DEFAULT_FSIZE  (1ull * 1024 * 1024 * 1024)
#define AGENT_DEFAULT_TMP    (256ull * 1024 * 1024)
#define AGENT_DEFAULT_OUTPUT (64ull * 1024 * 1024)

void agent_config_usage(FILE *out)
{
    fputs("Usage: pyscope-agent --coordinator tcp://HOST:5555 --workspace DIR [OPTIONS]\n"
          "\n"
          "Registers this host with a PyScope coordinator, runs the jobs it hands out\n"
          "(each in a child pyscope-run with time and memory limits), spools every result\n"
          "to disk and sends it until the coordinator acknowledges it.\n"
          "\n"
          "Options:\n"
          "  --coordinator URL   coordinator endpoint (tcp://HOST:PORT)\n"
          "  --workspace DIR     folder the scripts are resolved in; nothing outside it runs\n"
          "  --repo PATH|URL     git repository jobs that name a commit are checked out from\n"
          "                      (read-only trees cached under --revisions; see\n"
          "                      docs/revisions.md); with it --workspace is optional\n"
          "  --revisions DIR     the cache of checkouts (default: \"revisions\" beside the spool)\n"
          "  --name NAME         agent name: 1-64 of A-Z a-z 0-9 . _ - (default: host name)\n"
          "  --spool DIR         results waiting for an ack (default: ./pyscope-spool-NAME)\n"
          "  --label KEY=VALUE   a host label for --hosts label=VALUE selection (repeatable)\n"
          "  --max-jobs N        jobs at the same time, 1..64 (default 1)\n"
          "  --memory-limit SIZE address space of a job, e.g. 2G; 0: no limit (default 2G)\n"
          "  --runner PATH       the pyscope-run executable (default: next to this one)\n"
          "  --run-as USER       as root: the unprivileged user jobs run as (default\n"
          "                      pyscope-job; \"root\" allows root jobs, unsafe)\n"
          "  --python PATH       the default interpreter: jobs that ask for no Python run\n"
          "                      under it (default /usr/bin/python3.11)\n"
          "  --pythons LIST      more interpreters jobs may ask for (paths or names on\n"
          "                      PATH, comma-separated); see docs/pythons.md\n"
          "  --discover-pythons yes|no  also offer python3 on PATH and every pyenv\n"
          "                      version (default yes)\n"
          "  --job-env NAMES     more variables jobs inherit from the agent, beyond PATH,\n"
          "                      LANG, LC_*, TZ, PYTHONHASHSEED, VIRTUAL_ENV (e.g. PYTHONPATH)\n"
          "  --secret-key FILE   CURVE: this agent's secret key (NAME.key_secret, from\n"
          "                      pyscope keygen); its NAME.key goes on the coordinator's\n"
          "                      allowlist as an agent\n"
          "  --coordinator-key FILE  CURVE: the coordinator's public key (coordinator.key)\n"
          "  --config FILE       INI file with these settings (see deploy/agent.conf.example)\n"
          "  -v, --verbose       debug messages\n"
          "  -h, --help          show this help;  -V, --version  show the version\n"
          "\n"
          "Stop it with SIGTERM or Ctrl-C: running jobs are killed (the coordinator hands\n"
          "them out again when their lease expires), spooled results stay for next time.\n",
          out);
}

static void cfg_set(char **field, const char *v)
{
    free(*field);
    *field = xstrdup(v);
}

/* Parse a size: bytes with an optional K, M, G or T suffix (powers of 1024). */
static int cfg_size(const char *v, uint64_t *out)
{
    char *end;
    errno = 0;
    if (!*v || *v == '-')
        return -PYSCOPE_EUSAGE;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno || end == v)
        return -PYSCOPE_EUSAGE;
    unsigned shift = 0;
    switch (*end) {
    case 'k':
    case 'K':
        shift = 10;
        end++;
        break;
    case 'm':
    case 'M':
        shift = 20;
        end++;
        break;
    case 'g':
    case 'G':
        shift = 30;
        end++;
        break;
    case 't':
    case 'T':
        shift = 40;
        end++;
        break;
    default:
        break;
    }
    if (*end == 'B' || *end == 'b')
        end++;
    if (*end || (shift && x > (UINT64_MAX >> shift)))
        return -PYSCOPE_EUSAGE;
    *out = (uint64_t)x << shift;
    return 0;
}

static int cfg_uint(const char *v, unsigned lo, unsigned hi, unsigned *out)
{
    char *end;
    errno = 0;
    if (!*v || *v == '-')
        return -PYSCOPE_EUSAGE;
    unsigned long x = strtoul(v, &end, 10);
    if (errno || *end || x < lo || x > hi)
        return -PYSCOPE_EUSAGE;
    *out = (unsigned)x;
    return 0;
}

/* Add a KEY=VALUE label. */
static int cfg_label(struct agent_config *cfg, const char *kv)
{
    const char *eq = strchr(kv, '=');
    size_t kl = eq ? (size_t)(eq - kv) : 0;
    if (!eq || kl == 0 || kl > 64 || strlen(eq + 1) > 256) {
        log_error("a label is KEY=VALUE (KEY of 1 to 64 characters), not \"%s\"", kv);
        return -PYSCOPE_EUSAGE;
    }
    for (size_t i = 0; i < kl; i++) {
        char c = kv[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-')) {
            log_error("label key \"%.*s\" may only hold A-Z a-z 0-9 _ . -", (int)kl, kv);
            return -PYSCOPE_EUSAGE;
        }
    }
    for (size_t i = 0; i < cfg->n_labels; i++) {
        /* the host's labels are one object (a JSON object in the coordinator's hosts table):
         * the later value would replace the earlier without a word */
        if (strlen(cfg->label_keys[i]) == kl && strncmp(cfg->label_keys[i], kv, kl) == 0) {
            log_error("label \"%.*s\" given twice (%s=%s, then %s): a host has one value per "
                      "label; keep one (labels add up from the config file and --label)",
                      (int)kl, kv, cfg->label_keys[i], cfg->label_values[i], kv);
            return -PYSCOPE_EUSAGE;
        }
    }
    if (cfg->n_labels == AGENT_MAX_LABELS) {
        log_error("too many labels (at most %d)", AGENT_MAX_LABELS);
        return -PYSCOPE_EUSAGE;
    }
    cfg->label_keys[cfg->n_labels] = xstrndup(kv, kl);
    cfg->label_values[cfg->n_labels] = xstrdup(eq + 1);
    cfg->n_labels++;
    return 0;
}

/* Apply one setting (from the file or argv); where names it in messages. */
/* True when names is a list of variable names, separated by spaces or commas. */
static bool cfg_env_names_valid(const char *names)
{
    bool any = false;
    for (const char *p = names; *p;) {
        if (*p == ' ' || *p == ',' || *p == '\t') {
            p++;
            continue;
        }
        if (!(*p == '_' || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')))
            return false;
        while (*p == '_' || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
               (*p >= '0' && *p <= '9'))
            p++;
        if (*p && *p != ' ' && *p != ',' && *p != '\t')
            return false;
        any = true;
    }
    return any;
}

static int cfg_apply(struct agent_config *cfg, const char *key, const char *v, const char *where)
{
    int rc = 0;
    if (strcmp(key, "coordinator") == 0)
        cfg_set(&cfg->coordinator, v);
    else if (strcmp(key, "workspace") == 0)
        cfg_set(&cfg->workspace, v);
    else if (strcmp(key, "name") == 0)
        cfg_set(&cfg->name, v);
    else if (strcmp(key, "spool") == 0)
        cfg_set(&cfg->spool, v);
    else if (strcmp(key, "runner") == 0)
        cfg_set(&cfg->runner, v);
    else if (strcmp(key, "python") == 0) {
        cfg_set(&cfg->python, v);
        cfg->python_given = true;
    } else if (strcmp(key, "pythons") == 0)
        cfg_set(&cfg->pythons, v);
    else if (strcmp(key, "discover_pythons") == 0) {
        if (confval_onoff(v, &cfg->discover_pythons) < 0) {
            log_error("%s: discover_pythons takes " CONFVAL_ONOFF_WORDS ", not \"%s\"", where, v);
            return -PYSCOPE_EUSAGE;
        }
    } else if (strcmp(key, "secret_key") == 0)
        cfg_set(&cfg->secret_key, v);
    else if (strcmp(key, "coordinator_key") == 0)
        cfg_set(&cfg->coordinator_key, v);
    else if (strcmp(key, "run_as") == 0)
        cfg_set(&cfg->run_as, v);
    else if (strcmp(key, "repo") == 0)
        cfg_set(&cfg->repo, v);
    else if (strcmp(key, "revisions") == 0)
        cfg_set(&cfg->revisions, v);
    else if (strcmp(key, "git") == 0)
        cfg_set(&cfg->git, v);
    else if (strcmp(key, "revision_cache_size") == 0)
        rc = cfg_size(v, &cfg->revision_cache_size);
    else if (strcmp(key, "revision_cache_age") == 0) {
        unsigned days = 0;
        rc = cfg_uint(v, 0, 36500, &days);
        if (rc == 0)
            cfg->revision_cache_age_s = days * 86400.0;
    } else if (strcmp(key, "fetch_timeout") == 0) {
        unsigned t = 0;
        rc = cfg_uint(v, 1, 86400, &t);
        if (rc == 0)
            cfg->fetch_timeout_s = t;
    } else if (strcmp(key, "job_env") == 0) {
        if (!cfg_env_names_valid(v)) {
            log_error("%s: \"%s\" is not a list of variable names (letters, digits, _; "
                      "separated by spaces or commas)",
                      where, v);
            return -PYSCOPE_EUSAGE;
        }
        cfg_set(&cfg->job_env, v);
    } else if (strcmp(key, "tmp_size") == 0)
        rc = cfg_size(v, &cfg->tmp_size);
    else if (strcmp(key, "label") == 0)
        return cfg_label(cfg, v);
    else if (strcmp(key, "max_jobs") == 0)
        rc = cfg_uint(v, 1, 64, &cfg->max_jobs);
    else if (strcmp(key, "memory_limit") == 0)
        rc = cfg_size(v, &cfg->memory_limit);
    else if (strcmp(key, "file_size_limit") == 0)
        rc = cfg_size(v, &cfg->file_size_limit);
    else if (strcmp(key, "output_limit") == 0)
        rc = cfg_size(v, &cfg->output_limit);
    else if (strcmp(key, "max_procs") == 0) {
        if (strcmp(v, "auto") == 0)
            cfg->max_procs = AGENT_PROCS_AUTO;
        else
            rc = cfg_uint(v, 0, 1000000, &cfg->max_procs);
    } else if (strcmp(key, "kill_grace") == 0) {
        unsigned g;
        rc = cfg_uint(v, 0, 3600, &g);
        cfg->kill_grace_s = g;
    } else if (strcmp(key, "dead_periods") == 0)
        rc = cfg_uint(v, 2, 100, &cfg->dead_periods);
    else if (strcmp(key, "resend") == 0)
        rc = cfg_uint(v, 1, 3600, &cfg->resend_s);
    else if (strcmp(key, "connect_timeout") == 0)
        rc = cfg_uint(v, 1, 3600, &cfg->connect_timeout_s);
    else if (strcmp(key, "verbose") == 0) {
        bool on = cfg->verbose;
        if (confval_onoff(v, &on) < 0) {
            log_error("%s: verbose takes " CONFVAL_ONOFF_WORDS ", not \"%s\"", where, v);
            return -PYSCOPE_EUSAGE;
        }
        cfg->verbose = on;
    } else {
        log_error("%s: unknown setting \"%s\"", where, key);
        return -PYSCOPE_EUSAGE;
    }
    if (rc < 0)
        log_error("%s: bad value for %s: \"%s\"", where, key, v);
    return rc;
}

/* State of the config file parse. */
struct cfg_file {
    struct agent_config *cfg;
    const char *path;
    struct confval_reader *in; /* the reader, for its line and the keys set (borrowed) */
    int rc;
};

static int cfg_ini_handler(void *user, const char *section, const char *name, const char *value)
{
    struct cfg_file *f = user;
    (void)section; /* "" or "agent": confval_read_line() stops at any other header */
    char why[200];
    if (confval_check_key(f->in, name, strcmp(name, "label") == 0, why, sizeof(why)) < 0) {
        log_error("%s:%d: %s", f->path, f->in->line, why);
        f->rc = -PYSCOPE_EUSAGE;
    } else if (cfg_apply(f->cfg, name, value, f->path) < 0) {
        f->rc = -PYSCOPE_EUSAGE;
    }
    return 1;
}

/* The default runner: PYSCOPE_RUN_BIN, else pyscope-run next to this program. */
static char *cfg_default_runner(void)
{
    const char *env = getenv("PYSCOPE_RUN_BIN");
    if (env && *env)
        return xstrdup(env);
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n > 0) {
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (slash) {
            *slash = '\0';
            const char *tries[] = {"pyscope-run", "runner/pyscope-run"};
            for (size_t i = 0; i < 2; i++) {
                char *p = xasprintf("%s/%s", self, tries[i]);
                if (access(p, X_OK) == 0)
                    return p;
                free(p);
            }
        }
    }
    return xstrdup("pyscope-run");
}

/* The built-in defaults, before the config file and argv. */
static void cfg_defaults(struct agent_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->max_jobs = 1;
    cfg->memory_limit = AGENT_DEFAULT_MEMORY;
    cfg->file_size_limit = AGENT_DEFAULT_FSIZE;
    cfg->max_procs = AGENT_PROCS_AUTO;
    cfg->tmp_size = AGENT_DEFAULT_TMP;
    cfg->output_limit = AGENT_DEFAULT_OUTPUT;
    cfg->kill_grace_s = 30;
    cfg->dead_periods = 3;
    cfg->resend_s = 30;
    cfg->connect_timeout_s = 5;
    cfg->python = xstrdup("/usr/bin/python3.11");
    cfg->discover_pythons = true;
    cfg->git = xstrdup("git");
    cfg->revision_cache_size = 10ull * 1024 * 1024 * 1024;
    cfg->revision_cache_age_s = 7 * 86400.0;
    cfg->fetch_timeout_s = 600;
}

enum { OPT_CONFIG = 256, OPT_SETTING };

/* Every option but --config, --verbose, --help and --version names a setting: "--max-jobs"
 * sets the config file's "max_jobs" (cfg_apply_option). */
static const char CFG_SHORTOPTS[] = "c:w:n:s:vhV";
static const struct option CFG_OPTS[] = {
    {"coordinator", required_argument, NULL, 'c'},
    {"workspace", required_argument, NULL, 'w'},
    {"name", required_argument, NULL, 'n'},
    {"spool", required_argument, NULL, 's'},
    {"label", required_argument, NULL, OPT_SETTING},
    {"max-jobs", required_argument, NULL, OPT_SETTING + 1},
    {"memory-limit", required_argument, NULL, OPT_SETTING + 2},
    {"runner", required_argument, NULL, OPT_SETTING + 3},
    {"config", required_argument, NULL, OPT_CONFIG},
    {"secret-key", required_argument, NULL, OPT_SETTING + 4},
    {"coordinator-key", required_argument, NULL, OPT_SETTING + 5},
    {"run-as", required_argument, NULL, OPT_SETTING + 6},
    {"repo", required_argument, NULL, OPT_SETTING + 7},
    {"revisions", required_argument, NULL, OPT_SETTING + 8},
    {"job-env", required_argument, NULL, OPT_SETTING + 9},
    {"python", required_argument, NULL, OPT_SETTING + 10},
    {"pythons", required_argument, NULL, OPT_SETTING + 11},
    {"discover-pythons", required_argument, NULL, OPT_SETTING + 12},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

/* The first pass over argv: only --config, --help and --version (the file comes before the
 * other options). 1 when --help or --version printed what they print, else 0. */
static int cfg_first_pass(int argc, char **argv, const char **config)
{
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, CFG_SHORTOPTS, CFG_OPTS, NULL)) != -1) {
        if (c == OPT_CONFIG) {
            *config = optarg;
        } else if (c == 'h') {
            agent_config_usage(stdout);
            return 1;
        } else if (c == 'V') {
            printf("pyscope-agent %s\n", PYSCOPE_VERSION);
            return 1;
        }
    }
    return 0;
}

static int cfg_read_file(struct agent_config *cfg, const char *config)
{
    char err[PATH_MAX + 200];
    FILE *in = confval_open(config, "agent.conf", err, sizeof(err));
    if (in == NULL) {
        log_error("%s", err);
        return -PYSCOPE_EUSAGE;
    }
    struct confval_reader reader = {.f = in, .section = "agent"};
    struct cfg_file f = {.cfg = cfg, .path = config, .in = &reader};
    int r = ini_parse_stream(confval_read_line, &reader, cfg_ini_handler, &f);
    fclose(in);
    confval_reader_release(&reader);
    if (r == 0 && reader.bad_line) {
        log_error("%s:%d: unknown section [%s] (settings go in [agent])", config, reader.bad_line,
                  reader.bad_section);
        return -PYSCOPE_EUSAGE;
    }
    if (r > 0) {
        log_error("%s:%d: syntax error (expected [agent] or key = value)", config, r);
        return -PYSCOPE_EUSAGE;
    }
    return f.rc;
}

/* The setting option C names, applied as its config file key ("--max-jobs" is "max_jobs"). */
static int cfg_apply_option(struct agent_config *cfg, int c, const char *arg)
{
    for (const struct option *o = CFG_OPTS; o->name; o++) {
        if (o->val != c)
            continue;
        char key[32], flag[40];
        snprintf(key, sizeof(key), "%s", o->name);
        for (char *p = key; *p; p++)
            if (*p == '-')
                *p = '_';
        snprintf(flag, sizeof(flag), "--%s", o->name);
        return cfg_apply(cfg, key, arg, flag);
    }
    return -PYSCOPE_EUSAGE; /* getopt_long said what was wrong */
}

/* The second pass: argv's settings over the file's. */
static int cfg_apply_argv(struct agent_config *cfg, int argc, char **argv)
{
    int rc = 0, c;
    opterr = 1;
    optind = 1;
    while (rc == 0 && (c = getopt_long(argc, argv, CFG_SHORTOPTS, CFG_OPTS, NULL)) != -1) {
        if (c == OPT_CONFIG)
            continue;
        if (c == 'v')
            cfg->verbose = 1;
        else
            rc = cfg_apply_option(cfg, c, optarg);
    }
    if (rc == 0 && optind < argc) {
        log_error("unexpected argument \"%s\"", argv[optind]);
        rc = -PYSCOPE_EUSAGE;
    }
    return rc;
}

/* The settings that must be there, and those that must go together. */
static int cfg_check_required(const struct agent_config *cfg)
{
    if (!cfg->coordinator) {
        log_error("--coordinator is required (e.g. tcp://127.0.0.1:5555)");
        return -PYSCOPE_EUSAGE;
    }
    if ((cfg->secret_key == NULL) != (cfg->coordinator_key == NULL)) {
        log_error("--secret-key and --coordinator-key go together (CURVE needs both)");
        return -PYSCOPE_EUSAGE;
    }
    if (!cfg->workspace && !cfg->repo) {
        log_error("--workspace is required (the folder the scripts are in), or --repo (the git "
                  "repository jobs that name a commit are checked out from)");
        return -PYSCOPE_EUSAGE;
    }
    if (strncmp(cfg->coordinator, "tcp://", 6) != 0 &&
        strncmp(cfg->coordinator, "ipc://", 6) != 0) {
        log_error("bad --coordinator \"%s\": expected tcp://HOST:PORT (or ipc://PATH)",
                  cfg->coordinator);
        return -PYSCOPE_EUSAGE;
    }
    if (cfg->repo && !*cfg->repo) {
        log_error("--repo is empty (a path or URL git can fetch from)");
        return -PYSCOPE_EUSAGE;
    }
    return 0;
}

/* The repository (when local) and the workspace as real paths. */
static int cfg_resolve_paths(struct agent_config *cfg)
{
    if (cfg->repo && (cfg->repo[0] == '/' || access(cfg->repo, F_OK) == 0)) {
        /* a local origin (not a URL): its real path, which git may read whoever owns it */
        char *real = realpath(cfg->repo, NULL);
        if (!real) {
            log_error("repository \"%s\": %s", cfg->repo, strerror(errno));
            return -PYSCOPE_EUSAGE;
        }
        free(cfg->repo);
        cfg->repo = real;
    }
    if (cfg->workspace) {
        char *real = realpath(cfg->workspace, NULL);
        struct stat st;
        if (!real || stat(real, &st) < 0 || !S_ISDIR(st.st_mode)) {
            log_error("workspace \"%s\" is not a folder", cfg->workspace);
            free(real);
            return -PYSCOPE_EUSAGE;
        }
        free(cfg->workspace);
        cfg->workspace = real;
    }
    return 0;
}

/* The defaults that derive from other settings: the name, the spool, the runner, the
 * revision cache (beside the spool, absolute). */
static int cfg_derive(struct agent_config *cfg)
{
    bool from_host = !cfg->name;
    if (from_host) {
        char host[256] = "";
        if (gethostname(host, sizeof(host) - 1) < 0 || !*host)
            snprintf(host, sizeof(host), "agent");
        cfg->name = xstrdup(host);
    }
    if (!curve_name_valid(cfg->name)) { /* it names the spool folder and the agent's key */
        if (from_host)
            log_error(
                "the host name \"%s\" is not a valid agent name: give --name (" CURVE_NAME_RULE ")",
                cfg->name);
        else
            log_error("invalid agent name \"%s\" (--name or name =): use " CURVE_NAME_RULE,
                      cfg->name);
        return -PYSCOPE_EUSAGE;
    }
    if (!cfg->spool)
        cfg->spool = xasprintf("pyscope-spool-%s", cfg->name);
    if (!cfg->runner)
        cfg->runner = cfg_default_runner();
    const char *progs[][2] = {{"--runner", cfg->runner}, {"--python", cfg->python}};
    for (size_t i = 0; i < 2; i++) { /* a path (not a name looked up on PATH) must run */
        struct stat st;
        const char *p = progs[i][1], *why = NULL;
        if (!strchr(p, '/'))
            continue;
        if (stat(p, &st) < 0)
            why = strerror(errno);
        else if (S_ISDIR(st.st_mode))
            why = "a directory";
        else if (access(p, X_OK) < 0)
            why = strerror(errno);
        if (why) {
            log_error("%s \"%s\": %s: every job would fail; give an executable", progs[i][0], p,
                      why);
            return -PYSCOPE_EUSAGE;
        }
    }
    if (cfg->repo && !cfg->revisions) {
        char *sp = xstrdup(cfg->spool);
        char *slash = strrchr(sp, '/');
        if (slash && slash != sp) {
            *slash = '\0';
            cfg->revisions = xasprintf("%s/revisions", sp);
        } else {
            cfg->revisions = xstrdup(slash ? "/revisions" : "revisions");
        }
        free(sp);
    }
    if (cfg->revisions && cfg->revisions[0] != '/') {
        char cwd[PATH_MAX];
        if (getcwd(cwd, sizeof(cwd))) {
            char *abs = xasprintf("%s/%s", cwd, cfg->revisions);
            free(cfg->revisions);
            cfg->revisions = abs;
        }
    }
    return 0;
}

int agent_config_load(struct agent_config *cfg, int argc, char **argv)
{
    cfg_defaults(cfg);
    const char *config = NULL;
    if (cfg_first_pass(argc, argv, &config)) {
        agent_config_release(cfg);
        return 1;
    }
    int rc = config ? cfg_read_file(cfg, config) : 0;
    if (rc == 0)
        rc = cfg_apply_argv(cfg, argc, argv);
    if (rc == 0)
        rc = cfg_check_required(cfg);
    if (rc == 0)
        rc = cfg_resolve_paths(cfg);
    if (rc == 0)
        rc = cfg_derive(cfg);
    if (rc < 0) {
        fprintf(stderr, "Try \"pyscope-agent --help\" for more information.\n");
        agent_config_release(cfg);
    }
    return rc;
}

void agent_config_release(struct agent_config *cfg)
{
    free(cfg->coordinator);
    free(cfg->workspace);
    free(cfg->name);
    free(cfg->spool);
    free(cfg->runner);
    free(cfg->python);
    free(cfg->pythons);
    free(cfg->secret_key);
    free(cfg->coordinator_key);
    free(cfg->run_as);
    free(cfg->repo);
    free(cfg->revisions);
    free(cfg->git);
    free(cfg->job_env);
    for (size_t i = 0; i < cfg->n_labels; i++) {
        free(cfg->label_keys[i]);
        free(cfg->label_values[i]);
    }
    memset(cfg, 0, sizeof(*cfg));
}
