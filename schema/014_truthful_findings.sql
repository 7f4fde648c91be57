-- 014_truthful_findings.sql - a finding is stored once, dated on the night it
-- began, and confirmed on purpose (issue 11).
--
-- Findings (coordinator/analysis.c, coordinator/findings.h):
--   * A finding (series, metric, function, kind) has at most one open row
--     (state new, confirmed or ack) that has not ended: a unique index says
--     so, so analysing a batch again (after its confirmation runs, after a
--     restart, from a second coordinator) cannot add a row beside it.
--   * ended_batch_id: the night the open row stopped being ongoing: the
--     series was back near the level before the finding, or a new step of
--     the same finding started a row of its own. A later slowdown of the
--     same series is then a new row dated on its own night, instead of being
--     attached to an old finding (which dated it early).
--   * confirmation: how a finding was confirmed: {"method": "bracketed" |
--     "re-run" | "none", ...} (docs/json-schema.md, pyscope.team_report/1).
-- Jobs:
--   * purpose: 'measure' (a suite entry), 'reference' (the suite's reference
--     script, one job per host each night), 'confirm' (a suspect series run
--     again), 'confirm_reference' (the reference runs bracketing it).
--   * confirm_of and slot: the job a confirmation job confirms and its place
--     (0 reference before, 1 the suspect, 2 reference after); unique, so a
--     confirmation is queued once however often the batch is analysed.
-- The queue (coordinator/store_queue.c, CLAIM_SQL): a host's jobs go out by batch,
--   then id (jobs_queued_idx); a later batch of a suite waits while an earlier
--   one has open jobs on the host or awaits its analysis.
-- Agents:
--   * machine: what the agent's Hello says it runs on (the label "machine",
--     else the kernel's boot id): agents of one machine share its CPUs and do
--     not hold leases at the same time unless the coordinator's
--     share_machines = 1.
-- held_out: a series' night that its confirmation did not confirm (the
--   first run was a fluke, or the machine drifted: "dismissed"; or the
--   confirmation did not settle it: "inconclusive") stays out of that series'
--   later baselines, so that a suspect night never widens the noise floor the
--   next nights are judged by. The report lists the inconclusive ones.
-- Batches:
--   * analysis_pass: 0 until the first analysis; 1 once it queued
--     confirmation jobs (the second analysis decides only those series).
--   * reference_script_id: the suite's reference script, if it names one.

ALTER TABLE regressions
    ADD COLUMN ended_batch_id bigint REFERENCES batches (id),
    ADD COLUMN confirmation jsonb NOT NULL DEFAULT '{}';

-- Rows the old analysis stored twice (a batch analysed again after its
-- confirmation run added rows beside the ongoing ones): of the open rows of
-- one finding, the newest stays open, the others end where the next began.
UPDATE regressions g SET ended_batch_id = greatest(r.next, g.batch_id), updated = now()
FROM (SELECT id, lead(batch_id) OVER (PARTITION BY script_id, host_id, python_build, metric,
                                                   function_key, kind ORDER BY batch_id, id) AS next
      FROM regressions WHERE state IN ('new', 'confirmed', 'ack')) r
WHERE g.id = r.id AND r.next IS NOT NULL;

ALTER TABLE regressions
    ADD CONSTRAINT regressions_nights_check CHECK (nights >= 1),
    ADD CONSTRAINT regressions_last_batch_check CHECK (last_batch_id >= batch_id),
    ADD CONSTRAINT regressions_ended_check CHECK (ended_batch_id IS NULL OR ended_batch_id >= batch_id);

CREATE UNIQUE INDEX regressions_open_idx
    ON regressions (script_id, host_id, python_build, metric, function_key, kind)
    WHERE ended_batch_id IS NULL AND state IN ('new', 'confirmed', 'ack');

ALTER TABLE jobs
    ADD COLUMN purpose text NOT NULL DEFAULT 'measure'
        CHECK (purpose IN ('measure', 'reference', 'confirm', 'confirm_reference')),
    ADD COLUMN confirm_of bigint REFERENCES jobs (id),
    ADD COLUMN slot smallint CHECK (slot BETWEEN 0 AND 2),
    ADD CONSTRAINT jobs_confirm_check
        CHECK ((purpose IN ('confirm', 'confirm_reference')) = (confirm_of IS NOT NULL)
               AND (confirm_of IS NULL) = (slot IS NULL));
CREATE UNIQUE INDEX jobs_confirm_idx ON jobs (confirm_of, slot) WHERE confirm_of IS NOT NULL;

ALTER TABLE batches
    ADD COLUMN analysis_pass smallint NOT NULL DEFAULT 0 CHECK (analysis_pass BETWEEN 0 AND 1),
    ADD COLUMN reference_script_id bigint REFERENCES scripts (id);

DROP INDEX jobs_queued_idx;
CREATE INDEX jobs_queued_idx ON jobs (host_id, batch_id, id) WHERE state = 'queued';

ALTER TABLE agents ADD COLUMN machine text NOT NULL DEFAULT '';
CREATE INDEX agents_machine_idx ON agents (machine) WHERE machine <> '';

CREATE TABLE held_out (
    script_id    bigint NOT NULL REFERENCES scripts (id),
    host_id      bigint NOT NULL REFERENCES hosts (id),
    python_build text NOT NULL,
    batch_id     bigint NOT NULL REFERENCES batches (id),
    reason       text NOT NULL CHECK (reason IN ('dismissed', 'inconclusive')),
    detail       jsonb NOT NULL DEFAULT '{}', -- the confirmation's wall and CPU verdicts
    created      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (script_id, host_id, python_build, batch_id)
);
CREATE INDEX held_out_batch_idx ON held_out (batch_id);
