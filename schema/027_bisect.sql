-- 027: bisection on the farm (issue 17, `pyscope bisect SCRIPT --host H --good A --bad B`
-- and the coordinator's auto_bisect; docs/revisions.md, coordinator/bisection.c).
--
-- A bisection searches the first-parent chain of its bad commit back to its good
-- one (chain[1] = good .. chain[n] = bad) for the commit that made one script
-- slower on one host. Each step is an A/B try batch (schema/025_try.sql) of one
-- commit against another on that host; the coordinator's analyst thread decides a
-- finished step with the try's statistics (lib/abtest) and queues the next, so the
-- whole search lives in these rows and goes on after a coordinator restart.
--   lo, hi: positions in chain (1-based) of the last commit known good and the
--     first known bad; skipped: positions whose script could not be run.
--   phase: 'ends' (is bad slower than good at all?), 'step' (halving),
--     'confirm' (the culprit against its parent), then a final state.
--   state: running | found (culprit named, confirmed against its parent) |
--     candidates (only unrunnable commits between lo and hi) | no_regression (bad
--     is not slower than good) | inconclusive (a step stayed open after its extra
--     rounds; never a guess) | budget (time or runs ran out) | failed (an end
--     cannot be run) | cancelled | not_bisected (auto_bisect: the regression's
--     range holds one commit, or its good end is off the bad one's first-parent
--     history; message says which).
--   entry: the suite entry each step runs (script key, args, repeat ...).
CREATE TABLE bisections (
    id            bigserial PRIMARY KEY,
    origin        text NOT NULL CHECK (origin IN ('cli', 'auto')),
    regression_id bigint UNIQUE REFERENCES regressions (id),
    script_id     bigint NOT NULL REFERENCES scripts (id),
    host_id       bigint NOT NULL REFERENCES hosts (id),
    entry         jsonb NOT NULL,
    metric        text NOT NULL DEFAULT '',   -- '' = the decision's metric
    good          text NOT NULL REFERENCES commits (hash),
    bad           text NOT NULL REFERENCES commits (hash),
    chain         text[] NOT NULL CHECK (cardinality(chain) >= 2),
    lo            integer NOT NULL,
    hi            integer NOT NULL,
    skipped       integer[] NOT NULL DEFAULT '{}',
    rounds        integer NOT NULL CHECK (rounds BETWEEN 1 AND 50),
    max_extra     integer NOT NULL DEFAULT 2,  -- more rounds an open step may get
    max_runs      integer NOT NULL,            -- turns (jobs) at most, all steps together
    deadline      timestamptz NOT NULL,
    phase         text NOT NULL DEFAULT 'ends' CHECK (phase IN ('ends', 'step', 'confirm', 'end')),
    state         text NOT NULL DEFAULT 'running'
                  CHECK (state IN ('running', 'found', 'candidates', 'no_regression',
                                   'inconclusive', 'budget', 'failed', 'cancelled',
                                   'not_bisected')),
    message       text NOT NULL DEFAULT '',
    culprit       text REFERENCES commits (hash),
    created       timestamptz NOT NULL DEFAULT now(),
    finished      timestamptz,
    CHECK (lo >= 1 AND hi <= cardinality(chain) AND lo < hi)
);
CREATE INDEX bisections_running_idx ON bisections (id) WHERE state = 'running';

-- One step: the commit at position pos tested against the one at against_pos,
-- in one or more try batches (a step left open gets more rounds in a new
-- batch; the decision pools them all). outcome: pending | bad | good | skip
-- (the tested commit could not be run) | inconclusive | failed (the reference
-- side could not be run). result: lib/abtest's regression object of the pooled
-- runs (the evidence).
CREATE TABLE bisection_steps (
    bisection_id bigint NOT NULL REFERENCES bisections (id) ON DELETE CASCADE,
    n            integer NOT NULL,
    phase        text NOT NULL CHECK (phase IN ('ends', 'step', 'confirm')),
    pos          integer NOT NULL,
    against_pos  integer NOT NULL,
    batches      bigint[] NOT NULL,
    outcome      text NOT NULL DEFAULT 'pending'
                 CHECK (outcome IN ('pending', 'bad', 'good', 'skip', 'inconclusive', 'failed')),
    verdict      text,
    change_pct   double precision,
    base_runs    integer NOT NULL DEFAULT 0,
    head_runs    integer NOT NULL DEFAULT 0,
    runs_not_ok  integer NOT NULL DEFAULT 0,
    result       jsonb,
    started      timestamptz NOT NULL DEFAULT now(),
    decided      timestamptz,
    PRIMARY KEY (bisection_id, n)
);
