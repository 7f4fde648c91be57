-- team_confirm.sql - play the agent for the confirmation jobs the coordinator
-- queued (psql -v night=N -v slow_night=K -v slow=PCT, as team_seed.sql):
-- every queued job gets its run, stored half an hour after the night's
-- first runs, with that job's repeat count.
CREATE TEMP TABLE seed AS
SELECT j.id AS job_id, j.batch_id, j.script_id, j.host_id, gen_random_uuid() AS run_id,
       now() - (10 - :night) * interval '1 hour' + interval '30 minutes' AS at,
       (SELECT array_agg(w ORDER BY i) FROM (
           SELECT i, (CASE WHEN j.script_id = (SELECT min(id) FROM scripts) THEN 1.0 ELSE 0.5 END)
                     * (1 + 0.01 * sin(:night * 13 + i * 3 + j.host_id * 11 + j.script_id * 5))
                     + CASE WHEN :night = :slow_night AND j.script_id = (SELECT min(id) FROM scripts)
                                 AND j.host_id = (SELECT max(id) FROM hosts)
                            THEN :slow / 100.0 ELSE 0 END AS w
           FROM generate_series(1, j.repeat) i) x) AS wall,
       0.4 AS fast
FROM jobs j WHERE j.state = 'queued';

\ir team_runs.sql
