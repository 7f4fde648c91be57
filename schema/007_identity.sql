-- 007_identity.sql - a host is who the allowlist says (docs/security.md, "Who an
-- agent is").
--
-- hosts.hostname is now the host name the coordinator grants: with CURVE, the
-- one the agent's allowlist entry names (KEYS/agents/NAME.key, "host = HOST",
-- else NAME), never what the Hello claims; that claim is kept beside it in
-- reported_hostname. A host is (hostname, fingerprint): an agent key that
-- reports another host's fingerprint gets a row of its own and never touches
-- that host. When an agent's host reports a new fingerprint (new hardware, a
-- new kernel), the new row supersedes the old one (superseded_by, the series
-- split as before), the queued jobs move along, and host_events records it.
ALTER TABLE hosts ADD COLUMN reported_hostname text;
UPDATE hosts SET reported_hostname = hostname;
ALTER TABLE hosts DROP CONSTRAINT hosts_fingerprint_key;
ALTER TABLE hosts ADD CONSTRAINT hosts_identity_key UNIQUE (hostname, fingerprint);
ALTER TABLE hosts ADD COLUMN superseded_by bigint REFERENCES hosts (id);
CREATE INDEX hosts_fingerprint_idx ON hosts (fingerprint);

-- What happened to a host's identity, newest last.
CREATE TABLE host_events (
    id              bigserial PRIMARY KEY,
    hostname        text NOT NULL,          -- the granted host name
    agent           text NOT NULL,          -- the agent (key name) that said Hello
    kind            text NOT NULL CHECK (kind IN ('fingerprint_changed')),
    old_host_id     bigint REFERENCES hosts (id),
    new_host_id     bigint REFERENCES hosts (id),
    old_fingerprint text,
    new_fingerprint text,
    at              timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX host_events_hostname_idx ON host_events (hostname, id);

-- Any repeat count the suite format allows is stored (up to 1000 samples a
-- metric). schema/005 INCLUDEd the three sample arrays in runs_series_idx, and
-- a btree entry holds at most 2704 bytes: from ~100 repeats on, or with a long
-- python_build, the INSERT failed. The covering index now holds the runs that
-- fit (coordinator/store.h, STORE_RUNS_COVERED: the same predicate, which the
-- batch analysis repeats so the planner uses it); a small partial index finds
-- the others, read from the heap; and a key-only index serves every other
-- series query.
DROP INDEX runs_series_idx;
CREATE INDEX runs_series_key_idx ON runs (script_id, host_id, stored_at);
CREATE INDEX runs_series_idx ON runs (script_id, host_id, stored_at)
    INCLUDE (python_build, outcome, batch_id, run_id, wall_s, cpu_s, peak_rss_bytes)
    WHERE cardinality(wall_s) + cardinality(cpu_s) + cardinality(peak_rss_bytes) <= 192
      AND octet_length(python_build) <= 512;
CREATE INDEX runs_series_wide_idx ON runs (script_id, host_id, stored_at)
    WHERE NOT (cardinality(wall_s) + cardinality(cpu_s) + cardinality(peak_rss_bytes) <= 192
               AND octet_length(python_build) <= 512);

-- A batch finishes when its live hosts are done: a host with queued jobs and
-- no live agent for host_offline_s (coordinator config) is marked offline and
-- those jobs end 'failed' with end_reason 'host offline' (coordinator/store_hosts.c,
-- store_hosts_alive). hosts.last_seen is refreshed while an agent of the host
-- is connected to any coordinator sharing the database.
ALTER TABLE hosts ADD COLUMN offline_since timestamptz;
ALTER TABLE jobs ADD COLUMN end_reason text;
