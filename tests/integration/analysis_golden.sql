-- analysis_golden.sql - night :night of the analysis golden farm (psql -v night=N;
-- tests/integration/test_analysis_golden.sh). Two hosts, five scripts, six series
-- (step.py on golden-1 under two Python builds), two ok runs a night (the night's
-- and its confirmation: no series is re-queued), five samples with ~1% deterministic
-- noise, each series shaped to exercise one part of the baseline rule:
--   step.py 3.11     +30% from night 5 on: an open finding (later baselines stop before it)
--   step.py 3.12     the same script and host under another build: its own series
--   expected.py      +40% from night 9 on, triaged 'expected' by the test (the baseline restarts)
--   held.py          +3% on night 10, held out by the test (never in a later baseline)
--   sparse.py        no runs on nights 3-7; night 9's first run has 210 samples (too wide
--                    for the covering index, read from the heap)
--   late.py          night 7's runs stored a day and a half late (after night 8's)
-- Night 12: every series 25% slower than it was, so that every series' baseline is
-- stored with its finding. Times are fixed (2026-01-01 + night days): the same farm
-- every run.
INSERT INTO hosts (fingerprint, hostname, cpu_model, cores, mem_bytes, os, kernel, arch, governor, load1)
VALUES ('00000000000000c1', 'golden-1', 'cpu', 2, 1, 'linux', '6', 'x86_64', 'performance', 0),
       ('00000000000000c2', 'golden-2', 'cpu', 2, 1, 'linux', '6', 'x86_64', 'performance', 0)
ON CONFLICT DO NOTHING;
INSERT INTO scripts (key)
VALUES ('golden/step.py'), ('golden/expected.py'), ('golden/held.py'), ('golden/sparse.py'),
       ('golden/late.py')
ON CONFLICT DO NOTHING;

CREATE TEMP TABLE ser AS
SELECT s.id AS script_id, h.id AS host_id, v.build, v.base,
       v.slow * CASE WHEN :night = 12 THEN 1.25 ELSE 1 END AS slow, v.late, v.wide
FROM (VALUES
    ('golden/step.py', 'golden-1', 'CPython 3.11 gcc', 1.0, CASE WHEN :night >= 5 THEN 1.3 ELSE 1 END, 0, false),
    ('golden/step.py', 'golden-1', 'CPython 3.12 gcc', 0.9, 1, 0, false),
    ('golden/expected.py', 'golden-1', 'CPython 3.11 gcc', 0.6, CASE WHEN :night >= 9 THEN 1.4 ELSE 1 END, 0, false),
    ('golden/held.py', 'golden-2', 'CPython 3.11 gcc', 0.8, CASE WHEN :night = 10 THEN 1.03 ELSE 1 END, 0, false),
    ('golden/sparse.py', 'golden-2', 'CPython 3.11 gcc', 0.7, 1, 0, :night = 9),
    ('golden/late.py', 'golden-2', 'CPython 3.11 gcc', 0.5, 1, CASE WHEN :night = 7 THEN 36 ELSE 0 END, false))
    AS v(script, host, build, base, slow, late, wide)
JOIN scripts s ON s.key = v.script JOIN hosts h ON h.hostname = v.host
WHERE v.script <> 'golden/sparse.py' OR :night NOT BETWEEN 3 AND 7;

INSERT INTO batches (suite, label, "commit", state, created)
VALUES ('golden', 'night ' || :night, 'g' || :night, 'running',
        timestamptz '2026-01-01 00:00+00' + :night * interval '1 day');
INSERT INTO jobs (batch_id, script_id, host_id, repeat, warmup, mode, timeout_s, state)
SELECT DISTINCT (SELECT max(id) FROM batches), script_id, host_id, 5, 0, 'sample', 60, 'done' FROM ser;

CREATE TEMP TABLE seed AS
SELECT j.id AS job_id, j.batch_id, x.script_id, x.host_id, x.build, k,
       timestamptz '2026-01-01 02:00+00' + :night * interval '1 day' + x.late * interval '1 hour'
           + (k - 1) * interval '30 minutes' + x.host_id * interval '1 second' AS at,
       (SELECT array_agg(x.base * x.slow * (1 + 0.01 * sin(:night * 7 + i * 3 + k * 13 + x.host_id * 11
                                                            + x.script_id * 5 + length(x.build))) ORDER BY i)
        FROM generate_series(1, CASE WHEN x.wide AND k = 1 THEN 210 ELSE 5 END) i) AS wall
FROM ser x JOIN jobs j ON j.batch_id = (SELECT max(id) FROM batches) AND j.script_id = x.script_id
    AND j.host_id = x.host_id
CROSS JOIN generate_series(1, 2) k;

INSERT INTO runs (run_id, job_id, attempt, batch_id, host_id, script_id, agent, script_sha256,
                  python_version, python_build, python_executable, outcome, message, governor,
                  load1, wall_s, cpu_s, peak_rss_bytes, exit_codes, signals, timed_out,
                  started_at, stored_at, wall_median, cpu_median, rss_median)
SELECT gen_random_uuid(), s.job_id, s.k, s.batch_id, s.host_id, s.script_id, 'agent-golden', 'abc',
       substr(s.build, 9, 4), s.build, '/usr/bin/python', 'ok', '', 'performance', 0,
       s.wall, (SELECT array_agg(w * 0.98) FROM unnest(s.wall) w),
       (SELECT array_agg(1000) FROM unnest(s.wall) w), (SELECT array_agg(0) FROM unnest(s.wall) w),
       (SELECT array_agg(0) FROM unnest(s.wall) w), (SELECT array_agg(false) FROM unnest(s.wall) w),
       s.at, s.at, (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY w) FROM unnest(s.wall) w),
       (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY w * 0.98) FROM unnest(s.wall) w), 1000
FROM seed s;
UPDATE batches SET state = 'done', finished = timestamptz '2026-01-01 06:00+00' + :night * interval '1 day'
WHERE id = (SELECT max(id) FROM batches);
