-- 024_batch_reports.sql - each analysed batch's team report, stored.
--
-- Building a batch's team report reads the history of every series it ran
-- (seconds on a farm of thousands of series: docs/benchmarks.md). The
-- coordinator's analyst builds it once, right after the batch's analysis
-- commits, and stores it here; the web pages (/, /batch/N) and `pyscope report
-- --batch N` answer from this row while its tag still equals the batch's
-- fingerprint (coordinator/batch_report.c: state, analysis time, runs, the
-- regressions' count and last update, its inconclusive nights, the commits
-- their ranges read: a triage or a late run changes it) and built_by is this
-- coordinator's version and report format (REPORT_FORMAT in
-- coordinator/report.h, bumped whenever the document changes); otherwise they
-- build the report live, as before, and the analyst rebuilds the row. The
-- document is report_build()'s JSON text as built (type json, not jsonb: kept
-- byte for byte, keys in their order), so a stored report and a live one print
-- the same.
CREATE TABLE batch_reports (
    batch_id bigint PRIMARY KEY REFERENCES batches (id) ON DELETE CASCADE,
    tag      text NOT NULL,  -- the batch's fingerprint when the document was built ('' = stale)
    built_by text NOT NULL,  -- who built it: version and report format, '0.1.0 format 1'
    built_at timestamptz NOT NULL DEFAULT now(),
    build_ms double precision NOT NULL DEFAULT 0,
    doc      json NOT NULL
);
