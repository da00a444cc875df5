# test/lib.sh: shell helpers shared by start.sh and test/run.
# Installs dependencies, builds and installs the extension, and manages
# throwaway or kept clusters run by the postgres user (PostgreSQL refuses root).

TS_PG_MAJOR=${TS_PG_MAJOR:-15}
TS_APT_PACKAGES="build-essential postgresql-$TS_PG_MAJOR postgresql-server-dev-$TS_PG_MAJOR
 libcurl4-openssl-dev postgresql-$TS_PG_MAJOR-pgtap libtap-parser-sourcehandler-pgtap-perl
 python3 util-linux curl procps python3-aiosmtpd openssl libmicrohttpd-dev prometheus chromium
 libhpdf-dev qpdf poppler-utils fonts-dejavu-core python3-psycopg2"

# Installs the Debian packages the build and the tests need, if missing.
ts_install_deps() {
    local missing=() p
    for p in $TS_APT_PACKAGES; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
    done
    if ((${#missing[@]})); then
        echo "== installing ${missing[*]}"
        if [ "$(id -u)" != 0 ]; then
            echo "missing packages (${missing[*]}); run as root to install them" >&2
            return 1
        fi
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || return 1
    fi
    TS_PG_CONFIG=/usr/lib/postgresql/$TS_PG_MAJOR/bin/pg_config
    TS_BINDIR=$("$TS_PG_CONFIG" --bindir)
    export TS_PG_CONFIG TS_BINDIR PATH="$TS_BINDIR:$PATH"
}

# Builds and installs the extension into the server's directories.
ts_build_install() {
    echo "== building and installing the extension"
    make -s -j2 PG_CONFIG="$TS_PG_CONFIG" >/dev/null && make -s install PG_CONFIG="$TS_PG_CONFIG" >/dev/null
}

# Copies the installed PostgreSQL (binaries, libraries, share files, pgTAP)
# into folder $1 and points TS_PG_CONFIG, TS_BINDIR and PATH at the copy.
# PostgreSQL finds its libraries and share files relative to its binary, so
# an extension installed there is seen by that copy's servers only: test runs
# never touch the system's installation, nor each other's.
ts_private_postgres() {
    local dest=$1 libdir sharedir
    libdir=$(dirname "$("$TS_PG_CONFIG" --bindir)")
    sharedir=$("$TS_PG_CONFIG" --sharedir)
    mkdir -p "$dest$(dirname "$libdir")" "$dest$(dirname "$sharedir")" || return 1
    cp -a "$libdir" "$dest$(dirname "$libdir")/" && cp -a "$sharedir" "$dest$(dirname "$sharedir")/" || return 1
    TS_PG_CONFIG=$dest$TS_PG_CONFIG
    TS_BINDIR=$("$TS_PG_CONFIG" --bindir)
    [ "$TS_BINDIR" = "$dest$libdir/bin" ] || { echo "the PostgreSQL copy does not find itself ($TS_BINDIR)" >&2; return 1; }
    export TS_PG_CONFIG TS_BINDIR PATH="$TS_BINDIR:$PATH"
}

# Runs a command as the postgres user, keeping the environment it needs.
ts_as_postgres() {
    local vars=(PATH="$PATH" PGUSER=postgres PGDATABASE="${PGDATABASE:-postgres}")
    [ -n "${PGHOST:-}" ] && vars+=(PGHOST="$PGHOST")
    [ -n "${PGPORT:-}" ] && vars+=(PGPORT="$PGPORT")
    runuser -u postgres -- env "${vars[@]}" "$@"
}

# Creates a cluster in $1 listening on port $2 (loopback and a socket in $3);
# $4 = preload|nopreload.
ts_cluster_init() {
    local data=$1 port=$2 sockdir=$3 mode=${4:-preload}
    mkdir -p "$data" "$sockdir"
    chown postgres: "$data" "$sockdir"
    chmod 700 "$data"
    ts_as_postgres initdb -D "$data" -U postgres -E UTF8 --locale=C.UTF-8 \
        --auth-local=trust --auth-host=trust >/dev/null || return 1
    {
        echo "port = $port"
        echo "listen_addresses = '127.0.0.1'"
        echo "unix_socket_directories = '$sockdir'"
        echo "max_connections = 50"
        echo "fsync = off"
        echo "log_line_prefix = '%m [%p] %q%a '"
        if [ "$mode" = preload ]; then
            echo "shared_preload_libraries = 'troubleshooting'"
        fi
        if [ -n "${TS_EXTRA_CONF:-}" ]; then printf '%s\n' "$TS_EXTRA_CONF"; fi
    } >> "$data/postgresql.conf"
}

# Starts the cluster in $1, logging to $1/server.log.
ts_cluster_start() {
    ts_as_postgres pg_ctl -D "$1" -l "$1/server.log" -w -t 60 start >/dev/null
}

# Stops the cluster in $1 if it runs.
ts_cluster_stop() {
    [ -f "$1/postmaster.pid" ] && ts_as_postgres pg_ctl -D "$1" -m fast -w -t 60 stop >/dev/null 2>&1
    return 0
}

# Prints the first TCP port from $1 up that nothing listens on (loopback).
ts_free_port() {
    local p=$1
    while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done
    echo "$p"
}
