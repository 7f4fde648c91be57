#!/usr/bin/env bash
# nightly.sh - one night of the farm: submit the suite, wait for the batch
# and the coordinator's analysis (confirmation runs included), render the
# team report of the last day. Run by pyscope-nightly.service.
#
# Environment (e.g. /etc/pyscope/nightly.env):
#   PYSCOPE_SUITE        the suite file (default /etc/pyscope/suite.ini)
#   PYSCOPE_REPORT_DIR   where reports go (default /var/lib/pyscope/reports)
#   PYSCOPE_CLI          the pyscope command (default: pyscope on PATH)
#   PYSCOPE_REPO         the project's git repository (a URL, fetched into
#                        $XDG_CACHE_HOME/pyscope/repos, or a path): when set, the night
#                        measures the head of PYSCOPE_BRANCH (default main), resolved
#                        to its full hash now and recorded with the batch; the agents
#                        check that commit out (their repo = setting; docs/revisions.md)
#   PYSCOPE_COORDINATOR, PYSCOPE_SECRET_KEY, PYSCOPE_COORDINATOR_KEY as for the CLI
# Prints the report's path; exit status 0, or the first failing step's.
set -euo pipefail
suite=${PYSCOPE_SUITE:-/etc/pyscope/suite.ini}
out=${PYSCOPE_REPORT_DIR:-/var/lib/pyscope/reports}
cli=${PYSCOPE_CLI:-pyscope}
mkdir -p "$out"
label="nightly $(date -u +%Y-%m-%d)"
rev=()
if [ -n "${PYSCOPE_REPO:-}" ]; then
    branch=${PYSCOPE_BRANCH:-main}
    export XDG_CACHE_HOME=${XDG_CACHE_HOME:-/var/lib/pyscope/cache}
    rev=(--repo "$PYSCOPE_REPO" --commit "$branch")
    label="$label $branch"
fi
status=0
"$cli" submit "$suite" --label "$label" "${rev[@]}" --wait --timeout 30 || status=$?
case $status in
0) ;;
3) echo "nightly: some jobs failed" >&2 ;;
*) echo "nightly: the suite could not be submitted (status $status)" >&2; exit "$status" ;;
esac
# the analysis (and any confirmation run) ends after the batch: wait for it, 2 h at most
for _ in $(seq 1 720); do
    "$cli" report --since 1d --json --timeout 30 | grep -q '"analyzed": false' || break
    sleep 10
done
report=$out/report-$(date -u +%Y-%m-%d).html
"$cli" report --since 1d --out "$report" --timeout 60
ln -sf "$report" "$out/latest.html"
