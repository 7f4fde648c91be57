-- team_runs.sql - store one ok run for each row of the temp table seed (job_id,
-- batch_id, script_id, host_id, run_id, at, wall): cpu 98% of wall, constant
-- memory, the hotspots slow() (wall - 0.4 s) and fast() (0.4 s) for script 1;
-- then the jobs are done and their batches finished (included by team_seed.sql
-- and team_confirm.sql).
INSERT INTO runs (run_id, job_id, attempt, batch_id, host_id, script_id, agent, script_sha256,
                  python_version, python_build, python_executable, outcome, message, governor,
                  load1, wall_s, cpu_s, peak_rss_bytes, exit_codes, signals, timed_out,
                  started_at, stored_at)
SELECT s.run_id, s.job_id, 1, s.batch_id, s.host_id, s.script_id, 'agent-x',
       'abc', '3.11', 'CPython 3.11 gcc', '/usr/bin/python3.11', 'ok', '', 'performance', 0,
       s.wall, (SELECT array_agg(w * 0.98) FROM unnest(s.wall) w), (SELECT array_agg(1000) FROM unnest(s.wall) w),
       (SELECT array_agg(0) FROM unnest(s.wall) w), (SELECT array_agg(0) FROM unnest(s.wall) w),
       (SELECT array_agg(false) FROM unnest(s.wall) w), s.at, s.at
FROM seed s;

-- slow() takes all but 0.4 s of script 1's wall time, fast() 0.4 s
INSERT INTO run_functions (run_id, function_id, calls, self_s, total_s, self_s_runs, total_s_runs)
SELECT s.run_id, f.id, 0, 0, 0,
       CASE WHEN f.key LIKE '%slow%' THEN (SELECT array_agg(w - 0.4) FROM unnest(s.wall) w)
            ELSE (SELECT array_agg(0.4 + 0 * w) FROM unnest(s.wall) w) END,
       CASE WHEN f.key LIKE '%slow%' THEN (SELECT array_agg(w - 0.4) FROM unnest(s.wall) w)
            ELSE (SELECT array_agg(0.4 + 0 * w) FROM unnest(s.wall) w) END
FROM seed s CROSS JOIN functions f WHERE s.script_id = (SELECT min(id) FROM scripts);
UPDATE run_functions rf SET self_s = (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY v) FROM unnest(rf.self_s_runs) v),
                            total_s = (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY v) FROM unnest(rf.total_s_runs) v)
WHERE rf.self_s = 0;

UPDATE jobs SET state = 'done' WHERE id IN (SELECT job_id FROM seed);
UPDATE batches SET state = 'done', finished = now() WHERE id IN (SELECT batch_id FROM seed);
