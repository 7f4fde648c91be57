#!/usr/bin/env bash
# regress_quality.sh [--quick] [--metric wall_s|cpu_s] [--build DIR] [--pools DIR] [--keep DIR]
#                    [--trials N] [--help]
#
# How good is PyScope's regression verdict? One command; not part of ctest.
#
# 1. MEASURED: real runs of tests/bench/regress_workload.py (~50 ms, CPU-bound; knob
#    PYSCOPE_QUALITY_SLOWDOWN=PCT) through the real pyscope-run, each `--repeat 10` (one run
#    = 10 wall-time samples, like `pyscope run --repeat 10`), into one pool per slowdown
#    level: 0%, 2%, 5%, 10%. The levels are interleaved in time (round robin: 0, 2, 5, 10,
#    0, 2, ...) so slow drift of the machine (load, thermal, other users) hits every level
#    alike instead of masquerading as a slowdown.
# 2. RESAMPLED (tests/bench/regress_sim.c, linked with libpyscope): many trials, each a
#    history of 10 runs drawn without replacement from the 0% pool, its baseline chosen as
#    `pyscope run` does (the runs since the latest change point), and one candidate run from
#    a level's pool (at 0%, a pool run outside the history), decided by lib/regress with the
#    default settings (threshold 5%, alpha 0.05). Measuring 10 runs x 10 repeats anew per
#    trial would cost ~10 s each; thousands of trials would take hours on a shared 2-core
#    machine. Resampling reuses each measured run in many trials, so the trials are not
#    independent: the rates are estimates from a finite pool (the Monte Carlo standard error
#    printed is a lower bound on the uncertainty; a bigger pool narrows it).
#    The power curve scales 0% candidates by 1 + s (synthetic slowdowns in 1% steps, up to
#    20%) and reports the smallest s detected in >= 90% of trials.
#    --metric cpu_s decides on CPU time instead of wall time (less sensitive to other load
#    on the machine); --keep DIR keeps the measured pools, --pools DIR reuses them (then
#    nothing is measured, e.g. to compare metrics on the same data).
#
# Goals: false alarms at 0% <= 1%, detection at 5% >= 95%, at 2% >= 70%.
# Defaults finish in about 10 minutes on 2 idle cores (about 250 measured runs, 1000 trials
# a level); --quick is a ~2 minute smoke run with small pools (its figures are rough).
# A busy machine makes the pools noisy and the verdicts rightly "inconclusive": the run
# medians' spread is printed first; run it on an otherwise idle machine. Exit status 0 when it ran (goals met or not), 2 on
# bad usage or missing build.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=$src/build
quick=0
metric=wall_s
pools=""
keep=""
trials=""
usage() { sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
    case $1 in
    --quick) quick=1 ;;
    --build) build=$2; shift ;;
    --pools) pools=$2; shift ;;
    --keep) keep=$2; shift ;;
    --trials) trials=$2; shift ;;
    --metric) metric=$2; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "regress_quality: unknown option $1 (try --help)" >&2; exit 2 ;;
    esac
    shift
done
levels=(0 2 5 10)
if [ $quick = 1 ]; then
    n0=14; n1=5; : "${trials:=200}"; step=2.5; ptrials=100
else
    n0=100; n1=40; : "${trials:=1000}"; step=1; ptrials=500
fi
case $metric in wall_s | cpu_s) ;; *) echo "regress_quality: --metric wall_s or cpu_s" >&2; exit 2 ;; esac
runner=$build/agent/runner/pyscope-run
lib=$build/lib/libpyscope.a
for f in "$runner" "$lib"; do
    [ -e "$f" ] || { echo "regress_quality: $f missing; build first (scripts/build.sh)" >&2; exit 2; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
start=$(date +%s)

cc -O2 -D_GNU_SOURCE -I"$src/lib" "$here/regress_sim.c" "$lib" \
    $(pkg-config --libs jansson libsodium uuid inih) -lm -o "$work/regress_sim"

if [ -z "$pools" ]; then
    pools=${keep:-$work/pools}
    for l in "${levels[@]}"; do mkdir -p "$pools/$l"; done
    total=$((n0 + n1 * (${#levels[@]} - 1)))
    echo "Measuring: $n0 runs at 0%, $n1 at each of ${levels[*]:1}% (x --repeat 10), interleaved"
    done_n=0
    for ((r = 0; r < n0; r++)); do
        for l in "${levels[@]}"; do
            if [ "$l" != 0 ] && [ $r -ge $n1 ]; then continue; fi
            out=$pools/$l/run_$(printf '%04d' $r).json
            PYSCOPE_QUALITY_SLOWDOWN=$l "$runner" --repeat 10 --output "$out" -- \
                "$here/regress_workload.py" >/dev/null 2>"$work/err" ||
                { echo "regress_quality: pyscope-run failed:" >&2; cat "$work/err" >&2; exit 1; }
            done_n=$((done_n + 1))
            if [ -t 2 ]; then printf '\r  %d/%d runs' $done_n $total >&2; fi
        done
    done
    [ -t 2 ] && printf '\n' >&2
    echo "Measured in $(($(date +%s) - start)) s"
else
    echo "Using measured pools in $pools"
fi

args=()
for l in "${levels[@]}"; do args+=("$l=$pools/$l"); done
# The knob scales the workload's own work, not the interpreter's start-up, so the change of
# the whole run is smaller than the knob: print what each pool really measured.
echo "Run medians per pool ($metric): min / median / max, and the pool median vs 0%:"
/usr/bin/python3.11 - "$pools" "$metric" "${levels[@]}" <<'PY'
import glob, json, statistics, sys
pools, metric, levels = sys.argv[1], sys.argv[2], sys.argv[3:]
base = None
for l in levels:
    meds = []
    for f in sorted(glob.glob(f"{pools}/{l}/*.json")):
        try:
            meds.append(statistics.median(r[metric] for r in json.load(open(f))["runs"]))
        except (OSError, ValueError, KeyError, TypeError):
            pass
    if not meds:
        continue
    m = statistics.median(meds)
    base = m if base is None else base
    print(f"  knob {l:>3}%: {min(meds):.4f} / {m:.4f} / {max(meds):.4f} s"
          f"  (max/min {max(meds) / min(meds):.2f}; median {100 * (m / base - 1):+.1f}% vs 0%)")
PY
"$work/regress_sim" --trials "$trials" --power-trials "$ptrials" --history 10 --step "$step" \
    --max 20 --metric "$metric" "${args[@]}" | tee "$work/sim"

rate() { awk -v l="$1" '$1 == "RESULT" && $2 == "level=" l { split($3, a, "="); print a[2] }' "$work/sim"; }
goal() { # goal NAME VALUE OP TARGET
    if awk -v v="$2" -v t="$4" -v op="$3" 'BEGIN { exit !((op == "<=") ? v <= t : v >= t) }'; then
        echo "  $1: $(awk -v v="$2" 'BEGIN { printf "%.1f%%", 100 * v }') (goal $3 $(awk -v t="$4" 'BEGIN { printf "%g%%", 100 * t }')): met"
    else
        echo "  $1: $(awk -v v="$2" 'BEGIN { printf "%.1f%%", 100 * v }') (goal $3 $(awk -v t="$4" 'BEGIN { printf "%g%%", 100 * t }')): MISSED"
    fi
}
echo
echo "Summary$([ $quick = 1 ] && echo ' (--quick: small pools, rough figures)'):"
goal "false alarm rate at 0%" "$(rate 0)" "<=" 0.01
goal "detection rate at 5%" "$(rate 5)" ">=" 0.95
goal "detection rate at 2%" "$(rate 2)" ">=" 0.70
echo "  detection rate at 10%: $(awk -v v="$(rate 10)" 'BEGIN { printf "%.1f%%", 100 * v }')"
p90=$(awk '$1 == "RESULT" && $2 ~ /^power90=/ { split($2, a, "="); print a[2] }' "$work/sim")
echo "  smallest slowdown detected with 90% power: ${p90}$([ "$p90" != none ] && echo %)"
echo "Total time: $(($(date +%s) - start)) s"
