-- team_drift.sql - one night of history with a reference script (psql -v night=N
-- -v host=NAME -v drift=PCT -v slow=PCT -v confirm=0): two hosts run examples/a.py
-- (1.0 s, CPU-bound, its function slow() all but 0.4 s of it) and the suite's
-- reference examples/ref.py (0.2 s), five samples a run with about 1%
-- deterministic noise. On host :host this night, the machine is :drift percent
-- slower for everything (the reference too: load, a lower clock) and a.py :slow
-- percent slower on top (the code). Inserted done and not yet analysed.
-- With -v confirm=1 it plays the agent for the queued confirmation jobs instead
-- (:drift and :slow as they are while those run): the reference runs bracketing
-- each confirmation run and the run itself, stored in job order, seconds apart,
-- half an hour after the night's first runs. There, -v refdrift=PCT (default :drift)
-- is the drift the bracketing reference runs see (the machine drifts within minutes),
-- and -v interleave=1 gives the confirmation run its own interleaved reference figures
-- per repeat (runs.ref_script_cpu_s, ref_script_wall_s: pyscope-run --reference), the
-- machine then being :drift percent slower around every repeat.
\if :{?refdrift}
\else
\set refdrift :drift
\endif
\if :confirm
\else
\ir team_hosts.sql
INSERT INTO scripts (key) VALUES ('examples/a.py'), ('examples/ref.py') ON CONFLICT DO NOTHING;
INSERT INTO functions (key) VALUES ('examples/a.py:slow:3'), ('examples/a.py:fast:10')
ON CONFLICT DO NOTHING;

INSERT INTO batches (suite, label, "commit", state, finished, created, reference_script_id)
VALUES ('nightly', 'night ' || :night, 'c' || :night, 'running', NULL,
        now() - (20 - :night) * interval '1 hour',
        (SELECT id FROM scripts WHERE key = 'examples/ref.py'));

INSERT INTO jobs (batch_id, script_id, host_id, repeat, warmup, mode, timeout_s, state, purpose)
SELECT (SELECT max(id) FROM batches), s.id, h.id, 5, 0, 'sample', 60, 'done',
       CASE WHEN s.key = 'examples/ref.py' THEN 'reference' ELSE 'measure' END
FROM scripts s CROSS JOIN hosts h ORDER BY s.key = 'examples/a.py', s.id, h.id;
\endif

CREATE TEMP TABLE seed AS
SELECT j.id AS job_id, j.batch_id, j.script_id, j.host_id, gen_random_uuid() AS run_id,
       now() - (20 - :night) * interval '1 hour' + :confirm * interval '30 minutes'
           + j.id * interval '1 second' AS at,
       (SELECT array_agg(w ORDER BY i) FROM (
           SELECT i, (CASE WHEN s.key = 'examples/a.py' THEN 1.0 ELSE 0.2 END)
                     * (1 + 0.01 * sin(:night * (7 + 6 * :confirm) + i * 3 + j.host_id * 11
                                       + j.script_id * 5))
                     * CASE WHEN h.hostname <> :'host' THEN 1
                            WHEN s.key = 'examples/ref.py' THEN 1 + :refdrift / 100.0
                            ELSE 1 + :drift / 100.0 END
                     * CASE WHEN h.hostname = :'host' AND s.key = 'examples/a.py'
                            THEN 1 + :slow / 100.0 ELSE 1 END AS w
           FROM generate_series(1, j.repeat) i) x) AS wall,
       -- the machine's drift slows every function alike
       0.4 * CASE WHEN h.hostname = :'host' THEN 1 + :drift / 100.0 ELSE 1 END AS fast
FROM jobs j JOIN scripts s ON s.id = j.script_id JOIN hosts h ON h.id = j.host_id
WHERE CASE WHEN :confirm = 1 THEN j.state = 'queued'
           ELSE j.batch_id = (SELECT max(id) FROM batches) END;

\ir team_runs.sql

\if :{?interleave}
-- the reference script run before each repeat and after it, its mean per repeat: 0.2 s
-- (98% CPU) with the machine's drift around that repeat and about 1% noise of its own
UPDATE runs r SET
    ref_script_cpu_s = ARRAY(SELECT 0.196 * (1 + :drift / 100.0) * (1 + 0.01 * cos(i * 5 + :night))
                             FROM generate_series(1, cardinality(r.wall_s)) i ORDER BY i),
    ref_script_wall_s = ARRAY(SELECT 0.2 * (1 + :drift / 100.0) * (1 + 0.01 * cos(i * 5 + :night))
                              FROM generate_series(1, cardinality(r.wall_s)) i ORDER BY i)
FROM seed s JOIN jobs j ON j.id = s.job_id
WHERE r.run_id = s.run_id AND j.purpose = 'confirm';
\endif
