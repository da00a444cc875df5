# bench/lib.sh: the set-up the bench scripts share (each sources it from the
# repository root): the scratch folder and the throwaway cluster of a run
# (postgres user, loopback, library preloaded), the settings of a bench that
# loads millions of rows, the bulk load of sample sessions and the results
# file. Builds on test/lib.sh (dependencies, build, cluster start and stop).
. test/lib.sh

# Prints the settings of a bench that loads millions of rows: shared_buffers
# $1, max_wal_size $2 (a bench adds its own lines after these).
bench_bulk_conf() {
    printf '%s\n' "shared_buffers = $1" "work_mem = 64MB" "maintenance_work_mem = 1GB" "max_wal_size = $2" \
        "checkpoint_timeout = 30min" "synchronous_commit = off" "jit = off"
}

# Makes the scratch folder WORK (a mktemp template $1, owned by postgres)
# with the data folder DATA in it, and points PGHOST, PGPORT (the first free
# port from $2) and PGUSER at the cluster to come. At exit bench_cleanup
# stops it and removes WORK.
bench_work() {
    WORK=$(mktemp -d "$1")
    chown postgres: "$WORK"
    chmod 755 "$WORK"
    DATA=$WORK/data
    PGPORT=$(ts_free_port "$2")
    export PGHOST=$WORK PGPORT PGUSER=postgres
    trap bench_cleanup EXIT
}

# Stops the bench cluster and removes WORK (kept with TS_KEEP=1).
bench_cleanup() {
    ts_cluster_stop "$DATA"
    [ -n "${TS_KEEP:-}" ] || rm -rf "$WORK"
    return 0
}

# Creates and starts the bench cluster in DATA on PGPORT with the library
# preloaded and settings $1 (lines of postgresql.conf).
bench_cluster() {
    TS_EXTRA_CONF=$1 ts_cluster_init "$DATA" "$PGPORT" "$WORK" preload
    ts_cluster_start "$DATA"
}

# Turns triggers $3 (ts_metrics_delta, the metric deltas, or USER: every
# trigger of the extension's) of the sessions, attempts and feedback tables
# of database $1 off ($2 = DISABLE, the bulk path) or on (ENABLE).
bench_triggers() {
    psql -X -q -v ON_ERROR_STOP=1 -d "$1" -c "ALTER TABLE support_troubleshooting_sessions $2 TRIGGER $3;
        ALTER TABLE support_troubleshooting_attempts $2 TRIGGER $3;
        ALTER TABLE support_troubleshooting_feedback $2 TRIGGER $3"
}

# Loads $2 sample sessions (bench/generate_data.sql) into database $1 over
# $3 days ending $4 days ago, with random seed $5 and session id prefix $6.
bench_generate() {
    psql -X -q -v ON_ERROR_STOP=1 -d "$1" -v sessions="$2" -v days="$3" -v offset_days="$4" -v seed="$5" \
        -v prefix="$6" -f bench/generate_data.sql >/dev/null
}

# Builds the rollups of database $1 from the raw rows after a bulk load,
# then vacuums and analyzes it.
bench_rebuild() {
    psql -X -q -v ON_ERROR_STOP=1 -d "$1" -c "SELECT rebuild_troubleshooting_metrics()" >/dev/null
    psql -X -q -v ON_ERROR_STOP=1 -d "$1" -c "VACUUM ANALYZE"
}

# Starts the results file $1 (written as $1.tmp until bench_finish).
bench_results() {
    OUT=$1
    mkdir -p bench/results
    : > "$OUT.tmp"
}

# Prints a line and adds it to the results file.
log() { echo "$*" | tee -a "$OUT.tmp"; }

# Puts the results file in place.
bench_finish() {
    mv "$OUT.tmp" "$OUT"
    echo "== written to $OUT"
}
