#!/usr/bin/env bash
# test_runner_venv.sh - a virtualenv's site-packages are used, with VIRTUAL_ENV set
# (as `source venv/bin/activate` does) and with --venv DIR, like venv/bin/python.
source "$(dirname "$0")/lib.sh"
source "$PYSCOPE_SRC/tests/data/scripts/tools/runner_helpers.sh"

cp "$SCRIPTS/venv_probe.py" "$SCRIPTS/show_env.py" "$T/"
cd "$T"
venv="$T/venv"
if ! "$PY" -m venv --without-pip "$venv" >"$T/venv.log" 2>&1; then
    fail "create a virtualenv" "$(cat "$T/venv.log")"
    finish
fi
site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
printf 'ANSWER = 42\n' >"$site/pyscope_venv_probe.py"

# Reference: the venv's own python.
capture ref "$venv/bin/python" venv_probe.py
expect_eq "venv python imports the probe" 0 "$RC"
expect_eq "probe comes from the venv" 42 "$(jeval "$T/ref.out" 'd["answer"]')"

# Plain pyscope-run (no venv): the module is not found, like /usr/bin/python3.11.
env -u VIRTUAL_ENV "$PYSCOPE_RUN" --output "$T/none.json" venv_probe.py >"$T/none.out" 2>"$T/none.err" && RC=0 || RC=$?
expect_eq "without a venv: script fails" 3 "$RC"
expect_match "without a venv: ModuleNotFoundError" "ModuleNotFoundError" "$(cat "$T/none.err")"

# check_venv LABEL NAME: run NAME (files $T/NAME.*) behaved like the venv's python.
check_venv() {
    local label=$1 name=$2
    expect_eq "$label: exit" 0 "$RC"
    expect_eq "$label: same as the venv's python" "$(cat "$T/ref.out")" "$(cat "$T/$name.out")"
    expect_eq "$label: JSON python.venv" "$venv" "$(jeval "$T/$name.json" 'd["python"]["venv"]')"
    expect_eq "$label: JSON python.prefix" "$venv" "$(jeval "$T/$name.json" 'd["python"]["prefix"]')"
}

VIRTUAL_ENV="$venv" run_ps envvar venv_probe.py
check_venv "VIRTUAL_ENV" envvar
env -u VIRTUAL_ENV "$PYSCOPE_RUN" --venv "$venv" --output "$T/opt.json" venv_probe.py \
    >"$T/opt.out" 2>"$T/opt.err" && RC=0 || RC=$?
check_venv "--venv" opt
VIRTUAL_ENV="$venv" run_ps envvar_trace --mode trace venv_probe.py
check_venv "VIRTUAL_ENV, trace mode" envvar_trace

# sys.executable and sys.path inside the venv match the venv's python.
capture env_ref "$venv/bin/python" show_env.py
VIRTUAL_ENV="$venv" run_ps env_ps show_env.py
expect_eq "venv: same sys.path and prefix" \
    "$(jeval "$T/env_ref.out" '[d["same"]["path"], d["same"]["prefix"], d["same"]["base_prefix"]]')" \
    "$(jeval "$T/env_ps.out" '[d["same"]["path"], d["same"]["prefix"], d["same"]["base_prefix"]]')"
expect_eq "venv: sys.executable in the venv" "$venv/bin/python3" \
    "$(jeval "$T/env_ps.out" 'd["info"]["executable"]')"

# multiprocessing needs a working sys.executable: spawn a child interpreter.
cat >"$T/mp.py" <<'PYEOF'
import multiprocessing as mp
import pyscope_venv_probe

def f(x):
    import pyscope_venv_probe as p
    return x * p.ANSWER

if __name__ == "__main__":
    ctx = mp.get_context("spawn")
    with ctx.Pool(2) as pool:
        print(sum(pool.map(f, range(4))))
PYEOF
VIRTUAL_ENV="$venv" run_ps mp mp.py
expect_eq "venv: multiprocessing spawn works" "0 252" "$RC $(cat "$T/mp.out")"

finish
