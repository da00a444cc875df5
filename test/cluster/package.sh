#!/usr/bin/env bash
# test/cluster/package.sh: the release packaging. META.json against the PGXN
# Meta Spec 1.0.0 (test/pgxn_meta.py); the Debian package built with
# dpkg-buildpackage from a scratch copy of the tracked sources, its control
# fields and contents; installed with apt-get and used by a fresh cluster of
# the system's PostgreSQL 15 (preloaded: CREATE EXTENSION, exact metrics, a
# report exported as PDF, the workers), then removed. Files an earlier
# `make install` left in the system's directories are kept aside before the
# install and put back after the removal (also on failure), so the machine
# ends as it started.
. "$(dirname "$0")/tap.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PKG=postgresql-15-troubleshooting
VERSION=$(sed -n "s/^default_version[[:space:]]*=[[:space:]]*'\([^']*\)'.*/\1/p" "$ROOT/troubleshooting.control")
DEBVER=$VERSION-1
# the system's PostgreSQL (test/run's PATH and TS_BINDIR point at a private
# copy, which does not see what the package installs)
SYSBIN=/usr/lib/postgresql/15/bin
LIBDIR=$("$SYSBIN/pg_config" --pkglibdir)
SHAREDIR=$("$SYSBIN/pg_config" --sharedir)
W=$TS_WORK/package
SRC=$W/src/troubleshooting-$VERSION
DATA=$W/cluster
SOCK=$W/sock
fresh_dir "$W"
INSTALLED=     # set once apt-get install has been tried
BACKED_UP=     # set once the files found before the install are in $W/preexisting.tar
RESTORED=      # set once they are back

# Runs command "$@" with the system's PostgreSQL binaries first on PATH.
sys() { PATH="$SYSBIN:$PATH" "$@"; }

# Runs SQL through psql in the package's cluster, database postgres.
S() { sys q -h "$SOCK" -p "$port" -d postgres "$@"; }

# apt-get without questions, waiting for the dpkg lock if another run holds it.
apt_get() { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 "$@"; }

# The package's dpkg state ("installed", "not-installed", ... or empty when
# dpkg knows nothing of it).
pkg_status() { dpkg-query -W -f='${db:Status-Status}' "$PKG" 2>/dev/null; }

# Prints lines of file $2 (default: the last 40) as TAP comments, under title $1.
show() { echo "# $1:"; tail -n "${3:-40}" "$2" 2>/dev/null | sed 's/^/#   /'; }

# Ends the test early after a failed step that the rest depends on ($1: why).
bail() { echo "# stopping: $1"; done_testing; exit 1; }

# Puts back the files found before the install (only those not there now,
# so a `make install` run meanwhile by someone else is kept); records it.
restore_files() {
    tar -C / -xpf "$W/preexisting.tar" --skip-old-files && RESTORED=1
}

# Stops the cluster, removes the package if this test installed it and puts
# the files found before back: run at exit, whatever happened. Its messages
# go to fd 8, the test's own output (a signal may come while a helper has
# stdout redirected).
cleanup() {
    sys ts_cluster_stop "$DATA"
    if [ -n "$INSTALLED" ] && [ -n "$(pkg_status)" ] && [ "$(pkg_status)" != not-installed ]; then
        echo "# cleanup: removing $PKG" >&8
        apt_get remove -y "$PKG" >> "$W/cleanup.log" 2>&1 || show "apt-get remove failed" "$W/cleanup.log" >&8
    fi
    if [ -n "$BACKED_UP" ] && [ -z "$RESTORED" ]; then
        echo "# cleanup: putting back the files found before the install" >&8
        restore_files || echo "# cleanup: could not restore from $W/preexisting.tar" >&8
    fi
}

# Turns the PASS/FAIL lines of test/pgxn_meta.py (file $2) into TAP checks
# named after $1; its exit status $3 must agree.
meta_tap() {
    local prefix=$1 file=$2 rc=$3 verdict what n=0
    while IFS=$'\t' read -r verdict what; do
        n=$((n + 1))
        [ "$verdict" = PASS ]
        ok $? "$prefix: ${what:-$verdict}"
    done < "$file"
    ((n > 0)) && [ "$rc" = 0 ]
    ok $? "$prefix: the checker printed $n checks and exited 0 (it exited $rc)"
}

# --- META.json (PGXN) ---
python3 "$ROOT/test/pgxn_meta.py" "$ROOT" > "$W/meta.out" 2>&1
meta_tap "META.json" "$W/meta.out" $?
python3 "$ROOT/test/pgxn_meta.py" --selftest "$ROOT" > "$W/meta_selftest.out" 2>&1
meta_tap "META.json checker" "$W/meta_selftest.out" $?

# --- the package must not be there already (this test installs and removes it) ---
st=$(pkg_status)
if [ -n "$st" ] && [ "$st" != not-installed ]; then
    ok 1 "$PKG is not installed before the test"
    echo "# $PKG is already on this machine (dpkg state: $st). This test installs and"
    echo "# removes it; remove it first (apt-get remove $PKG), then run the test again."
    done_testing
    exit 1
fi
ok 0 "$PKG is not installed before the test"
exec 8>&1
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the build, in a scratch copy of the tracked sources ---
checkout_before=$(git -C "$ROOT" status --porcelain --ignored 2>&1)
mkdir -p "$SRC"
(cd "$ROOT" && git ls-files -z) > "$W/tracked.list"
ok $? "git ls-files lists the tracked sources"
(cd "$ROOT" && while IFS= read -r -d '' f; do
    if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi   # a tracked file deleted here is not copied
done < "$W/tracked.list" | tar --null --no-recursion -T - -cf -) | tar -xf - -C "$SRC"
ok $? "the tracked sources (with their uncommitted changes) are copied to $SRC"
is "$(cd "$SRC" && find . -type f -o -type l | wc -l)" "$(cd "$ROOT" && git ls-files | while IFS= read -r f; do [ -e "$f" ] && echo; done | wc -l)" \
    "the copy holds every tracked file"
start=$SECONDS
(cd "$SRC" && dpkg-buildpackage -us -uc -b) > "$W/build.log" 2>&1
rc=$?
ok $rc "dpkg-buildpackage -us -uc -b builds ($((SECONDS - start)) s)"
[ $rc = 0 ] || { show "the end of the build log" "$W/build.log"; bail "no package was built"; }
is "$(git -C "$ROOT" status --porcelain --ignored 2>&1)" "$checkout_before" "the checkout is untouched by the build"

DEB=$W/src/${PKG}_${DEBVER}_$(dpkg --print-architecture).deb
[ -f "$DEB" ]
ok $? "the build wrote $(basename "$DEB")"
[ -f "$DEB" ] || bail "no $DEB"

# --- its control fields ---
is "$(dpkg-deb -f "$DEB" Package)" "$PKG" "dpkg-deb: Package is $PKG"
is "$(dpkg-deb -f "$DEB" Version)" "$DEBVER" "dpkg-deb: Version is $DEBVER"
depends=$(dpkg-deb -f "$DEB" Depends)
echo "# Depends: $depends"
dep_names=$(echo "$depends" | tr ',|' '\n\n' | sed 's/(.*//; s/[[:space:]]//g' | sort -u)
for want in 'libcurl[0-9a-z-]*' 'libmicrohttpd[0-9a-z-]*' 'libhpdf[0-9a-z.-]*' fonts-dejavu-core postgresql-15; do
    grep -qx -- "$want" <<< "$dep_names"
    ok $? "dpkg-deb: Depends names $want"
done

# --- its contents: the library, the control file and the install script in
# PostgreSQL 15's directories, the same bytes as the sources' ---
dpkg-deb -c "$DEB" | awk '{print $6}' | sed 's|^\./|/|' > "$W/contents.list"
for f in "$LIBDIR/troubleshooting.so" "$SHAREDIR/extension/troubleshooting.control" \
         "$SHAREDIR/extension/troubleshooting--$VERSION.sql"; do
    grep -qx -- "$f" "$W/contents.list"
    ok $? "dpkg-deb -c lists $f"
done
mkdir -p "$W/unpacked" && dpkg-deb -x "$DEB" "$W/unpacked"
ok $? "dpkg-deb -x unpacks it"
for f in troubleshooting.control "troubleshooting--$VERSION.sql"; do
    cmp -s "$W/unpacked$SHAREDIR/extension/$f" "$ROOT/$f"
    ok $? "the packaged $f is the source's, byte for byte"
done
needed=$(objdump -p "$W/unpacked$LIBDIR/troubleshooting.so" | awk '$1 == "NEEDED" {print $2}')
for lib in libcurl libmicrohttpd libhpdf; do
    grep -q "^$lib" <<< "$needed"
    ok $? "the packaged library links $lib (what shlibs:Depends was computed from)"
done

# --- files already in the system's directories (a `make install`): kept aside ---
mapfile -t FILES < <(grep -v '/$' "$W/contents.list")
PRE=()
for f in "${FILES[@]}"; do
    if [ -e "$f" ] || [ -L "$f" ]; then PRE+=("$f"); fi
done
echo "# ${#PRE[@]} of the package's ${#FILES[@]} files are already on the system (an earlier make install)"
tar -C / -cpf "$W/preexisting.tar" --files-from=/dev/null "${PRE[@]#/}" &&
    { ((${#PRE[@]} == 0)) || sha256sum "${PRE[@]}" > "$W/preexisting.sha256"; }
rc=$?
ok $rc "those files are kept aside in $W/preexisting.tar"
[ $rc = 0 ] || bail "could not keep the existing files aside"
BACKED_UP=1

# --- install, as a DBA would ---
INSTALLED=1
(cd "$(dirname "$DEB")" && apt_get install -y "./$(basename "$DEB")") > "$W/install.log" 2>&1
rc=$?
ok $rc "apt-get install -y ./$(basename "$DEB")"
[ $rc = 0 ] || { show "apt-get install" "$W/install.log"; bail "the package did not install"; }
is "$(dpkg-query -W -f='${db:Status-Status} ${Version}' "$PKG")" "installed $DEBVER" "dpkg: $PKG $DEBVER is installed"
is "$(dpkg -S "$LIBDIR/troubleshooting.so" 2>&1)" "$PKG: $LIBDIR/troubleshooting.so" "dpkg -S: the package owns $LIBDIR/troubleshooting.so"
cmp -s "$LIBDIR/troubleshooting.so" "$W/unpacked$LIBDIR/troubleshooting.so"
ok $? "the system's troubleshooting.so is the package's"

# --- a fresh cluster of the system's PostgreSQL 15 with the library preloaded ---
for attempt in 1 2 3; do
    port=$(ts_free_port $((56000 + RANDOM % 900)))
    rm -rf "$DATA"
    sys ts_cluster_init "$DATA" "$port" "$SOCK" preload && sys ts_cluster_start "$DATA" && break
    grep -q "Address already in use" "$DATA/server.log" 2>/dev/null && [ $attempt != 3 ] && continue
    show "server log" "$DATA/server.log"
    ok 1 "a cluster of $SYSBIN starts on port $port"
    bail "no cluster"
done
ok 0 "a cluster of $SYSBIN starts on port $port with shared_preload_libraries = troubleshooting"
pm=$(head -1 "$DATA/postmaster.pid")
is "$(readlink "/proc/$pm/exe")" "$SYSBIN/postgres" "its postmaster runs the system's binary"
is "$(S -c "SELECT setting FROM pg_config WHERE name = 'PKGLIBDIR'")" "$LIBDIR" "its library folder is the system's"
grep -q " $LIBDIR/troubleshooting.so$" "/proc/$pm/maps"
ok $? "the postmaster has preloaded $LIBDIR/troubleshooting.so"
S -c "CREATE EXTENSION troubleshooting" >/dev/null
ok $? "CREATE EXTENSION troubleshooting"
is "$(S -c "SELECT extversion FROM pg_extension WHERE extname = 'troubleshooting'")" "$VERSION" "extversion is $VERSION"
wait_for "SELECT string_agg(backend_type, ',' ORDER BY backend_type) FROM pg_stat_activity WHERE backend_type LIKE 'troubleshooting%'" \
    "troubleshooting dispatcher,troubleshooting launcher,troubleshooting maintenance" 30 S
ok $? "the launcher, maintenance worker and dispatcher appear in pg_stat_activity"

# --- the smoke test: sessions in, exact metrics out, a report as PDF ---
S >/dev/null <<'SQL'
INSERT INTO support_troubleshooting_sessions (session_id, status, detected_problem_id, started_at, resolved_at) VALUES
    ('pkg-1', 'resolved',  'wifi',    '2026-01-05 10:00+00', '2026-01-05 10:30+00'),
    ('pkg-2', 'resolved',  'wifi',    '2026-01-05 11:00+00', '2026-01-05 11:10+00'),
    ('pkg-3', 'escalated', 'printer', '2026-01-05 12:00+00', NULL),
    ('pkg-4', 'abandoned', 'printer', '2026-01-06 09:00+00', NULL);
SQL
ok $? "four sessions inserted"
is "$(S -c "SELECT escalated_at IS NOT NULL, ended_at IS NOT NULL FROM support_troubleshooting_sessions WHERE session_id = 'pkg-3'")" \
   "t|t" "the lifecycle trigger stamps the escalated session"
# 5 January: 3 sessions, 2 resolved (30 and 10 minutes), 1 escalated, 2
# problems; 6 January: 1 abandoned
is "$(S -c "SET TimeZone = 'UTC'" -c "SELECT period_start, total_sessions, resolved_sessions, escalated_sessions, abandoned_sessions,
                  resolution_rate, avg_resolution_time_minutes, unique_problems
           FROM get_troubleshooting_metrics_by_period('day', '2026-01-05 00:00+00', '2026-01-07 00:00+00')")" \
   "2026-01-05 00:00:00+00|3|2|1|0|0.6667|20.00|2
2026-01-06 00:00:00+00|1|0|0|1|0.0000||1" "metrics by day: exact counts, rate and mean resolution time"
# the id, the title and the summary's counts of the report, tab-separated
report=$(S -F $'\t' -c "SET TimeZone = 'UTC'" -c "SELECT r->>'id', r->>'title',
    concat_ws(' ', r->'summary'->>'total_sessions', r->'summary'->>'resolved_sessions',
              r->'summary'->>'escalated_sessions', r->'summary'->>'abandoned_sessions')
    FROM generate_troubleshooting_report('custom', '2026-01-05 00:00+00', '2026-01-07 00:00+00', p_include_charts => true) r")
ok $? "generate_troubleshooting_report('custom', ...)"
IFS=$'\t' read -r rid title counts <<< "$report"
is "$counts" "4 2 1 1" "the report's summary counts the four sessions (total, resolved, escalated, abandoned)"
S -c "SELECT encode(export_troubleshooting_report($rid, 'pdf'), 'base64')" | base64 -d > "$W/report.pdf"
is "$(head -c 5 "$W/report.pdf")" "%PDF-" "export_troubleshooting_report(id, 'pdf') starts with %PDF-"
pdfinfo "$W/report.pdf" > "$W/pdfinfo.out" 2>&1
ok $? "pdfinfo reads the PDF"
grep -qE '^Pages: +[1-9]' "$W/pdfinfo.out"
ok $? "it has pages ($(sed -n 's/^Pages: *//p' "$W/pdfinfo.out"))"
pdffonts "$W/report.pdf" 2>/dev/null | grep -q 'DejaVuSans'
ok $? "it embeds DejaVu Sans (the default font, from fonts-dejavu-core)"
[ -n "$title" ] && pdftotext "$W/report.pdf" - 2>/dev/null | grep -qF -- "$title"
ok $? "its text holds the report's title ($title)"

# --- stop, and check the server log ---
sys ts_cluster_stop "$DATA"
[ ! -f "$DATA/postmaster.pid" ]
ok $? "the cluster stops"
ts_scan_logs <(echo "$DATA/server.log") /dev/null /nonexistent
ok $? "no crash in its server log"

# --- removal: the package's files go, the files found before come back ---
apt_get remove -y "$PKG" > "$W/remove.log" 2>&1
rc=$?
ok $rc "apt-get remove -y $PKG"
[ $rc = 0 ] || show "apt-get remove" "$W/remove.log"
st=$(pkg_status)
[ -z "$st" ] || [ "$st" = not-installed ]
ok $? "dpkg: $PKG is no longer installed (${st:-unknown to dpkg})"
left=$(for f in "${FILES[@]}"; do if [ -e "$f" ] || [ -L "$f" ]; then echo "$f"; fi; done)
is "$left" "" "none of the package's ${#FILES[@]} files is left"
restore_files
ok $? "the files found before the install are put back"
if ((${#PRE[@]})); then
    sha256sum --quiet -c "$W/preexisting.sha256" > "$W/restore.check" 2>&1
    ok $? "the ${#PRE[@]} files an earlier make install left are back, byte for byte"
    [ -s "$W/restore.check" ] && show "sha256sum -c" "$W/restore.check"
fi
done_testing
