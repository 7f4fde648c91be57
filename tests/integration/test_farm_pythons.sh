#!/usr/bin/env bash
# test_farm_pythons.sh - the farm knows each agent's Pythons (issue 14; docs/pythons.md).
# A real coordinator, PostgreSQL and agents; two supported CPythons of this machine (skip,
# exit 77, with fewer). An agent offered both (--python A --pythons B, no discovery) plus an
# unsupported one and a path that does not exist: it refuses those two with a log line each
# and reports the two it can run in Hello; `pyscope hosts` (text and --json) lists them. A
# suite with `python = A, B` makes one job per Python, each runs under its own interpreter
# (the run records the build it ran under), and the two are two series; `pyscope history
# --python` picks one. A Python no host has is refused at submit, naming the ones there
# are (no batch is made); a bad request is a usage error. Insider: an agent with a valid key
# that claims a Python it does not run gets the job, but its result (ran under 3.11.2) is
# stored as refused, saying so, and the job fails: it joins no series. compare-pythons and the
# team report's Pythons section name the functions whose time moved between the two builds.
# labels: asan
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/data/scripts/tools/runner_helpers.sh"
source "$PYSCOPE_SRC/tests/integration/farm_lib.sh"

SHIM="$PYSCOPE_BUILD/agent/runner/pyshim"
pys=()
vers=()
for v in 3.10 3.11 3.12 3.13; do
    p=$(find_python "$v")
    [ -n "$p" ] || continue
    ls "$SHIM"/sitecustomize.cpython-${v/./}-*.so >/dev/null 2>&1 || continue
    pys+=("$p")
    vers+=("$v")
    [ "${#pys[@]}" = 2 ] && break
done
if [ "${#pys[@]}" -lt 2 ]; then
    echo "skip: fewer than two supported CPythons with pyscope-run's module here (${vers[*]:-none})"
    exit 77
fi
A=${pys[0]} B=${pys[1]} VA=${vers[0]} VB=${vers[1]}
echo "# Pythons: $VA $A, $VB $B"
# pyenv's builds live under /root (0700): the job user could not run them
runas=()
[ "$(id -u)" != 0 ] || runas=(--run-as root)

# A run records the version of the interpreter that ran it, not that of the headers the
# per-version module was built with (one 3.X module serves every 3.X.y): a pyenv 3.11.7 run
# under a module built against Debian's 3.11.2 said 3.11.2, and the farm refused it.
for v in 3.10 3.11 3.12 3.13; do
    root=${PYENV_ROOT:-$HOME/.pyenv}
    for other in "$root"/versions/$v.*/bin/python$v /usr/bin/python$v; do
        [ -x "$other" ] || continue
        want=$("$other" -c 'import platform; print(platform.python_version())' 2>/dev/null) || continue
        "$PYSCOPE_BUILD/agent/runner/pyscope-run" --python "$other" --output "$T/ver.json" \
            -- "$PYSCOPE_SRC/examples/fib_recursion.py" 12 >/dev/null 2>&1 || continue
        expect_eq "the run under $other reports its own version" "$want" \
            "$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["python"]["version"])' "$T/ver.json")"
    done
done

farm_pg_start
farm_coord_start
ws=$T/ws
mkdir -p "$ws/bench"
# Under A the time goes to under_a(), under B to a lambda (its key has <lambda>, which the
# HTML must escape): the functions whose time moved most between the two are those.
cat >"$ws/bench/which.py" <<PY
import sys


def under_a(n):
    t = 0
    for i in range(n):
        t += i * i
    return t


spin = lambda n: sum(map(abs, range(n)))  # noqa: E731
if sys.version_info[:2] == (${VA/./, }):
    total = under_a(1500000)
else:
    total = spin(6000000)
print(sys.version_info[:2], total)
PY
unsupported=$(find_python 3.9)
[ -n "$unsupported" ] || unsupported=$(find_python 3.8)
extra=$B,/nonexistent/python3
[ -z "$unsupported" ] || extra=$extra,$unsupported
# a virtualenv under /tmp: each job's private /tmp hides it, so the agent must not offer it
hidden=$(mktemp -d /tmp/pyscope-hidden-venv.XXXXXX)
prev=$(trap -p EXIT | sed -E "s/^trap -- '(.*)' EXIT$/\1/")
trap "rm -rf '$hidden'; $prev" EXIT
"$B" -m venv --without-pip "$hidden/v" && extra=$extra,$hidden/v/bin/python3
farm_agent_start p1 "$ws" "${runas[@]}" --discover-pythons no --python "$A" --pythons "$extra"
farm_wait 30 '[ "$(pg_sql "SELECT count(*) FROM agents")" = 1 ]' ||
    { fail "agent registered" "none"; farm_logs; finish; exit 1; }
log=$(cat "$T/agent-p1.log")
expect_match "a path that does not exist is refused, said" \
    "python /nonexistent/python3 \(pythons =\): not used: " "$log"
[ ! -x "$hidden/v/bin/python3" ] ||
    expect_match "a virtualenv its jobs' private /tmp hides is refused, said" \
        "python $hidden/v/bin/python3 \(pythons =\): not used: jobs cannot see it: .* private /tmp hides" "$log"
[ -z "$unsupported" ] ||
    expect_match "an unsupported Python is refused, naming the supported" \
        "python ${unsupported//./\\.} \(pythons =\): not used: .*CPython 3\.10, 3\.11, 3\.12 and 3\.13" "$log"
expect_match "the agent says which Pythons jobs may ask for" "Pythons jobs may ask for: $VA\.[0-9]+ .*, $VB\.[0-9]+ " "$log"
expect_eq "Hello listed two Pythons" "2" "$(pg_sql "SELECT jsonb_array_length(pythons) FROM agents")"
expect_eq "each with its version, implementation and build" "$VA|cpython|t,$VB|cpython|t" \
    "$(pg_sql "SELECT string_agg(substring(p->>'version' from '^[0-9]+\.[0-9]+') || '|' || (p->>'implementation') || '|' || ((p->>'build') LIKE (p->>'version') || '%')::text, ',' ORDER BY o) FROM agents, jsonb_array_elements(pythons) WITH ORDINALITY AS x(p, o)" | sed 's/|true/|t/g')"

hl=$(farm_cli hosts)
expect_match "pyscope hosts shows both Pythons" "$VA\.[0-9]+,$VB\.[0-9]+" "$hl"
hj=$(farm_cli hosts --json)
expect_eq "pyscope hosts --json lists the agent's Pythons" "2" \
    "$(printf '%s' "$hj" | "$PY" -c 'import json,sys; d=json.load(sys.stdin); print(len(d["hosts"][0]["agents"][0]["pythons"]))')"

# ---- one job per Python; each runs under its own ----
cat >"$T/suite.ini" <<INI
[suite]
name = pythons
repeat = 2
timeout = 120
python = $VA, $VB
[script bench/which.py]
INI
st=0
out=$(cd / && farm_cli submit "$T/suite.ini" --wait) || st=$?
expect_eq "submit --wait exit status" 0 "$st"
expect_match "two jobs, both done" "jobs: +2 total, 2 done, 0 failed" "$out"
[ "$st" = 0 ] || { farm_logs; farm_cli jobs; }
expect_eq "each job asked for its Python" "$VA,$VB" "$(pg_sql "SELECT string_agg(python, ',' ORDER BY python) FROM jobs WHERE batch_id = 1")"
expect_eq "each run ran under the Python its job asked for" "2" \
    "$(pg_sql "SELECT count(*) FROM runs r JOIN jobs j ON j.id = r.job_id WHERE r.outcome = 'ok' AND pyscope_python_match(jsonb_build_array(jsonb_build_object('version', r.python_version, 'executable', r.python_executable)), j.python)")"
expect_eq "two builds: two series" "2" "$(pg_sql "SELECT count(DISTINCT python_build) FROM runs WHERE batch_id = 1")"
expect_match "the build is sys.version (compiler included)" "\[(GCC|Clang)" "$(pg_sql "SELECT python_build FROM runs LIMIT 1")"
build_b=$(pg_sql "SELECT python_build FROM runs WHERE python_version LIKE '$VB.%'")
hs=$(farm_cli history bench/which.py --host "$(pg_sql 'SELECT hostname FROM hosts')" --python-build "$build_b" --json 2>&1) || true
expect_match "history of one Python build" "${VB//./\\.}\." "$hs"

# --python overrides the suite's: one Python, one job
st=0
out=$(cd / && farm_cli submit "$T/suite.ini" --python "$VB" --wait) || st=$?
expect_eq "submit --python $VB" 0 "$st"
expect_match "--python: one job" "jobs: +1 total, 1 done" "$out"

# ---- compare-pythons: the script's builds on the host, each against the baseline ----
host=$(pg_sql 'SELECT hostname FROM hosts')
st=0
cp=$(farm_cli compare-pythons bench/which.py --json) || st=$?
expect_eq "compare-pythons --json exit status" 0 "$st"
expect_eq "both Pythons compared, the oldest the baseline, three metrics against it" \
    "$VA:True:0|$VB:False:3" \
    "$(printf '%s' "$cp" | "$PY" -c '
import json, sys
d = json.load(sys.stdin)
assert d["schema"] == "pyscope.compare_pythons/1", d["schema"]
c = d["compare_pythons"]
out = []
for p in c["pythons"]:
    vs = p.get("vs_baseline", {})
    for m in vs.values():
        assert m["ci_low"] <= m["ratio"] <= m["ci_high"], m
        assert m["verdict"] in ("improvement", "regression", "no_change", "inconclusive"), m
    out.append("%s:%s:%d" % (".".join(p["version"].split(".")[:2]), p["baseline"], len(vs)))
print("|".join(out))')"
expect_eq "the functions whose self time moved most: under_a() gone, the lambda new" \
    "under_a:-:0|<lambda>:+:0" \
    "$(printf '%s' "$cp" | "$PY" -c '
import json, sys
c = json.load(sys.stdin)["compare_pythons"]
other = [p for p in c["pythons"] if not p["baseline"]][0]
out = []
for f in other["functions"]:
    name = f["key"].split(":")[1]
    assert abs(f["self_s"] - f["base_s"] - f["delta_s"]) < 1e-9, f
    if name in ("under_a", "<lambda>"):
        gone = f["self_s"] if f["delta_s"] < 0 else f["base_s"]
        out.append("%s:%s:%g" % (name, "-" if f["delta_s"] < 0 else "+", gone))
print("|".join(sorted(out, reverse=True)))')"
st=0
cp=$(farm_cli compare-pythons bench/which.py --host "$host" --baseline "$VB") || st=$?
expect_eq "compare-pythons text exit status" 0 "$st"
expect_match "the table: the baseline and the other's wall time ratio" \
    "${VA//./\\.}\.[0-9]+ +wall time +[0-9.]+ s +[0-9.]+ +\[[0-9.]+, [0-9.]+\]" "$cp"
expect_match "it names the baseline asked for" "against ${VB//./\\.}\." "$cp"
expect_match "the functions that moved: under_a() now runs (it did not under $VB)" \
    "^ +\+[0-9.]+ +0\.0000 -> [0-9.]+ +bench/which\.py:under_a:" "$cp"
expect_match "and the lambda no longer does" "^ +-[0-9.]+ +[0-9.]+ -> 0\.0000 +bench/which\.py:<lambda>:" "$cp"
st=0
cp=$(farm_cli compare-pythons bench/which.py --pythons "$VA,3.99" 2>&1) || st=$?
expect_eq "a Python the host never ran: exit 2" 2 "$st"
expect_match "it names what the host has" "no run of \"bench/which.py\" under Python 3\.99 \(it has" "$cp"

# ---- the team report of both batches: a section with the same numbers as compare-pythons ----
st=0
rep=$(farm_cli report --since 1h --json) || st=$?
expect_eq "report --since 1h --json exit status" 0 "$st"
expect_eq "the report's Python section: the script on the host, the same ratio and functions" \
    "bench/which.py|$host|1|True|True" \
    "$(printf '%s\n%s' "$(printf '%s' "$rep" | tr -d '\n')" "$(farm_cli compare-pythons bench/which.py --json | tr -d '\n')" | "$PY" -c '
import json, sys
rep, cp = [json.loads(l) for l in sys.stdin.read().split("\n", 1)]
r = rep["report"]
assert r["pythons_total"] == len(r["pythons"]) == 1, r["pythons_total"]
s = r["pythons"][0]
c = cp["compare_pythons"]
a = [p for p in s["pythons"] if not p["baseline"]][0]
b = [p for p in c["pythons"] if not p["baseline"]][0]
same_ratio = a["vs_baseline"]["wall_s"]["ratio"] == b["vs_baseline"]["wall_s"]["ratio"]
same_fns = [f["key"] for f in a["functions"]] == [f["key"] for f in b["functions"]]
print("%s|%s|%d|%s|%s" % (s["script"], s["host"]["hostname"], len(s["pythons"]) - 1, same_ratio, same_fns))')"
st=0
farm_cli report --since 1h --out "$T/report.html" >/dev/null || st=$?
expect_eq "report --out exit status" 0 "$st"
html=$(cat "$T/report.html")
expect_match "html: the Pythons section with its table" '<section id="pythons">' "$html"
expect_match "html: its table" '<table id="pythons-table">' "$html"
expect_match "html: the lambda's key escaped" 'bench/which\.py:&lt;lambda&gt;:' "$html"
expect_nomatch "html: never unescaped" '<lambda>' "$html"
farm_cli report --batch 2 --out "$T/report2.html" >/dev/null || fail "report --batch 2" "exit $?"
expect_match "one Python in the batch: the section says so" \
    'No script ran under two Python builds on one host' "$(cat "$T/report2.html")"

# ---- a Python no host has: refused at submit, naming the ones there are ----
before=$(pg_sql "SELECT count(*) FROM batches")
st=0
out=$(cd / && farm_cli submit "$T/suite.ini" --python 3.99 2>&1) || st=$?
expect_eq "a Python no host has: exit 2 (the request is wrong, as for an unknown host)" 2 "$st"
expect_match "the refusal names the missing Python and the ones there are" \
    "no host the submit selects has Python 3\.99.*the Pythons they have: ${VA//./\\.}\.[0-9]+ .*${VB//./\\.}\." "$out"
expect_eq "no batch made for it" "$before" "$(pg_sql "SELECT count(*) FROM batches")"
st=0
out=$(cd / && farm_cli submit "$T/suite.ini" --python python3.12 2>&1) || st=$?
expect_eq "a request that is no version nor path: usage error" 2 "$st"
expect_match "it says what a request is" "not a version" "$out"
printf '[suite]\npython = 3.12, 3.12\n[script bench/which.py]\n' >"$T/bad.ini"
st=0
out=$(cd / && farm_cli submit "$T/bad.ini" 2>&1) || st=$?
expect_eq "a suite naming a Python twice is invalid" 2 "$st"
expect_match "with its line" "bad.ini:2: python: 3.12 named twice" "$out"

# ---- insider: an agent that claims a Python it does not run ----
FAKE="$PYSCOPE_BUILD/tests/tools/fake_agent"
mkfifo "$T/l.in"
"$FAKE" --connect "$COORD_URL" --name liar --fingerprint 00000000000000f1 --claim-python 3.13.0 \
    --wait 3000 <"$T/l.in" >"$T/l.out" &
FARM_PIDS+=("$!")
exec 7>"$T/l.in"
echo hello >&7
farm_wait 20 'grep -q "^welcome" "$T/l.out"' || fail "liar welcomed" "$(cat "$T/l.out")"
expect_eq "the liar's claim is stored" "3.13.0" "$(pg_sql "SELECT pythons->0->>'version' FROM agents WHERE name = 'liar'")"
out=$("$FAKE" --connect "$COORD_URL" --wait 3000 <<'CMDS'
submit bench/which.py @liar =3.13
CMDS
)
expect_match "a job for the Python it claims" "submit_reply batch=[0-9]+ jobs=1" "$out"
echo "ready 1 3000" >&7
farm_wait 20 'grep -q "^job id=" "$T/l.out"' || fail "liar got the job" "$(cat "$T/l.out")"
expect_match "the job asks it for 3.13" "^job id=[0-9]+ .* python=3\.13" "$(cat "$T/l.out")"
jid=$(sed -n 's/^job id=\([0-9]*\) .*/\1/p' "$T/l.out" | head -n 1)
echo "result $jid 1 - ok bench/which.py" >&7
farm_wait 20 'grep -q "^ack " "$T/l.out"' || fail "liar's result acked" "$(cat "$T/l.out")"
exec 7>&-
expect_eq "its run (under 3.11.2) is stored as refused, the job failed" "refused|failed" \
    "$(pg_sql "SELECT r.outcome || '|' || j.state FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.id = $jid")"
expect_match "the run says why" "asked for Python 3\.13 but ran under 3\.11\.2" \
    "$(pg_sql "SELECT message FROM runs WHERE job_id = $jid")"
expect_match "the coordinator logs it" "ran it under Python 3\.11\.2, not the 3\.13 it asked for" "$(cat "$T/coord.log")"
finish
