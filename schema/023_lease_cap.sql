-- 023_lease_cap.sql - a lease is renewed only as long as its job can take
-- (issue 12: an agent that heartbeats forever must not hold a job forever).
--
-- jobs.lease_deadline: set when a job is claimed, to now + timeout_s x
-- (repeat + warmup) + the coordinator's lease_grace_s (checkout, setup, the
-- agent's kill grace). Heartbeats renew lease_expires up to it, never past
-- it; after it the reaper treats the lease as lost like any other (queued
-- again, or failed "lease expired" after max_attempts). NULL: no cap (rows
-- claimed before this migration).
ALTER TABLE jobs ADD COLUMN lease_deadline timestamptz;
