-- 002_regressions.sql - regressions found by the batch analysis (docs/DESIGN.md §7).
--
-- When a batch is done, the coordinator (coordinator/analysis.c) compares each
-- series of the batch (script, host, python build; metrics wall_s, cpu_s,
-- peak_rss_bytes and the top hotspots) with its history and stores one row
-- per metric whose verdict is a regression or an improvement, with its
-- evidence. batches.analyzed marks a batch as analysed (claimed in the same
-- transaction that stores its rows, so two coordinators never both do it).
-- Triage moves state; 'expected' makes the candidate run the start of the
-- series' new baseline.

ALTER TABLE batches ADD COLUMN analyzed timestamptz;
-- batches finished before this migration are history, not news
UPDATE batches SET analyzed = now() WHERE state = 'done';
CREATE INDEX batches_unanalyzed_idx ON batches (id) WHERE state = 'done' AND analyzed IS NULL;

CREATE TABLE regressions (
    id               bigserial PRIMARY KEY,
    batch_id         bigint NOT NULL REFERENCES batches (id),
    script_id        bigint NOT NULL REFERENCES scripts (id),
    host_id          bigint NOT NULL REFERENCES hosts (id),
    python_build     text NOT NULL,
    metric           text NOT NULL,       -- wall_s, cpu_s, peak_rss_bytes, total_s, self_s
    function_key     text NOT NULL DEFAULT '', -- the hotspot of total_s/self_s, else ''
    kind             text NOT NULL CHECK (kind IN ('regression', 'improvement')),
    mode             text NOT NULL CHECK (mode IN ('statistical', 'threshold')),
    change_pct       double precision NOT NULL,
    ci_low_pct       double precision,    -- NULL when unbounded
    ci_high_pct      double precision,
    p_value          double precision,
    q_value          double precision,    -- Benjamini-Hochberg over the batch; NULL in threshold mode
    baseline_median  double precision NOT NULL,
    candidate_median double precision NOT NULL,
    baseline_runs    uuid[] NOT NULL,     -- oldest first
    candidate_run    uuid NOT NULL REFERENCES runs (run_id),
    why              jsonb NOT NULL DEFAULT '{}', -- regress_compare's "why"
    script_changed   boolean NOT NULL DEFAULT false,
    python_changed   boolean NOT NULL DEFAULT false,
    host_changed     boolean NOT NULL DEFAULT false,
    state            text NOT NULL DEFAULT 'new'
                     CHECK (state IN ('new', 'confirmed', 'ack', 'expected', 'fixed', 'invalid')),
    confirm_runs     integer NOT NULL DEFAULT 0,
    note             text NOT NULL DEFAULT '',
    detail           jsonb NOT NULL DEFAULT '{}', -- the whole metric object
    created          timestamptz NOT NULL DEFAULT now(),
    updated          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (batch_id, script_id, host_id, python_build, metric, function_key)
);
CREATE INDEX regressions_series_idx ON regressions (script_id, host_id, python_build, state);
