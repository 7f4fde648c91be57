-- 031_python_threads.sql - how many Python threads a counted run's script ran, so the
-- farm judges its instruction counts as pyscope run --instructions does (issue 11).
--
-- With several Python threads, which thread holds the GIL when depends on timing (the
-- switch interval is wall time, and woken threads race), so under valgrind the same
-- code counts differently at another load. Locally the run document's "instructions"
-- object says so ("python_threads", and "exact": false above one thread), and
-- lib/regress and lib/abtest then never apply their exact rule to those counts.
--
-- runs.python_threads: the most Python threads a timed run of the script had, as the
--   agent sent it (Result.python_threads: the document's instructions.python_threads);
--   0 in rows from before, from older agents and from jobs that did not count (not
--   known: judged exact, as before). The run documents (coordinator/store.h
--   STORE_INSTRUCTIONS_JSON) carry it in their "instructions" object with "exact"
--   (false above 1), so the batch analysis, tries and bisections judge such counts
--   statistically.

ALTER TABLE runs ADD COLUMN python_threads integer NOT NULL DEFAULT 0
    CHECK (python_threads >= 0);

-- What the coordinator sends for each result (coordinator/store_results.c): appended.
ALTER TYPE run_in ADD ATTRIBUTE python_threads integer;
