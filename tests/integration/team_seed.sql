-- team_seed.sql - six nights of history for the team-analysis tests (psql
-- -v night=N -v slow=PCT): one batch per night, two scripts on two hosts,
-- five samples a run with about 1% deterministic noise; on the night given by
-- :slow_night the function slow() of script 1 on host 2 gets slower by :slow
-- percent of the wall time. Inserted done and not yet analysed: the running
-- coordinator picks it up on its next tick.
\ir team_hosts.sql
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
           FROM generate_series(1, j.repeat) i) x) AS wall,
       0.4 AS fast
FROM jobs j WHERE j.batch_id = (SELECT max(id) FROM batches);

\ir team_runs.sql
