#!/usr/bin/env bash
# try_quality.sh [OPTIONS] [BUILD_DIR] - how often is `pyscope try`'s verdict right?
# (issue 17; docs/benchmarks.md "Benchmark: the A/B verdict")
#
# A generated repository (tests/data/revisions/make_repo.sh, 3 commits): commit 2 makes f()
# PCT% slower (bench/f.py runs f: most of its CPU time). Each trial runs two tries with a
# fixed number of turns (--rounds N --max-rounds N, so the rule is measured, not the extra
# rounds): a null try, base == head (commit 1 against itself: every regression or
# improvement it prints is false), and an effect try, commit 1 against commit 2 (the
# decision should say regression). Prints, per build, over the trials:
#   null:   false decisions (the deciding metric says regression or improvement), false
#           run-level verdicts (wall, CPU, memory: what --fail-on-regression fails on), any
#           false verdict (hotspots too);
#   effect: right (regression), inconclusive, wrong (no change or improvement), and the
#           median change the deciding metric printed.
# With --baseline-build DIR the same trials run with that build too, interleaved with
# BUILD_DIR's (same machine state), so the two rows compare like with like: e.g. a build of
# the previous commit. Exit 0; 2 for a bad option.
#
# Options (defaults in brackets):
#   --trials N        trials (each a null and an effect try) [10]
#   --rounds N        turns of each side per try [3]      --repeat N  runs per turn [1]
#   --pct P           the slowdown of f() in % [20]       --work N    f()'s loop count [4000000]
#   --hog             a CPU hog on every core throughout (the loaded case)
#   --baseline-build DIR   a second build to measure in the same run
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
TRIALS=10 ROUNDS=3 REPEAT=1 PCT=20 WORK=4000000 HOG=0 build="" OLD=""
while [ $# -gt 0 ]; do
    case $1 in
    --trials) TRIALS=$2; shift ;;
    --rounds) ROUNDS=$2; shift ;;
    --repeat) REPEAT=$2; shift ;;
    --pct) PCT=$2; shift ;;
    --work) WORK=$2; shift ;;
    --hog) HOG=1 ;;
    --baseline-build) OLD=$2; shift ;;
    -h | --help) sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "try_quality.sh: unknown option $1 (--help lists them)" >&2; exit 2 ;;
    *) build=$1 ;;
    esac
    shift
done
for v in TRIALS ROUNDS REPEAT PCT WORK; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "try_quality.sh: --${v,,} takes a positive whole number, not '${!v}'" >&2; exit 2; }
done
build=$(cd "${build:-$src/build}" && pwd)
builds=("$build")
if [ -n "$OLD" ]; then
    OLD=$(cd "$OLD" && pwd)
    builds+=("$OLD")
fi
for b in "${builds[@]}"; do
    [ -x "$b/cli/pyscope" ] || { echo "try_quality.sh: no $b/cli/pyscope: build first (scripts/build.sh $b)" >&2; exit 2; }
done
command -v git >/dev/null || { echo "try_quality.sh: git is needed (apt-get install git)" >&2; exit 2; }

T=$(mktemp -d /tmp/pyscope-tryq.XXXXXX)
hogs=()
cleanup() {
    for p in "${hogs[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$T"
}
trap cleanup EXIT
export XDG_CACHE_HOME="$T/cache" GIT_CONFIG_NOSYSTEM=1 HOME="$T"
PYSCOPE_WORK_UNITS=$WORK bash "$src/tests/data/revisions/make_repo.sh" "$T/repo" 2 0 "$PCT" 0 0 0 3 \
    >"$T/hashes"
C1=$(sed -n 1p "$T/hashes") C2=$(sed -n 2p "$T/hashes")
if [ "$HOG" = 1 ]; then
    for _ in $(seq "$(nproc)"); do
        python3 -c 'while True: pass' &
        hogs+=($!)
    done
fi
echo "try_quality: $TRIALS trials, $ROUNDS turns a side, --repeat $REPEAT, f() +$PCT%, hog=$HOG, load $(cut -d' ' -f1-3 /proc/loadavg)"
cd "$T/repo"
for i in $(seq "$TRIALS"); do
    for kind in null effect; do
        head=$C1
        [ $kind = effect ] && head=$C2
        for j in "${!builds[@]}"; do
            b=${builds[$j]}
            out="$T/build$j-$kind-$i.json"
            "$b/cli/pyscope" try -q --base "$C1" --head "$head" --rounds "$ROUNDS" --max-rounds "$ROUNDS" \
                --repeat "$REPEAT" --json bench/f.py >"$out" 2>"$out.err" || true
            echo "$b $kind $out" >>"$T/index"
        done
    done
done
echo "load at the end $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$T/index" <<'PY'
import json, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    b, kind, path = line.split()
    r = rows.setdefault(b, {"null": [], "effect": []})
    try:
        reg = json.load(open(path))["regression"]
    except Exception as e:
        r[kind].append({"error": str(e)})
        continue
    d = reg.get("decision") or {}
    decided = lambda v: v in ("regression", "improvement")
    run_level = [m for m in reg.get("metrics", []) if not m.get("function")]
    r[kind].append({
        "decision": d.get("verdict"),
        "change": d.get("change_pct"),
        "run_false": any(decided(m.get("verdict")) for m in run_level),
        "any_false": any(decided(m.get("verdict")) for m in reg.get("metrics", [])),
        "false": ["%s%s %+.1f%%" % (m.get("metric"), "(" + m["function"] + ")" if m.get("function") else "",
                                   m.get("change_pct") or 0)
                  for m in reg.get("metrics", []) if decided(m.get("verdict"))],
        "mode": sorted({m.get("mode") for m in run_level if m.get("mode")}),
    })
for b, r in rows.items():
    n, e = r["null"], r["effect"]
    ok_n = [x for x in n if "error" not in x]
    ok_e = [x for x in e if "error" not in x]
    ch = [x["change"] for x in ok_e if isinstance(x.get("change"), (int, float))]
    print(f"\n{b}  (modes: {sorted({m for x in ok_n + ok_e for m in x['mode']})})")
    print(f"  null   ({len(n)} tries, {len(n) - len(ok_n)} failed): false decision "
          f"{sum(x['decision'] in ('regression', 'improvement') for x in ok_n)}, false run-level "
          f"verdict {sum(x['run_false'] for x in ok_n)}, any false verdict "
          f"{sum(x['any_false'] for x in ok_n)}")
    for x in ok_n:
        if x["false"]:
            print("    false: " + ", ".join(x["false"]))
    print(f"  effect ({len(e)} tries, {len(e) - len(ok_e)} failed): right "
          f"{sum(x['decision'] == 'regression' for x in ok_e)}, inconclusive "
          f"{sum(x['decision'] == 'inconclusive' for x in ok_e)}, wrong "
          f"{sum(x['decision'] in ('no_change', 'improvement') for x in ok_e)}, median change "
          + (f"{statistics.median(ch):+.1f}%" if ch else "-"))
PY
