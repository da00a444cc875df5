# test/citus_cluster.sh: a local Citus cluster for tests and benchmarks
# (sourced after test/lib.sh): a coordinator and workers, each its own
# initdb folder on a loopback port, with citus and troubleshooting preloaded.
#   ts_citus_install            builds Citus into the system PostgreSQL once
#   ts_citus_up DIR PORT0 [N]   N nodes (default 3) on PORT0, PORT0+1, ...
#   ts_citus_down DIR           stops them
#   CN I SQL-OPTIONS...         psql on node I (0 = coordinator)

# Where Citus's source and build script are: TS_CITUS_SHARED, else ../shared/citus
# beside the checkout.
TS_CITUS_SHARED=${TS_CITUS_SHARED:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/shared/citus}

# Installs Citus into the system PostgreSQL when missing (about 5 minutes),
# before test/run copies PostgreSQL; fails loudly without the build script.
ts_citus_install() {
    local sys_config=/usr/lib/postgresql/15/bin/pg_config
    [ -f "$("$sys_config" --pkglibdir)/citus.so" ] && return 0
    if [ ! -f "$TS_CITUS_SHARED/build.sh" ]; then
        echo "Citus is not installed and $TS_CITUS_SHARED/build.sh is missing" >&2
        return 1
    fi
    echo "== building Citus with $TS_CITUS_SHARED/build.sh (about 5 minutes)"
    PG_CONFIG=$sys_config bash "$TS_CITUS_SHARED/build.sh" || return 1
    [ -f "$("$sys_config" --pkglibdir)/citus.so" ]
}

# The port of node $1 (set by ts_citus_up).
ts_citus_port() { echo $((TS_CITUS_PORT0 + $1)); }

# psql as postgres on node $1 over loopback, database postgres, unaligned,
# stopping at the first error.
CN() {
    psql -X -qAt -U postgres -h 127.0.0.1 -p "$(ts_citus_port "$1")" -d postgres -v ON_ERROR_STOP=1 "${@:2}"
}

# Creates and starts $3 nodes (default 3) in folder $1 on ports $2, $2+1, ...:
# Citus on each, the first as coordinator with the others added as workers,
# then CREATE EXTENSION troubleshooting on the coordinator (Citus creates it
# on the workers too).  The extension's workers serve database postgres.
ts_citus_up() {
    local dir=$1 n=${3:-3} i
    TS_CITUS_DIR=$dir TS_CITUS_PORT0=$2 TS_CITUS_NODES=$n
    export TS_CITUS_DIR TS_CITUS_PORT0 TS_CITUS_NODES
    for ((i = 0; i < n; i++)); do
        TS_EXTRA_CONF="shared_preload_libraries = 'citus,troubleshooting'
max_prepared_transactions = 50
max_connections = 100
citus.log_remote_commands = off
${TS_CITUS_EXTRA_CONF:-}" ts_cluster_init "$dir/n$i" "$(ts_citus_port "$i")" "$dir/sock" preload || return 1
        ts_cluster_start "$dir/n$i" || return 1
    done
    for ((i = 0; i < n; i++)); do CN "$i" -c "CREATE EXTENSION citus" >/dev/null || return 1; done
    CN 0 -c "SELECT citus_set_coordinator_host('127.0.0.1', $(ts_citus_port 0))" >/dev/null || return 1
    for ((i = 1; i < n; i++)); do
        CN 0 -c "SELECT citus_add_node('127.0.0.1', $(ts_citus_port "$i"))" >/dev/null || return 1
    done
    CN 0 -c "CREATE EXTENSION troubleshooting" >/dev/null
}

# Stops every node of the cluster in folder $1.
ts_citus_down() {
    local d
    for d in "$1"/n*; do [ -d "$d" ] && ts_cluster_stop "$d"; done
    return 0
}
