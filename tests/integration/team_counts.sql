-- team_counts.sql - make the runs just seeded (temp table seed: team_seed.sql,
-- team_confirm.sql, in the same psql -1 transaction) counted ones (psql -v more=PCT):
-- their jobs asked for instruction counts and each repeat counted 900 M instructions,
-- :more percent more for examples/a.py. On host-a the script ran one Python thread, on
-- host-b five (runs.python_threads, schema/031_python_threads.sql): the same equal counts,
-- exact on host-a only (test_team_threads.sh).
UPDATE jobs SET instructions = true WHERE id IN (SELECT job_id FROM seed);
UPDATE runs r SET
    -- (+ 0 * w: the aggregate is the subquery's, not the UPDATE's)
    instructions = (SELECT array_agg((900000000 * CASE WHEN s.script_id = (SELECT min(id) FROM scripts)
                                                       THEN 1 + :more / 100.0 ELSE 1 END + 0 * w)::bigint)
                    FROM unnest(r.wall_s) w),
    python_threads = CASE WHEN s.host_id = (SELECT max(id) FROM hosts) THEN 5 ELSE 1 END
FROM seed s WHERE r.run_id = s.run_id;
