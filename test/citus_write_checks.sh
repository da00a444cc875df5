# test/citus_write_checks.sh: the write paths on a Citus cluster, checked by
# their real outcomes (sourced by a TAP test).  citus_write_checks runs them
# on a cluster whose tables distribute_troubleshooting_tables() has spread:
# notifications (a session event's webhook, one enqueued by a trigger on a
# worker node's shard, a plain one) reach a loopback capture server exactly
# once and end sent; cancel and retry; delivery events; configuration seen
# on every node with one history row; reference tables equal on every node;
# escalation, feedback requests, timeouts; ML predictions and corrections;
# a due report schedule run by the coordinator;
# retention (the function, the procedure by small batches, the maintenance
# worker) deleting exactly the old finished rows, after which a fold leaves
# the rollups equal to plain SQL over what remains.
#
# The TAP test provides ok, is, CN I (psql on node I, 0 the coordinator),
# ts_citus_port, the helpers of test/cluster/tap.sh (wait_until,
# wait_output, start_capture_server) and the scratch folder TS_WORK.  Its
# own rows are older than 390 days or carry session ids made for this run;
# it leaves the settings it changes as they were and stops its capture
# server.

# Waits up to $2 seconds (default 60) until notification $1 is neither
# pending nor sending on the coordinator; prints its status (the last read).
cw_final() {
    local id=$1 secs=${2:-60} s i
    [ -n "$id" ] || { echo "no notification"; return; }
    for ((i = 0; i < secs * 5; i++)); do
        s=$(CN 0 -c "SELECT status FROM support_troubleshooting_notifications WHERE id = $id" 2>/dev/null)
        case "$s" in pending|sending|'') sleep 0.2 ;; *) break ;; esac
    done
    echo "$s"
}

# How many requests the capture server recorded for path $1 whose body holds
# the text $2 (any body when $2 is empty).
cw_bodies() {
    python3 - "$CW_CAP/requests.jsonl" "$1" "${2:-}" <<'PY'
import json, sys
path, want = sys.argv[2], sys.argv[3]
try:
    rows = [json.loads(l) for l in open(sys.argv[1])]
except FileNotFoundError:
    rows = []
print(sum(1 for r in rows if r["path"] == path and want in r.get("body", "")))
PY
}

# The id of the only notification of session $1 on channel $2 (with template
# $3 when given), as the coordinator sees it.
cw_notification() {
    CN 0 -c "SELECT id FROM support_troubleshooting_notifications WHERE session_id = '$1'
             AND channel = '$2' ${3:+AND template = '$3'} ORDER BY id"
}

# Succeeds when every placement of table $1 holds the same rows (one md5 of
# the whole copy from every node that has one).
cw_placements_equal() {
    [ "$(CN 0 -c "SELECT count(DISTINCT result) FILTER (WHERE success) || ':' || count(*) FILTER (WHERE NOT success)
                  FROM run_command_on_placements('$1',
                       \$\$SELECT md5(coalesce(string_agg(x::text, ',' ORDER BY x::text), '')) FROM %s x\$\$)")" = "1:0" ]
}

# Sets configuration key $1 to $2 (NULL: the default) on the coordinator.
cw_config() { CN 0 -c "SELECT set_troubleshooting_config('$1', ${2:-NULL})" >/dev/null; }

# The rollups against plain SQL over the rows left, after a fold: prints the
# rows of ts_metrics_hourly and of ts_report_sessions_hourly that differ
# from the raw tables (0 when they are equal).
cw_rollups_diff() {
    CN 0 -c "SELECT refresh_troubleshooting_metrics()" >/dev/null || { echo "fold failed"; return; }
    CN 0 <<'SQL'
WITH r AS (SELECT bucket, sessions, resolved, escalated, attempts, attempts_ok, feedback, rating_sum
             FROM ts_metrics_hourly
            WHERE (sessions, resolved, escalated, attempts, attempts_ok, feedback, rating_sum)
                  <> (0, 0, 0, 0, 0, 0, 0)),
     x AS (SELECT b AS bucket, sum(s)::bigint AS sessions, sum(res)::bigint AS resolved,
                  sum(esc)::bigint AS escalated, sum(a)::bigint AS attempts,
                  sum(aok)::bigint AS attempts_ok, sum(f)::bigint AS feedback,
                  sum(rs)::bigint AS rating_sum
             FROM (SELECT date_trunc('hour', started_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS b, 1 AS s,
                          (status = 'resolved')::int AS res, (status = 'escalated')::int AS esc,
                          0 AS a, 0 AS aok, 0 AS f, 0 AS rs
                     FROM support_troubleshooting_sessions
                   UNION ALL
                   SELECT date_trunc('hour', attempted_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
                          0, 0, 0, 1, success::int, 0, 0
                     FROM support_troubleshooting_attempts
                   UNION ALL
                   SELECT date_trunc('hour', collected_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
                          0, 0, 0, 0, 0, 1, rating
                     FROM support_troubleshooting_feedback) u
            GROUP BY b),
     rs AS (SELECT bucket, status, sum(sessions)::bigint AS n FROM ts_report_sessions_hourly
             GROUP BY 1, 2 HAVING sum(sessions) <> 0),
     xs AS (SELECT date_trunc('hour', started_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS bucket, status,
                   count(*) AS n
              FROM support_troubleshooting_sessions GROUP BY 1, 2)
SELECT (SELECT count(*) FROM (TABLE r EXCEPT TABLE x) d1) + (SELECT count(*) FROM (TABLE x EXCEPT TABLE r) d2)
     + (SELECT count(*) FROM (TABLE rs EXCEPT TABLE xs) d3) + (SELECT count(*) FROM (TABLE xs EXCEPT TABLE rs) d4);
SQL
}

# Inserts old data for retention through the coordinator: sessions
# $1-1..$1-$2 finished $3 days ago (each with $4 attempts and one rating),
# and session $1-open, started as long ago and open (the maintenance worker
# may time it out at once, which ends it now: it stays either way).
cw_old_sessions() {
    local p=$1 n=$2 days=$3 k=$4
    CN 0 >/dev/null <<SQL
INSERT INTO support_troubleshooting_sessions (session_id, status, started_at, resolved_at, detected_problem_id)
SELECT '$p-' || g, 'resolved', now() - interval '$days days' + g * interval '1 hour',
       now() - interval '$days days' + g * interval '1 hour' + interval '10 minutes', 'cw-problem'
  FROM generate_series(1, $n) g;
INSERT INTO support_troubleshooting_sessions (session_id, status, started_at)
VALUES ('$p-open', 'in_progress', now() - interval '$days days');
INSERT INTO support_troubleshooting_attempts (session_id, step_number, success, attempted_at)
SELECT '$p-' || g, s, s % 2 = 0, now() - interval '$days days' + g * interval '1 hour' + s * interval '1 minute'
  FROM generate_series(1, $n) g, generate_series(1, $k) s;
INSERT INTO support_troubleshooting_feedback (session_id, rating, nps_score, collected_at)
SELECT '$p-' || g, 1 + g % 5, g % 11, now() - interval '$days days' + g * interval '1 hour' + interval '20 minutes'
  FROM generate_series(1, $n) g;
SQL
}

# Rows of sessions (and their attempts and feedback) whose id starts with $1-.
cw_left() {
    CN 0 -c "SELECT (SELECT count(*) FROM support_troubleshooting_sessions WHERE session_id LIKE '$1-%')
             || ' ' || (SELECT count(*) FROM support_troubleshooting_attempts WHERE session_id LIKE '$1-%')
             || ' ' || (SELECT count(*) FROM support_troubleshooting_feedback WHERE session_id LIKE '$1-%')"
}

# The checks (see the header).
citus_write_checks() {
    local p="cw$RANDOM" hook_id id id2 out plain cancel_id retry_id rc i
    CW_CAP=$TS_WORK/citus-write-checks-capture
    rm -rf "$CW_CAP"
    start_capture_server "$CW_CAP"
    ok $? "citus writes: capture server listens on 127.0.0.1:$HELPER_PORT"
    local cap_pid=${pids[${#pids[@]}-1]} url=$URL

    # the dispatcher (coordinator) may reach the loopback capture server; every
    # node checks destinations the same way (a config write is checked on each)
    for i in 0 1 2; do
        CN "$i" -c "ALTER SYSTEM SET troubleshooting.allow_private_destinations = on" -c "SELECT pg_reload_conf()" >/dev/null
        wait_output 60 on CN "$i" -c "SHOW troubleshooting.allow_private_destinations"
    done
    # a probe: once one notification enqueued now is sent, every later one sees the setting
    id=$(CN 0 -c "SELECT send_troubleshooting_notification('webhook', '$url/cw/probe', NULL, '{\"probe\": 1}')")
    if [ "$(cw_final "$id")" != sent ]; then
        CN 0 -c "SELECT retry_troubleshooting_notification($id)" >/dev/null
    fi
    is "$(cw_final "$id")" sent "citus writes: the coordinator's dispatcher sends (probe)"

    # --- configuration: every node sees a change at once, history has it once ---
    # (a session on node i reads the key, node i+1 changes it, the session reads it again)
    local init since
    init=$(CN 0 -c "SELECT get_troubleshooting_config('report_min_sample')")
    since=$(CN 0 -c "SELECT clock_timestamp()")
    out=$(for i in 0 1 2; do
        CN "$i" <<SQL
SELECT get_troubleshooting_config('report_min_sample');
\\! psql -X -qAt -U postgres -h 127.0.0.1 -p $(ts_citus_port $(((i + 1) % 3))) -d postgres -c "SELECT set_troubleshooting_config('report_min_sample', '4$i')" >/dev/null
SELECT get_troubleshooting_config('report_min_sample');
SQL
    done | tr '\n' ' ')
    is "${out% }" "$init 40 40 41 41 42" \
       "citus writes: a session that had read a key sees a change made through another node at once, on every node"
    is "$(for i in 0 1 2; do CN "$i" -c "SELECT get_troubleshooting_config('report_min_sample')"; done | tr '\n' ' ')" "42 42 42 " \
       "citus writes: get_troubleshooting_config gives the new value on all three nodes"
    is "$(CN 0 -c "SELECT string_agg(old_value || '>' || new_value || ' ' || changed_by, ',' ORDER BY changed_at)
                   FROM support_troubleshooting_config_history
                  WHERE config_key = 'report_min_sample' AND changed_at > '$since'")" \
       "$init>40 postgres,40>41 postgres,41>42 postgres" \
       "citus writes: one history row per change, with the old and the new value"
    cw_placements_equal support_troubleshooting_config
    ok $? "citus writes: the config table's copies are equal on every node"
    cw_placements_equal support_troubleshooting_config_history
    ok $? "citus writes: the config history's copies are equal on every node"
    cw_config report_min_sample
    cw_config escalation_recipients "'webhook:$url/cw/esc'"
    cw_config timeout_recipients "'webhook:$url/cw/timeout'"

    # --- a session event's webhook, from the coordinator and from a worker node ---
    hook_id=$(CN 0 -c "INSERT INTO support_webhooks (url, events, description)
                       VALUES ('$url/cw/hook', ARRAY['session.started', 'feedback.received'], 'citus_write_checks')
                       RETURNING id")
    CN 0 -c "INSERT INTO support_troubleshooting_sessions (session_id, customer_email) VALUES ('$p-s1', 'c1@example.com')" >/dev/null
    CN 1 -c "INSERT INTO support_troubleshooting_sessions (session_id, customer_email) VALUES ('$p-s2', 'c2@example.com')" >/dev/null
    id=$(cw_notification "$p-s1" webhook)
    is "$(cw_final "$id")" sent "citus writes: the webhook of a session started on the coordinator is sent"
    is "$(cw_bodies /cw/hook "\"$p-s1\"")" 1 "citus writes: ... and received exactly once"
    id=$(cw_notification "$p-s2" webhook)
    is "$(cw_final "$id")" sent "citus writes: the webhook enqueued by a trigger on a shard (session inserted through worker node 1) is sent"
    is "$(cw_bodies /cw/hook "\"$p-s2\"")" 1 "citus writes: ... and received exactly once"
    CN 2 -c "INSERT INTO support_troubleshooting_feedback (session_id, rating) VALUES ('$p-s2', 5)" >/dev/null
    id=$(CN 0 -c "SELECT id FROM support_troubleshooting_notifications
                  WHERE session_id = '$p-s2' AND metadata ->> 'event' = 'feedback.received'")
    is "$(cw_final "$id")" sent "citus writes: feedback given through worker node 2 is sent to its webhook"
    is "$(cw_bodies /cw/hook "\"$p-s2\"")" 2 "citus writes: ... once (with the session's start, two requests about it)"

    # --- a plain notification, its request, delivery events ---
    plain=$(CN 0 -c "SELECT send_troubleshooting_notification('webhook', '$url/cw/plain', NULL, '{\"k\": \"$p\"}')")
    is "$(CN 0 -c "SELECT troubleshooting_notification_request($plain) ->> 'url'")" "$url/cw/plain" \
       "citus writes: troubleshooting_notification_request shows the request"
    is "$(cw_final "$plain")" sent "citus writes: send_troubleshooting_notification: sent"
    is "$(cw_bodies /cw/plain "$p")" 1 "citus writes: ... and received exactly once"
    is "$(CN 0 -c "SELECT record_troubleshooting_notification_event($plain, 'delivered', now(), '{\"via\": \"cw\"}')")" t \
       "citus writes: a delivery event is recorded"
    is "$(CN 1 -c "SELECT status || ' ' || (delivered_at IS NOT NULL) FROM support_troubleshooting_notifications WHERE id = $plain")
$(CN 0 -c "SELECT count(*) || ' ' || min(session_id) FROM support_troubleshooting_notification_events WHERE notification_id = $plain")" \
       "delivered true
1 " "citus writes: ... the notification is delivered, with one event row carrying its session id ('')"
    # a provider's callback for an e-mail row, matched by the provider's message id
    id=$(CN 0 -c "SELECT send_troubleshooting_notification('email', 'c1@example.com', 'session_started', '{\"session_id\": \"$p-s1\"}',
                  'normal', '{}', NULL, now() + interval '1 day')")
    CN 0 -c "UPDATE support_troubleshooting_notifications SET status = 'sent', sent_at = now(), provider_message_id = '$p-msg'
             WHERE id = $id AND session_id = '$p-s1'" >/dev/null
    is "$(CN 0 -c "SELECT result FROM ingest_troubleshooting_provider_event('sendgrid',
                   jsonb_build_array(jsonb_build_object('sg_message_id', '$p-msg.filter1', 'event', 'open',
                                                        'timestamp', extract(epoch FROM now())::bigint)))")" recorded \
       "citus writes: ingest_troubleshooting_provider_event records a provider's event"
    is "$(CN 0 -c "SELECT status FROM support_troubleshooting_notifications WHERE id = $id")" read \
       "citus writes: ... the e-mail is read"

    # --- cancel and retry ---
    cancel_id=$(CN 0 -c "SELECT send_troubleshooting_notification('webhook', '$url/cw/cancel', NULL, '{}', 'normal', '{}', NULL,
                         now() + interval '1 hour')")
    is "$(CN 0 -c "SELECT cancel_troubleshooting_notification($cancel_id)")" t "citus writes: cancel of a waiting notification"
    is "$(CN 2 -c "SELECT cancel_troubleshooting_notification($cancel_id)") $(CN 2 -c "SELECT status
        FROM support_troubleshooting_notifications WHERE id = $cancel_id")" "f cancelled" \
       "citus writes: ... it is cancelled (a second cancel, through a worker node, changes nothing)"
    # the first request answers 503 and the row may try once: failed; a retry sends it
    retry_id=$(CN 0 -c "BEGIN; SELECT send_troubleshooting_notification('webhook', '$url/_mode/flaky-1/cw/retry', NULL, '{}');
                        UPDATE support_troubleshooting_notifications SET max_attempts = 1
                         WHERE recipient = '$url/_mode/flaky-1/cw/retry'; COMMIT;" | head -1)
    is "$(cw_final "$retry_id")" failed "citus writes: a notification whose only try gets 503 fails"
    is "$(CN 0 -c "SELECT retry_troubleshooting_notification($retry_id)")" t "citus writes: retry of the failed notification"
    is "$(cw_final "$retry_id")" sent "citus writes: ... it is sent again"
    is "$(cw_bodies /cw/retry)" 2 "citus writes: ... the endpoint got two requests, the failed one and the retry"
    is "$(CN 0 -c "SELECT cancel_troubleshooting_notification(-1)" 2>&1 | head -1)" \
       "ERROR:  notification -1 does not exist" "citus writes: cancel of an unknown notification is an error"

    # --- automation: escalation after failures, feedback request, timeout ---
    CN 2 -c "INSERT INTO support_troubleshooting_attempts (session_id, step_number, success)
             VALUES ('$p-s1', 1, false), ('$p-s1', 2, false), ('$p-s1', 3, false)" >/dev/null
    is "$(CN 0 -c "SELECT status FROM support_troubleshooting_sessions WHERE session_id = '$p-s1'")" escalated \
       "citus writes: three failed attempts (through worker node 2) escalate the session"
    id=$(cw_notification "$p-s1" webhook "session_escalated")
    is "$(cw_final "$id")" sent "citus writes: ... escalation_recipients are told (enqueued by the shard's trigger)"
    is "$(cw_bodies /cw/esc "$p-s1")" 1 "citus writes: ... exactly once"
    CN 1 -c "UPDATE support_troubleshooting_sessions SET status = 'resolved' WHERE session_id = '$p-s2'" >/dev/null
    is "$(CN 0 -c "SELECT count(*) || ' ' || min(idempotency_key) FROM support_troubleshooting_notifications
                   WHERE session_id = '$p-s2' AND template = 'feedback_request' AND recipient = 'c2@example.com'")" \
       "1 feedback_request:$p-s2" "citus writes: resolving a session (through worker node 1) enqueues one feedback request"
    out=$(CN 0 -c "BEGIN;
        INSERT INTO support_troubleshooting_sessions (session_id, status, started_at, last_activity_at)
        VALUES ('$p-idle', 'in_progress', now() - interval '3 hours', now() - interval '2 hours');
        SELECT expire_troubleshooting_sessions() >= 1; COMMIT;")
    is "$out" t "citus writes: expire_troubleshooting_sessions ends the idle session"
    is "$(CN 0 -c "SELECT status || ' ' || (ended_at IS NOT NULL) FROM support_troubleshooting_sessions WHERE session_id = '$p-idle'")" \
       "timed_out true" "citus writes: ... it is timed out, with its end"
    id=$(cw_notification "$p-idle" webhook "session_timed_out")
    is "$(cw_final "$id")" sent "citus writes: ... timeout_recipients are told"
    is "$(cw_bodies /cw/timeout "$p-idle")" 1 "citus writes: ... exactly once"
    cw_config escalation_recipients
    cw_config timeout_recipients

    # --- ML training rows ---
    CN 0 -c "INSERT INTO support_troubleshooting_sessions (session_id, problem_description)
             VALUES ('$p-ml', 'printer jams'), ('$p-ml2', 'no sound')" >/dev/null
    id=$(CN 0 -c "SELECT record_troubleshooting_prediction('$p-ml', 'paper_jam', 0.95)")
    is "$(CN 1 -c "SELECT record_troubleshooting_correction('$p-ml', 'toner', 'agent-1', 'checked')")" "$id" \
       "citus writes: a correction (through worker node 1) goes to the session's prediction"
    is "$(CN 0 -c "SELECT predicted_problem_id || ' ' || corrected_problem_id || ' ' || use_for_training || ' ' || problem_description
                   FROM support_troubleshooting_ml_training WHERE session_id = '$p-ml'")" "paper_jam toner true printer jams" \
       "citus writes: ... the row holds both, kept for training"
    id2=$(CN 2 -c "SELECT record_troubleshooting_correction('$p-ml2', 'audio', 'agent-2')")
    is "$(CN 0 -c "SELECT count(*) || ' ' || ($id2 <> $id) FROM support_troubleshooting_ml_training
                   WHERE session_id = '$p-ml2' AND corrected_problem_id = 'audio' AND predicted_problem_id IS NULL")" "1 true" \
       "citus writes: a correction without a prediction (through worker node 2) is a row of its own"

    # --- reference tables written by triggers stay equal on every node ---
    CN 0 -c "SELECT create_troubleshooting_report_schedule('$p-sched', 'weekly', '07:30', '[{\"channel\": \"email\", \"recipient\": \"ops@example.com\"}]',
                                                           'Europe/Madrid', 'json', 3)" >/dev/null
    cw_placements_equal support_troubleshooting_report_schedules
    ok $? "citus writes: a new report schedule (next run set by its trigger) is the same on every node"
    CN 0 -c "INSERT INTO support_troubleshooting_templates (name, channel, body) VALUES ('$p-tpl', 'webhook', 'a {{x}}')" >/dev/null
    CN 0 -c "UPDATE support_troubleshooting_templates SET body = 'b {{x}}' WHERE name = '$p-tpl'" >/dev/null
    cw_placements_equal support_troubleshooting_templates
    ok $? "citus writes: an edited template (stamped by its trigger) is the same on every node"
    CN 0 -c "DELETE FROM support_troubleshooting_report_schedules WHERE name = '$p-sched'" \
         -c "DELETE FROM support_troubleshooting_templates WHERE name = '$p-tpl'" >/dev/null

    # --- a due report schedule, run by the coordinator's maintenance worker ---
    local sched
    sched=$(CN 0 -c "SELECT create_troubleshooting_report_schedule('$p-run', 'daily', '07:30',
                     '[{\"channel\": \"slack\", \"recipient\": \"#ops\", \"webhook_url\": \"$url/cw/sched\"}]', 'UTC', 'json')")
    CN 0 -c "UPDATE support_troubleshooting_report_schedules SET next_run_at = now() - interval '1 minute' WHERE id = $sched" >/dev/null
    wait_output 60 "done 1" CN 0 -c "SELECT status || ' ' || notifications FROM support_troubleshooting_report_schedule_runs
                                     WHERE schedule_id = $sched"
    ok $? "citus writes: a due report schedule runs: its run is recorded, one recipient told"
    is "$(CN 0 -c "SELECT next_run_at > now() FROM support_troubleshooting_report_schedules WHERE id = $sched")" t \
       "citus writes: ... and its next run moves past now"
    id=$(CN 0 -c "SELECT id FROM support_troubleshooting_notifications WHERE template = 'report_ready'
                  AND metadata ->> 'webhook_url' = '$url/cw/sched'")
    is "$(cw_final "$id")" sent "citus writes: ... its report_ready notification is sent"
    is "$(cw_bodies /cw/sched)" 1 "citus writes: ... exactly once"
    cw_placements_equal support_troubleshooting_report_schedules && cw_placements_equal support_troubleshooting_report_schedule_runs
    ok $? "citus writes: ... the schedule and its run are the same on every node"
    CN 0 -c "DELETE FROM support_troubleshooting_report_schedules WHERE id = $sched" >/dev/null

    # --- retention: cleanup_old_troubleshooting_data ---
    cw_old_sessions "$p-a" 5 400 3
    CN 0 >/dev/null <<SQL
SELECT record_troubleshooting_prediction('$p-a-1', 'gone', 0.9);
SELECT record_troubleshooting_prediction('$p-a-2', 'kept', 0.3);
INSERT INTO support_troubleshooting_notifications (channel, recipient, status, body, session_id, created_at)
VALUES ('webhook', '$url/cw/old', 'sent', '{}', '$p-a-1', now() - interval '400 days');
INSERT INTO support_troubleshooting_notifications (channel, recipient, status, body, session_id, created_at, next_attempt_at)
VALUES ('webhook', '$url/cw/old', 'pending', '{}', '$p-a-1', now() - interval '400 days', now() + interval '1 year');
SQL
    id=$(CN 0 -c "SELECT id FROM support_troubleshooting_notifications WHERE session_id = '$p-a-1' AND status = 'sent'
                  AND recipient = '$url/cw/old'")
    CN 0 -c "SELECT record_troubleshooting_notification_event($id, 'delivered', (SELECT created_at FROM support_troubleshooting_notifications WHERE id = $id) + interval '1 minute')" >/dev/null
    local expect="support_troubleshooting_sessions 5,support_troubleshooting_attempts 15,support_troubleshooting_feedback 5,support_troubleshooting_notifications 1,support_troubleshooting_reports 0,support_troubleshooting_ml_training 1"
    is "$(CN 0 -c "SELECT string_agg(table_name || ' ' || rows_deleted, ',') FROM cleanup_old_troubleshooting_data('390 days', true)" 2>/dev/null)" \
       "$expect" "citus writes: a dry run counts the old finished sessions, their rows, the old finished notification"
    out=$(CN 0 -c "SELECT string_agg(table_name || ' ' || rows_deleted, ',') FROM cleanup_old_troubleshooting_data('390 days')" 2>&1)
    is "$(echo "$out" | tail -1)" "$expect" "citus writes: cleanup_old_troubleshooting_data deletes exactly those"
    [[ "$out" == *"NOTICE:  support_troubleshooting_sessions: 5 rows deleted so far"* ]]
    ok $? "citus writes: ... with its NOTICE per table"
    is "$(cw_left "$p-a")" "1 0 0" "citus writes: ... the old open session stays, the finished ones are gone with their attempts and feedback"
    is "$(CN 0 -c "SELECT string_agg(status, ',' ORDER BY status) FROM support_troubleshooting_notifications
                   WHERE session_id = '$p-a-1' AND recipient = '$url/cw/old'")
$(CN 0 -c "SELECT count(*) FROM support_troubleshooting_notification_events WHERE notification_id = $id")" "pending
0" "citus writes: ... the pending notification stays, the sent one went with its events"
    is "$(CN 0 -c "SELECT string_agg(session_id || ' ' || predicted_problem_id, ',') FROM support_troubleshooting_ml_training
                   WHERE session_id LIKE '$p-a-%'")" "$p-a-2 kept" \
       "citus writes: ... the ML row kept for training stays, with its session id"

    # --- retention: the procedure, two sessions a batch ---
    cw_old_sessions "$p-b" 5 400 2
    out=$(CN 0 -c "CALL run_troubleshooting_cleanup('390 days', false, 2)" 2>&1)
    [[ "$out" == *"NOTICE:  20 rows deleted"*"DETAIL:  sessions 5, attempts 10, feedback 5, notifications 0, reports 0, ml_training 0."* ]]
    rc=$?
    ok $rc "citus writes: run_troubleshooting_cleanup by batches of 2 deletes the 5 old finished sessions with their rows"
    [ $rc = 0 ] || echo "$out" | sed 's/^/# /'
    is "$(cw_left "$p-b")" "1 0 0" "citus writes: ... the old open session stays"

    # --- retention: the maintenance worker (configured days) ---
    cw_old_sessions "$p-c" 3 500 1
    cw_config retention_days_sessions "'450'"
    cw_config cleanup_interval_minutes "'59'"   # a new interval: the worker's retention runs now
    wait_output 60 "1 0 0" cw_left "$p-c"
    ok $? "citus writes: the maintenance worker's retention deletes the sessions past retention_days_sessions, not the open one"
    cw_config retention_days_sessions
    cw_config cleanup_interval_minutes

    # --- the rollups after all of it (again, should the maintenance worker
    # change a session between the fold and the comparison) ---
    wait_output 30 0 cw_rollups_diff
    rc=$?
    ok $rc "citus writes: after a fold, the metric and report rollups equal plain SQL over the rows left"
    [ $rc = 0 ] || echo "# differing rollup rows: $(cw_rollups_diff)"

    # --- leave things as they were ---
    CN 0 -c "DELETE FROM support_webhooks WHERE id = $hook_id" >/dev/null
    for i in 0 1 2; do
        CN "$i" -c "ALTER SYSTEM RESET troubleshooting.allow_private_destinations" -c "SELECT pg_reload_conf()" >/dev/null
    done
    kill "$cap_pid" 2>/dev/null
    wait "$cap_pid" 2>/dev/null
    return 0
}
