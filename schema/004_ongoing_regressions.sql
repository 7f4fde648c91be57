-- 004_ongoing_regressions.sql - a regression still there the next night is
-- the same regression (issue 5).
--
-- When a batch finds a regression (or improvement) of a series, metric and
-- function that is still open from an earlier batch (state new, confirmed or
-- ack), the analysis attaches the finding to that row instead of adding a
-- new one: last_batch_id and last_run move to the new batch and run, nights
-- counts the batches that found it. batch_id, candidate_run and the evidence
-- stay those of the night it began ("ongoing since"). The team report of a
-- batch lists the regressions it found or saw again, each once.

ALTER TABLE regressions
    ADD COLUMN last_batch_id bigint REFERENCES batches (id),
    ADD COLUMN last_run uuid REFERENCES runs (run_id),
    ADD COLUMN nights integer NOT NULL DEFAULT 1;
UPDATE regressions SET last_batch_id = batch_id, last_run = candidate_run;
ALTER TABLE regressions ALTER COLUMN last_batch_id SET NOT NULL,
                        ALTER COLUMN last_run SET NOT NULL;
CREATE INDEX regressions_last_batch_idx ON regressions (last_batch_id);
