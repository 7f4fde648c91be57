-- 021_unsettled.sql - the series a night's analysis could not decide, listed.
--
-- A series whose first analysis is inconclusive is re-run to confirm only when
-- a re-run can settle it (coordinator/analysis.c). When it cannot (too little
-- history, a CPU-bound script on a busy machine, a noise floor wider than the
-- threshold), nothing was stored for it and the team report said nothing: a
-- slowdown measured that way was silent. Such a series-night is now one row
-- here, with the metric that decided and the rule and reason (detail.reason);
-- the report lists it under "inconclusive" beside held_out's. Unlike
-- held_out, its runs stay in later baselines (it is not suspect, only
-- undecided). Re-analysing the batch inserts nothing twice.
CREATE TABLE unsettled (
    script_id    bigint NOT NULL REFERENCES scripts (id),
    host_id      bigint NOT NULL REFERENCES hosts (id),
    python_build text NOT NULL,
    batch_id     bigint NOT NULL REFERENCES batches (id),
    metric       text NOT NULL,
    rule         text NOT NULL,
    detail       jsonb NOT NULL DEFAULT '{}', -- reason, change_pct, noise_pct, medians
    created      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (script_id, host_id, python_build, batch_id)
);
CREATE INDEX unsettled_batch_idx ON unsettled (batch_id);
