-- team_cpu_only.sql - one night of history of a script that mostly sleeps (psql -v
-- night=N -v host=NAME -v wall=PCT -v cpu=PCT -v confirm=0): two hosts run
-- examples/a.py (1.55 s of wall time, 0.39 s of it CPU, five samples with about 1%
-- deterministic noise) and the suite's reference examples/ref.py (0.2 s, CPU-bound).
-- On host :host this night a.py's wall time is :wall percent and its CPU time :cpu
-- percent longer; the reference never moves. With -v confirm=1 it plays the agent for
-- the queued confirmation jobs instead (:wall and :cpu as they are while those run).
-- The figures of test_team_farm's false confirmation in the fresh-clone CI are
-- wall +8% / CPU +29% (the night), wall +7% / CPU +19% (its confirmation run).
-- a.py's hotspots are slow() (all its wall time but fast()'s) and fast() (0.05 s); with
-- -v fast=S, fast() takes S s on host :host this night (slow() the rest).
\if :{?fast}
\else
\set fast 0.05
\endif
-- one transaction: the coordinator sees the night done only with its CPU times
BEGIN;
\if :confirm
\else
\ir team_hosts.sql
INSERT INTO scripts (key) VALUES ('examples/a.py'), ('examples/ref.py') ON CONFLICT DO NOTHING;
INSERT INTO functions (key) VALUES ('examples/a.py:slow:3'), ('examples/a.py:fast:10')
ON CONFLICT DO NOTHING;

INSERT INTO batches (suite, label, "commit", state, finished, created, reference_script_id)
VALUES ('nightly', 'night ' || :night, 'c1', 'running', NULL,
        now() - (20 - :night) * interval '1 hour',
        (SELECT id FROM scripts WHERE key = 'examples/ref.py'));

INSERT INTO jobs (batch_id, script_id, host_id, repeat, warmup, mode, timeout_s, state, purpose,
                  threshold)
SELECT (SELECT max(id) FROM batches), s.id, h.id, 5, 0, 'sample', 60, 'done',
       CASE WHEN s.key = 'examples/ref.py' THEN 'reference' ELSE 'measure' END, 0.10
FROM scripts s CROSS JOIN hosts h ORDER BY s.key = 'examples/a.py', s.id, h.id;
\endif

CREATE TEMP TABLE seed AS
SELECT j.id AS job_id, j.batch_id, j.script_id, j.host_id, gen_random_uuid() AS run_id,
       now() - (20 - :night) * interval '1 hour' + :confirm * interval '30 minutes'
           + j.id * interval '1 second' AS at,
       (SELECT array_agg(x.n * CASE WHEN s.key = 'examples/a.py' THEN 1.55 ELSE 0.2 END
                         * CASE WHEN h.hostname = :'host' AND s.key = 'examples/a.py'
                                THEN 1 + :wall / 100.0 ELSE 1 END ORDER BY x.i)
        FROM (SELECT i, 1 + 0.01 * sin(:night * (7 + 6 * :confirm) + i * 3 + j.host_id * 11
                                        + j.script_id * 5) AS n
              FROM generate_series(1, j.repeat) i) x) AS wall,
       (SELECT array_agg(x.n * CASE WHEN s.key = 'examples/a.py' THEN 0.39 ELSE 0.196 END
                         * CASE WHEN h.hostname = :'host' AND s.key = 'examples/a.py'
                                THEN 1 + :cpu / 100.0 ELSE 1 END ORDER BY x.i)
        FROM (SELECT i, 1 + 0.01 * sin(:night * (5 + 4 * :confirm) + i * 2 + j.host_id * 7
                                        + j.script_id * 3) AS n
              FROM generate_series(1, j.repeat) i) x) AS cpu,
       CASE WHEN h.hostname = :'host' THEN :fast ELSE 0.05 END AS fast
FROM jobs j JOIN scripts s ON s.id = j.script_id JOIN hosts h ON h.id = j.host_id
WHERE CASE WHEN :confirm = 1 THEN j.state = 'queued'
           ELSE j.batch_id = (SELECT max(id) FROM batches) END;

\ir team_runs.sql
-- the CPU time of the seed, not team_runs.sql's 98% of the wall time
UPDATE runs r SET cpu_s = s.cpu,
    cpu_median = (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY c) FROM unnest(s.cpu) c)
FROM seed s WHERE r.run_id = s.run_id;
COMMIT;
