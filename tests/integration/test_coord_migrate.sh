#!/usr/bin/env bash
# test_coord_migrate.sh - a farm database from before 003_compact_runs.sql
# and 004_ongoing_regressions.sql (and 005_series_covering_index.sql,
# 007_identity.sql, 010_contention.sql, 014_truthful_findings.sql,
# 015_revisions.sql, 021_unsettled.sql, 022_pythons.sql, 023_lease_cap.sql,
# 024_batch_reports.sql, 025_try.sql, 026_machine_speed.sql, 027_bisect.sql,
# 028_instructions.sql, 029_child_processes.sql, 030_reference_script.sql,
# 031_python_threads.sql, 032_sample_interval.sql)
# (schema 001 + 002, runs with run_functions and run_stacks rows) upgrades in
# place when the coordinator starts: hotspots, per-repeat values, stacks and
# medians end up in the runs row, the old tables' shapes stay readable as
# views, a stored regression still points at its run, and the analysis reads
# the converted history. A finding the old analysis stored twice (open rows
# of one series, metric and kind in two batches) keeps only the newer open:
# the older ends where the newer began.
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/pg.sh"
source "$PYSCOPE_SRC/tests/integration/coord.sh"

pg_start
psql -q -v ON_ERROR_STOP=1 -f "$PYSCOPE_SRC/schema/001_init.sql" >/dev/null
psql -q -v ON_ERROR_STOP=1 -f "$PYSCOPE_SRC/schema/002_regressions.sql" >/dev/null
psql -q -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL,
                                applied_at timestamptz NOT NULL DEFAULT now());
INSERT INTO schema_migrations (version, name) VALUES (1, '001_init.sql'), (2, '002_regressions.sql');
INSERT INTO hosts (fingerprint, hostname, cpu_model, cores, mem_bytes, os, kernel, arch, governor, load1)
VALUES ('00000000000000a1', 'host-a', 'cpu', 2, 1, 'linux', '6', 'x86_64', 'performance', 0);
INSERT INTO agents (name, host_id, agent_version, python_version, python_build, python_executable,
    max_jobs) VALUES ('old-agent', 1, '0.1', '3.11.2', '3.11.2 (main)', '/usr/bin/python3.11', 1);
INSERT INTO scripts (key) VALUES ('examples/a.py');
INSERT INTO batches (suite, label, "commit", state, finished, analyzed)
VALUES ('nightly', 'old', 'c1', 'done', now(), now()), ('nightly', 'old 2', 'c2', 'done', now(), now());
INSERT INTO jobs (batch_id, script_id, host_id, repeat, warmup, mode, timeout_s, state)
VALUES (1, 1, 1, 3, 0, 'sample', 60, 'done'), (1, 1, 1, 3, 0, 'sample', 60, 'done');
INSERT INTO functions (key) VALUES ('a.py:f:1'), ('a.py:g:5'), ('a.py:h:9');
INSERT INTO runs (run_id, job_id, attempt, batch_id, host_id, script_id, agent, script_sha256,
                  python_version, python_build, python_executable, outcome, message, governor,
                  load1, wall_s, cpu_s, peak_rss_bytes, exit_codes, signals, timed_out)
VALUES ('00000000-0000-0000-0000-000000000001', 1, 1, 1, 1, 1, 'a', 'abc', '3.11', 'b',
        '/py', 'ok', '', 'performance', 0, '{1,3,2}', '{0.5,0.7,0.6}', '{100,300,200}',
        '{0,0,0}', '{0,0,0}', '{f,f,f}'),
       ('00000000-0000-0000-0000-000000000002', 2, 1, 1, 1, 1, 'a', 'abc', '3.11', 'b',
        '/py', 'failed', 'boom', 'performance', 0, '{}', '{}', '{}', '{}', '{}', '{}');
-- the stacks' function list orders g before f; h has no per-repeat values
INSERT INTO run_functions (run_id, function_id, calls, self_s, total_s, self_s_runs, total_s_runs)
VALUES ('00000000-0000-0000-0000-000000000001', 1, 7, 0.2, 0.9, '{0.1,0.2,0.3}', '{0.8,0.9,1}'),
       ('00000000-0000-0000-0000-000000000001', 2, 0, 0.5, 0.5, '{0.5,0.5}', '{0.5,0.5}'),
       ('00000000-0000-0000-0000-000000000001', 3, 0, 0.1, 0.1, '{}', '{}');
INSERT INTO run_stacks (run_id, stacks) VALUES ('00000000-0000-0000-0000-000000000001',
    '{"functions": ["a.py:g:5", "a.py:f:1"], "stacks": [{"thread": "MainThread", "frames": [1, 0], "samples": 4}]}');
INSERT INTO regressions (batch_id, script_id, host_id, python_build, metric, kind, mode,
                         change_pct, baseline_median, candidate_median, baseline_runs, candidate_run)
VALUES (1, 1, 1, 'b', 'wall_s', 'regression', 'threshold', 10, 1, 1.1, '{}',
        '00000000-0000-0000-0000-000000000001'),
       (2, 1, 1, 'b', 'wall_s', 'regression', 'threshold', 10, 1, 1.1, '{}',
        '00000000-0000-0000-0000-000000000001');
SQL

coord_start
latest=$(ls "$PYSCOPE_SRC"/schema/[0-9]*.sql | sed -E 's|.*/0*([0-9]+)_[^/]*$|\1|' | sort -n | tail -1)
newer=$(ls "$PYSCOPE_SRC"/schema/[0-9]*.sql | sed -E 's|.*/0*([0-9]+)_[^/]*$|\1|' | awk '$1 > 2' | wc -l)
expect_match "migrations applied" "applied $newer schema migrations" "$(cat "$COORD_LOG")"
expect_eq "schema at the newest migration" "$latest" "$(pg_sql "SELECT max(version) FROM schema_migrations")"
# 007: a host is (granted name, fingerprint); what the Hello claimed is kept beside it
expect_eq "hosts keyed by name and fingerprint" "hosts_identity_key" \
    "$(pg_sql "SELECT conname FROM pg_constraint WHERE conrelid = 'hosts'::regclass AND contype = 'u'")"
expect_eq "claimed host names kept" 0 "$(pg_sql "SELECT count(*) FROM hosts WHERE reported_hostname IS DISTINCT FROM hostname")"
expect_match "the covering index holds the runs that fit" "WHERE \(+cardinality" \
    "$(pg_sql "SELECT indexdef FROM pg_indexes WHERE indexname = 'runs_series_idx'")"
# 005, 010: the series index carries the samples and run delays the analysis reads
# (index-only scans)
expect_match "series index covers the samples" "INCLUDE \(python_build, outcome, batch_id, run_id, wall_s, cpu_s, peak_rss_bytes, run_delay_s\)" \
    "$(pg_sql "SELECT indexdef FROM pg_indexes WHERE indexname = 'runs_series_idx'")"
expect_match "runs vacuumed after every 2,000 inserts" "autovacuum_vacuum_insert_threshold=2000" \
    "$(pg_sql "SELECT reloptions FROM pg_class WHERE relname = 'runs'")"
expect_eq "old tables replaced by views" "run_functions|v,run_stacks|v" \
    "$(pg_sql "SELECT string_agg(relname || '|' || relkind::text, ',' ORDER BY relname) FROM pg_class WHERE relname IN ('run_functions', 'run_stacks')")"
R1="run_id = '00000000-0000-0000-0000-000000000001'"
expect_eq "hotspots in stack order, then by total" "{2,1,3}|{0,7,0}|{0.5,0.2,0.1}|{0.5,0.9,0.1}" \
    "$(pg_sql "SELECT fn_ids, fn_calls, fn_self_s, fn_total_s FROM runs WHERE $R1")"
expect_eq "per-repeat values as a NULL-padded 2-D array" \
    "{{0.5,0.5,NULL},{0.1,0.2,0.3},{NULL,NULL,NULL}}" "$(pg_sql "SELECT fn_self_runs FROM runs WHERE $R1")"
expect_eq "stacks: frames index fn_ids" '[{"frames": [1, 0], "thread": "MainThread", "samples": 4}]' \
    "$(pg_sql "SELECT stacks::jsonb FROM runs WHERE $R1")"
expect_eq "medians" "2|0.6|200" "$(pg_sql "SELECT wall_median, cpu_median, rss_median FROM runs WHERE $R1")"
expect_eq "a run without samples: NULL medians, no hotspots" "t|{}|t" \
    "$(pg_sql "SELECT wall_median IS NULL, fn_ids, stacks IS NULL FROM runs WHERE run_id = '00000000-0000-0000-0000-000000000002'")"
expect_eq "view run_functions: the old rows" \
    "a.py:f:1|7|{0.1,0.2,0.3}|{0.8,0.9,1},a.py:g:5|0|{0.5,0.5}|{0.5,0.5},a.py:h:9|0|{}|{}" \
    "$(pg_sql "SELECT string_agg(f.key || '|' || rf.calls || '|' || rf.self_s_runs::text || '|' || rf.total_s_runs::text, ',' ORDER BY f.key) FROM run_functions rf JOIN functions f ON f.id = rf.function_id")"
expect_eq "view run_stacks: the old document" '["a.py:g:5", "a.py:f:1", "a.py:h:9"] [1, 0]' \
    "$(pg_sql "SELECT (stacks->'functions')::text || ' ' || (stacks->'stacks'->0->'frames')::text FROM run_stacks")"
expect_eq "010: runs from before have no contention (not measured, not 0)" "t|t" \
    "$(pg_sql "SELECT run_delay_s IS NULL, fn_self_cpu_s IS NULL FROM runs WHERE $R1")"
expect_eq "regressions kept" 2 "$(pg_sql "SELECT count(*) FROM regressions r JOIN runs x ON x.run_id = r.candidate_run")"
expect_eq "014: the older duplicate ends where the newer began" "1|2,2|" \
    "$(pg_sql "SELECT string_agg(batch_id || '|' || coalesce(ended_batch_id::text, ''), ',' ORDER BY batch_id) FROM regressions")"
expect_eq "014: jobs measure, no confirmation; batches at pass 0" "measure|0" \
    "$(pg_sql "SELECT string_agg(DISTINCT purpose, ',') || '|' || (SELECT max(analysis_pass) FROM batches) FROM jobs")"
expect_eq "015: batches and jobs from before ran no commit; no commits described" "0|0|0" \
    "$(pg_sql "SELECT (SELECT count(*) FROM batches WHERE commit_hash IS NOT NULL) || '|' || (SELECT count(*) FROM jobs WHERE commit_hash IS NOT NULL) || '|' || (SELECT count(*) FROM commits)")"
expect_eq "023: leases from before have no deadline (no cap)" "0" \
    "$(pg_sql "SELECT count(*) FROM jobs WHERE lease_deadline IS NOT NULL")"
expect_eq "021: no series-night left unsettled from before" 0 "$(pg_sql "SELECT count(*) FROM unsettled")"
expect_eq "022: an agent from before lists its one Python; jobs from before ask for none" \
    '3.11.2|/usr/bin/python3.11|1|' \
    "$(pg_sql "SELECT (pythons->0->>'version') || '|' || (pythons->0->>'executable') || '|' || jsonb_array_length(pythons) || '|' || (SELECT string_agg(DISTINCT python, ',') FROM jobs) FROM agents")"
expect_eq "022: a version matches by components" "true|true|false|false|true|false" \
    "$(pg_sql "SELECT pyscope_python_match(pythons, '3.11') || '|' || pyscope_python_match(pythons, '3') || '|' || pyscope_python_match(pythons, '3.1') || '|' || pyscope_python_match(pythons, '3.11.20') || '|' || pyscope_python_match(pythons, '/usr/bin/python3.11') || '|' || pyscope_python_match(pythons, '') FROM agents")"
expect_eq "025: batches from before are no tries" "measure|0" \
    "$(pg_sql "SELECT string_agg(DISTINCT purpose, ',') || '|' || count(try_base) FROM batches")"
expect_eq "026: runs from before have no machine-speed reference (not measured)" "t" \
    "$(pg_sql "SELECT bool_and(ref_cpu_ns IS NULL) FROM runs")"
expect_eq "027: no bisection from before" 0 "$(pg_sql "SELECT count(*) FROM bisections")"
expect_eq "028: jobs from before ask for no instruction counts, runs from before have none" "false|true" \
    "$(pg_sql "SELECT (SELECT coalesce(bool_or(instructions), false) FROM jobs) || '|' || (SELECT bool_and(instructions IS NULL) FROM runs)")"
expect_eq "029: runs from before started no child processes that anyone knows of" "0|0" \
    "$(pg_sql "SELECT count(*) FILTER (WHERE child_processes <> 0) || '|' || count(*) FILTER (WHERE child_processes IS NULL) FROM runs")"
expect_eq "030: runs from before have no interleaved reference figures" "t" \
    "$(pg_sql "SELECT bool_and(ref_script_cpu_s IS NULL AND ref_script_wall_s IS NULL) FROM runs")"
expect_eq "031: runs from before ran no Python threads that anyone knows of (judged exact)" "0|0" \
    "$(pg_sql "SELECT count(*) FILTER (WHERE python_threads <> 0) || '|' || count(*) FILTER (WHERE python_threads IS NULL) FROM runs")"
expect_eq "032: jobs from before sampled at pyscope-run's 10 ms (no interval_ms)" "t" \
    "$(pg_sql "SELECT bool_and(interval_ms IS NULL) FROM jobs")"
expect_eq "032: ~200 samples a run, rounded down to 1, 2, 5 or 10 ms; 1 ms without history" \
    "1|1|2|5|10|10" \
    "$(pg_sql "SELECT concat_ws('|', pyscope_sample_interval_ms(NULL), pyscope_sample_interval_ms(0.04), pyscope_sample_interval_ms(0.4), pyscope_sample_interval_ms(1.5), pyscope_sample_interval_ms(2), pyscope_sample_interval_ms(60))")"
expect_eq "032 applied last (migrations apply by max version)" "32|032_sample_interval.sql" \
    "$(pg_sql "SELECT version || '|' || name FROM schema_migrations ORDER BY version DESC LIMIT 1")"
# 020: the series' Python builds, skip-scanned by the team report's hardware query
expect_eq "020: the builds index" "CREATE INDEX runs_series_build_idx ON public.runs USING btree (script_id, host_id, python_build)" \
    "$(pg_sql "SELECT indexdef FROM pg_indexes WHERE indexname = 'runs_series_build_idx'")"
expect_eq "regression: its own last batch and run, one night" "t|t|1" \
    "$(pg_sql "SELECT DISTINCT last_batch_id = batch_id, last_run = candidate_run, nights FROM regressions")"
expect_eq "indexes of runs" "runs_batch_idx,runs_pkey,runs_series_build_idx,runs_series_idx,runs_series_key_idx,runs_series_wide_idx" \
    "$(pg_sql "SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes WHERE tablename = 'runs'")"
coord_stop
expect_eq "coordinator exits 0" 0 "$COORD_STATUS"
# a second start applies nothing
coord_start
expect_nomatch "nothing to apply the second time" "applied [0-9]+ schema migration" "$(cat "$COORD_LOG")"
coord_stop
finish
