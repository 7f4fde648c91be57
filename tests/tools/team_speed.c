/*
 * team_speed.c - the team-analysis benchmark's timer (tests/bench/team_speed.sh).
 *
 *   team_speed --db CONNINFO --migrate      apply the schema migrations, exit
 *   team_speed --db CONNINFO [--out FILE]   analyse the oldest finished batch,
 *                                           render its team report
 *   team_speed --db CONNINFO --report N [--out FILE] [--json FILE]
 *                                           render batch N's team report only
 *                                           (no analysis; to time or compare it;
 *                                           --json: its document as built, to
 *                                           compare two builds' reports)
 *
 * Runs the coordinator's own code on the database: analysis_run_one() (every
 * series' verdicts, Benjamini-Hochberg across the batch, the rows stored,
 * confirmation jobs queued, as the coordinator does with confirm = 1) and
 * report_build() + html_team_write() (what `pyscope report --batch N --out
 * FILE` gets and renders). Prints the time of each and the rows read on
 * stdout; exit status 0, 1 when no batch was waiting, 2 on bad usage, 4 on
 * an error.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>

#include "analysis.h"
#include "batch_report.h"
#include "errors.h"
#include "html_team.h"
#include "report.h"
#include "store.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds (user + system) this process used so far: unlike the wall time, the
 * client's own work whatever else the machine runs (the server's is not in it). */
static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/*
 * Build (stored: read, as the web pages and `pyscope report --batch N` do) and
 * render the report of batch id to path; prints its figures.
 */
static int render(struct store *store, uint64_t id, const char *path, bool stored,
                  const char *json_path)
{
    char err[512] = "";
    double t0 = now_s();
    struct wire_query q = {0};
    q.kind = WIRE_QUERY_REPORT;
    q.batch_id = id;
    json_t *value = NULL;
    bool was_stored = false;
    if ((stored ? batch_report_get(store, &q, &value, &was_stored, err, sizeof(err))
                : report_build(store, &q, &value, err, sizeof(err))) < 0) {
        fprintf(stderr, "team_speed: report: %s\n", err);
        return PYSCOPE_EXIT_INTERNAL;
    }
    json_t *doc = json_pack("{s:s, s:o}", "schema", "pyscope.team_report/1", "report", value);
    double t1 = now_s();
    if (json_path && json_dump_file(doc, json_path, JSON_COMPACT) != 0) {
        fprintf(stderr, "team_speed: could not write \"%s\"\n", json_path);
        json_decref(doc);
        return PYSCOPE_EXIT_INTERNAL;
    }
    FILE *out = fopen(path, "w");
    if (out == NULL) {
        fprintf(stderr, "team_speed: could not open \"%s\": %s\n", path, strerror(errno));
        json_decref(doc);
        return PYSCOPE_EXIT_INTERNAL;
    }
    int rc = html_team_write(out, doc, NULL, err, sizeof(err));
    if (fclose(out) != 0 && rc == 0)
        rc = -EIO;
    double t2 = now_s();
    char *text = json_dumps(doc, JSON_COMPACT);
    size_t json_bytes = text ? strlen(text) : 0;
    free(text);
    json_decref(doc);
    if (rc < 0) {
        fprintf(stderr, "team_speed: html: %s\n", err[0] ? err : pyscope_strerror(rc));
        return PYSCOPE_EXIT_INTERNAL;
    }
    struct stat st;
    long long html_bytes = stat(path, &st) == 0 ? (long long)st.st_size : -1;
    printf("report%s: %s %.3f s, html %.3f s; json %zu bytes, html %lld bytes (%s)\n",
           stored ? " served" : "",
           !stored      ? "query"
           : was_stored ? "stored, read"
                        : "NOT STORED, built",
           t1 - t0, t2 - t1, json_bytes, html_bytes, path);
    return 0;
}

/*
 * The report of batch id as it is served (the stored one) to path + ".served"
 * after render(.., false) wrote the live one to path: says whether they are
 * the same bytes.
 */
static int render_served(struct store *store, uint64_t id, const char *path)
{
    size_t n = strlen(path) + sizeof(".served");
    char *served = malloc(n);
    if (served == NULL)
        return PYSCOPE_EXIT_INTERNAL;
    snprintf(served, n, "%s.served", path);
    int status = render(store, id, served, true, NULL);
    if (status == 0) {
        bool same = false;
        FILE *a = fopen(path, "rb"), *b = fopen(served, "rb");
        if (a && b) {
            int ca, cb;
            do {
                ca = getc(a);
                cb = getc(b);
            } while (ca == cb && ca != EOF);
            same = ca == cb;
        }
        if (a)
            fclose(a);
        if (b)
            fclose(b);
        printf("served report == live report: %s\n", same ? "yes, byte for byte" : "NO");
        status = same ? 0 : PYSCOPE_EXIT_INTERNAL;
    }
    free(served);
    return status;
}

int main(int argc, char **argv)
{
    const char *db = NULL, *out = "team_speed.html", *json_out = NULL;
    bool migrate = false;
    uint64_t report_only = 0;
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},   {"out", required_argument, NULL, 'o'},
        {"migrate", no_argument, NULL, 'm'},    {"report", required_argument, NULL, 'r'},
        {"json", required_argument, NULL, 'j'}, {NULL, 0, NULL, 0},
    };
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (o == 'd')
            db = optarg;
        else if (o == 'o')
            out = optarg;
        else if (o == 'm')
            migrate = true;
        else if (o == 'j')
            json_out = optarg;
        else if (o == 'r' && (report_only = strtoull(optarg, NULL, 10)) > 0)
            continue;
        else
            return PYSCOPE_EXIT_USAGE;
    }
    if (db == NULL || optind != argc) {
        fprintf(stderr, "usage: team_speed --db CONNINFO [--migrate | [--report BATCH] --out FILE"
                        " [--json FILE]]\n");
        return PYSCOPE_EXIT_USAGE;
    }
    char err[512] = "";
    struct store *store = store_open(db, err, sizeof(err));
    if (store == NULL) {
        fprintf(stderr, "team_speed: %s\n", err);
        return PYSCOPE_EXIT_INTERNAL;
    }
    int status = 0;
    if (migrate) {
        if (store_migrate(store, store_migrations, store_migrations_count, err, sizeof(err)) < 0) {
            fprintf(stderr, "team_speed: migrate: %s\n", err);
            status = PYSCOPE_EXIT_INTERNAL;
        }
        store_close(&store);
        return status;
    }
    if (report_only) {
        status = render(store, report_only, out, false, json_out);
        if (status == 0)
            status = render_served(store, report_only, out);
        store_close(&store);
        return status;
    }
    struct analysis_summary sum;
    double t0 = now_s(), c0 = cpu_s();
    int rc = analysis_run_one(store, NULL, true, &sum, err, sizeof(err));
    double t1 = now_s(), c1 = cpu_s();
    if (rc < 0) {
        fprintf(stderr, "team_speed: analysis: %s\n", err);
        status = PYSCOPE_EXIT_INTERNAL;
    } else if (rc == 0) {
        fprintf(stderr, "team_speed: no finished batch waits for analysis\n");
        status = 1;
    } else {
        printf("analysis: batch %" PRIu64 ", %u series, %u tests, %u regressions, %u improvements,"
               " %u re-queued to confirm; %u rows read; %.3f s\n",
               sum.batch_id, sum.series, sum.tests, sum.regressions, sum.improvements,
               sum.confirming, sum.rows_read, t1 - t0);
        printf("analysis phases: samples query %.3f s, decide %.3f s, flagged series in full"
               " %.3f s, store + commit %.3f s (%u series decided while their samples came, %u"
               " of them again)\n",
               sum.secs_samples, sum.secs_decide, sum.secs_docs, sum.secs_store, sum.early,
               sum.redecided);
        double t2 = now_s(), c2 = cpu_s();
        rc = batch_report_store(store, sum.batch_id, err, sizeof(err));
        double t3 = now_s(), c3 = cpu_s();
        if (rc <= 0) {
            fprintf(stderr, "team_speed: storing the report: %s\n", rc < 0 ? err : "no batch");
            status = PYSCOPE_EXIT_INTERNAL;
        } else {
            printf("report stored (built as the analyst does after the analysis): %.3f s\n",
                   t3 - t2);
            printf("total: analysis + report stored %.3f s\n", (t1 - t0) + (t3 - t2));
            printf("client cpu: analysis %.3f s, report stored %.3f s\n", c1 - c0, c3 - c2);
            status = render(store, sum.batch_id, out, false, json_out);
        }
        if (status == 0)
            status = render_served(store, sum.batch_id, out);
    }
    store_close(&store);
    return status;
}
