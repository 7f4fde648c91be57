# pg.sh - a throwaway PostgreSQL 15 for integration tests (sourced, not run).
#
#   source "$PYSCOPE_SRC/tests/integration/pg.sh"
#   pg_start            # initdb in a temp folder, start, create database "pyscope"
#   psql -c '...'       # PGHOST, PGPORT, PGUSER, PGDATABASE are exported
#   "$PG_CONNINFO"      # the same as a libpq conninfo string
#   pg_pause, pg_resume, pg_restart   # take the server away and back
#   pg_stop             # also runs on exit (chained before any earlier EXIT trap)
#
# The server listens on a unix socket in the temp folder only (no TCP port
# to collide with). PostgreSQL refuses to run as root: when root, the server
# runs as the "postgres" user. fsync stays on: the coordinator insists.
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_DIR=""
PG_RUNAS=()

# pg_start: start the server; fails the calling script when it cannot.
pg_start() {
    [ -x "$PG_BIN/initdb" ] || { echo "pg.sh: no PostgreSQL in $PG_BIN" >&2; return 1; }
    PG_DIR=$(mktemp -d /tmp/pyscope-pg.XXXXXX)
    chmod 755 "$PG_DIR"
    if [ "$(id -u)" -eq 0 ]; then
        id postgres >/dev/null 2>&1 || { echo "pg.sh: running as root needs a postgres user" >&2; return 1; }
        chown postgres: "$PG_DIR"
        PG_RUNAS=(runuser -u postgres --)
    fi
    local prev
    prev=$(trap -p EXIT | sed -E "s/^trap -- '(.*)' EXIT$/\1/")
    # shellcheck disable=SC2064
    trap "pg_stop; $prev" EXIT
    "${PG_RUNAS[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 \
        --no-instructions >"$PG_DIR/initdb.log" 2>&1 ||
        { echo "pg.sh: initdb failed:" >&2; cat "$PG_DIR/initdb.log" >&2; return 1; }
    "${PG_RUNAS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
        -o "-k $PG_DIR -c listen_addresses= -p 5432" start >/dev/null ||
        { echo "pg.sh: the server did not start:" >&2; cat "$PG_DIR/server.log" >&2; return 1; }
    export PGHOST="$PG_DIR" PGPORT=5432 PGUSER=postgres PGDATABASE=pyscope
    "$PG_BIN/createdb" pyscope || return 1
    PG_CONNINFO="host=$PG_DIR port=5432 user=postgres dbname=pyscope"
}

# pg_stop: stop the server and remove its folder (idempotent).
pg_stop() {
    [ -n "$PG_DIR" ] || return 0
    "${PG_RUNAS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
    PG_DIR=""
}

# pg_pause / pg_resume: stop the server (clients see it gone) and start it again.
pg_pause() {
    "${PG_RUNAS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null
}
pg_resume() {
    "${PG_RUNAS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
        -o "-k $PG_DIR -c listen_addresses= -p 5432" start >/dev/null
}

# pg_restart: an immediate stop (like a crash), then start again.
pg_restart() {
    pg_pause
    pg_resume
}

# pg_sql SQL: run one statement, print the unaligned tuples only.
pg_sql() {
    psql -X -q -A -t -v ON_ERROR_STOP=1 -c "$1"
}
