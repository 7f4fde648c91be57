-- 028_instructions.sql - the farm's instruction counts (issue 17: a bisection or a
-- try decided on "instructions", pyscope submit --instructions).
--
-- jobs.instructions: the job asks the agent to count each measured repeat's
--   instructions under valgrind's cachegrind (Job.instructions; pyscope-run
--   --instructions, agent/runner/cachegrind.h). Set on every job of a batch
--   submitted with Submit.instructions, and on the step batches of a bisection
--   whose metric is 'instructions' (coordinator/bisection.c). An agent without
--   valgrind refuses such a job. Its lease deadline allows the runs under
--   valgrind (coordinator/store_queue.c).
-- runs.instructions: the counts the agent sent (Measurement.instructions), one
--   element per repeat in the order of wall_s, NULL where not counted (0 on the
--   wire). NULL for the whole row when the job did not ask (and in rows from
--   before). The run documents (coordinator/store.h STORE_RUN_DOC_SQL) carry them
--   as instructions.counts, which lib/regress and lib/abtest read as the metric
--   "instructions", as they do for pyscope run --instructions.

ALTER TABLE jobs ADD COLUMN instructions boolean NOT NULL DEFAULT false;
ALTER TABLE runs ADD COLUMN instructions bigint[];

-- What the coordinator sends for each result (coordinator/store_results.c): appended.
ALTER TYPE run_in ADD ATTRIBUTE instructions bigint[];
