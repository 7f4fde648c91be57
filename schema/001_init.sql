-- 001_init.sql - the farm's tables (docs/DESIGN.md §13).
--
-- Applied once by pyscope-coordinator at start, in a transaction, under an
-- advisory lock; schema_migrations (made by the coordinator) records it.
-- A series for regression analysis is (script, host, python build, metric):
-- runs_series_idx serves "the runs of one series, newest first".

-- A machine: stable identity (the fingerprint) plus drift fields.
CREATE TABLE hosts (
    id          bigserial PRIMARY KEY,
    fingerprint text NOT NULL UNIQUE,         -- 16 hex chars (lib/hostinfo)
    hostname    text NOT NULL,
    cpu_model   text NOT NULL,
    cores       integer NOT NULL,
    mem_bytes   bigint NOT NULL,
    os          text NOT NULL,
    kernel      text NOT NULL,
    arch        text NOT NULL,
    governor    text NOT NULL,                -- drift, as of last_seen
    load1       double precision NOT NULL,    -- drift, as of last_seen
    labels      jsonb NOT NULL DEFAULT '{}',  -- {"key": "value"}
    first_seen  timestamptz NOT NULL DEFAULT now(),
    last_seen   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX hosts_labels_idx ON hosts USING gin (labels);

-- An agent process (one or more per host), by the name it registers with.
CREATE TABLE agents (
    name              text PRIMARY KEY,
    host_id           bigint NOT NULL REFERENCES hosts (id),
    agent_version     text NOT NULL,
    python_version    text NOT NULL,
    python_build      text NOT NULL,
    python_executable text NOT NULL,
    max_jobs          integer NOT NULL,
    first_seen        timestamptz NOT NULL DEFAULT now(),
    last_seen         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX agents_host_idx ON agents (host_id);

-- A script by its normalized path (relative to the workspace root).
CREATE TABLE scripts (
    id         bigserial PRIMARY KEY,
    key        text NOT NULL UNIQUE,
    threshold  double precision,  -- regression threshold from the latest suite; NULL = default
    first_seen timestamptz NOT NULL DEFAULT now()
);

-- A submitted suite (e.g. one night).
CREATE TABLE batches (
    id       bigserial PRIMARY KEY,
    suite    text NOT NULL,
    label    text NOT NULL,
    "commit" text NOT NULL,
    created  timestamptz NOT NULL DEFAULT now(),
    state    text NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'done')),
    finished timestamptz
);

-- The queue: one job per (suite entry, host). attempt is the fencing token:
-- each claim increments it; a result must name the current one.
CREATE TABLE jobs (
    id                 bigserial PRIMARY KEY,
    batch_id           bigint NOT NULL REFERENCES batches (id),
    script_id          bigint NOT NULL REFERENCES scripts (id),
    host_id            bigint NOT NULL REFERENCES hosts (id),
    args               text[] NOT NULL DEFAULT '{}',
    repeat             integer NOT NULL CHECK (repeat BETWEEN 1 AND 1000),
    warmup             integer NOT NULL CHECK (warmup BETWEEN 0 AND 100),
    mode               text NOT NULL CHECK (mode IN ('sample', 'trace')),
    timeout_s          double precision NOT NULL CHECK (timeout_s > 0),
    memory_limit_bytes bigint NOT NULL DEFAULT 0,
    threshold          double precision,
    state              text NOT NULL DEFAULT 'queued'
                       CHECK (state IN ('queued', 'leased', 'done', 'failed')),
    attempt            integer NOT NULL DEFAULT 0,
    max_attempts       integer NOT NULL DEFAULT 3,
    lease_owner        text,
    lease_expires      timestamptz,
    created            timestamptz NOT NULL DEFAULT now(),
    updated            timestamptz NOT NULL DEFAULT now(),
    CHECK ((state = 'leased') = (lease_expires IS NOT NULL))
);
CREATE INDEX jobs_queued_idx ON jobs (host_id, id) WHERE state = 'queued';
CREATE INDEX jobs_leased_idx ON jobs (lease_expires) WHERE state = 'leased';
CREATE INDEX jobs_batch_idx ON jobs (batch_id);

-- One row per stored Result; run_id (made by the agent) makes inserts idempotent.
CREATE TABLE runs (
    run_id            uuid PRIMARY KEY,
    job_id            bigint NOT NULL REFERENCES jobs (id),
    attempt           integer NOT NULL,
    batch_id          bigint NOT NULL REFERENCES batches (id),
    host_id           bigint NOT NULL REFERENCES hosts (id),
    script_id         bigint NOT NULL REFERENCES scripts (id),
    agent             text NOT NULL,
    script_sha256     text NOT NULL,              -- '' when the script was not read
    python_version    text NOT NULL,
    python_build      text NOT NULL,              -- sys.version: part of the series key
    python_executable text NOT NULL,
    outcome           text NOT NULL CHECK (outcome IN ('ok', 'failed', 'timeout', 'refused', 'error')),
    message           text NOT NULL,
    governor          text NOT NULL,              -- drift at run time
    load1             double precision NOT NULL,  -- drift at run time
    wall_s            double precision[] NOT NULL, -- one sample per measured run
    cpu_s             double precision[] NOT NULL,
    peak_rss_bytes    bigint[] NOT NULL,
    exit_codes        integer[] NOT NULL,
    signals           integer[] NOT NULL,
    timed_out         boolean[] NOT NULL,
    started_at        timestamptz,
    stored_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX runs_series_idx ON runs (script_id, host_id, python_build, stored_at);
CREATE INDEX runs_batch_idx ON runs (batch_id);
CREATE INDEX runs_job_idx ON runs (job_id);

-- Function keys (normalized-file:qualname:first-line), shared by all runs.
CREATE TABLE functions (
    id  bigserial PRIMARY KEY,
    key text NOT NULL UNIQUE
);

-- Hotspots: one row per (run, function).
CREATE TABLE run_functions (
    run_id       uuid NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    function_id  bigint NOT NULL REFERENCES functions (id),
    calls        bigint NOT NULL,               -- 0 when unknown (sample mode)
    self_s       double precision NOT NULL,     -- median over measured runs
    total_s      double precision NOT NULL,
    self_s_runs  double precision[] NOT NULL,
    total_s_runs double precision[] NOT NULL,
    PRIMARY KEY (run_id, function_id)
);
-- A function's history across runs ("why": which functions explain a change).
CREATE INDEX run_functions_function_idx ON run_functions (function_id, run_id);

-- Collapsed stacks of a run, for flame graphs: {"functions": [key, ...],
-- "stacks": [{"thread": t, "frames": [index into functions, root first], "samples": n}]}.
CREATE TABLE run_stacks (
    run_id uuid PRIMARY KEY REFERENCES runs (run_id) ON DELETE CASCADE,
    stacks jsonb NOT NULL
);

-- Timestamps in query replies: RFC 3339 UTC with microseconds.
CREATE FUNCTION pyscope_ts(t timestamptz) RETURNS text
    LANGUAGE sql IMMUTABLE
    RETURN to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');
