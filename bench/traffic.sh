#!/usr/bin/env bash
# bench/traffic.sh: the demo's traffic simulator, a background job that keeps
# a database looking alive: every few seconds it runs one tick of
# bench/traffic.sql (one transaction: sessions opened, worked, resolved,
# escalated or abandoned, attempts, feedback), so the dashboard, /metrics and
# LISTEN troubleshooting_events move while someone watches.  Its first tick
# back-fills the last hour when that hour is empty.  start.sh starts it and
# stops it.
#
#   bash bench/traffic.sh start    start it in the background (its own session:
#                                  it outlives the shell that started it)
#   bash bench/traffic.sh stop     stop it (SIGTERM; it ends after the tick in
#                                  hand) and wait until it is gone
#   bash bench/traffic.sh status   say whether it runs
#   bash bench/traffic.sh run      the loop itself, in the foreground
#
# It connects with the libpq environment (PGHOST, PGPORT, PGUSER, PGDATABASE).
#   TS_TRAFFIC_DIR       folder of traffic.pid and traffic.log (default: .data of the checkout)
#   TS_TRAFFIC_INTERVAL  seconds between two ticks (default 2.5)
#   TS_TRAFFIC_GIVE_UP   seconds without a successful tick (server gone, extension
#                        dropped) after which it exits by itself (default 120)
#   TS_TRAFFIC_PREFIX    prefix of the session ids it creates (default live)
# The log is kept under 1 MB (the previous one is traffic.log.1).
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DIR=${TS_TRAFFIC_DIR:-$HERE/../.data}
PIDFILE=$DIR/traffic.pid
LOG=$DIR/traffic.log
INTERVAL=${TS_TRAFFIC_INTERVAL:-2.5}
GIVE_UP=${TS_TRAFFIC_GIVE_UP:-120}
PREFIX=${TS_TRAFFIC_PREFIX:-live}
LOG_MAX=1048576

# Prints the pid in the pid file when that process runs and is this
# simulator's loop (not a recycled pid); prints nothing otherwise.
traffic_pid() {
    local pid
    pid=$(cat "$PIDFILE" 2>/dev/null) || return 0
    [[ $pid =~ ^[0-9]+$ ]] || return 0
    kill -0 "$pid" 2>/dev/null || return 0
    tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q "traffic.sh run" && echo "$pid"
    return 0
}

# Prints a line to the log (standard output of the loop) with the UTC time.
say() { echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) $*"; }

# Starts the loop in its own session (setsid, nohup) and waits up to 60 s for
# its first tick to be logged; fails if it exits first or never ticks.
traffic_start() {
    local pid mark i
    pid=$(traffic_pid)
    if [ -n "$pid" ]; then echo "traffic simulator already running (pid $pid)"; return 0; fi
    mkdir -p "$DIR" || return 1
    rm -f "$PIDFILE"
    mark=$(stat -c %s "$LOG" 2>/dev/null || echo 0)
    setsid nohup bash "$HERE/traffic.sh" run >/dev/null 2>&1 < /dev/null &
    for ((i = 0; i < 600; i++)); do
        # (the log may have been rotated since the mark: then read all of it)
        [ "$(stat -c %s "$LOG" 2>/dev/null || echo 0)" -lt "$mark" ] && mark=0
        if tail -c +$((mark + 1)) "$LOG" 2>/dev/null | grep -q ' tick 1: '; then
            pid=$(traffic_pid)
            echo "traffic simulator running (pid $pid, a tick every $INTERVAL s; log $LOG)"
            tail -c +$((mark + 1)) "$LOG" | grep ' tick 1: ' | sed 's/^/    /'
            return 0
        fi
        if ((i > 20)) && [ -z "$(traffic_pid)" ]; then
            echo "the traffic simulator stopped; its log ($LOG):" >&2
            tail -c +$((mark + 1)) "$LOG" 2>/dev/null | tail -20 >&2
            return 1
        fi
        sleep 0.1
    done
    echo "the traffic simulator has not ticked within 60 s; see $LOG" >&2
    return 1
}

# Stops the loop: SIGTERM (it ends after the tick in hand), up to 30 s, then
# SIGKILL to its process group; removes the pid file.
traffic_stop() {
    local pid i
    pid=$(traffic_pid)
    if [ -z "$pid" ]; then
        rm -f "$PIDFILE"
        echo "traffic simulator not running"
        return 0
    fi
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < 300; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
        for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$PIDFILE"
    if kill -0 "$pid" 2>/dev/null; then echo "traffic simulator (pid $pid) did not stop" >&2; return 1; fi
    echo "traffic simulator stopped (pid $pid)"
}

# Starts a new log when the current one passes LOG_MAX (the old one becomes
# traffic.log.1) and points standard output and errors at the log.
rotate_log() {
    if [ "$(stat -c %s "$LOG" 2>/dev/null || echo 0)" -gt "$LOG_MAX" ]; then
        mv -f "$LOG" "$LOG.1"
        exec >>"$LOG" 2>&1
    fi
}

# The loop: a tick of bench/traffic.sql every INTERVAL seconds until SIGTERM
# or INT, or until no tick has succeeded for GIVE_UP seconds.  The first tick,
# and the first after a failure, may back-fill the last hour.
traffic_run() {
    local other n=0 out rc backfill=on last_ok=$SECONDS failing= stop= sleeper
    mkdir -p "$DIR" || exit 1
    exec >>"$LOG" 2>&1 < /dev/null
    other=$(traffic_pid)
    if [ -n "$other" ] && [ "$other" != $$ ]; then say "another simulator runs (pid $other); exiting"; exit 1; fi
    echo $$ > "$PIDFILE"
    trap 'stop=1' TERM INT
    trap '[ "$(cat "$PIDFILE" 2>/dev/null)" = $$ ] && rm -f "$PIDFILE"' EXIT
    say "started (pid $$): database ${PGDATABASE:-?} on ${PGHOST:-?}:${PGPORT:-5432}, a tick every $INTERVAL s"
    while [ -z "$stop" ]; do
        out=$(PGAPPNAME=troubleshooting-traffic PGCONNECT_TIMEOUT=5 \
              PGOPTIONS="-c statement_timeout=30s -c lock_timeout=5s" \
              psql -X -q -At -v ON_ERROR_STOP=1 -v backfill="$backfill" -v prefix="$PREFIX" \
                   -f "$HERE/traffic.sql" 2>&1)
        rc=$?
        if [ $rc = 0 ]; then
            n=$((n + 1))
            say "tick $n: $out"
            backfill=off
            failing=
            last_ok=$SECONDS
        else
            # psql: 2 = no connection, 3 = an error in the script
            if [ -z "$failing" ]; then
                say "tick failed (psql exit $rc):"
                printf '%s\n' "$out" | head -20
                failing=1
            fi
            backfill=on
            if ((SECONDS - last_ok >= GIVE_UP)); then
                say "no successful tick for $GIVE_UP s; giving up"
                exit 1
            fi
        fi
        rotate_log
        [ -n "$stop" ] && break
        sleep "$INTERVAL" &
        sleeper=$!
        wait "$sleeper" 2>/dev/null
        kill "$sleeper" 2>/dev/null
    done
    say "stopped after $n ticks"
    exit 0
}

case "${1:-}" in
    start) traffic_start ;;
    stop) traffic_stop ;;
    status)
        pid=$(traffic_pid)
        if [ -n "$pid" ]; then echo "traffic simulator running (pid $pid; log $LOG)"; else echo "traffic simulator not running"; exit 3; fi ;;
    run) traffic_run ;;
    *) echo "usage: bash bench/traffic.sh start|stop|status|run" >&2; exit 2 ;;
esac
