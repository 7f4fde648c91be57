#!/usr/bin/env bash
# parity.sh [--python PATH] [--mode sample|trace] [WORKLOAD...] - does the script run on
# the user's own binary, at its speed? Counts the instructions of the script's process
# (valgrind's cachegrind, PYTHONHASHSEED=0) under plain `PYTHON w.py` and under
# `pyscope-run --python PYTHON --mode MODE w.py` (the python that pyscope-run execs,
# followed with --trace-children; pyscope-run's own question to the interpreter,
# `python -E -s -S -c ...`, is skipped), and prints the ratio per workload.
# Instruction counts do not depend on the machine's load, unlike times: this is the
# evidence that sample mode adds nothing to the script's own work but the start-up
# of its module. Default: every workload in tests/bench/workloads/, sample mode,
# /usr/bin/python3. Needs valgrind; ~1 minute per workload.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
py=/usr/bin/python3
mode=sample
runner=${PYSCOPE_BUILD:-$src/build}/agent/runner/pyscope-run
while [ $# -gt 0 ]; do
    case $1 in
    --python) py=$2; shift 2 ;;
    --mode) mode=$2; shift 2 ;;
    -h | --help) sed -n '2,12p' "$0"; exit 0 ;;
    --) shift; break ;;
    -*) echo "parity.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
    esac
done
command -v valgrind >/dev/null || { echo "parity.sh: needs valgrind (apt-get install valgrind)" >&2; exit 2; }
[ -x "$runner" ] || { echo "parity.sh: no pyscope-run at $runner (build first)" >&2; exit 2; }
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
    for f in "$here"/workloads/*.py; do names+=("$(basename "$f" .py)"); done
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cg() { # cg OUTPREFIX CMD...: cachegrind, children followed except the probe
    PYTHONHASHSEED=0 valgrind --tool=cachegrind --cache-sim=no --trace-children=yes \
        --trace-children-skip-by-arg=-E --cachegrind-out-file="$tmp/$1.%p" "${@:2}" \
        >/dev/null 2>"$tmp/$1.log" || { cat "$tmp/$1.log" >&2; return 1; }
}
# The count of the process that ran the script: the one whose command is python's.
count() { grep -lF "cmd: $py " "$tmp/$1".[0-9]* | head -1 | xargs grep -h '^summary:' | awk '{print $2}'; }
printf '%-14s %16s %16s %9s\n' workload plain "pyscope-$mode" ratio
for w in "${names[@]}"; do
    script="$here/workloads/$w.py"
    cg "$w.plain" "$py" "$script"
    cg "$w.ps" "$runner" --python "$py" --mode "$mode" --output "$tmp/$w.json" "$script"
    a=$(count "$w.plain")
    b=$(count "$w.ps")
    printf '%-14s %16s %16s %9s\n' "$w" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN{printf "%.4f", b/a}')"
done
