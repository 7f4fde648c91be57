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
SELECT j.id AS job_id, j.batch_id, j.script_id, j.host_id, gen_random_uuid() AS run_id,
       now() - (10 - :night) * interval '1 hour' AS at,
       (SELECT array_agg(w ORDER BY i) FROM (
           SELECT i, (CASE WHEN j.script_id = (SELECT min(id) FROM scripts) THEN 1.0 ELSE 0.5 END)
                     * (1 + 0.01 * sin(:night * 7 + i * 3 + j.host_id * 11 + j.script_id * 5))
                     + CASE WHEN :night = :slow_night AND j.script_id = (SELECT min(id) FROM scripts)
                                 AND j.host_id = (SELECT max(id) FROM hosts)
                            THEN :slow / 100.0 ELSE 0 END AS w
           FROM generate_series(1, j.repeat) i) x) AS wall
FROM jobs j WHERE j.batch_id = (SELECT max(id) FROM batches);

\ir team_runs.sql
