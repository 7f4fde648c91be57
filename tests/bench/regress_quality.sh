#!/usr/bin/env bash
# regress_quality.sh [--quick] [--metric wall_s|cpu_s|instructions] [--threshold PCT] [--quantile Q]
#                    [--build DIR] [--pools DIR] [--keep DIR] [--trials N] [--sizes N0,N]
#                    [--load N] [--sweep-history H,H,...] [--help]
#
# How good is PyScope's regression verdict? One command; not part of ctest.
#
# 1. MEASURED: real runs of tests/bench/regress_workload.py (~0.25 s, CPU-bound; knob
#    PYSCOPE_QUALITY_SLOWDOWN=PCT) through the real pyscope-run, each `--repeat 10` (one run
#    = 10 samples, each a fresh process, like `pyscope run --repeat 10`), into one pool per
#    slowdown level: 0%, 2%, 5%, 10%. The levels are interleaved in time (0% in every round,
#    the others spread evenly over all rounds) so slow drift of the machine (load, thermal,
#    other users) hits every level alike instead of masquerading as a slowdown. The load average is sampled after
#    every run and printed with the pools' spread: say how noisy the machine was.
# 2. RESAMPLED (tests/bench/regress_sim.c, linked with libpyscope): many trials, each a
#    history of 10 runs drawn without replacement from the 0% pool, its baseline chosen as
#    `pyscope run` does (the runs since the latest change point), and candidate runs from a
#    level's pool (at 0%, pool runs outside the history), decided by lib/regress
#    (regress_metric_runs). Three rates per level: one candidate run; with the farm's
#    confirmation (a first "regression" is re-run and the second run, decided alone, must
#    regress too); with pooled confirmation (both runs together, `pyscope run --confirm 1`
#    style). Measuring 10 runs x 10 repeats anew per trial would cost ~30 s each; thousands
#    of trials would take hours on a shared 2-core machine. Resampling reuses each measured
#    run in many trials, so the trials are not independent: the rates are estimates from a
#    finite pool (the Monte Carlo standard error printed is a lower bound on the
#    uncertainty; a bigger pool narrows it).
#    The power curve scales 0% candidates by 1 + s (synthetic slowdowns in 2.5% steps, up to
#    20%) and reports the smallest s detected in >= 90% of trials.
#
# The verdict decides with a threshold: a change within it is "no change" by definition, so
# at the default 5% a 2% slowdown can never be a regression. The simulation therefore runs
# twice: with the default threshold (5%), and with --threshold PCT (default 1%), the one
# the detection goals are checked with. --metric cpu_s (default) or wall_s: the metric
# decided on; --quantile Q: the per-run statistic (regress_options.run_quantile; default
# lib/regress's 0.5, the median of a run's repeats). --keep DIR keeps the measured pools,
# --pools DIR reuses them (then nothing is measured, e.g. to compare rules on one data set).
#
# --metric instructions: the pools are measured with `pyscope-run --instructions` (each of
# the 10 repeats also counted under valgrind's cachegrind, ~2 s each) on a smaller workload
# (PYSCOPE_QUALITY_STEPS=200000, ~150 M instructions; the knob scales the loop, interpreter
# start-up stays, so a 2% knob is ~1.6% of the count). Counts are deterministic, so the
# pools are smaller (14 runs at 0%, 4 at each other level) and the power curve steps by 0.5%.
# --sizes N0,N: measure N0 runs at 0% and N at each other level instead of the defaults.
# --load N: N CPU hogs (python3 -c 'while 1: pass') run while the pools are measured, e.g.
# --load $(nproc) for "load = cores" (the machine's own load comes on top; it is printed).
#
# The farm's minimum baseline (coordinator/analysis.h, ANALYSIS_MIN_BASELINE_RUNS): the
# resampling is run once more per history size H of --sweep-history (default 3,4,5,6,8,10)
# with the batch analysis' baseline choice (regress_sim --farm: no change points, no
# automatic new level) and at least H baseline runs to decide (--min-baseline H), at the
# farm's default threshold of 5%: false alarms at 0% and detection at each level, with the
# farm's confirmation re-run. The smallest H whose false-alarm rate meets the goal (<= 1%)
# is printed as the minimum baseline the data supports.
#
# Goals: false alarms at 0% <= 1%, detection at 5% >= 95%, at 2% >= 70%.
# Defaults take about 20 minutes on 2 idle cores (about 220 measured runs, 300 trials a
# level; --metric instructions: 26 runs of ~21 s each (idle) to ~35 s (load 2.7), 9 to 15
# minutes); --quick is a rough smoke run with small pools.
# A busy machine makes the pools noisy and the verdicts rightly "inconclusive": the spread
# is printed first; run it on an otherwise idle machine. Exit status 0 when it ran (goals
# met or not), 2 on bad usage or missing build.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=$src/build
quick=0
metric=cpu_s
goal_threshold=1
quantile=""
pools=""
keep=""
trials=""
sizes=""
load=0
sweep="3,4,5,6,8,10"
usage() { sed -n '2,61p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
    case $1 in
    --quick) quick=1 ;;
    --build) build=$2; shift ;;
    --pools) pools=$2; shift ;;
    --keep) keep=$2; shift ;;
    --trials) trials=$2; shift ;;
    --sizes) sizes=$2; shift ;;
    --load) load=$2; shift ;;
    --sweep-history) sweep=$2; shift ;;
    --metric) metric=$2; shift ;;
    --threshold) goal_threshold=${2%\%}; shift ;;
    --quantile) quantile=$2; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "regress_quality: unknown option $1 (try --help)" >&2; exit 2 ;;
    esac
    shift
done
levels=(0 2 5 10)
case $metric in
wall_s | cpu_s) runner_opts=() ;;
instructions)
    runner_opts=(--instructions)
    export PYSCOPE_QUALITY_STEPS=${PYSCOPE_QUALITY_STEPS:-200000}
    ;;
*) echo "regress_quality: --metric wall_s, cpu_s or instructions" >&2; exit 2 ;;
esac
if [ $quick = 1 ]; then
    n0=16; n1=6; : "${trials:=100}"; step=2.5; ptrials=50
else
    n0=100; n1=40; : "${trials:=300}"; step=2.5; ptrials=100
fi
if [ "$metric" = instructions ]; then
    # deterministic counts: small pools suffice; fine steps find the smallest detected change
    step=0.5
    if [ $quick = 1 ]; then n0=13; n1=2; else n0=14; n1=4; fi
fi
if [ -n "$sizes" ]; then
    if ! [[ $sizes =~ ^([0-9]+),([0-9]+)$ ]] || [ "${BASH_REMATCH[1]}" -lt 12 ] ||
        [ "${BASH_REMATCH[2]}" -lt 2 ]; then
        echo "regress_quality: --sizes N0,N with N0 >= 12 and N >= 2" >&2
        exit 2
    fi
    n0=${BASH_REMATCH[1]}
    n1=${BASH_REMATCH[2]}
fi
runner=$build/agent/runner/pyscope-run
lib=$build/lib/libpyscope_stats.a
for f in "$runner" "$lib"; do
    [ -e "$f" ] || { echo "regress_quality: $f missing; build first (scripts/build.sh)" >&2; exit 2; }
done
if ! [[ $load =~ ^[0-9]+$ ]] || ! [[ $sweep =~ ^[0-9]+(,[0-9]+)*$ ]]; then
    echo "regress_quality: --load N (a number of hogs), --sweep-history H,H,..." >&2
    exit 2
fi
work=$(mktemp -d)
hogs=()
stop_hogs() { [ ${#hogs[@]} -eq 0 ] || kill "${hogs[@]}" 2>/dev/null || true; hogs=(); }
trap 'stop_hogs; rm -rf "$work"' EXIT
start=$(date +%s)

cc -O2 -D_GNU_SOURCE -I"$src/lib" "$here/regress_sim.c" "$lib" "$build/lib/libpyscope_core.a" \
    $(pkg-config --libs jansson libsodium uuid inih) -lm -o "$work/regress_sim"

if [ -z "$pools" ]; then
    pools=${keep:-$work/pools}
    for l in "${levels[@]}"; do mkdir -p "$pools/$l"; done
    total=$((n0 + n1 * (${#levels[@]} - 1)))
    echo "Measuring: $n0 runs at 0%, $n1 at each of ${levels[*]:1}% (x --repeat 10), interleaved"
    for ((i = 0; i < load; i++)); do
        /usr/bin/python3.11 -c 'while 1: pass' &
        hogs+=($!)
    done
    [ "$load" = 0 ] || echo "with $load CPU hogs running beside it"
    done_n=0
    : >"$pools/loadavg"
    # n0 rounds; every round measures 0%, and each other level n1 times spread evenly over
    # the n0 rounds, so every pool covers the whole measuring time alike
    for ((r = 0; r < n0; r++)); do
        for l in "${levels[@]}"; do
            k=$r
            if [ "$l" != 0 ]; then
                [ $(((r + 1) * n1 / n0)) -gt $((r * n1 / n0)) ] || continue
                k=$((r * n1 / n0))
            fi
            out=$pools/$l/run_$(printf '%04d' $k).json
            PYSCOPE_QUALITY_SLOWDOWN=$l "$runner" --repeat 10 "${runner_opts[@]}" --output "$out" -- \
                "$here/regress_workload.py" >/dev/null 2>"$work/err" ||
                { echo "regress_quality: pyscope-run failed:" >&2; cat "$work/err" >&2; exit 1; }
            cut -d' ' -f1 /proc/loadavg >>"$pools/loadavg"
            done_n=$((done_n + 1))
            if [ -t 2 ]; then printf '\r  %d/%d runs' $done_n $total >&2; fi
        done
    done
    if [ -t 2 ]; then printf '\n' >&2; fi
    stop_hogs
    echo "Measured in $(($(date +%s) - start)) s"
else
    echo "Using measured pools in $pools"
fi

args=()
for l in "${levels[@]}"; do args+=("$l=$pools/$l"); done
qargs=()
[ -n "$quantile" ] && qargs=(--quantile "$quantile")
# The knob scales the workload's own work, not the interpreter's start-up, so the change of
# the whole run is smaller than the knob: print what each pool really measured.
echo "How noisy it was (1-minute load average after each run, on $(nproc) cores; per-run"
echo "statistic = quantile ${quantile:-0.5} of a run's 10 repeats):"
/usr/bin/python3.11 - "$pools" "${quantile:-0.5}" "${levels[@]}" <<'PY'
import glob, json, statistics as st, sys
pools, q, levels = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
try:
    load = [float(x) for x in open(f"{pools}/loadavg")]
    print(f"  load average: min {min(load):.1f} / median {st.median(load):.1f} / max {max(load):.1f}")
except (OSError, ValueError):
    print("  load average: not recorded with these pools")
def quant(xs, p):
    xs = sorted(xs); k = (len(xs) - 1) * p; f = int(k); c = min(f + 1, len(xs) - 1)
    return xs[f] + (xs[c] - xs[f]) * (k - f)
def samples(doc, metric):
    if metric == "instructions":
        return doc["instructions"]["counts"]
    return [r[metric] for r in doc["runs"]]
for metric in ("wall_s", "cpu_s", "instructions"):
    base = None
    for l in levels:
        v = []
        for f in sorted(glob.glob(f"{pools}/{l}/*.json")):
            try:
                v.append(quant(samples(json.load(open(f)), metric), q))
            except (OSError, ValueError, KeyError, TypeError, IndexError):
                pass
        if len(v) < 2:
            continue
        m = st.median(v)
        base = m if base is None else base
        rcv = 100 * 1.4826 * st.median(abs(x - m) for x in v) / m
        if metric == "instructions":
            print(f"  {metric} knob {l:>3}%: {min(v):.0f} / {m:.0f} / {max(v):.0f} (distinct run "
                  f"values {len(set(v))}; median {100 * (m / base - 1):+.2f}% vs 0%)")
            continue
        print(f"  {metric} knob {l:>3}%: {min(v):.4f} / {m:.4f} / {max(v):.4f} s (max/min "
              f"{max(v) / min(v):.2f}, run-to-run sd {100 * st.stdev(v) / m:.1f}%, robust "
              f"{rcv:.1f}%; median {100 * (m / base - 1):+.1f}% vs 0%)")
PY

sim() { # sim THRESHOLD_PCT OUT
    echo
    echo "== threshold $1% =="
    "$work/regress_sim" --trials "$trials" --power-trials "$ptrials" --history 10 --step "$step" \
        --max 20 --metric "$metric" --threshold "$1" "${qargs[@]}" "${args[@]}" | tee "$2"
}
sim 5 "$work/sim5"
sim "$goal_threshold" "$work/simg"

field() { # field FILE LEVEL KEY
    awk -v l="$2" -v k="$3" '$1 == "RESULT" && $2 == "level=" l {
        for (i = 3; i <= NF; i++) { split($i, a, "="); if (a[1] == k) print a[2] } }' "$1"
}
pct() { awk -v v="$1" 'BEGIN { printf "%.1f%%", 100 * v }'; }
p90() { # p90 FILE KEY
    local v
    v=$(awk -v k="$2" '$1 == "RESULT" { split($2, a, "="); if (a[1] == k) print a[2] }' "$1")
    echo "${v}$([ "$v" != none ] && echo %)"
}
goal() { # goal NAME VALUE OP TARGET
    local met=MISSED
    if awk -v v="$2" -v t="$4" -v op="$3" 'BEGIN { exit !((op == "<=") ? v <= t : v >= t) }'; then
        met=met
    fi
    echo "  $1: $(pct "$2") (goal $3 $(awk -v t="$4" 'BEGIN { printf "%g%%", 100 * t }')): $met"
}
echo
echo "Summary ($metric$([ $quick = 1 ] && echo '; --quick: small pools, rough figures')):"
printf '  %-26s %10s %10s %10s %10s %10s\n' "threshold / confirmation" "FA at 0%" "det. 2%" \
    "det. 5%" "det. 10%" "90% power"
for t in 5 g; do
    f=$work/sim$t
    th=$([ $t = 5 ] && echo 5 || echo "$goal_threshold")
    for k in regression confirmed pooled; do
        case $k in regression) kn="none"; pk=power90 ;; confirmed) kn="farm re-run"; pk=power90_confirmed ;;
        pooled) kn="pooled"; pk=power90_pooled ;; esac
        printf '  %-26s %10s %10s %10s %10s %10s\n' "$th% / $kn" "$(pct "$(field "$f" 0 $k)")" \
            "$(pct "$(field "$f" 2 $k)")" "$(pct "$(field "$f" 5 $k)")" \
            "$(pct "$(field "$f" 10 $k)")" "$(p90 "$f" $pk)"
    done
done
echo "Goals, at threshold $goal_threshold%, one candidate run / with the farm's confirmation:"
for k in regression confirmed; do
    goal "false alarm rate at 0% ($k)" "$(field "$work/simg" 0 $k)" "<=" 0.01
    goal "detection rate at 5% ($k)" "$(field "$work/simg" 5 $k)" ">=" 0.95
    goal "detection rate at 2% ($k)" "$(field "$work/simg" 2 $k)" ">=" 0.70
done

# the farm's minimum baseline: false alarms and detection by history size
echo
echo "== the farm's minimum baseline (threshold 5%, batch analysis baseline choice) =="
printf '  %-16s %10s %10s %10s %10s %16s\n' "baseline runs" "FA at 0%" "det. 2%" "det. 5%" \
    "det. 10%" "FA, farm re-run"
chosen=""
IFS=, read -r -a hs <<<"$sweep"
for h in "${hs[@]}"; do
    f=$work/sweep$h
    if ! "$work/regress_sim" --trials "$trials" --power-trials 1 --history "$h" --max 0 \
        --metric "$metric" --threshold 5 --farm --min-baseline "$h" "${qargs[@]}" "${args[@]}" \
        >"$f" 2>"$f.err"; then
        printf '  %-16s %s\n' "$h" "(skipped: $(head -1 "$f.err"))"
        continue
    fi
    printf '  %-16s %10s %10s %10s %10s %16s\n' "$h" "$(pct "$(field "$f" 0 regression)")" \
        "$(pct "$(field "$f" 2 regression)")" "$(pct "$(field "$f" 5 regression)")" \
        "$(pct "$(field "$f" 10 regression)")" "$(pct "$(field "$f" 0 confirmed)")"
    if [ -z "$chosen" ] && awk -v v="$(field "$f" 0 regression)" 'BEGIN { exit !(v <= 0.01) }'; then
        chosen=$h
    fi
done
echo "  smallest baseline meeting false alarms <= 1% (one run): ${chosen:-none of these}"
echo "Total time: $(($(date +%s) - start)) s"
