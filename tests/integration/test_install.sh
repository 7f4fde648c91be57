#!/usr/bin/env bash
# test_install.sh - `cmake --install` puts everything a deployment needs under the prefix
# (GNUInstallDirs): the four programs in bin/, the systemd units in lib/systemd/system/
# with their paths rewritten for that prefix, the nightly script in libexec/pyscope/, the
# example configs and suite in share/doc/pyscope/examples/, the manual pages in share/man/,
# the Python shim in <libdir>/pyscope/pyshim/. The installed pyscope finds the installed
# pyscope-run next to itself, which finds its shim, and profiles a script.
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

# Manual pages, made from each program's --help: one per command, the daemons in section 8.
man=$root/share/man
for pg in man1/pyscope.1 man1/pyscope-run.1 man1/pyscope-submit.1 man1/pyscope-report.1 \
    man8/pyscope-agent.8 man8/pyscope-coordinator.8; do
    if [ -s "$man/$pg" ]; then ok "$pg installed"; else fail "$pg installed" "$out"; fi
done
expect_eq "one page per command of pyscope --help (help excluded)" \
    "$("$PYSCOPE" --help | sed -n '/^Commands:/,/^$/p' | awk 'NF && $1 != "Commands:" && $1 != "help" { print "pyscope-" $1 ".1" }' | sort)" \
    "$(cd "$man/man1" && ls pyscope-*.1 2>&1 | sort)"
expect_match "pyscope-submit(1) is named and has its options" '^\.TH PYSCOPE-SUBMIT "1"' \
    "$(cat "$man/man1/pyscope-submit.1" 2>&1)"
expect_match "pyscope-submit(1) lists --hosts" 'hosts' "$(cat "$man/man1/pyscope-submit.1" 2>&1)"
expect_match "pyscope-coordinator(8) documents --db" 'db' \
    "$(cat "$man/man8/pyscope-coordinator.8" 2>&1)"

# The Python shim goes to GNUInstallDirs' libdir (the build's CMAKE_INSTALL_LIBDIR), and the
# installed runner looks for it there.
libdir=$(sed -n 's/^CMAKE_INSTALL_LIBDIR:[A-Z]*=//p' "$PYSCOPE_BUILD/CMakeCache.txt")
expect_match "the shim is installed in <libdir>/pyscope/pyshim ($libdir)" \
    'sitecustomize\.cpython-3[0-9]+' "$(ls "$root/$libdir/pyscope/pyshim" 2>&1)"

# The installed CLI finds the installed runner beside it (no PYSCOPE_RUN_BIN), and the
# runner its shim.
printf 'print(sum(range(1000)))\n' >"$T/s.py"
rc=0
got=$(cd "$T" && env -u PYSCOPE_RUN_BIN "$root/bin/pyscope" run --no-save --json s.py 2>"$T/err") ||
    rc=$?
expect_eq "installed pyscope run: exit 0" 0 "$rc"
expect_match "installed pyscope run: a report" '"schema": "pyscope.report/1"' "$got"
finish
