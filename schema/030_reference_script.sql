-- 030_reference_script.sql - a confirmation run's reference script, interleaved with
-- its repeats (issue 11: confirmation that cancels drift).
--
-- A confirmation job (jobs.purpose 'confirm') of a batch whose suite names a
-- reference script is sent with Job.reference (proto/pyscope.proto): the agent's
-- runner runs the reference plainly before the first measured repeat and after each
-- one (pyscope-run --reference), so the machine's speed during the re-run is
-- measured, not only in the minutes around the job. Per repeat, the mean of the
-- reference runs right before and right after it:
--
-- runs.ref_script_cpu_s, runs.ref_script_wall_s: one element per repeat in the
--   order of wall_s, NULL where not measured (a run that was no confirmation, an
--   older agent, a reference that failed); NULL arrays in rows from before. The
--   batch analysis divides the drift their median shows out of the re-run
--   (coordinator/analysis.c, the interleaved confirmation) through the run
--   documents (coordinator/store.h STORE_RUN_DOC_SQL).

ALTER TABLE runs ADD COLUMN ref_script_cpu_s double precision[];
ALTER TABLE runs ADD COLUMN ref_script_wall_s double precision[];

-- What the coordinator sends for each result (coordinator/store_results.c): appended.
ALTER TYPE run_in ADD ATTRIBUTE ref_script_cpu_s double precision[];
ALTER TYPE run_in ADD ATTRIBUTE ref_script_wall_s double precision[];
