-- team_hosts.sql - the two hosts (host-a, host-b) and their agents of the
-- seeded team tests (included by team_seed.sql and team_drift.sql).
INSERT INTO hosts (fingerprint, hostname, cpu_model, cores, mem_bytes, os, kernel, arch, governor, load1)
VALUES ('00000000000000a1', 'host-a', 'cpu', 2, 1, 'linux', '6', 'x86_64', 'performance', 0),
       ('00000000000000b2', 'host-b', 'cpu', 2, 1, 'linux', '6', 'x86_64', 'performance', 0)
ON CONFLICT DO NOTHING;
INSERT INTO agents (name, host_id, agent_version, python_version, python_build, python_executable, max_jobs)
SELECT 'agent-' || h.hostname, h.id, '1', '3.11', 'CPython 3.11 gcc', '/usr/bin/python3.11', 1
FROM hosts h ON CONFLICT DO NOTHING;
