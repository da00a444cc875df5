#!/usr/bin/env bash
# Retention next to concurrent writers: an attempt written for a session that
# a cleanup batch is deleting waits for it and then fails its foreign key (no
# orphan); a session locked by another transaction is skipped, not waited for,
# and goes on the next run.
. "$(dirname "$0")/tap.sh"

fresh_db ts_clean
Q() { q -d ts_clean "$@"; }
Q >/dev/null <<'SQL'
CREATE EXTENSION troubleshooting;
SELECT set_troubleshooting_config('auto_escalate_after_failures', '0');
INSERT INTO support_troubleshooting_sessions (session_id, status, started_at, ended_at)
SELECT 'c-' || g, 'resolved', now() - interval '400 days', now() - interval '400 days'
FROM generate_series(1, 100) g;
INSERT INTO support_troubleshooting_attempts (session_id, step_number, success)
SELECT session_id, k, true FROM support_troubleshooting_sessions, generate_series(1, 2) k;
SQL

# Opens a psql session named $1 that runs what say() writes to it, so a
# transaction stays open until the test itself sends COMMIT (no timer).
open_session() {
    mkfifo "$TS_WORK/$1.in"
    ( PGAPPNAME=$1 Q -f "$TS_WORK/$1.in" > "$TS_WORK/$1.out" 2>&1; echo $? > "$TS_WORK/$1.rc" ) &
    eval "exec {fd_$1}>\"\$TS_WORK/$1.in\""
}
# Sends SQL $2 to session $1.
say() { local fd="fd_$1"; echo "$2" >&"${!fd}"; }
# Ends session $1 (end of its input) and waits for it.
close_session() { eval "exec {fd_$1}>&-"; wait "$2"; }

# 1. cleanup deletes in an open transaction; a writer adds an attempt to one
#    of its sessions meanwhile
open_session cleaner
cleaner=$!
say cleaner "BEGIN;"
say cleaner "SELECT count(*) FROM cleanup_old_troubleshooting_data(interval '1 day');"
wait_for "SELECT state FROM pg_stat_activity WHERE application_name = 'cleaner' AND query LIKE '%cleanup_old_troubleshooting_data%'" \
    "idle in transaction" 60 Q
ok $? "the cleanup transaction has deleted and is still open"
( PGAPPNAME=writer Q -c "INSERT INTO support_troubleshooting_attempts (session_id, step_number, success) VALUES ('c-7', 9, false)" \
      > "$TS_WORK/writer.out" 2>&1; echo $? > "$TS_WORK/writer.rc" ) &
writer=$!
wait_for "SELECT wait_event_type FROM pg_stat_activity WHERE application_name = 'writer'" "Lock" 60 Q
ok $? "the writer waits for the batch's row lock"
say cleaner "COMMIT;"
close_session cleaner "$cleaner"
wait "$writer"
is "$(cat "$TS_WORK/cleaner.rc")" "0" "the cleanup transaction commits"
is "$(cat "$TS_WORK/writer.rc")" "1" "the writer's insert fails once the batch commits"
grep -q 'violates foreign key constraint' "$TS_WORK/writer.out"
ok $? "with a foreign key violation"
is "$(Q -c "SELECT count(*) FROM support_troubleshooting_sessions")|$(Q -c "SELECT count(*) FROM support_troubleshooting_attempts")" \
   "0|0" "every session and attempt is gone, no orphan attempt"

# 2. a session locked by another transaction is skipped, not waited for
Q >/dev/null <<'SQL'
INSERT INTO support_troubleshooting_sessions (session_id, status, started_at, ended_at)
SELECT 'k-' || g, 'abandoned', now() - interval '400 days', now() - interval '400 days'
FROM generate_series(1, 20) g;
SQL
open_session locker
locker=$!
say locker "BEGIN;"
say locker "SELECT 1 FROM support_troubleshooting_sessions WHERE session_id = 'k-3' FOR UPDATE;"
wait_for "SELECT state FROM pg_stat_activity WHERE application_name = 'locker' AND query LIKE '%FOR UPDATE%'" \
    "idle in transaction" 60 Q
ok $? "another transaction holds a row lock on k-3"
got=$(Q 2>/dev/null -c "SELECT rows_deleted FROM cleanup_old_troubleshooting_data(interval '1 day') WHERE table_name = 'support_troubleshooting_sessions'")
is "$got|$(Q -c "SELECT state FROM pg_stat_activity WHERE application_name = 'locker'")" "19|idle in transaction" \
   "cleanup deletes the other 19 while the lock is still held"
say locker "COMMIT;"
close_session locker "$locker"
is "$(Q -c "SELECT string_agg(session_id, ',') FROM support_troubleshooting_sessions")" "k-3" "the locked one stays"
Q -c "SELECT * FROM cleanup_old_troubleshooting_data(interval '1 day')" >/dev/null 2>&1
is "$(Q -c "SELECT count(*) FROM support_troubleshooting_sessions")" "0" "and goes on the next run"

q -c "DROP DATABASE ts_clean" >/dev/null
done_testing
