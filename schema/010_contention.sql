-- 010_contention.sql - what could bias each repeat's timing (issue 11).
--
-- pyscope-run records, per repeat, how long the script's threads were
-- runnable but had no CPU (run_delay_s, the scheduler's run-queue delay),
-- its context switches, the machine's steal time, CPU pressure (PSI), load
-- and CPU frequency (agent/runner/contention.h); the agent sends them in
-- Measurement (proto/pyscope.proto). They are stored beside the samples, one
-- element per repeat in the order of wall_s, NULL where the runner could not
-- read a value. fn_self_cpu_s is the on-CPU part of each hotspot's self time
-- (one element per fn_ids entry): the "why" of a CPU-time verdict.
--
-- The batch analysis (coordinator/analysis.c) judges a series' wall time net
-- of that queueing when it is contaminated (lib/regress.h), so run_delay_s
-- joins the columns the series index covers (schema/005, 007): the analysis
-- stays an index-only scan. A btree entry holds at most 2704 bytes, so the
-- covering index takes the runs with at most 192 samples in the four arrays
-- together (48 repeats; 007 had 192 in three) and runs_series_wide_idx the
-- rest, the same predicate as coordinator/store.h's STORE_RUNS_COVERED. Rows
-- from before have NULL here: not measured.

ALTER TABLE runs
    ADD COLUMN run_delay_s     double precision[],
    ADD COLUMN ctx_voluntary   bigint[],
    ADD COLUMN ctx_involuntary bigint[],
    ADD COLUMN steal_s         double precision[],
    ADD COLUMN cpu_pressure_s  double precision[],
    ADD COLUMN load1_runs      double precision[],
    ADD COLUMN cpu_mhz         double precision[],
    ADD COLUMN fn_self_cpu_s   double precision[];

-- What the coordinator sends for each result (coordinator/store_results.c): the same,
-- appended.
ALTER TYPE run_in
    ADD ATTRIBUTE run_delay_s     double precision[],
    ADD ATTRIBUTE ctx_voluntary   bigint[],
    ADD ATTRIBUTE ctx_involuntary bigint[],
    ADD ATTRIBUTE steal_s         double precision[],
    ADD ATTRIBUTE cpu_pressure_s  double precision[],
    ADD ATTRIBUTE load1_runs      double precision[],
    ADD ATTRIBUTE cpu_mhz         double precision[],
    ADD ATTRIBUTE fn_self_cpu_s   double precision[];

DROP INDEX runs_series_idx;
DROP INDEX runs_series_wide_idx;
CREATE INDEX runs_series_idx ON runs (script_id, host_id, stored_at)
    INCLUDE (python_build, outcome, batch_id, run_id, wall_s, cpu_s, peak_rss_bytes,
             run_delay_s)
    WHERE cardinality(wall_s) + cardinality(cpu_s) + cardinality(peak_rss_bytes)
          + coalesce(cardinality(run_delay_s), 0) <= 192
      AND octet_length(python_build) <= 512;
CREATE INDEX runs_series_wide_idx ON runs (script_id, host_id, stored_at)
    WHERE NOT (cardinality(wall_s) + cardinality(cpu_s) + cardinality(peak_rss_bytes)
               + coalesce(cardinality(run_delay_s), 0) <= 192
               AND octet_length(python_build) <= 512);
