-- 032_sample_interval.sql - the farm samples short scripts finely (issue 11: a 40 ms
-- script got ~4 samples a run at 10 ms, and the why named importlib's _compile_bytecode()
-- for a slowed tokenize()).
--
-- jobs.interval_ms: the job's sampling period in sample mode (Job.interval_us;
--   pyscope-run --interval-ms), 0.1..1000 ms: the suite's interval_ms, else what
--   pyscope_sample_interval_ms() makes of the median wall time of the series' last
--   accepted runs on that host when the job is queued (coordinator/store_queue.c);
--   a confirmation job keeps its source's. NULL: trace mode, and rows from before
--   (which sampled at 10 ms). The run documents' profile.interval_s says what a run
--   used.

ALTER TABLE jobs ADD COLUMN interval_ms double precision
    CHECK (interval_ms IS NULL OR interval_ms BETWEEN 0.1 AND 1000);

-- The period for a series whose runs take median_wall_s (NULL: no history): about 200
-- samples a run, rounded down to 1, 2, 5 or 10 ms, at most 10 ms; 1 ms without history.
CREATE FUNCTION pyscope_sample_interval_ms(median_wall_s double precision)
    RETURNS double precision LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN median_wall_s IS NULL OR median_wall_s * 1000 / 200 < 2 THEN 1
                WHEN median_wall_s * 1000 / 200 < 5 THEN 2
                WHEN median_wall_s * 1000 / 200 < 10 THEN 5
                ELSE 10 END::double precision
$$;

-- runs.samples: the sampler's passes over the measured runs (Result.samples, the run
--   document's profile.samples); 0 from before, from older agents and in trace mode (not
--   known). The run documents (coordinator/store.h STORE_RUN_DOC_SQL) carry it with the
--   job's period as profile.samples and profile.interval_s, so that the why of a finding
--   names no function on too few samples (lib/regress.c, as for pyscope run).
ALTER TABLE runs ADD COLUMN samples integer NOT NULL DEFAULT 0 CHECK (samples >= 0);

-- What the coordinator sends for each result (coordinator/store_results.c): appended.
ALTER TYPE run_in ADD ATTRIBUTE samples integer;
