#!/usr/bin/env bash
# test_farm_query.sh - "pyscope history SCRIPT --host H" and "pyscope compare-hosts SCRIPT"
# against a real coordinator (CURVE on) and PostgreSQL. Six nights of
# tests/integration/team_seed.sql (examples/a.py 30% slower on host-b on night 6, confirmed
# and stored by the batch analysis), plus a third host with another Python build and more
# memory, and a script only one host ran. Checks history's table, JSON (medians against
# psql, the stored regressions) and HTML; compare-hosts' ratio against one computed by
# /usr/bin/python3.11 from the same rows; and the errors: unknown script or host, one
# host, unreachable coordinator, bad options.
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/pg.sh"
source "$PYSCOPE_SRC/tests/integration/coord.sh"
source "$PYSCOPE_SRC/tests/integration/team_lib.sh"

CLI="$PYSCOPE_BUILD/cli/pyscope"
keys=$T/keys
allowed=$T/coord-keys
"$CLI" keygen cli --dir "$keys" >/dev/null
"$CLI" keygen stranger --dir "$keys" >/dev/null
"$CLI" keygen coordinator --dir "$allowed" >/dev/null
mkdir -p "$allowed/agents" "$allowed/submitters"
cp "$keys/cli.key" "$allowed/submitters/"
printf '[coordinator]\ncurve_keys_dir = %s\n' "$allowed" >"$T/coord.conf"

pg_start
coord_start --config "$T/coord.conf"
export PYSCOPE_COORDINATOR="$COORD_EP"
export PYSCOPE_SECRET_KEY=$keys/cli PYSCOPE_COORDINATOR_KEY=$allowed/coordinator.key

for n in 1 2 3 4 5 6; do team_seed team_seed.sql "$n" 6 30; done
expect_eq "night 6: one confirmation queued" 1 "$(team_settled)"
team_seed team_confirm.sql 6 6 30
expect_eq "confirmed and analysed" 0 "$(team_settled)"
# host-c: another Python build, twice the memory, 0.8x the wall time of host-a; and a
# script only host-a ran (straight into the tables: these batches are not analysed).
psql -q -v ON_ERROR_STOP=1 >/dev/null <<'EOF'
INSERT INTO hosts (fingerprint, hostname, cpu_model, cores, mem_bytes, os, kernel, arch, governor, load1)
VALUES ('00000000000000c3', 'host-c', 'cpu', 4, 1, 'linux', '6', 'x86_64', 'performance', 0),
       ('00000000000000d4', 'host-d', 'cpu', 4, 1, 'linux', '6', 'x86_64', 'performance', 0);
INSERT INTO scripts (key) VALUES ('examples/solo.py');
INSERT INTO batches (suite, label, "commit", state, finished, analyzed)
VALUES ('extra', 'extra', 'c', 'done', now(), now());
INSERT INTO jobs (batch_id, script_id, host_id, repeat, warmup, mode, timeout_s, state)
SELECT (SELECT max(id) FROM batches), s.id, h.id, 4, 0, 'sample', 60, 'done'
FROM scripts s, hosts h
WHERE (s.key = 'examples/a.py' AND h.hostname IN ('host-c', 'host-d'))
   OR (s.key = 'examples/solo.py' AND h.hostname = 'host-a');
INSERT INTO runs (run_id, job_id, attempt, batch_id, host_id, script_id, agent, script_sha256,
                  python_version, python_build, python_executable, outcome, message, governor,
                  load1, wall_s, cpu_s, peak_rss_bytes, exit_codes, signals, timed_out,
                  started_at, stored_at)
SELECT gen_random_uuid(), j.id, 1, j.batch_id, j.host_id, j.script_id, 'agent-c', 'abc', '3.12',
       'CPython 3.12 clang', '/usr/bin/python3.12', 'ok', '', 'performance', 0,
       (SELECT array_agg(x * CASE j.host_id WHEN (SELECT id FROM hosts WHERE hostname = 'host-d')
        THEN 1.25 ELSE 1 END) FROM unnest(ARRAY[0.80, 0.81, 0.79, 0.82, 0.8 + k * 0.001]) x),
       ARRAY[0.7, 0.7, 0.7, 0.7, 0.7],
       ARRAY[2000, 2000, 2000, 2000, 2000]::bigint[], '{0,0,0,0,0}', '{0,0,0,0,0}',
       '{f,f,f,f,f}', now() - (10 - k) * interval '1 minute', now() - (10 - k) * interval '1 minute'
FROM jobs j, generate_series(1, 3) k WHERE j.batch_id = (SELECT max(id) FROM batches);
-- host-c also ran a.py under host-a's and host-b's build, earlier: 0.9x, twice the memory
INSERT INTO runs (run_id, job_id, attempt, batch_id, host_id, script_id, agent, script_sha256,
                  python_version, python_build, python_executable, outcome, message, governor,
                  load1, wall_s, cpu_s, peak_rss_bytes, exit_codes, signals, timed_out,
                  started_at, stored_at)
SELECT gen_random_uuid(), j.id, 1, j.batch_id, j.host_id, j.script_id, 'agent-c', 'abc', '3.11',
       'CPython 3.11 gcc', '/usr/bin/python3.11', 'ok', '', 'performance', 0,
       ARRAY[0.90, 0.91, 0.89, 0.92, 0.9 + k * 0.001], ARRAY[0.7, 0.7, 0.7, 0.7, 0.7],
       ARRAY[2000, 2000, 2000, 2000, 2000]::bigint[], '{0,0,0,0,0}', '{0,0,0,0,0}',
       '{f,f,f,f,f}', now() - (20 - k) * interval '1 minute', now() - (20 - k) * interval '1 minute'
FROM jobs j JOIN hosts h ON h.id = j.host_id JOIN scripts s ON s.id = j.script_id,
     generate_series(1, 3) k
WHERE j.batch_id = (SELECT max(id) FROM batches) AND h.hostname = 'host-c' AND s.key = 'examples/a.py';
EOF

# ---- history --host on the farm ----
capture "$CLI" history examples/a.py --host host-b --json
expect_eq "history --json exits 0" 0 "$RC"
J=$OUT
expect_eq "history schema and source" "pyscope.history/1 farm" \
    "$(echo "$J" | json_get "d['schema'] + ' ' + d['source']")"
expect_eq "history: host-b's series" "host-b 00000000000000b2 CPython 3.11 gcc" \
    "$(echo "$J" | json_get "d['host']['hostname'] + ' ' + d['host']['fingerprint'] + ' ' + d['python_build']")"
series="s.key = 'examples/a.py' AND h.hostname = 'host-b' AND r.outcome = 'ok'"
rows="FROM runs r JOIN scripts s ON s.id = r.script_id JOIN hosts h ON h.id = r.host_id WHERE $series"
expect_eq "history: every run of the series, oldest first" \
    "$(pg_sql "SELECT string_agg(r.run_id::text, ' ' ORDER BY r.stored_at, r.run_id) $rows")" \
    "$(echo "$J" | json_get "' '.join(r['id'] for r in d['runs'])")"
expect_eq "history: run medians as psql computes them" \
    "$(pg_sql "SELECT string_agg(to_char((SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY w) FROM unnest(r.wall_s) w), 'FM0.000000'), ' ' ORDER BY r.stored_at, r.run_id) $rows")" \
    "$(echo "$J" | json_get "' '.join('%.6f' % r['median_wall_s'] for r in d['runs'])")"
expect_eq "history: batch ids" \
    "$(pg_sql "SELECT string_agg(r.batch_id::text, ' ' ORDER BY r.stored_at, r.run_id) $rows")" \
    "$(echo "$J" | json_get "' '.join(str(r['batch_id']) for r in d['runs'])")"
expect_eq "history: night 6 judged a regression against its baseline" "regression" \
    "$(echo "$J" | json_get "d['runs'][5]['verdict']")"
# nights 2 and 3 have 1 and 2 earlier runs: too few to call anything, "no change" included
expect_eq "history: quiet nights are no change once there are 3 earlier runs" \
    "inconclusive inconclusive no_change no_change" \
    "$(echo "$J" | json_get "' '.join(r['verdict'] for r in d['runs'][1:5])")"
expect_eq "history: the stored regressions of the series" \
    "$(pg_sql "SELECT count(*) FROM regressions g JOIN scripts s ON s.id = g.script_id JOIN hosts h ON h.id = g.host_id WHERE s.key = 'examples/a.py' AND h.hostname = 'host-b'")" \
    "$(echo "$J" | json_get "len(d['stored_regressions'])")"
expect_eq "history: marked on their candidate run" \
    "$(pg_sql "SELECT DISTINCT g.candidate_run FROM regressions g WHERE g.metric = 'wall_s'")" \
    "$(echo "$J" | json_get "' '.join(r['id'] for r in d['runs'] if any(g['metric'] == 'wall_s' for g in r['stored_regressions']))")"
expect_eq "history: other series listed" "host-a CPython 3.11 gcc 6|host-c CPython 3.11 gcc 3|host-c CPython 3.12 clang 3|host-d CPython 3.12 clang 3" \
    "$(echo "$J" | json_get "'|'.join('%s %s %d' % (o['hostname'], o['python_build'], o['runs']) for o in d['other_series'])")"
capture "$CLI" history examples/a.py --host 00000000000000b2 --json --limit 3
expect_eq "history by fingerprint, --limit 3: the newest three" \
    "$(echo "$J" | json_get "' '.join(r['id'] for r in d['runs'][-3:])")" \
    "$(echo "$OUT" | json_get "' '.join(r['id'] for r in d['runs'])")"
capture "$CLI" history examples/a.py --host host-b --html "$T/trend.html"
expect_eq "history table exits 0" 0 "$RC"
expect_match "table: title and source" "History of examples/a.py.*From the farm: $COORD_EP" "$(echo "$OUT" | tr '\n' ' ')"
# The confirming run's own verdict is recomputed by the CLI against a baseline that already
# holds night 6's slow run (no change point yet after one run): "regression" or, with the
# baseline's spread widened by that run, "inconclusive"; the farm's stored verdict is the mark.
expect_match "table: the regression row" "(regression|inconclusive) \(\+[23][0-9]\.[0-9]%\) \[farm: regression #[0-9]+, confirmed\]" "$OUT"
expect_match "table: stored regressions listed" "Stored by the farm's nightly analysis:" "$OUT"
# the next night's baseline is the farm's rule, not the local one's change points: night 6's
# runs are held out while its finding is open (stranger19 minor 6: "no change point: the
# newest 5 of the 5 runs")
open_id=$(pg_sql "SELECT min(g.id) FROM regressions g JOIN scripts s ON s.id = g.script_id JOIN hosts h ON h.id = g.host_id WHERE s.key = 'examples/a.py' AND h.hostname = 'host-b' AND g.state IN ('new', 'confirmed', 'ack')")
night6=$(pg_sql "SELECT count(*) $rows AND r.batch_id = (SELECT max(batch_id) $rows)")
expect_match "table: the farm's baseline for the next night, the open finding's runs held out" \
    "Baseline: the farm's nightly analysis \(no change points\) compares the next night with the newest 5 of this series' 5 usable runs of earlier nights; the $night6 runs from batch [0-9]+ on are held out while finding #$open_id \((new|confirmed)\) is open" "$OUT"
expect_nomatch "table: no local change-point sentence" "no change point:" "$OUT"
expect_eq "json: baseline_for_next is the farm's: 5 runs, night 6's held out" "farm 5 $night6" \
    "$(echo "$J" | json_get "'%s %d %d' % (d['baseline_for_next']['rule'], d['baseline_for_next']['n_runs'], d['baseline_for_next']['held_out_runs'])")"
expect_match "table: wall_s with its CI" "regression wall_s \+[23][0-9]\.[0-9]% \(95% CI \+" "$OUT"
html=$(cat "$T/trend.html")
expect_match "html: trend chart" "<svg" "$html"
expect_match "html: a regression marked" 'verdict-regression' "$html"
expect_match "html: the farm's stored regression" 'farm: regression #[0-9]+' "$html"
expect_nomatch "html: no script element" '<script' "$html"
capture "$CLI" history 'examples/<script>alert(1)</script>.py' --host host-a --html "$T/hostile.html"
expect_eq "history of the hostile name exits 0" 0 "$RC"
expect_match "html: hostile script name escaped" '&lt;script&gt;alert\(1\)&lt;/script&gt;' "$(cat "$T/hostile.html")"
expect_nomatch "html: hostile name not an element" '<script' "$(cat "$T/hostile.html")"

# errors
capture "$CLI" history examples/nope.py --host host-b
expect_eq "history: unknown script exits 2" 2 "$RC"
expect_match "history: unknown script explained" 'no runs of "examples/nope.py"' "$OUT"
capture "$CLI" history examples/a.py --host host-x
expect_eq "history: unknown host exits 2" 2 "$RC"
expect_match "history: unknown host explained" 'no host named "host-x".*pyscope hosts' "$OUT"
capture "$CLI" history examples/a.py
expect_eq "history on the farm without --host exits 2" 2 "$RC"
expect_match "history: --host asked for" "--host H is needed" "$OUT"
capture "$CLI" history examples/a.py --host host-b --coordinator "ipc://$T/nowhere.sock" --timeout 1
expect_eq "history: unreachable coordinator exits 4" 4 "$RC"
expect_match "history: unreachable explained" "could not reach|no answer" "$OUT"
capture "$CLI" history examples/a.py --host host-b --secret-key "$keys/stranger" --timeout 2
expect_eq "history: a stranger's key is refused (exit 4)" 4 "$RC"
capture "$CLI" history examples/a.py --host host-b --local --reports-dir "$T/none"
expect_eq "history --local reads local reports (none here: exit 2)" 2 "$RC"
expect_match "history --local: the local error" 'no reports folder' "$OUT"

# ---- compare-hosts ----
# psql: the newest 5 ok runs' wall samples of a host (one JSON list)
samples() {
    pg_sql "SELECT json_agg(w) FROM (SELECT r.wall_s FROM runs r JOIN scripts s ON s.id = r.script_id JOIN hosts h ON h.id = r.host_id WHERE s.key = 'examples/a.py' AND h.hostname = '$1' AND r.outcome = 'ok' AND r.python_build = 'CPython 3.11 gcc' ORDER BY r.stored_at DESC, r.run_id DESC LIMIT 5) x, unnest(x.wall_s) w"
}
want=$(/usr/bin/python3.11 -c "import json,statistics,sys; a=json.loads(sys.argv[1]); b=json.loads(sys.argv[2]); print('%.9f %d %d' % (statistics.median(b)/statistics.median(a), len(a), len(b)))" "$(samples host-a)" "$(samples host-b)")
capture "$CLI" compare-hosts examples/a.py --hosts host-a,host-b --json
expect_eq "compare-hosts --json exits 0" 0 "$RC"
C=$OUT
expect_eq "compare-hosts schema" "pyscope.compare_hosts/1" "$(echo "$C" | json_get "d['schema']")"
expect_eq "compare-hosts: one pair, B/A and counts as python3.11 computes them" "1 $want" \
    "$(echo "$C" | json_get "'%d %.9f %d %d' % (len(d['compare_hosts']['pairs']), d['compare_hosts']['pairs'][0]['ratio'], d['compare_hosts']['pairs'][0]['samples_a'], d['compare_hosts']['pairs'][0]['samples_b'])")"
expect_eq "compare-hosts: the CI holds the ratio, same build" "True True" \
    "$(echo "$C" | json_get "(lambda p: '%s %s' % (p['ci_low'] <= p['ratio'] <= p['ci_high'], p['same_python_build']))(d['compare_hosts']['pairs'][0])")"
capture "$CLI" compare-hosts examples/a.py --hosts host-a,host-b
expect_match "compare-hosts table" "host-a +host-b .* [0-9]\.[0-9]{3} +\[[0-9.]+, [0-9.]+\] +25 +30  3\.11$" "$OUT"
# the counts are samples, not the header's "newest 5 runs" (they were headed "n A", "n B":
# stranger19's minor 5)
expect_match "compare-hosts: the counts headed as samples" "95% CI +samples A samples B  Python$" "$OUT"
expect_match "compare-hosts: ... and said to be the runs' repeats" \
    "Samples: the timed repeats of those runs, pooled per host" "$OUT"
# like with like: a pair is compared under one Python build both hosts ran (the newest such)
capture "$CLI" compare-hosts examples/a.py --json
expect_eq "compare-hosts: every pair with a build in common, under it" \
    "host-a/host-b 3.11 CPython 3.11 gcc True|host-a/host-c 3.11 CPython 3.11 gcc True|host-b/host-c 3.11 CPython 3.11 gcc True|host-c/host-d 3.12 CPython 3.12 clang True" \
    "$(echo "$OUT" | json_get "'|'.join('%s/%s %s %s %s' % (p['host_a'], p['host_b'], p['python_version'], p['python_build'], p['python_build_a'] == p['python_build_b'] == p['python_build']) for p in d['compare_hosts']['pairs'])")"
expect_eq "compare-hosts: pairs without a build in common not compared, their builds listed" \
    "host-a/host-d CPython 3.11 gcc/CPython 3.12 clang|host-b/host-d CPython 3.11 gcc/CPython 3.12 clang" \
    "$(echo "$OUT" | json_get "'|'.join('%s/%s %s/%s' % (p['host_a'], p['host_b'], ';'.join(p['python_builds_a']), ';'.join(p['python_builds_b'])) for p in d['compare_hosts']['not_compared'])")"
expect_eq "compare-hosts: no --python asked" "None []" \
    "$(echo "$OUT" | json_get "'%s %s' % (d['compare_hosts']['python'], d['compare_hosts']['hosts_without_python'])")"
# host-c vs host-a under 3.11 (host-c ran 3.12 more recently): 0.9x the wall time of ... its
# own 3.11 runs, whatever its 3.12 runs say
want_c=$(/usr/bin/python3.11 -c "import json,statistics,sys; a=json.loads(sys.argv[1]); print('%.9f' % (statistics.median([0.90, 0.91, 0.89, 0.92, 0.901, 0.90, 0.91, 0.89, 0.92, 0.902, 0.90, 0.91, 0.89, 0.92, 0.903]) / statistics.median(a)))" "$(samples host-a)")
expect_eq "compare-hosts: host-c's side is its runs of the common build" "$want_c" \
    "$(echo "$OUT" | json_get "'%.9f' % [p for p in d['compare_hosts']['pairs'] if p['host_b'] == 'host-c' and p['host_a'] == 'host-a'][0]['ratio']")"
capture "$CLI" compare-hosts examples/a.py --python 3.12 --json
expect_eq "compare-hosts --python 3.12: the hosts that ran it, under it; the others left out" \
    "3.12|host-c/host-d 3.12 1.250|host-a,host-b" \
    "$(echo "$OUT" | json_get "'%s|%s|%s' % (d['compare_hosts']['python'], '|'.join('%s/%s %s %.3f' % (p['host_a'], p['host_b'], p['python_version'], p['ratio']) for p in d['compare_hosts']['pairs']), ','.join(h['hostname'] for h in d['compare_hosts']['hosts_without_python']))")"
capture "$CLI" compare-hosts examples/a.py --python 3.12
expect_eq "compare-hosts --python text exits 0" 0 "$RC"
expect_match "text: the Python asked for said" "one Python build on both: Python 3\.12" "$OUT"
expect_match "text: the pair's Python" "host-c +host-d .* 3\.12$" "$OUT"
expect_match "text: the build compared" "Python build compared \(the same on both hosts\): CPython 3\.12 clang" "$OUT"
expect_match "text: the hosts left out" "^Left out: no run under Python 3\.12:$" "$OUT"
expect_match "text: ... with their builds" "^  host-b: CPython 3\.11 gcc$" "$OUT"
capture "$CLI" compare-hosts examples/a.py --hosts host-c,host-a --metric memory --json
expect_eq "compare-hosts --metric memory: A/C order kept, 0.5, under the common build" \
    "host-c host-a 0.500 CPython 3.11 gcc" \
    "$(echo "$OUT" | json_get "(lambda p: '%s %s %.3f %s' % (p['host_a'], p['host_b'], p['ratio'], p['python_build']))(d['compare_hosts']['pairs'][0])")"
capture "$CLI" compare-hosts examples/a.py --hosts host-a,host-d
expect_eq "compare-hosts: two hosts without a build in common exit 2" 2 "$RC"
expect_match "compare-hosts: no common build explained" 'no Python build ran "examples/a.py" on both "host-a" and "host-d"' "$OUT"
capture "$CLI" compare-hosts examples/a.py --hosts host-a,host-c --python 3.12
expect_eq "compare-hosts: a named host without the Python exits 2" 2 "$RC"
expect_match "compare-hosts: which host, which Python" 'host "host-a" has no successful run of "examples/a.py" under Python 3\.12' "$OUT"
capture "$CLI" compare-hosts examples/a.py --python 3.9
expect_eq "compare-hosts: a Python no host ran exits 2" 2 "$RC"
expect_match "compare-hosts: no host ran it under that Python" 'no host ran "examples/a.py" under Python 3\.9' "$OUT"
expect_match "compare-hosts: ... and lists the Pythons each host ran it under" \
    'under Python 3\.9 \(host-a ran Python 3\.11[.0-9]*; host-b ran Python 3\.11[.0-9]*; host-c ran Python 3\.12, 3\.11[.0-9]*; host-d ran Python 3\.12: --python takes one of those\)' "$OUT"
capture "$CLI" compare-hosts examples/a.py --hosts host-a,host-c --python 3.12
expect_match "compare-hosts: a named host without the Python: what it ran" \
    'under Python 3\.12 \(host-a ran Python 3\.11[.0-9]*; pyscope compare-hosts without --python' "$OUT"
capture "$CLI" compare-hosts examples/a.py --python py3
expect_eq "compare-hosts: a bad --python is a usage error" 2 "$RC"
expect_match "compare-hosts: bad --python explained" '--python: "py3" is' "$OUT"
capture "$CLI" compare-hosts examples/a.py
expect_match "text: pairs not compared" "^Not compared: no Python build ran on both" "$OUT"
expect_match "text: ... each pair" "^  host-d vs host-b$" "$OUT"
expect_match "text: ... with the builds" "^    host-d: CPython 3\.12 clang$" "$OUT"
expect_match "text: each pair's build when they differ" "host-d vs host-c: CPython 3\.12 clang" "$OUT"
capture "$CLI" compare-hosts examples/a.py --html "$T/hosts.html"
html=$(cat "$T/hosts.html")
expect_match "compare-hosts --html: the ratio drawn" '<circle class="pt' "$html"
expect_match "compare-hosts --html: each pair's build" '<td>CPython 3\.12 clang</td></tr>' "$html"
expect_match "compare-hosts --html: pairs not compared" '<section id="not-compared">' "$html"
expect_match "compare-hosts --html: ... with their builds" \
    '<li>host-d vs host-a: no Python build ran on both \(host-a: CPython 3\.11 gcc; host-d: CPython 3\.12 clang\)</li>' "$html"
expect_nomatch "compare-hosts --html: no script element" '<script' "$html"
capture "$CLI" compare-hosts examples/a.py --python 3.12 --html "$T/hosts312.html"
html=$(cat "$T/hosts312.html")
expect_match "compare-hosts --html --python: the Python said" '<dt>Python</dt><dd>3\.12: ' "$html"
expect_match "compare-hosts --html --python: the hosts left out" \
    '<li>host-a: no run under Python 3\.12 \(it ran: CPython 3\.11 gcc\)</li>' "$html"
capture "$CLI" compare-hosts examples/solo.py
expect_eq "compare-hosts: one host exits 2" 2 "$RC"
expect_match "compare-hosts: one host explained" 'only host "host-a" ran' "$OUT"
capture "$CLI" compare-hosts examples/nope.py
expect_eq "compare-hosts: unknown script exits 2" 2 "$RC"
capture "$CLI" compare-hosts examples/a.py --hosts host-a,host-x
expect_eq "compare-hosts: unknown host exits 2" 2 "$RC"
expect_match "compare-hosts: unknown host explained" 'no host named "host-x"' "$OUT"
capture "$CLI" compare-hosts examples/a.py --hosts host-a
expect_eq "compare-hosts: one --hosts name is a usage error" 2 "$RC"
capture "$CLI" compare-hosts examples/a.py --metric speed
expect_eq "compare-hosts: bad metric is a usage error" 2 "$RC"
capture "$CLI" compare-hosts /etc/passwd
expect_eq "compare-hosts: not a script key" 2 "$RC"
# Ids that name nothing: said (what, how to find one), exit 2, nothing written; the web
# answers /batches/999 with 404 alike. A stranger's `report --batch 999` exited 0 and wrote
# an empty report.
newest=$(psql -X -A -t -c 'SELECT max(id) FROM batches')
cd "$T"
capture "$CLI" report --batch 999
cd - >/dev/null
expect_eq "report --batch 999: exit 2" 2 "$RC"
expect_match "report --batch 999: no such batch, the newest, how to list" \
    "error: no batch 999 \\(the newest is batch $newest; pyscope jobs lists" "$OUT"
expect_eq "report --batch 999: no file written" no "$([ -e "$T/pyscope-report.html" ] && echo yes || echo no)"
capture "$CLI" report --batch 999 --json
expect_eq "report --batch 999 --json: exit 2, nothing on stdout" "2 " "$RC $("$CLI" report --batch 999 --json 2>/dev/null)"
capture "$CLI" report --batch "$newest" --out "$T/newest.html"
expect_eq "report --batch of an existing batch: exit 0" 0 "$RC"
capture "$CLI" jobs --batch 999
expect_eq "jobs --batch 999: exit 2" 2 "$RC"
expect_match "jobs --batch 999: says so" "no batch 999" "$OUT"
capture "$CLI" status 999
expect_eq "status 999: exit 2" 2 "$RC"
expect_match "status 999: says so" "no batch 999" "$OUT"
capture "$CLI" status 999 --json
expect_eq "status 999 --json: exit 2" 2 "$RC"
capture "$CLI" triage 999 ack
expect_eq "triage 999: exit 2" 2 "$RC"
expect_match "triage 999: no such regression, how to list" "no regression has that id \\(pyscope report lists" "$OUT"
capture "$CLI" history examples/a.py --host host-x
expect_eq "history --host host-x: exit 2" 2 "$RC"
capture "$CLI" compare-pythons examples/a.py --host host-x
expect_eq "compare-pythons --host host-x: exit 2" 2 "$RC"
# the wire: every Query reply has "error" (docs/json-schema.md), null when the ids exist
expect_eq "a reply about an existing batch: error null" "None" \
    "$("$CLI" report --batch "$newest" --json | json_get "d['error']")"
capture "$CLI" compare-hosts examples/a.py --coordinator "ipc://$T/nowhere.sock" --timeout 1
expect_eq "compare-hosts: unreachable coordinator exits 4" 4 "$RC"
capture "$CLI" help compare-hosts
expect_match "compare-hosts --help" "Usage: pyscope compare-hosts SCRIPT" "$OUT"

# ---- what a host-vs-host ratio measures (issue 11, points 6 and 8) ----
# A stranger's deploy/farm.sh (two agents of one machine as two hosts) read "farm-b/farm-a =
# 0.415" as hardware 2.4x faster: it was the load each one met. host-a and host-b are now one
# machine (their agents report machine id box-1), host-c another (box-2), host-d unknown (no
# agent reports one). host-c's runs waited for a CPU 40% of their wall time, host-a's and
# host-b's 1% (runs.run_delay_s).
psql -q -v ON_ERROR_STOP=1 >/dev/null <<'EOF'
UPDATE agents SET machine = 'box-1'
WHERE host_id IN (SELECT id FROM hosts WHERE hostname IN ('host-a', 'host-b'));
INSERT INTO agents (name, host_id, agent_version, python_version, python_build, python_executable,
                    max_jobs, machine)
SELECT 'agent-host-c', id, '1', '3.12', 'CPython 3.12 clang', '/usr/bin/python3.12', 1, 'box-2'
FROM hosts WHERE hostname = 'host-c';
UPDATE runs r SET run_delay_s = (SELECT array_agg(u.w * CASE h.hostname WHEN 'host-c' THEN 0.4
                                                          ELSE 0.01 END ORDER BY u.i)
                                 FROM unnest(r.wall_s) WITH ORDINALITY AS u(w, i))
FROM hosts h WHERE h.id = r.host_id AND h.hostname IN ('host-a', 'host-b', 'host-c');
EOF
capture "$CLI" compare-hosts examples/a.py --json
expect_eq "compare-hosts --json (machines): exits 0" 0 "$RC"
# pair PATH EXPR A/B: EXPR of the pair A/B (p) in the pairs at PATH of $OUT
pair() { echo "$OUT" | json_get "(lambda p: $2)([p for p in d$1 if p['host_a'] + '/' + p['host_b'] == '$3'][0])"; }
pairs="['compare_hosts']['pairs']"
expect_eq "compare-hosts: host-a/host-b are one machine: the ratio measures their load" \
    "True box-1 box-1 load 1.0 1.0" \
    "$(pair "$pairs" "'%s %s %s %s %.1f %.1f' % (p['same_machine'], p['machine_a'], p['machine_b'], p['measures'], p['queued_pct_a'], p['queued_pct_b'])" host-a/host-b)"
expect_match "compare-hosts: ... said plainly, with their CPU-time ratio" \
    "^host-a and host-b are one machine \(machine id box-1\): the ratio measures their load and scheduling, not their hardware \(host-a waited for a CPU 1% of its wall time, host-b 1%\); CPU time B/A [0-9.]+ \(95% CI [0-9.]+-[0-9.]+\), which waiting for a CPU does not add to$" \
    "$(pair "$pairs" "p['caveat']" host-a/host-b)"
expect_eq "compare-hosts: ... the CPU-time ratio is that of the CPU samples (0.98 x wall)" "True" \
    "$(pair "$pairs" "abs(p['cpu']['ratio'] - p['ratio']) < 1e-9 and p['cpu']['samples_a'] == p['samples_a']" host-a/host-b)"
expect_eq "compare-hosts: host-a/host-c, two machines, host-c's wall time 40% queueing: contaminated" \
    "False box-2 hardware_and_load True 1.0 40.0 True" \
    "$(pair "$pairs" "'%s %s %s %s %.1f %.1f %s' % (p['same_machine'], p['machine_b'], p['measures'], p['wall_contaminated'], p['queued_pct_a'], p['queued_pct_b'], p['cpu'] is not None)" host-a/host-c)"
expect_match "compare-hosts: ... the CPU-time ratio is the one to read" \
    "^the wall-time ratio is contaminated by waiting for a CPU: host-a waited 1% of its wall time, host-c 40% \(5% or more is the load of the moment, not the machine\); CPU time B/A [0-9.]+ .* is not: read that one$" \
    "$(pair "$pairs" "p['caveat']" host-a/host-c)"
expect_eq "compare-hosts: host-d has no machine id: unknown, not the same" "None None None" \
    "$(pair "$pairs" "'%s %s %s' % (p['same_machine'], p['machine_b'], p['queued_pct_b'])" host-c/host-d)"
expect_eq "compare-hosts: each host's machine" "host-a=box-1 host-b=box-1 host-c=box-2 host-d=None" \
    "$(echo "$OUT" | json_get "' '.join('%s=%s' % (h['hostname'], h['machine']) for h in d['compare_hosts']['hosts'])")"
capture "$CLI" compare-hosts examples/a.py --metric cpu --hosts host-a,host-c --json
expect_eq "compare-hosts --metric cpu: queueing does not add to CPU time: no caveat" \
    "hardware True None None" \
    "$(echo "$OUT" | json_get "(lambda p: '%s %s %s %s' % (p['measures'], p['wall_contaminated'], p['cpu'], p['caveat']))(d['compare_hosts']['pairs'][0])")"
capture "$CLI" compare-hosts examples/a.py
expect_match "compare-hosts text: the one-machine row labelled" \
    "host-a +host-b .* [0-9]\.[0-9]{3} +\[[0-9.]+, [0-9.]+\] +25 +30  3\.11  \(one machine: load, not hardware\)$" "$OUT"
expect_match "compare-hosts text: the contaminated row labelled" \
    "host-a +host-c .*  3\.11  \(wall time contaminated\)$" "$OUT"
expect_match "compare-hosts text: one machine said" \
    "^host-b vs host-a: not the hardware: host-a and host-b are one machine \(machine id box-1\): the ratio measures their load" "$OUT"
expect_match "compare-hosts text: contamination said" \
    "^host-c vs host-a: not the hardware: the wall-time ratio is contaminated by waiting for a CPU: host-a waited 1% of its wall time, host-c 40%" "$OUT"
capture "$CLI" compare-hosts examples/a.py --html "$T/hosts-machines.html"
html=$(cat "$T/hosts-machines.html")
expect_match "compare-hosts --html: the one-machine ratio labelled" \
    '<td class="num muted">[0-9.]+ <span class="label">\(one machine: load\)</span></td>' "$html"
expect_match "compare-hosts --html: ... and said" \
    '<td colspan="9">Not the hardware: host-a and host-b are one machine \(machine id box-1\)' "$html"
# the team report of the last day (every seeded batch): the same pairs, and the matrix says
# which hosts are one machine and which levels waited for a CPU
capture "$CLI" report --json
expect_eq "report --json (machines): exits 0" 0 "$RC"
R=$OUT
hw="['report']['hardware'] if p['script'] == 'examples/a.py'"
expect_eq "report: hardware host-a/host-b of a.py is their load, one machine" "True load" \
    "$(pair "$hw" "'%s %s' % (p['same_machine'], p['measures'])" host-a/host-b)"
expect_eq "report: hardware host-a/host-c of a.py: wall time contaminated, CPU ratio given" \
    "hardware_and_load True" \
    "$(pair "$hw" "'%s %s' % (p['measures'], p['cpu'] is not None)" host-a/host-c)"
capture "$CLI" compare-hosts examples/a.py --json
expect_eq "report and compare-hosts agree on what each pair measures" "True" \
    "$(/usr/bin/python3.11 -c "
import json, sys
r = json.loads(sys.argv[1])['report']['hardware']
c = json.loads(sys.argv[2])['compare_hosts']['pairs']
key = lambda p: (p['host_a'], p['host_b'])
rs = {key(p): p for p in r if p['script'] == 'examples/a.py'}
print(len(rs) >= 3 and all(rs[key(p)][k] == p[k] for p in c if key(p) in rs
                           for k in ('same_machine', 'measures', 'caveat', 'cpu')))" "$R" "$OUT")"
expect_eq "report: the matrix names the hosts that are one machine" \
    '[{"machine": "box-1", "hosts": ["host-a", "host-b"]}]' \
    "$(echo "$R" | json_get "json.dumps(d['report']['matrix']['shared_machines'])")"
expect_eq "report: the matrix cells' queueing (host-a 1%, host-c 40%)" "host-a 1.0 host-c 40.0" \
    "$(echo "$R" | json_get "' '.join('%s %.1f' % (c['host'], c['queued_pct']) for c in d['report']['matrix']['cells'] if c['script'] == 'examples/a.py' and c['host'] in ('host-a', 'host-c'))")"
cd "$T"
capture "$CLI" report --out "$T/team-machines.html"
cd - >/dev/null
html=$(cat "$T/team-machines.html")
expect_match "report HTML: the one-machine ratio labelled" \
    '<span class="label">\(one machine: load\)</span>' "$html"
expect_match "report HTML: ... and said" \
    'Not the hardware: host-a and host-b are one machine \(machine id box-1\): the ratio measures their load and scheduling, not their hardware' "$html"
expect_match "report HTML: the contaminated ratio said" \
    'Not the hardware: the wall-time ratio is contaminated by waiting for a CPU: host-a waited 1% of its wall time, host-c 40%' "$html"
expect_match "report HTML: the matrix says which hosts are one machine" \
    '<p class="note shared-machine">host-a and host-b are one machine \(machine id box-1\)' "$html"
expect_match "report HTML: a level that waited for a CPU is labelled" '\(40% waiting for a CPU\)' "$html"

coord_stop
expect_eq "coordinator exits 0" 0 "$COORD_STATUS"
finish
