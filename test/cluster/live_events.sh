#!/usr/bin/env bash
# Live events: a real LISTEN client (psql in another session) receives a small
# JSON payload for session status changes, escalations, feedback and failed
# notifications; nothing for a rolled-back change; no personal data.
. "$(dirname "$0")/tap.sh"

fresh_db ts_live
Q() { q -d ts_live "$@"; }
Q -c "CREATE EXTENSION troubleshooting" >/dev/null

# the listener: a psql session fed through a fifo; psql prints the
# notifications it has received after each command it runs
out=$TS_WORK/live.out
mkfifo "$TS_WORK/live.in"
( PGAPPNAME=listener psql -X -q -At -U postgres -d ts_live -f "$TS_WORK/live.in" > "$out" 2>&1 ) &
listener=$!
exec {feed}>"$TS_WORK/live.in"
echo "LISTEN troubleshooting_events;" >&"$feed"
wait_for "SELECT state FROM pg_stat_activity WHERE application_name = 'listener' AND query LIKE 'LISTEN%'" "idle" 60 Q
ok $? "the listener is listening"
Q <<'SQL' >/dev/null
INSERT INTO support_troubleshooting_sessions (session_id, customer_name, customer_email, detected_problem_id)
VALUES ('live-1', 'Juan Pérez', 'juan@example.com', 'wifi');
UPDATE support_troubleshooting_sessions SET status = 'in_progress' WHERE session_id = 'live-1';
UPDATE support_troubleshooting_sessions SET metadata = '{"x": 1}' WHERE session_id = 'live-1';
UPDATE support_troubleshooting_sessions SET status = 'escalated', ticket_id = 'T-9' WHERE session_id = 'live-1';
INSERT INTO support_troubleshooting_feedback (session_id, rating, nps_score) VALUES ('live-1', 2, 3);
BEGIN;
INSERT INTO support_troubleshooting_sessions (session_id) VALUES ('live-rolled-back');
ROLLBACK;
INSERT INTO support_troubleshooting_notifications (channel, recipient, body, status) VALUES ('sms', '+15550100', 'x', 'sending');
UPDATE support_troubleshooting_notifications SET status = 'failed', attempts = 5, last_error = 'HTTP 500';
SQL
# the last event is the failed notification: the listener asks until it has it
for _ in $(seq 1 600); do
    echo "SELECT 1;" >&"$feed"
    grep -q 'notification.failed' "$out" && break
    sleep 0.1
done
exec {feed}>&-
wait "$listener"
payloads=$(sed -n 's/^Asynchronous notification "troubleshooting_events" with payload "\(.*\)" received from server process with PID [0-9]*\.$/\1/p' "$out")
echo "$payloads" | sed 's/^/# /'
types=$(echo "$payloads" | python3 -c "
import json, sys
print(' '.join(json.loads(l)['type'] + ':' + str(json.loads(l).get('status') or json.loads(l).get('rating') or json.loads(l).get('channel')) for l in sys.stdin if l.strip()))")
is "$types" "session.status:started session.status:in_progress session.status:escalated session.escalated:None feedback.received:2 notification.failed:sms" \
   "one event per status change, escalation, feedback and failure; none for metadata edits or rollbacks"
echo "$payloads" | grep -qE "Juan|juan@|15550100|HTTP 500"
ok $((! $?)) "no names, addresses, recipients or error texts in payloads"
is "$(echo "$payloads" | python3 -c "
import json, sys
e = [json.loads(l) for l in sys.stdin if l.strip()]
print(e[2]['previous'], e[3]['ticket_id'], e[4]['nps_score'])")" "in_progress T-9 3" "payloads carry the previous status, ticket and scores"

q -c "DROP DATABASE ts_live" >/dev/null
done_testing
