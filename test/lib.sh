# test/lib.sh: shell helpers shared by start.sh and test/run.
# Installs dependencies, builds and installs the extension, and manages
# throwaway or kept clusters run by the postgres user (PostgreSQL refuses root).

TS_PG_MAJOR=${TS_PG_MAJOR:-15}
TS_APT_PACKAGES="build-essential postgresql-$TS_PG_MAJOR postgresql-server-dev-$TS_PG_MAJOR
 libcurl4-openssl-dev postgresql-$TS_PG_MAJOR-pgtap libtap-parser-sourcehandler-pgtap-perl
 python3 util-linux curl procps python3-aiosmtpd openssl libmicrohttpd-dev prometheus chromium
 libhpdf-dev qpdf poppler-utils fonts-dejavu-core libasan8 libubsan1 python3-psycopg2
 nodejs debhelper dpkg-dev fakeroot postgresql-server-dev-all"
# TS_SANITIZE=1: the extension is built with these flags (gcc's AddressSanitizer
# and UndefinedBehaviorSanitizer) and every cluster runs with their runtime.
# No stack redzones (asan-stack=0): the ASan runtime is not preloaded (see
# ts_cluster_start), so it cannot intercept the siglongjmp of PostgreSQL's
# ERROR handling, and the poison of the instrumented frames an ERROR unwinds
# would stay on the stack and be reported against the next, uninstrumented,
# frames there (a trigger's TriggerData, for one).
TS_SANITIZE_CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer --param asan-stack=0 -fno-sanitize-address-use-after-scope"

# Succeeds when TS_SANITIZE asks for a sanitizer build.
ts_sanitizing() { [ -n "${TS_SANITIZE:-}" ] && [ "$TS_SANITIZE" != 0 ]; }

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

# Builds and installs the extension into the server's directories. With
# TS_SANITIZE=1 it builds an instrumented copy in folder $1 (a copy of the
# sources, cleaned first), so no instrumented object is left in the checkout.
ts_build_install() {
    if ts_sanitizing; then
        local dir=${1:?ts_build_install: a build folder is needed with TS_SANITIZE}
        echo "== building the extension with $TS_SANITIZE_CFLAGS in $dir"
        mkdir -p "$dir" && cp -r Makefile ./*.control ./*.sql src "$dir/" || return 1
        # ASan's options are built in (__asan_default_options): a backend that
        # loads the library itself reads no environment, since PostgreSQL
        # overwrites it with the process title
        cat > "$dir/asan_options.c" <<EOF
/* ASan options of the sanitizer build (test/lib.sh). */
const char *__asan_default_options(void);
/* The options ASan reads when it starts. */
const char *
__asan_default_options(void)
{
	return "verify_asan_link_order=0:detect_leaks=0:abort_on_error=1:disable_coredump=1:log_path=${TS_SANITIZE_DIR:-$dir}/asan";
}
EOF
        # (install gets COPT too: without it, make would rebuild the objects plain)
        (cd "$dir" && make -s clean PG_CONFIG="$TS_PG_CONFIG" >/dev/null &&
            gcc -fPIC -c -o asan_options.o asan_options.c &&
            make -s -j2 PG_CONFIG="$TS_PG_CONFIG" COPT="$TS_SANITIZE_CFLAGS" LDFLAGS_SL="$dir/asan_options.o" >/dev/null &&
            make -s install PG_CONFIG="$TS_PG_CONFIG" COPT="$TS_SANITIZE_CFLAGS" LDFLAGS_SL="$dir/asan_options.o" >/dev/null) || return 1
        # the runtime is not linked in (PostgreSQL links with --as-needed): the
        # clusters preload it (ts_cluster_start)
        [[ $(nm -D --undefined-only "$("$TS_PG_CONFIG" --pkglibdir)/troubleshooting.so") == *__asan_init* ]] ||
            { echo "the installed library is not instrumented" >&2; return 1; }
        return 0
    fi
    echo "== building and installing the extension"
    make -s -j2 PG_CONFIG="$TS_PG_CONFIG" >/dev/null && make -s install PG_CONFIG="$TS_PG_CONFIG" >/dev/null
}

# Copies the installed PostgreSQL (binaries, libraries, share files, pgTAP)
# into folder $1 and points TS_PG_CONFIG, TS_BINDIR and PATH at the copy.
# PostgreSQL finds its libraries and share files relative to its binary, so
# an extension installed there is seen by that copy's servers only: test runs
# never touch the system's installation, nor each other's.
ts_private_postgres() {
    local dest=$1 libdir sharedir incdir
    libdir=$(dirname "$("$TS_PG_CONFIG" --bindir)")
    sharedir=$("$TS_PG_CONFIG" --sharedir)
    mkdir -p "$dest$(dirname "$libdir")" "$dest$(dirname "$sharedir")" || return 1
    cp -a "$libdir" "$dest$(dirname "$libdir")/" && cp -a "$sharedir" "$dest$(dirname "$sharedir")/" || return 1
    # the headers are only read: the copy's include folder links to the system's
    incdir=$("$TS_PG_CONFIG" --includedir)
    mkdir -p "$dest$(dirname "$incdir")" && ln -sfn "$incdir" "$dest$incdir" || return 1
    TS_PG_CONFIG=$dest$TS_PG_CONFIG
    TS_BINDIR=$("$TS_PG_CONFIG" --bindir)
    [ "$TS_BINDIR" = "$dest$libdir/bin" ] || { echo "the PostgreSQL copy does not find itself ($TS_BINDIR)" >&2; return 1; }
    [ -f "$("$TS_PG_CONFIG" --includedir-server)/postgres.h" ] || { echo "the PostgreSQL copy does not find its headers" >&2; return 1; }
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
            # the workers serve the postgres database only (the databases a
            # test creates for other purposes get none), unless the test
            # wants every database served (TS_ALL_DATABASES=1)
            [ -n "${TS_ALL_DATABASES:-}" ] || echo "troubleshooting.database = 'postgres'"
        fi
        if [ -n "${TS_EXTRA_CONF:-}" ]; then printf '%s\n' "$TS_EXTRA_CONF"; fi
    } >> "$data/postgresql.conf"
}

# Starts the cluster in $1, logging to $1/server.log. The log is added to
# the list in TS_LOG_LIST (when set) that test/run scans for crashes; with
# TS_SANITIZE=1 the postmaster, and so every backend and worker, runs with
# the sanitizer options (reports written to TS_SANITIZE_DIR) and the UBSan
# runtime preloaded. The ASan runtime cannot be preloaded: Debian's postgres
# binary links libgpg-error (through libsystemd and libldap), whose
# constructor leaves glibc's gettext lock corrupt under a preloaded ASan, and
# postgres then hangs in bindtextdomain before main does anything. So ASan
# comes in with the instrumented library (its NEEDED libasan, loaded when
# the postmaster or a backend loads the library; its options are built in,
# see ts_build_install): it checks the extension's accesses to its globals,
# not its stack frames (TS_SANITIZE_CFLAGS) nor the heap blocks libc's
# malloc hands out; UBSan checks everything it knows.
ts_cluster_start() {
    local env=()
    [ -n "${TS_LOG_LIST:-}" ] && echo "$1/server.log" >> "$TS_LOG_LIST"
    if ts_sanitizing; then
        local dir=${TS_SANITIZE_DIR:-$1/sanitizer}
        mkdir -p "$dir" && chown postgres: "$dir"
        env=(env "LD_PRELOAD=$(gcc -print-file-name=libubsan.so)"
             "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=0:log_path=$dir/ubsan")
    fi
    ts_as_postgres "${env[@]}" pg_ctl -D "$1" -l "$1/server.log" -w -t 120 start >/dev/null
}

# Sends SIGKILL to pid $1 on purpose: records it in TS_KILLED_PIDS (the crash
# scan ignores that pid's "terminated by signal 9" and nothing else), then
# waits up to 30 s for the process to be gone. Fails if it was not running
# or is still there.
ts_kill9() {
    local pid=$1 i
    [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
    [ -n "${TS_KILLED_PIDS:-}" ] && echo "$pid" >> "$TS_KILLED_PIDS"
    kill -9 "$pid" || return 1
    for i in $(seq 1 300); do
        kill -0 "$pid" 2>/dev/null || return 0
        # a zombie is gone for our purpose: it runs no more
        [ "$(ps -o stat= -p "$pid" 2>/dev/null | cut -c1)" = Z ] && return 0
        sleep 0.1
    done
    return 1
}

# Prints "PASSED FAILED SKIPPED" for the TAP stream in file $1: "ok N" passes,
# "not ok N" fails, and an "ok N ... # SKIP ..." is skipped, never passed.
ts_tap_counts() {
    local all f s
    all=$(grep -cE '^ok [0-9]+' "$1")
    s=$(grep -ciE '^ok [0-9]+.*[[:space:]]#[[:space:]]*skip' "$1")
    f=$(grep -cE '^not ok [0-9]+' "$1")
    echo "$((all - s)) $f $s"
}

# Scans for crashes and sanitizer reports; prints each finding, fails if any.
# $1 = file listing the server logs to scan (one a line; a listed log that is
# gone is a finding too), $2 = file of pids killed on purpose with SIGKILL
# (ts_kill9), $3 = folder of sanitizer report files (any file there is a report).
ts_scan_logs() {
    local list=$1 killed=$2 sandir=$3 log line f bad=0
    local crash='PANIC:  |^TRAP: |terminated by signal [0-9]+|server process \(PID [0-9]+\) exited with exit code|ERROR: [A-Za-z]+Sanitizer|SUMMARY: [A-Za-z]+Sanitizer|: runtime error: '
    if [ -r "$list" ]; then
        while IFS= read -r log; do
            [ -n "$log" ] || continue
            if [ ! -f "$log" ]; then echo "$log: server log removed before the crash scan"; bad=1; continue; fi
            while IFS= read -r line; do
                if [[ $line =~ \(PID\ ([0-9]+)\)\ was\ terminated\ by\ signal\ 9: ]] &&
                   [ -f "$killed" ] && grep -qx "${BASH_REMATCH[1]}" "$killed"; then
                    continue    # a test killed this pid on purpose
                fi
                echo "$log: $line"; bad=1
            done < <(grep -aE "$crash" "$log")
        done < <(sort -u "$list")
    fi
    if [ -d "$sandir" ]; then
        for f in "$sandir"/*; do
            [ -s "$f" ] || continue
            echo "$f:"; sed 's/^/    /' "$f" | head -60; bad=1
        done
    fi
    return $bad
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
