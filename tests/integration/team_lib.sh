# team_lib.sh - seeding nights of farm history straight into PostgreSQL (sourced after
# lib.sh, pg.sh and coord.sh; the coordinator analyses what is seeded).
#
#   team_seed FILE NIGHT SLOW_NIGHT SLOW_PCT   run tests/integration/FILE with psql
#                                              (team_seed.sql, team_confirm.sql)
#   team_settled   wait until no batch waits for analysis; print the queued jobs
team_seed() {
    psql -q -v ON_ERROR_STOP=1 -v night="$2" -v slow_night="$3" -v slow="$4" \
        -f "$PYSCOPE_SRC/tests/integration/$1" >/dev/null
}
team_settled() {
    local i
    for i in $(seq 150); do
        [ "$(pg_sql "SELECT count(*) FROM batches WHERE state = 'done' AND analyzed IS NULL")" = 0 ] && break
        sleep 0.1
    done
    pg_sql "SELECT count(*) FROM jobs WHERE state = 'queued'"
}
