-- team_runs.sql - store one ok run for each row of the temp table seed (job_id,
-- batch_id, script_id, host_id, run_id, at, wall, fast): cpu 98% of wall, constant
-- memory, the hotspots slow() (wall - fast s) and fast() (fast s) for script 1
-- (in the runs row, schema/003_compact_runs.sql) and their stacks; then the jobs are done and
-- their batches finished (included by team_seed.sql and team_confirm.sql).
INSERT INTO runs (run_id, job_id, attempt, batch_id, host_id, script_id, agent, script_sha256,
                  python_version, python_build, python_executable, outcome, message, governor,
                  load1, wall_s, cpu_s, peak_rss_bytes, exit_codes, signals, timed_out,
                  started_at, stored_at, wall_median, cpu_median, rss_median)
SELECT s.run_id, s.job_id, 1, s.batch_id, s.host_id, s.script_id, 'agent-x',
       'abc', '3.11', 'CPython 3.11 gcc', '/usr/bin/python3.11', 'ok', '', 'performance', 0,
       s.wall, (SELECT array_agg(w * 0.98) FROM unnest(s.wall) w), (SELECT array_agg(1000) FROM unnest(s.wall) w),
       (SELECT array_agg(0) FROM unnest(s.wall) w), (SELECT array_agg(0) FROM unnest(s.wall) w),
       (SELECT array_agg(false) FROM unnest(s.wall) w), s.at, s.at,
       (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY w) FROM unnest(s.wall) w),
       (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY w * 0.98) FROM unnest(s.wall) w), 1000
FROM seed s;

-- slow() takes all but fast s of script 1's wall time, fast() fast s
UPDATE runs r SET
    fn_ids = ARRAY[(SELECT id FROM functions WHERE key LIKE '%slow%'),
                   (SELECT id FROM functions WHERE key LIKE '%fast%')],
    fn_calls = '{0,0}',
    fn_self_runs = ARRAY[(SELECT array_agg(w - s.fast ORDER BY i) FROM unnest(r.wall_s) WITH ORDINALITY u(w, i)),
                         (SELECT array_agg(s.fast + 0 * w) FROM unnest(r.wall_s) w)],
    fn_total_runs = ARRAY[(SELECT array_agg(w - s.fast ORDER BY i) FROM unnest(r.wall_s) WITH ORDINALITY u(w, i)),
                          (SELECT array_agg(s.fast + 0 * w) FROM unnest(r.wall_s) w)]
FROM seed s
WHERE r.run_id = s.run_id AND r.script_id = (SELECT min(id) FROM scripts);
UPDATE runs r SET
    fn_self_s = ARRAY(SELECT (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY v)
                              FROM unnest(pyscope_row(r.fn_self_runs, k)) v)
                      FROM generate_series(1, 2) k ORDER BY k),
    fn_total_s = ARRAY(SELECT (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY v)
                               FROM unnest(pyscope_row(r.fn_total_runs, k)) v)
                       FROM generate_series(1, 2) k ORDER BY k)
WHERE r.run_id IN (SELECT run_id FROM seed) AND cardinality(r.fn_ids) = 2;
-- the collapsed stacks (frames index fn_ids), 4 ms samples: main() calling slow() and fast()
UPDATE runs r SET
    stacks = json_build_array(
        json_build_object('thread', 'MainThread', 'frames', json_build_array(0),
                          'samples', round(250 * (r.wall_median - s.fast) * cardinality(r.wall_s))),
        json_build_object('thread', 'MainThread', 'frames', json_build_array(1),
                          'samples', round(250 * s.fast * cardinality(r.wall_s))))
FROM seed s
WHERE r.run_id = s.run_id AND cardinality(r.fn_ids) = 2;

UPDATE jobs SET state = 'done' WHERE id IN (SELECT job_id FROM seed);
UPDATE batches SET state = 'done', finished = now() WHERE id IN (SELECT batch_id FROM seed);
