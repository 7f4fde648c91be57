-- 005_series_covering_index.sql - the batch analysis reads every series'
-- baseline samples from the series index alone (docs/DESIGN.md §13).
--
-- For each series of a new batch, the analysis reads its newest ~10 earlier
-- runs' samples (coordinator/analysis.c, BATCH_RUNS_SQL). The runs of one
-- series come from different nights, so each sat on its own heap page: a
-- batch of 3,500 series touched ~38,000 scattered pages of a table whose rows
-- are wide (hotspots, stacks). With the columns that query needs INCLUDEd in
-- the series index, it becomes an index-only scan: a series' entries are
-- neighbours in one or two leaf pages. The index grows from ~40 to ~300 bytes
-- a run (one run's 3 x N samples).
DROP INDEX runs_series_idx;
CREATE INDEX runs_series_idx ON runs (script_id, host_id, stored_at)
    INCLUDE (python_build, outcome, batch_id, run_id, wall_s, cpu_s, peak_rss_bytes);

-- An index-only scan needs the visibility map: vacuum this insert-mostly
-- table after every 2,000 new runs (autovacuum's default waits for 20% of the
-- table, weeks of nights on a big farm), so that by the next night the
-- earlier nights' runs are all-visible. Such a vacuum only visits the pages
-- not yet marked all-visible.
ALTER TABLE runs SET (autovacuum_vacuum_insert_threshold = 2000,
                      autovacuum_vacuum_insert_scale_factor = 0);
