#!/usr/bin/env bash
# quickstart.sh - from a fresh checkout to a first report, with nothing else to do:
# installs the Debian 12 packages that are missing (scripts/install-deps.sh, uses
# sudo when not root), builds PyScope into build/ (scripts/build.sh), then profiles
# examples/slow_script.py with `pyscope run`. Extra arguments go to `pyscope run`
# (e.g. ./deploy/quickstart.sh --repeat 5). Exits with pyscope's status.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
cd "$src"

echo "== quickstart: installing missing packages" >&2
./scripts/install-deps.sh
echo "== quickstart: building into build/" >&2
./scripts/build.sh "$src/build" -DPYSCOPE_WERROR=OFF # a user's newer compiler may warn: not an error
echo "== quickstart: build/cli/pyscope run ${*:+$* }examples/slow_script.py" >&2
status=0
build/cli/pyscope run "$@" examples/slow_script.py || status=$?
if [ "$status" -eq 0 ]; then
    cat >&2 <<'MSG'

== quickstart: done. Next:
   build/cli/pyscope run examples/slow_script.py   # again: the regression check compares runs
   build/cli/pyscope run --help                      # every option
   reports/html/                                     # open the newest HTML report in a browser
MSG
fi
exit "$status"
