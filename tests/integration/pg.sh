# pg.sh - a throwaway PostgreSQL 15 for integration tests (sourced, not run).
#
#   source "$PYSCOPE_SRC/tests/integration/pg.sh"
#   pg_start            # a new cluster in a temp folder (a copy of pg_template's), start;
#                       # database "pyscope" (empty) is there
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
    local tpl
    tpl=$(pg_template) || tpl="" # said why; a fresh initdb then
    if [ -n "$tpl" ]; then
        cp -a "$tpl" "$PG_DIR/data" || return 1
    else
        pg_initdb "$PG_DIR" || return 1
    fi
    "${PG_RUNAS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
        -o "-k $PG_DIR -c listen_addresses= -p 5432" start >/dev/null ||
        { echo "pg.sh: the server did not start:" >&2; cat "$PG_DIR/server.log" >&2; return 1; }
    export PGHOST="$PG_DIR" PGPORT=5432 PGUSER=postgres PGDATABASE=pyscope
    [ -n "$tpl" ] || "$PG_BIN/createdb" pyscope || return 1
    PG_CONNINFO="host=$PG_DIR port=5432 user=postgres dbname=pyscope"
}

# pg_initdb DIR: a new cluster in DIR/data (DIR owned by the server's user), no database yet.
pg_initdb() {
    "${PG_RUNAS[@]}" "$PG_BIN/initdb" -D "$1/data" -U postgres --auth=trust -E UTF8 \
        --no-instructions >"$1/initdb.log" 2>&1 ||
        { echo "pg.sh: initdb failed:" >&2; cat "$1/initdb.log" >&2; return 1; }
}

# pg_template: print the folder of a cluster made once per build folder (initdb, the empty
# database "pyscope", a clean shutdown), which pg_start copies: a copy is a second where
# initdb and createdb took 5-20 s on a loaded machine, in each of ~55 tests. Every test
# still gets its own cluster, the same as a fresh initdb's. Prints nothing (pg_start then
# runs initdb itself) outside ctest (no PYSCOPE_BUILD). Two tests that find none at once
# each make one; the first renamed into place wins, the other's is removed.
pg_template() {
    [ -n "${PYSCOPE_BUILD:-}" ] && [ -d "$PYSCOPE_BUILD/tests" ] || return 0
    local ver tpl tmp tmp2
    ver=$("$PG_BIN/pg_ctl" --version | awk '{print $3}') || return 1
    tpl="$PYSCOPE_BUILD/tests/pg-template-$ver-$(id -u)"
    if [ ! -f "$tpl/ready" ]; then
        # its own folder under /tmp (the server's socket goes there: a short path)
        tmp=$(mktemp -d /tmp/pyscope-pgt.XXXXXX) || return 1
        chmod 755 "$tmp"
        [ ${#PG_RUNAS[@]} -eq 0 ] || chown postgres: "$tmp"
        pg_initdb "$tmp" || { rm -rf "$tmp"; return 1; }
        "${PG_RUNAS[@]}" "$PG_BIN/pg_ctl" -D "$tmp/data" -l "$tmp/server.log" -w -t 60 \
            -o "-k $tmp -c listen_addresses= -p 5432" start >/dev/null &&
            "$PG_BIN/createdb" -h "$tmp" -p 5432 -U postgres pyscope &&
            "${PG_RUNAS[@]}" "$PG_BIN/pg_ctl" -D "$tmp/data" -m fast -w stop >/dev/null ||
            { echo "pg.sh: the template cluster failed:" >&2; cat "$tmp/server.log" >&2
              "${PG_RUNAS[@]}" "$PG_BIN/pg_ctl" -D "$tmp/data" -m immediate -w stop >/dev/null 2>&1
              rm -rf "$tmp"; return 1; }
        touch "$tmp/ready"
        # copied next to the target, then renamed into place: never seen half made
        mkdir -p "$tpl.new" && tmp2=$(mktemp -d "$tpl.new/XXXXXX") && cp -a "$tmp/data" "$tmp/ready" "$tmp2/" &&
            { mv -T "$tmp2" "$tpl" 2>/dev/null || rm -rf "$tmp2"; }
        rm -rf "$tmp"
        [ -f "$tpl/ready" ] || { echo "pg.sh: could not keep the template cluster in $tpl" >&2; return 1; }
    fi
    echo "$tpl/data"
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
