-- 022_pythons.sql - the farm knows each agent's Pythons; a job asks for one
-- (issue 14; docs/pythons.md).
--
-- agents.pythons: every interpreter the agent can run jobs under, as its
--   Hello listed them (Hello.pythons: version, build = sys.version,
--   executable, implementation, abiflags), its default first. Agents from
--   before report one (agents.python_*), copied here so both look alike.
-- jobs.python: the Python the job asks for (lib/pyreq.h: "3.12", "3.12.1",
--   or an interpreter's absolute path); '' = the agent's default. A job goes
--   only to a host one of whose agents reports a matching Python.
-- pyscope_python_match(pythons, request): that match, the same rule as
--   pyreq_match() in C (a version matches by components: "3.12" is 3.12 and
--   3.12.x, never 3.120; a path matches the executable).

ALTER TABLE agents ADD COLUMN pythons jsonb NOT NULL DEFAULT '[]';
UPDATE agents SET pythons = jsonb_build_array(jsonb_build_object(
    'version', python_version, 'build', python_build, 'executable', python_executable,
    'implementation', '', 'abiflags', ''));
ALTER TABLE jobs ADD COLUMN python text NOT NULL DEFAULT '';

CREATE FUNCTION pyscope_python_match(pythons jsonb, request text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT request <> '' AND EXISTS (
        SELECT 1 FROM jsonb_array_elements(pythons) AS p(v)
        WHERE CASE WHEN left(request, 1) = '/' THEN p.v->>'executable' = request
                   ELSE p.v->>'version' = request
                        OR starts_with(p.v->>'version', request || '.') END)
$$;
