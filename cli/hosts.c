/*
 * hosts.c - "pyscope hosts": the hosts and agents the coordinator knows.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>

#include "errors.h"
#include "farm_cmds.h"
#include "log.h"

void cmd_hosts_help(FILE *out)
{
    fputs("Usage: pyscope hosts [--json] [--coordinator URL] [OPTIONS]\n"
          "\n"
          "List the hosts registered with the coordinator: name, fingerprint, hardware,\n"
          "labels and when each was last seen.\n"
          "\n"
          "  --json               print the coordinator's JSON\n" FARM_OPTIONS_HELP,
          out);
}

int farm_simple_query(int argc, char **argv, enum wire_query_kind kind, bool batch_arg,
                      void (*help)(FILE *))
{
    enum { O_JSON = 256, O_BATCH, O_LIMIT };
    static const struct option opts[] = {
        {"json", no_argument, NULL, O_JSON},
        FARM_LONG_OPTIONS,
        {"batch", required_argument, NULL, O_BATCH},
        {"limit", required_argument, NULL, O_LIMIT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool json = false;
    struct farm_opts fo;
    farm_opts_init(&fo);
    uint64_t batch = 0;
    uint32_t limit = 0;
    int c, st;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case O_JSON:
            json = true;
            break;
        case O_BATCH:
            if (kind != WIRE_QUERY_JOBS || farm_parse_u64(optarg, INT64_MAX, &batch) < 0) {
                log_error(kind != WIRE_QUERY_JOBS ? "--batch is an option of pyscope jobs"
                                                  : "--batch takes a batch id, not \"%s\"",
                          optarg);
                return PYSCOPE_EXIT_USAGE;
            }
            break;
        case O_LIMIT:
            if (farm_parse_limit("--limit", optarg, &limit) < 0)
                return PYSCOPE_EXIT_USAGE;
            break;
        case 'h':
            help(stdout);
            return PYSCOPE_EXIT_OK;
        default:
            if ((st = farm_opts_take(&fo, c, optarg, argv[0], argv[optind - 1])) >= 0)
                return st;
            break;
        }
    }
    if (batch_arg) {
        if (optind != argc - 1 || farm_parse_u64(argv[optind], INT64_MAX, &batch) < 0) {
            log_error(optind >= argc ? "%s needs a batch id" : "%s takes one batch id", argv[0]);
            fprintf(stderr, "Usage: pyscope %s BATCH [--json]\n", argv[0]);
            return PYSCOPE_EXIT_USAGE;
        }
    } else if (optind != argc) {
        log_error("unexpected argument \"%s\"", argv[optind]);
        return PYSCOPE_EXIT_USAGE;
    }
    if (farm_opts_finish(&fo) < 0)
        return PYSCOPE_EXIT_USAGE;
    json_t *doc = NULL;
    int qrc = farm_query(&fo, kind, batch, limit, &doc);
    if (qrc < 0)
        return farm_query_status(qrc);
    int status = PYSCOPE_EXIT_OK;
    if (json) {
        char *d = json_dumps(doc, JSON_INDENT(2));
        puts(d);
        free(d);
        if (kind == WIRE_QUERY_BATCH && !json_is_object(json_object_get(doc, "batch")))
            status = PYSCOPE_EXIT_USAGE;
    } else if (farm_print_doc(stdout, kind, doc) < 0) {
        status = PYSCOPE_EXIT_USAGE;
    }
    json_decref(doc);
    return status;
}

int cmd_hosts(int argc, char **argv)
{
    return farm_simple_query(argc, argv, WIRE_QUERY_HOSTS, false, cmd_hosts_help);
}
