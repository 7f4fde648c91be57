#!/usr/bin/env bash
# test_team_units.sh - deploy/systemd: every unit passes systemd-analyze verify
# (apart from the binaries not being installed here), the services run with
# NoNewPrivileges=yes and UMask=0077, the coordinator is Type=notify, the timer
# starts the nightly service, and deploy/nightly.sh is valid shell.
source "$PYSCOPE_SRC/tests/integration/lib.sh"
units="$PYSCOPE_SRC/deploy/systemd"
if command -v systemd-analyze >/dev/null 2>&1; then
    for u in "$units"/*.service "$units"/*.timer; do
        out=$(systemd-analyze verify "$u" 2>&1 | grep -v "is not executable" || true)
        expect_eq "$(basename "$u"): systemd-analyze verify" "" "$out"
    done
else
    echo "# systemd-analyze not installed: verify skipped"
fi
for s in pyscope-coordinator pyscope-agent pyscope-nightly; do
    expect_match "$s: NoNewPrivileges" "^NoNewPrivileges=yes$" "$(cat "$units/$s.service")"
    expect_match "$s: UMask" "^UMask=0077$" "$(cat "$units/$s.service")"
done
expect_match "coordinator: Type=notify" "^Type=notify$" "$(cat "$units/pyscope-coordinator.service")"
expect_match "agent: Type=simple" "^Type=simple$" "$(cat "$units/pyscope-agent.service")"
expect_match "timer: nightly" "^OnCalendar=\*-\*-\* 02:00:00$" "$(cat "$units/pyscope-nightly.timer")"
expect_eq "nightly.sh parses" 0 "$(bash -n "$PYSCOPE_SRC/deploy/nightly.sh" >/dev/null 2>&1; echo $?)"
finish
