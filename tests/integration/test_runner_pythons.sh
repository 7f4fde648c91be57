#!/usr/bin/env bash
# test_runner_pythons.sh - which python runs the script, and the ones pyscope-run
# refuses. The order is --python, then the virtualenv (--venv, then VIRTUAL_ENV),
# then the first python3 on PATH; a launcher (like a pyenv shim) gives way to
# the interpreter it starts; anything but CPython 3.10-3.13 in its default build
# is a usage error (2) that names the supported versions, before the script runs.
# Fake interpreters (shell scripts answering pyscope-run's question) stand for
# the unsupported ones, so these checks run on any machine.
source "$(dirname "$0")/lib.sh"
source "$PYSCOPE_SRC/tests/data/scripts/tools/runner_helpers.sh"

SUPPORTED="CPython 3.10, 3.11, 3.12 and 3.13"
cd "$T"
cp "$SCRIPTS/show_env.py" "$T/"
printf 'open("ran", "w").write("yes")\n' >"$T/marker.py"

# ps NAME ARGS...: pyscope-run with PATH and VIRTUAL_ENV as the caller set them, and
# the variables in PS_ENV ("NAME=VALUE ...") set for it alone.
ps() {
    local name=$1
    shift
    rm -f "$T/ran"
    # shellcheck disable=SC2086
    capture "$name" env ${PS_ENV:-} "$PYSCOPE_RUN" --output "$T/$name.json" "$@"
}
version_of() { jeval "$T/$1.json" '".".join(d["python"]["version"].split(".")[:2]) + " " + d["python"]["chosen_by"]'; }

# A second version, for telling the choices apart (any supported one but $PY's).
pyver=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
other=""
for v in 3.12 3.13 3.10 3.11; do
    if [ "$v" != "$pyver" ] && [ -n "$(find_python "$v")" ]; then
        other=$v
        break
    fi
done

# 1. Default: the first python3 on PATH, run as a shell runs it (argv[0] "python3").
mkdir -p "$T/bin"
ln -s "$PY" "$T/bin/python3"
PATH="$T/bin:$PATH" ps default show_env.py
expect_eq "default: exit" 0 "$RC"
expect_eq "default: python3 on PATH" "$pyver PATH" "$(version_of default)"
expect_eq "default: sys.orig_argv[0] is python3, as typed" "python3" \
    "$(jeval "$T/default.out" 'd["info"]["orig_argv0"]')"
expect_eq "default: sys.executable is the one on PATH" "$T/bin/python3" \
    "$(jeval "$T/default.out" 'd["info"]["executable"]')"

if [ -n "$other" ]; then
    OP=$(find_python "$other")
    mkdir -p "$T/bin2"
    ln -s "$OP" "$T/bin2/python3"
    PATH="$T/bin2:$PATH" ps other_path show_env.py
    expect_eq "PATH's python3 is $other: the script runs under $other" "$other PATH" \
        "$(version_of other_path)"
    # --python wins over PATH; a command name is looked up on PATH.
    ln -s "$OP" "$T/bin/python$other"
    PATH="$T/bin:$PATH" ps by_name --python "python$other" show_env.py
    expect_eq "--python NAME: looked up on PATH" "$other --python" "$(version_of by_name)"
    expect_eq "--python NAME: sys.orig_argv[0] is the name" "python$other" \
        "$(jeval "$T/by_name.out" 'd["info"]["orig_argv0"]')"
    # The virtualenv wins over PATH, --python over the virtualenv, --venv over VIRTUAL_ENV.
    "$OP" -m venv --without-pip "$T/venv_other" >/dev/null
    "$PY" -m venv --without-pip "$T/venv_py" >/dev/null
    PATH="$T/bin:$PATH" VIRTUAL_ENV="$T/venv_other" ps venv_env show_env.py
    expect_eq "VIRTUAL_ENV beats PATH" "$other VIRTUAL_ENV" "$(version_of venv_env)"
    expect_eq "VIRTUAL_ENV: sys.prefix is the venv" "$T/venv_other" \
        "$(jeval "$T/venv_env.out" 'd["same"]["prefix"]')"
    VIRTUAL_ENV="$T/venv_other" ps venv_opt --venv "$T/venv_py" show_env.py
    expect_eq "--venv beats VIRTUAL_ENV" "$pyver --venv" "$(version_of venv_opt)"
    VIRTUAL_ENV="$T/venv_other" ps python_opt --python "$PY" show_env.py
    expect_eq "--python beats VIRTUAL_ENV" "$pyver --python" "$(version_of python_opt)"
else
    echo "# only CPython $pyver here: the choices between versions are not checked"
fi

# 2. A launcher that execs the interpreter (as a pyenv shim does): the interpreter runs.
printf '#!/bin/sh\nexec "%s" "$@"\n' "$PY" >"$T/bin/launcher"
chmod +x "$T/bin/launcher"
ps launcher --python "$T/bin/launcher" show_env.py
expect_eq "launcher: exit" 0 "$RC"
real=$("$PY" -c 'import sys; print(sys.executable)')
expect_eq "launcher: the interpreter it starts runs the script" "$real" \
    "$(jeval "$T/launcher.out" 'd["info"]["executable"]')"

# 3. Refused, before the script runs, with the supported versions named.
# fake NAME IMPL MINOR ABIFLAGS: an "interpreter" answering pyscope-run's question.
fake() {
    printf '#!/bin/sh\nprintf "%s\\n3\\n%s\\n7\\n%s\\n/opt/%s/bin/python\\n/opt/%s\\n"\n' \
        "$2" "$3" "$4" "$1" "$1" >"$T/bin/$1"
    chmod +x "$T/bin/$1"
}
refused() {
    local label=$1 want=$2
    shift 2
    ps "$label" "$@" marker.py
    expect_eq "$label: usage error, script not run" "2 no" \
        "$RC $([ -e "$T/ran" ] && echo yes || echo no)"
    expect_match "$label: says why" "$want" "$(cat "$T/$label.err")"
}
fake py39 cpython 9 ""
refused "CPython 3.9" "CPython 3\\.9\\.7 .*not supported: pyscope-run profiles $SUPPORTED" \
    --python "$T/bin/py39"
fake py314 cpython 14 ""
refused "CPython 3.14" "CPython 3\\.14\\.7 .*not supported.*$SUPPORTED" --python "$T/bin/py314"
fake pypy pypy 10 ""
refused "PyPy" "pypy 3\\.10\\.7 .*not supported.*$SUPPORTED" --python "$T/bin/pypy"
fake py313t cpython 13 t
refused "free-threaded 3.13t" "free-threaded build, which is not supported.*$SUPPORTED" \
    --python "$T/bin/py313t"
fake py312d cpython 12 d
refused "debug build" "debug build, which is not supported" --python "$T/bin/py312d"
mkdir -p "$T/venv39/bin"
printf 'home = /opt/py39/bin\nversion = 3.9.7\n' >"$T/venv39/pyvenv.cfg"
ln -s "$T/bin/py39" "$T/venv39/bin/python3"
VIRTUAL_ENV="$T/venv39" refused "a 3.9 virtualenv (VIRTUAL_ENV)" \
    "CPython 3\\.9\\.7 .*from VIRTUAL_ENV.*not supported"
for v in 3.9 2.7; do
    real=$(find_python $v)
    if [ -n "$real" ]; then
        refused "a real CPython $v" "CPython ${v/./\\.}\\.[0-9]+ .*not supported.*$SUPPORTED" \
            --python "$real"
    fi
done
printf '#!/bin/sh\necho hello\n' >"$T/bin/notpython"
chmod +x "$T/bin/notpython"
refused "not a python" "\"$T/bin/notpython\" \(from --python\) is not a working Python interpreter: asked for its version, it gave no answer; pyscope-run profiles $SUPPORTED: choose one with --python PATH or --venv DIR" \
    --python "$T/bin/notpython"
refused "/bin/false" "\"/bin/false\" \(from --python\) is not a working Python interpreter: asked for its version, it failed; pyscope-run profiles $SUPPORTED" \
    --python /bin/false
refused "no such file" "--python \"$T/nope\": No such file" --python "$T/nope"
refused "no such command" "--python nosuchpython3: no such command on PATH" --python nosuchpython3
refused "not a virtualenv" "--venv \"$T\" is not a virtualenv \\(no pyvenv.cfg" --venv "$T"
PS_ENV=PATH=/nonexistent refused "no python3 on PATH" "no python3 on PATH"
refused "empty --python" "--python is empty" --python ""
# A path with a control character (a newline, an escape) is refused for what it is, not as an
# interpreter that "gave no answer"; the path is shown escaped.
nl="$T/bin/py
thon"
ln -s "$PY" "$nl"
refused "a newline in the path" \
    "--python \"$T/bin/py\\\\nthon\": the interpreter's path holds a newline \\(byte $((${#T} + 8))\\)" \
    --python "$nl"
esc="$T/bin/py$(printf '\033')[31m"
ln -s "$PY" "$esc"
refused "an escape in the path" "holds the control character 0x1b" --python "$esc"
run "$PYSCOPE" run --python "$nl" marker.py
expect_eq "pyscope run: a newline in --python is a usage error" 2 "$RC"
expect_match "pyscope run: says what is wrong with the path" "path holds a newline" "$ERR"
expect_nomatch "pyscope run: not 'gave no answer'" "gave no answer" "$ERR"

expect_match "--version names the supported versions" "$SUPPORTED" "$("$PYSCOPE_RUN" --version)"
finish
