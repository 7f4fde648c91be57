# team_lib.sh - seeding nights of farm history straight into PostgreSQL (sourced after
# lib.sh, pg.sh and coord.sh; the coordinator analyses what is seeded).
#
#   team_seed FILE NIGHT SLOW_NIGHT SLOW_PCT   run tests/integration/FILE with psql
#                                              (team_seed.sql, team_confirm.sql)
#   team_night CONFIRM NIGHT HOST WALL_PCT CPU_PCT [psql options]   one night of
#                                              team_cpu_only.sql (CONFIRM 1: its queued
#                                              confirmation jobs instead)
#   team_drift CONFIRM NIGHT HOST DRIFT SLOW [psql options]   one night of team_drift.sql
#                                              (the machine DRIFT% slower, a.py SLOW% slower)
#   team_settled   wait until no batch waits for analysis; print the queued jobs
#   team_six_nights   six nights (a.py 30% slower on host-b on night 6, confirmed), analysed
#   web_url        the address of the web pages the coordinator's log names
team_seed() {
    psql -q -v ON_ERROR_STOP=1 -v night="$2" -v slow_night="$3" -v slow="$4" \
        -f "$PYSCOPE_SRC/tests/integration/$1" >/dev/null
}
team_night() {
    local c=$1 n=$2 h=$3 w=$4 u=$5
    shift 5
    psql -q -v ON_ERROR_STOP=1 -v confirm="$c" -v night="$n" -v host="$h" -v wall="$w" \
        -v cpu="$u" "$@" -f "$PYSCOPE_SRC/tests/integration/team_cpu_only.sql" >/dev/null
}
team_drift() {
    local c=$1 n=$2 h=$3 d=$4 s=$5
    shift 5
    psql -q -v ON_ERROR_STOP=1 -v confirm="$c" -v night="$n" -v host="$h" -v drift="$d" \
        -v slow="$s" "$@" -f "$PYSCOPE_SRC/tests/integration/team_drift.sql" >/dev/null
}
# (up to 180 s: an ASan coordinator beside two other tests on a loaded machine took more than
# the 15 s this waited before to analyse six nights, CI 2026-12-08, and test_bisect_auto found
# no confirmed regression; on an idle machine it is well under a second)
team_settled() {
    local end=$((SECONDS + 180))
    while [ "$(pg_sql "SELECT count(*) FROM batches WHERE state = 'done' AND analyzed IS NULL")" != 0 ]; do
        [ "$SECONDS" -lt "$end" ] || { echo "team_settled: batches still unanalysed after 180 s" >&2; break; }
        sleep 0.1
    done
    pg_sql "SELECT count(*) FROM jobs WHERE state = 'queued'"
}
team_six_nights() {
    local n
    for n in 1 2 3 4 5 6; do team_seed team_seed.sql "$n" 6 30; done
    team_settled >/dev/null
    team_seed team_confirm.sql 6 6 30
    team_settled >/dev/null
}
web_url() {
    grep -o 'web pages on http://127\.0\.0\.1:[0-9]*/' "$COORD_LOG" | grep -o 'http://.*' || true
}
