-- 025: A/B tries on the farm (issue 17, `pyscope try SUITE --base REV --head REV`).
--
-- A try batch runs every script of a suite at two commits on each host it
-- selects, interleaved: jobs base, head, base, head ... per host (agents claim
-- a host's jobs in jobs.id order). Its runs are one revision against another,
-- not a night in a series: the nightly analysis never claims a try batch (it is
-- made analyzed at submit), and the series, baselines, team report and hardware
-- comparisons leave its runs out (batches.purpose = 'try'). Its verdicts are
-- decided when asked for (Query KIND_TRY, coordinator/trybatch.c, lib/abtest).
ALTER TABLE batches
    ADD COLUMN purpose text NOT NULL DEFAULT 'measure' CHECK (purpose IN ('measure', 'try')),
    ADD COLUMN try_base text CHECK (try_base ~ '^([0-9a-f]{40}|[0-9a-f]{64})$'),
    ADD CONSTRAINT batches_try_check CHECK ((purpose = 'try') = (try_base IS NOT NULL));
CREATE INDEX batches_try_idx ON batches (id) WHERE purpose = 'try';

ALTER TABLE jobs DROP CONSTRAINT jobs_purpose_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_purpose_check
    CHECK (purpose IN ('measure', 'reference', 'confirm', 'confirm_reference', 'try_base',
                       'try_head'));
