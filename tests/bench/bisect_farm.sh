#!/usr/bin/env bash
# bisect_farm.sh [OPTIONS] [BUILD_DIR] - how often does the farm's bisection (pyscope bisect
# SCRIPT --host H, coordinator/bisection.c) name the right commit, and what does it cost?
# (issue 17; docs/benchmarks.md "Benchmark: the farm's bisection")
#
# Starts a throwaway PostgreSQL (tests/integration/pg.sh), a real coordinator and one real
# agent (tests/integration/farm_lib.sh, as test_bisect_farm does) on one generated git
# repository (tests/bench/bisect_farm_repo.py): one branch per trial, of COMMITS commits,
# where one commit at a random position makes hot() PCT% slower, in one of four workload
# shapes the bisection was not tuned on (arith, strings, dicts, calls; hot() is ~9/10 of the
# script's CPU time). Each trial runs `pyscope bisect bench/s.py --host H --good FIRST --bad
# LAST --metric cpu_s` to its end, one after another. Prints a line per trial and, per
# slowdown: trials, right (the culprit named and confirmed), WRONG (another commit named
# with confidence: must be 0), inconclusive (stopped, said: inconclusive or budget),
# no_regr (the ends did not see the slowdown), other (failed), the median turns (A/B
# executions: pyscope-run jobs), A/B steps and wall seconds of a bisection, and the turns of
# an ideal bisection (ceil(log2 COMMITS) + 2 steps of ROUNDS pairs, measured nowhere: the
# floor) with the median's ratio to it. Exit 1 when a wrong commit was named.
#
# Options (defaults in brackets):
#   --trials N       trials per slowdown [5]        --pcts "LIST"    slowdowns in % ["5 10 30"]
#   --commits N      commits per branch [32]        --rounds N       pairs per step [3]
#   --repeat N       measured runs per turn [2]     --work X         loop scale [2.0]
#   --threshold PCT  the bisection's threshold [a third of the slowdown, at least 2]
#   --budget S       per bisection [900]            --metric NAME    [cpu_s]
#                    (instructions: counted under valgrind on the agent, ~25-50x slower
#                    turns, deterministic; use a small --work and --repeat 1)
#   --hog            a CPU hog on every core throughout (the loaded case)
#   --rows FILE      keep the per-trial rows (bisect_summary.py FILE COMMITS ROUNDS prints
#                    the table again)          --keep DIR  keep every trial's JSON there
#   --max-minutes M  start no trial after M minutes (the table counts the trials run)
#   --quick          a cut-down run: 1 trial per slowdown, 8 commits (about
#                    3-4 minutes idle); options after it override it
# Idle figures need an idle machine: the load is printed at the start and the end.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
TRIALS=5 PCTS="5 10 30" COMMITS=32 ROUNDS=3 REPEAT=2 WORK=2.0 THRESHOLD="" BUDGET=900
METRIC=cpu_s HOG=0 build="" ROWS="" KEEP="" MAXMIN=0
while [ $# -gt 0 ]; do
    case $1 in
    --trials) TRIALS=$2; shift ;;
    --pcts) PCTS=$2; shift ;;
    --commits) COMMITS=$2; shift ;;
    --rounds) ROUNDS=$2; shift ;;
    --repeat) REPEAT=$2; shift ;;
    --work) WORK=$2; shift ;;
    --threshold) THRESHOLD=$2; shift ;;
    --budget) BUDGET=$2; shift ;;
    --metric) METRIC=$2; shift ;;
    --hog) HOG=1 ;;
    --rows) ROWS=$2; shift ;;
    --max-minutes) MAXMIN=$2; shift ;;
    --keep) KEEP=$2; shift ;;
    --quick) TRIALS=1 PCTS="5 10 30" COMMITS=8 ;;
    -h | --help) sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "bisect_farm.sh: unknown option $1 (--help lists them)" >&2; exit 2 ;;
    *) build=$1 ;;
    esac
    shift
done
[[ $MAXMIN =~ ^[0-9]+$ ]] || { echo "bisect_farm.sh: --max-minutes takes a whole number, not '$MAXMIN'" >&2; exit 2; }
for v in TRIALS COMMITS ROUNDS REPEAT BUDGET; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "bisect_farm.sh: --${v,,} takes a whole number > 0, not '${!v}'" >&2; exit 2; }
done
[ "$COMMITS" -ge 3 ] || { echo "bisect_farm.sh: --commits needs 3 or more" >&2; exit 2; }
if [ "$METRIC" = instructions ] && ! command -v valgrind >/dev/null; then
    echo "bisect_farm.sh: --metric instructions needs valgrind on the agent: apt-get install valgrind" >&2
    exit 2
fi
export PYSCOPE_SRC=$src PYSCOPE_BUILD
PYSCOPE_BUILD=$(cd "${build:-$src/build}" && pwd)
[ -x "$PYSCOPE_BUILD/coordinator/pyscope-coordinator" ] ||
    { echo "bisect_farm.sh: no build in $PYSCOPE_BUILD (./scripts/build.sh build)" >&2; exit 2; }
source "$src/tests/integration/lib.sh"
source "$src/tests/integration/farm_lib.sh"
trap 'exit 143' TERM INT # the EXIT traps stop PostgreSQL, the daemons and the hogs
export XDG_CACHE_HOME="$T/cache" GIT_CONFIG_NOSYSTEM=1 HOME="$T"
echo "# bisect_farm.sh: $(date -u '+%F %T UTC'), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# trials $TRIALS per slowdown, slowdowns ${PCTS// /,}%, $COMMITS commits, --rounds $ROUNDS --repeat $REPEAT --metric $METRIC, work x$WORK, hog $HOG"

# the trials: slowdown, shape (in turn), culprit position (random in 2..COMMITS)
shapes=(arith strings dicts calls)
specs=() k=0
for pct in $PCTS; do
    [[ $pct =~ ^[0-9]+(\.[0-9]+)?$ ]] || { echo "bisect_farm.sh: --pcts takes numbers, not '$pct'" >&2; exit 2; }
    for _ in $(seq "$TRIALS"); do
        specs+=("t$k:${shapes[$((k % 4))]}:$pct:$COMMITS:$((2 + RANDOM % (COMMITS - 1))):$WORK")
        k=$((k + 1))
    done
done
REPO=$T/repo
"$PY" "$src/tests/bench/bisect_farm_repo.py" "$REPO" "${specs[@]}" >"$T/trials"

farm_pg_start
farm_coord_start
"$AGENT_BIN" --coordinator "$COORD_URL" --name bench1 --spool "$T/spool-bench1" --repo "$REPO" \
    --revisions "$T/rev-bench1" "${FARM_AGENT_DEFAULTS[@]}" >>"$T/agent-bench1.log" 2>&1 &
FARM_PIDS+=("$!")
farm_wait 60 "[ \"\$(pg_sql 'SELECT count(*) FROM hosts' 2>/dev/null)\" = 1 ]" ||
    { farm_logs; echo "bisect_farm.sh: the agent did not register" >&2; exit 1; }
HOST=$(pg_sql "SELECT hostname FROM hosts")
if [ "$HOG" = 1 ]; then
    for _ in $(seq "$(nproc)"); do
        "$PY" -c 'while 1: pass' >/dev/null 2>&1 </dev/null &
        FARM_PIDS+=("$!")
    done
fi

printf '# %-5s %-8s %-5s %-4s %-13s %-9s %-6s %-5s %-7s %-6s %s\n' trial shape pct at kind named turns A/Bs wall_s ends% "state: message"
: >"$T/rows"
i=0
while read -r name good bad culprit; do
    if [ "$MAXMIN" -gt 0 ] && [ "$SECONDS" -ge $((MAXMIN * 60)) ]; then
        echo "# --max-minutes $MAXMIN: $((${#specs[@]} - i)) trials not run"
        break
    fi
    IFS=: read -r _ shape pct _ at _ <<<"${specs[$i]}"
    i=$((i + 1))
    thr=${THRESHOLD:-$("$PY" -c "print('%g' % max(2.0, $pct / 3))")}
    t0=$(date +%s.%N)
    (cd "$REPO" && farm_cli bisect bench/s.py --host "$HOST" --good "$good" --bad "$bad" \
        --rounds "$ROUNDS" --repeat "$REPEAT" --metric "$METRIC" --threshold "$thr" \
        --budget "$BUDGET" --json -q) >"$T/$name.json" 2>"$T/$name.err" || true
    t1=$(date +%s.%N)
    "$PY" - "$T/$name.json" "$culprit" "$pct" "$shape" "$at" "$name" "$t0" "$t1" >>"$T/rows" <<'PY' ||
import json, sys
path, want, pct, shape, at, name, t0, t1 = sys.argv[1:]
wall = float(t1) - float(t0)
try:
    d = json.load(open(path))["bisect"]
except (OSError, ValueError, KeyError):
    print(pct, "other", 0, 0, "%.1f" % wall, "-", name, shape, at, "-", "no JSON answer")
    sys.exit(0)
st = d["state"]
named = (d.get("culprit") or {}).get("hash") or ""
if st == "found":
    kind = "right" if named == want else "WRONG"
elif st == "candidates":  # the culprit among unrunnable commits: none here
    kind = "WRONG"
elif st in ("inconclusive", "budget"):
    # said, with an interval: "lost" when a step decided wrong and the interval misses it
    pos = {s["commit"]["hash"]: s["position"] for s in d["steps"]}
    pos[d["good"]["hash"]] = 0
    iv = d["interval"]
    lg, fb = pos.get(iv["last_good"]["hash"]), pos.get(iv["first_bad"]["hash"])
    kind = "inconclusive" if lg is None or fb is None or lg < int(at) - 1 <= fb else "lost"
elif st == "no_regression":
    kind = "no_regr"
else:
    kind = "other"
abs_ = len([s for s in d["steps"] if s["outcome"] != "skip"])
ends = [s["change_pct"] for s in d["steps"] if s["phase"] == "ends" and s["change_pct"] is not None]
print(pct, kind, d["turns"], abs_, "%.1f" % wall, "%.1f" % ends[-1] if ends else "-", name, shape,
      at, named[:8] or "-",
      st + ": " + d["message"].replace("\n", " "))
PY
        echo "$pct other 0 0 0 - $name $shape $at - unreadable" >>"$T/rows"
    tail -n 1 "$T/rows" | awk '{ m = $11; for (j = 12; j <= NF; j++) m = m " " $j;
        printf "# %-5s %-8s %-5s %-4s %-13s %-9s %-6s %-5s %-7s %-6s %s\n", $7, $8, $1, $9, $2, $10, $3, $4, $5, $6, substr(m, 1, 200) }'
done <"$T/trials"

echo "# load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
[ -z "$ROWS" ] || cp "$T/rows" "$ROWS"
if [ -n "$KEEP" ]; then
    mkdir -p "$KEEP"
    cp "$T"/t*.json "$T"/t*.err "$T"/*.log "$KEEP"/ 2>/dev/null || true
fi
"$PY" "$src/tests/bench/bisect_summary.py" "$T/rows" "$COMMITS" "$ROUNDS"
