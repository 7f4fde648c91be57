-- bisect_runs.sql - play host-b for the queued turns of bisection :bis (psql -v bis=ID
-- -v culprit=POS -v mode=MODE; tests/integration/test_bisect_steps.sh): every queued job
-- of its steps' try batches gets one ok run of five samples and is done, its batch
-- finished, so that the coordinator decides the step with the try's statistics.
-- A commit at chain position >= :culprit takes 1.6 s, an older one 1.0 s (about 1%
-- deterministic noise). Modes:
--   clean    just that
--   near     the culprit's parent (:culprit - 1) is noisy: its turns take 10% less and
--            10% more in turn, so every A/B of it is open after one try batch (5 pairs),
--            and the confirmation (the culprit against its parent, +60%) a regression
--            after two
--   reject   as near, but in the confirmation the culprit takes only 1.03 s (the steps
--            were misled): open, +3% is far likelier than the ends' +60%: nearer the good
--            end after two batches (the paired verdict alone stays open)
--   halving  the good end (position 1) is noisy in the halving steps only (as near's
--            parent): each halving step is open, and decided by the end it resembles
--            after two batches
-- (A noise a trimmed mean drops, one turn in five 2.5 times as long, decides every A/B
-- at once: lib/abtest.)
CREATE TEMP TABLE seed AS
SELECT x.job_id, x.batch_id, x.script_id, x.host_id, gen_random_uuid() AS run_id, now() AS at,
       (SELECT array_agg(
                   (CASE WHEN x.pos < :culprit THEN 1.0
                         WHEN :'mode' = 'reject' AND x.phase = 'confirm' THEN 1.03
                         ELSE 1.6 END)
                   * (CASE WHEN (:'mode' IN ('near', 'reject') AND x.pos = :culprit - 1)
                                OR (:'mode' = 'halving' AND x.pos = 1 AND x.phase = 'step')
                           THEN (CASE WHEN x.k % 2 = 1 THEN 0.9 ELSE 1.1 END) ELSE 1 END)
                   * (1 + 0.01 * sin(x.k * 7 + i * 3 + x.pos * 11)) ORDER BY i)
        FROM generate_series(1, 5) i) AS wall,
       0.4 AS fast
FROM (SELECT j.id AS job_id, j.batch_id, j.script_id, j.host_id, st.phase,
             array_position(b.chain, j.commit_hash) AS pos,
             row_number() OVER (PARTITION BY j.batch_id, j.purpose ORDER BY j.id) AS k
      FROM jobs j JOIN bisection_steps st ON j.batch_id = ANY (st.batches)
      JOIN bisections b ON b.id = st.bisection_id
      WHERE b.id = :bis AND j.state = 'queued') x;

\ir team_runs.sql
