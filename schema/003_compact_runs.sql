-- 003_compact_runs.sql - one row per result: hotspots and stacks in the run's
-- own row, per-run medians as columns, fewer indexes (docs/DESIGN.md §13).
--
-- Before: a result was 1 runs row + 1 run_functions row per hotspot + 1
-- run_stacks jsonb row, with 7 indexes. Now it is one runs row:
--   fn_ids, fn_calls, fn_self_s, fn_total_s  the hotspots, one element each, in
--                                           the order the agent sent them
--   fn_self_runs, fn_total_runs             per-repeat values as 2-D arrays
--                                           [hotspot][repeat], NULL-padded when
--                                           hotspots have different counts;
--                                           '{}' when no hotspot has any
--   stacks                                  the collapsed stacks as json: an array
--                                           of {"thread", "frames", "samples"};
--                                           frames index fn_ids (root first)
--   wall_median, cpu_median, rss_median     medians of the per-repeat samples
--                                           (NULL without samples): the small
--                                           columns trend and report reads use
-- The coordinator sends a group of results as one binary run_in[] parameter.
-- run_functions and run_stacks stay as read-only views of the same data,
-- for people's ad-hoc queries. A farm database from before upgrades in place.

CREATE FUNCTION pyscope_row(a double precision[], i integer) RETURNS double precision[]
    LANGUAGE sql IMMUTABLE
    RETURN ARRAY(SELECT v FROM unnest(a[i:i][:]) v WHERE v IS NOT NULL);

ALTER TABLE runs
    ADD COLUMN wall_median   double precision,
    ADD COLUMN cpu_median    double precision,
    ADD COLUMN rss_median    double precision,
    ADD COLUMN fn_ids        bigint[] NOT NULL DEFAULT '{}',
    ADD COLUMN fn_calls      bigint[] NOT NULL DEFAULT '{}',
    ADD COLUMN fn_self_s     double precision[] NOT NULL DEFAULT '{}',
    ADD COLUMN fn_total_s    double precision[] NOT NULL DEFAULT '{}',
    ADD COLUMN fn_self_runs  double precision[] NOT NULL DEFAULT '{}',
    ADD COLUMN fn_total_runs double precision[] NOT NULL DEFAULT '{}',
    ADD COLUMN stacks        json;
ALTER TABLE runs ALTER COLUMN stacks SET STORAGE EXTENDED;

UPDATE runs r SET
    wall_median = (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY v) FROM unnest(r.wall_s) v),
    cpu_median = (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY v) FROM unnest(r.cpu_s) v),
    rss_median = (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY v)
                  FROM unnest(r.peak_rss_bytes) v);

-- Hotspots in the order of the stacks' function list when the run has stacks
-- (so frame indexes keep their meaning), else by total time.
CREATE TEMP TABLE fn_old ON COMMIT DROP AS
SELECT rf.run_id, rf.function_id, rf.calls, rf.self_s, rf.total_s, rf.self_s_runs,
       rf.total_s_runs,
       row_number() OVER (PARTITION BY rf.run_id
                          ORDER BY p.pos NULLS LAST, rf.total_s DESC, rf.function_id) AS i
FROM run_functions rf JOIN functions f ON f.id = rf.function_id
LEFT JOIN LATERAL (SELECT min(e.pos) AS pos FROM run_stacks st,
                   jsonb_array_elements_text(st.stacks->'functions') WITH ORDINALITY AS e(key, pos)
                   WHERE st.run_id = rf.run_id AND e.key = f.key) p ON true;

UPDATE runs r SET
    fn_ids = x.ids, fn_calls = x.calls, fn_self_s = x.self_s, fn_total_s = x.total_s,
    fn_self_runs = x.self_runs, fn_total_runs = x.total_runs
FROM (SELECT o.run_id, array_agg(o.function_id ORDER BY o.i) AS ids,
             array_agg(o.calls ORDER BY o.i) AS calls, array_agg(o.self_s ORDER BY o.i) AS self_s,
             array_agg(o.total_s ORDER BY o.i) AS total_s,
             CASE WHEN max(cardinality(o.self_s_runs)) > 0 THEN
                 array_agg(o.self_s_runs || array_fill(NULL::float8,
                     ARRAY[m.n - cardinality(o.self_s_runs)]) ORDER BY o.i) ELSE '{}' END AS self_runs,
             CASE WHEN max(cardinality(o.total_s_runs)) > 0 THEN
                 array_agg(o.total_s_runs || array_fill(NULL::float8,
                     ARRAY[m.n - cardinality(o.total_s_runs)]) ORDER BY o.i) ELSE '{}' END AS total_runs
      FROM fn_old o
      JOIN (SELECT run_id, greatest(max(cardinality(self_s_runs)), max(cardinality(total_s_runs))) AS n
            FROM fn_old GROUP BY run_id) m USING (run_id)
      GROUP BY o.run_id, m.n) x
WHERE r.run_id = x.run_id;

-- The stacks' frames indexed the old document's function list, which is the
-- order of fn_ids above for every function that had a hotspot row.
UPDATE runs r SET stacks = (st.stacks->'stacks')::text::json
FROM run_stacks st WHERE st.run_id = r.run_id;

DROP TABLE run_stacks;
DROP TABLE run_functions;

-- Indexes: what the queries use, nothing more. A series' runs, newest first
-- (python_build is filtered, not indexed: one build per host is the rule);
-- a batch's runs and a job's runs (jobs listing: batch_id = j.batch_id).
DROP INDEX runs_series_idx;
DROP INDEX runs_batch_idx;
DROP INDEX runs_job_idx;
CREATE INDEX runs_series_idx ON runs (script_id, host_id, stored_at);
CREATE INDEX runs_batch_idx ON runs (batch_id, job_id);
-- "is this batch finished?" reads only its open jobs
CREATE INDEX jobs_open_idx ON jobs (batch_id) WHERE state IN ('queued', 'leased');

-- What the coordinator sends for each result of a group (coordinator/store_results.c,
-- binary).
CREATE TYPE run_in AS (
    ord               integer,   -- the result's index in the group
    run_id            uuid,
    job_id            bigint,
    attempt           integer,
    batch_id          bigint,
    host_id           bigint,
    script_id         bigint,
    agent             text,
    script_sha256     text,
    python_version    text,
    python_build      text,
    python_executable text,
    outcome           text,
    message           text,
    governor          text,
    load1             double precision,
    wall_s            double precision[],
    cpu_s             double precision[],
    peak_rss_bytes    bigint[],
    exit_codes        integer[],
    signals           integer[],
    timed_out         boolean[],
    started_at        text,      -- RFC 3339, NULL when unknown
    wall_median       double precision,
    cpu_median        double precision,
    rss_median        double precision,
    fn_ids            bigint[],
    fn_calls          bigint[],
    fn_self_s         double precision[],
    fn_total_s        double precision[],
    fn_self_runs      double precision[],
    fn_total_runs     double precision[],
    stacks            json,
    state             text       -- the job's next state
);

-- The old tables' shapes, read-only.
CREATE VIEW run_functions AS
SELECT r.run_id, u.function_id, u.calls, u.self_s, u.total_s,
       pyscope_row(r.fn_self_runs, u.i::integer) AS self_s_runs,
       pyscope_row(r.fn_total_runs, u.i::integer) AS total_s_runs
FROM runs r, unnest(r.fn_ids, r.fn_calls, r.fn_self_s, r.fn_total_s)
     WITH ORDINALITY AS u(function_id, calls, self_s, total_s, i);

CREATE VIEW run_stacks AS
SELECT r.run_id, jsonb_build_object(
           'functions', (SELECT coalesce(jsonb_agg(f.key ORDER BY u.i), '[]')
                         FROM unnest(r.fn_ids) WITH ORDINALITY AS u(id, i)
                         JOIN functions f ON f.id = u.id),
           'stacks', r.stacks::jsonb) AS stacks
FROM runs r WHERE r.stacks IS NOT NULL;
