-- 029_child_processes.sql - whether a counted run's script started child processes
-- (a farm try or bisection on instructions says so, as the local forms do).
--
-- Valgrind's cachegrind counts the script's own process only (pyscope-run
-- --instructions): when the script started child processes (os.fork, subprocess)
-- their instructions are not in the counts. Locally the run document's
-- "instructions" object has a note saying so (lib/history.h
-- HISTORY_INSTRUCTIONS_CHILDREN_NOTE) when its profile's "forks" is over 0.
--
-- runs.child_processes: the processes the script started in the timed runs, as the
--   agent sent them (Result.child_processes: the document's profile.forks); 0 in
--   rows from before and from older agents (nothing known). The run documents
--   (coordinator/store.h STORE_INSTRUCTIONS_JSON) carry the note in their
--   "instructions" object when it is over 0, and the try and bisection answers say
--   per side which revision's counted runs started some (coordinator/trybatch.c).

ALTER TABLE runs ADD COLUMN child_processes integer NOT NULL DEFAULT 0
    CHECK (child_processes >= 0);

-- What the coordinator sends for each result (coordinator/store_results.c): appended.
ALTER TYPE run_in ADD ATTRIBUTE child_processes integer;
