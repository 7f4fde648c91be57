-- 015_revisions.sql - jobs run at a commit; commits know their place in
-- history (issue 17; docs/revisions.md).
--
-- commits: what the submitters' git said about each commit they named and
--   its newest ancestors (Submit.commits): parents and a generation number
--   (1 for a root, else 1 + its parents' highest) order runs by their place
--   in history; subject, author and date name a regression's range. Text is
--   stored as sent (untrusted: shown through lib/sanitize). A description
--   never changes a commit's parents (a hash names its content); a later one
--   may fill in what an earlier one did not know (a generation number).
-- jobs.commit_hash: the commit a job runs at (the agent checks it out
--   read-only); NULL = the agent's workspace as it is (submits without a
--   resolved --commit, older clients).
-- batches.commit_hash: the commit the batch measured, when it has one;
--   batches."commit" stays the label it always was.

CREATE TABLE commits (
    hash       text PRIMARY KEY CHECK (hash ~ '^[0-9a-f]{40}([0-9a-f]{24})?$'),
    parents    text[] NOT NULL DEFAULT '{}',
    generation bigint CHECK (generation >= 1),  -- NULL = unknown
    subject    text NOT NULL DEFAULT '',
    author     text NOT NULL DEFAULT '',
    authored   timestamptz,
    first_seen timestamptz NOT NULL DEFAULT now()
);
-- the children of a commit (walking a range from its old end)
CREATE INDEX commits_parents_idx ON commits USING gin (parents);

ALTER TABLE batches ADD COLUMN commit_hash text REFERENCES commits (hash);
ALTER TABLE jobs ADD COLUMN commit_hash text REFERENCES commits (hash);

-- A commit as query replies show it (NULL for NULL or an unknown hash).
CREATE FUNCTION pyscope_commit(h text) RETURNS json
    LANGUAGE sql STABLE
    RETURN (SELECT json_build_object('hash', c.hash, 'subject', c.subject, 'author', c.author,
                                     'date', pyscope_ts(c.authored), 'generation', c.generation,
                                     'parents', c.parents)
            FROM commits c WHERE c.hash = h);

-- the commits of a generation window (a regression's range, coordinator/revrange.c)
CREATE INDEX commits_generation_idx ON commits (generation);
