#!/usr/bin/env bash
# test_install.sh - `cmake --install` puts everything a deployment needs under the prefix
# (GNUInstallDirs): the four programs in bin/, the systemd units in lib/systemd/system/
# with their paths rewritten for that prefix, the nightly script in libexec/pyscope/, the
# example configs and suite in share/doc/pyscope/examples/. The installed pyscope finds the
# installed pyscope-run next to itself and profiles a script.
source "$PYSCOPE_SRC/tests/integration/lib.sh"

prefix=/opt/pyscope-test
dest=$T/dest
rc=0
out=$(DESTDIR=$dest cmake --install "$PYSCOPE_BUILD" --prefix "$prefix" 2>&1) || rc=$?
expect_eq "cmake --install: exit 0" 0 "$rc"
root=$dest$prefix
for p in pyscope pyscope-run pyscope-agent pyscope-coordinator; do
    if [ -x "$root/bin/$p" ]; then ok "bin/$p installed"; else fail "bin/$p installed" "$out"; fi
done
units=$root/lib/systemd/system
for u in pyscope-coordinator.service pyscope-agent.service pyscope-nightly.service \
    pyscope-nightly.timer; do
    if [ -f "$units/$u" ]; then ok "unit $u installed"; else fail "unit $u installed" "$out"; fi
done
expect_match "coordinator unit runs the installed binary" \
    "^ExecStart=$prefix/bin/pyscope-coordinator --config /etc/pyscope/coordinator.conf$" \
    "$(cat "$units/pyscope-coordinator.service" 2>&1)"
expect_match "agent unit runs the installed binary" "^ExecStart=$prefix/bin/pyscope-agent " \
    "$(cat "$units/pyscope-agent.service" 2>&1)"
expect_match "nightly unit runs the installed script" \
    "^ExecStart=$prefix/libexec/pyscope/nightly.sh$" "$(cat "$units/pyscope-nightly.service" 2>&1)"
expect_nomatch "no unit names /usr/local any more" "/usr/local" "$(cat "$units"/* 2>&1)"
expect_eq "the rest of a unit is unchanged" \
    "$(grep -v '^ExecStart=' "$PYSCOPE_SRC/deploy/systemd/pyscope-agent.service")" \
    "$(grep -v '^ExecStart=' "$units/pyscope-agent.service" 2>&1)"
if [ -x "$root/libexec/pyscope/nightly.sh" ]; then ok "nightly.sh installed, executable"; else
    fail "nightly.sh installed, executable" "$out"; fi
for f in coordinator.conf.example agent.conf.example suite.ini; do
    expect_eq "example $f installed" "" \
        "$(cmp "$root/share/doc/pyscope/examples/$f" \
            "$PYSCOPE_SRC/$( [ $f = suite.ini ] && echo examples || echo deploy)/$f" 2>&1)"
done

# The installed CLI finds the installed runner beside it (no PYSCOPE_RUN_BIN).
printf 'print(sum(range(1000)))\n' >"$T/s.py"
rc=0
got=$(cd "$T" && env -u PYSCOPE_RUN_BIN "$root/bin/pyscope" run --no-save --json s.py 2>"$T/err") ||
    rc=$?
expect_eq "installed pyscope run: exit 0" 0 "$rc"
expect_match "installed pyscope run: a report" '"schema": "pyscope.report/1"' "$got"
finish
