# team_lib.sh - helpers of the team-analysis tests (sourced after lib.sh, pg.sh
# and coord.sh; the coordinator running).
#
#   seed FILE NIGHT SLOW_NIGHT SLOW_PCT   run tests/integration/FILE (team_seed.sql,
#                                         team_confirm.sql) with those psql variables
#   settled                               wait until no batch waits for analysis;
#                                         prints the number of queued jobs
SQL="$PYSCOPE_SRC/tests/integration"

seed() {
    psql -q -v ON_ERROR_STOP=1 -v night="$2" -v slow_night="$3" -v slow="$4" -f "$SQL/$1" >/dev/null
}

settled() {
    local i
    for i in $(seq 150); do
        [ "$(pg_sql "SELECT count(*) FROM batches WHERE state = 'done' AND analyzed IS NULL")" = 0 ] && break
        sleep 0.1
    done
    pg_sql "SELECT count(*) FROM jobs WHERE state = 'queued'"
}
