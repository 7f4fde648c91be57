-- 026_machine_speed.sql - the machine's speed around each repeat (issue 11).
--
-- On a VM the host can give the guest's CPUs less time without the guest
-- seeing it (no steal, no run-queue wait): CPU and wall times of unchanged
-- code both grow. pyscope-run times a fixed reference workload right before
-- and after every repeat (agent/runner/refloop.h); the agent sends the median
-- chunk's CPU time in Contention.ref_cpu_ns (proto/pyscope.proto). It is
-- stored beside the other per-repeat contention figures (schema/010), one
-- element per repeat in the order of wall_s, NULL where not measured; the
-- batch analysis compares the candidate's with its baseline's (lib/regress.h,
-- rule machine_speed) through the run documents (coordinator/store.h
-- STORE_RUN_DOC_SQL). Rows from before have NULL: not measured, no change in
-- how they are judged. Not in the series' covering index: the quick path
-- reads samples only; the full comparison reads run documents from the heap.

ALTER TABLE runs ADD COLUMN ref_cpu_ns double precision[];

-- What the coordinator sends for each result (coordinator/store_results.c): appended.
ALTER TYPE run_in ADD ATTRIBUTE ref_cpu_ns double precision[];
