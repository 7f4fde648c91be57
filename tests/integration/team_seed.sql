-- team_seed.sql - six nights of history for the team-analysis tests (psql
-- -v night=N -v slow=PCT): one batch per night, two scripts on two hosts,
-- five samples a run with about 1% deterministic noise; on the night given by
-- :slow_night the function slow() of script 1 on host 2 gets slower by :slow
-- percent of the wall time. Inserted done and not yet analysed: the running
-- coordinator picks it up on its next tick.
INSERT INTO hosts (fingerprint, hostname, cpu_model, cores, mem_bytes, os, kernel, arch, governor, load1)
VALUES ('00000000000000a1', 'host-a', 'cpu', 2, 1, 'linux', '6', 'x86_64', 'performance', 0),
       ('00000000000000b2', 'host-b', 'cpu', 2, 1, 'linux', '6', 'x86_64', 'performance', 0)
ON CONFLICT DO NOTHING;
INSERT INTO agents (name, host_id, agent_version, python_version, python_build, python_executable, max_jobs)
SELECT 'agent-' || h.hostname, h.id, '1', '3.11', 'CPython 3.11 gcc', '/usr/bin/python3.11', 1
FROM hosts h ON CONFLICT DO NOTHING;
INSERT INTO scripts (key) VALUES ('examples/a.py'), ('examples/<script>alert(1)</script>.py')
ON CONFLICT DO NOTHING;
INSERT INTO functions (key) VALUES ('examples/a.py:slow:3'), ('examples/a.py:fast:10')
ON CONFLICT DO NOTHING;

INSERT INTO batches (suite, label, "commit", state, finished, created)
VALUES ('nightly', 'night ' || :night, 'c' || :night, 'running', NULL,
        now() - (10 - :night) * interval '1 hour');

INSERT INTO jobs (batch_id, script_id, host_id, repeat, warmup, mode, timeout_s, state)
SELECT (SELECT max(id) FROM batches), s.id, h.id, 5, 0, 'sample', 60, 'done'
FROM scripts s CROSS JOIN hosts h;

-- samples: base 1.0 s (script 1) or 0.5 s (script 2), noise up to 1%
CREATE TEMP TABLE seed AS
SELECT j.id AS job_id, j.script_id, j.host_id, gen_random_uuid() AS run_id,
       (SELECT array_agg(w ORDER BY i) FROM (
           SELECT i, (CASE WHEN j.script_id = (SELECT min(id) FROM scripts) THEN 1.0 ELSE 0.5 END)
                     * (1 + 0.01 * sin(:night * 7 + i * 3 + j.host_id * 11 + j.script_id * 5))
                     + CASE WHEN :night = :slow_night AND j.script_id = (SELECT min(id) FROM scripts)
                                 AND j.host_id = (SELECT max(id) FROM hosts)
                            THEN :slow / 100.0 ELSE 0 END AS w
           FROM generate_series(1, 5) i) x) AS wall
FROM jobs j WHERE j.batch_id = (SELECT max(id) FROM batches);

INSERT INTO runs (run_id, job_id, attempt, batch_id, host_id, script_id, agent, script_sha256,
                  python_version, python_build, python_executable, outcome, message, governor,
                  load1, wall_s, cpu_s, peak_rss_bytes, exit_codes, signals, timed_out,
                  started_at, stored_at)
SELECT s.run_id, s.job_id, 1, (SELECT max(id) FROM batches), s.host_id, s.script_id, 'agent-x',
       'abc', '3.11', 'CPython 3.11 gcc', '/usr/bin/python3.11', 'ok', '', 'performance', 0,
       s.wall, (SELECT array_agg(w * 0.98) FROM unnest(s.wall) w), '{1000,1000,1000,1000,1000}',
       '{0,0,0,0,0}', '{0,0,0,0,0}', '{f,f,f,f,f}',
       now() - (10 - :night) * interval '1 hour', now() - (10 - :night) * interval '1 hour'
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

UPDATE batches SET state = 'done', finished = now() WHERE id = (SELECT max(id) FROM batches);
