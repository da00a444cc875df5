#!/usr/bin/env bash
# Report schedules run by the maintenance worker: a schedule three days
# overdue makes one report (the latest due time only), exported and sent to
# every recipient once: e-mail with the PDF attached, Slack and webhook
# without; nothing runs twice after a cluster restart or another worker run;
# the dispatcher delivers them to a loopback capture server; a failing run
# is retried at most three times; a disabled channel costs only its own
# recipient; a disabled schedule does not run.
. "$(dirname "$0")/tap.sh"

start_capture_server "$TS_WORK/schedcap"

# Runs python check $1 on the capture server's records (rows = all of them).
check() {
    python3 - "$CAP/requests.jsonl" <<PY
import json, sys, base64
rows = [json.loads(l) for l in open(sys.argv[1])]
$1
PY
}

conf_set allow_private_destinations on maintenance_naptime 100ms
P -c "CREATE EXTENSION troubleshooting" >/dev/null
q -d postgres -v sessions=400 -v days=10 -f bench/generate_data.sql >/dev/null
ok $? "sample data loaded"
P -c "SELECT set_troubleshooting_provider('email', 'sendgrid',
        '{\"api_key\": \"SG.schedule-test-key\", \"from\": \"reports@example.com\", \"base_url\": \"$URL/_mode/sendgrid\"}')" >/dev/null

# --- a daily schedule, last run three days ago (the server was down) ---
id=$(P -c "SELECT create_troubleshooting_report_schedule('ops daily', 'daily', '06:00',
        '[{\"channel\": \"email\", \"recipient\": \"ana@example.com\"},
          {\"channel\": \"email\", \"recipient\": \"luis@example.com\"},
          {\"channel\": \"slack\", \"recipient\": \"#ops\", \"webhook_url\": \"$URL/_mode/slack/services/T0/B0/x\"},
          {\"channel\": \"webhook\", \"recipient\": \"$URL/_mode/webhook/reports\"}]',
        'America/New_York', 'pdf')")
is "$(P -c "SELECT count(*) FROM support_troubleshooting_report_schedule_runs")" "0" "a new schedule waits for its first due time"
P -c "UPDATE support_troubleshooting_report_schedules SET next_run_at = now() - interval '3 days' WHERE id = $id" >/dev/null
wait_for "SELECT count(*) FROM support_troubleshooting_report_schedule_runs WHERE schedule_id = $id AND status = 'done'" 1 120
ok $? "the worker runs the overdue schedule"
is "$(P -c "SELECT count(*) FROM support_troubleshooting_report_schedule_runs WHERE schedule_id = $id")|$(P -c "SELECT count(*) FROM support_troubleshooting_reports")" \
   "1|1" "three missed days make one run and one report"
is "$(P -c "SELECT r.due_at = ts_report_schedule_due('daily', '06:00', 'America/New_York', NULL, NULL, now(), false)
              FROM support_troubleshooting_report_schedule_runs r WHERE schedule_id = $id")" "t" \
   "the run is for the latest due time (06:00 in New York)"
is "$(P -c "SELECT EXISTS (SELECT FROM ts_report_schedule_period('daily', 'America/New_York', r.due_at) p
                           WHERE (p.period_start, p.period_end) = (r.period_start, r.period_end))
                   AND (rep.data #>> '{period,start}')::timestamptz = r.period_start
                   AND (rep.data #>> '{period,end}')::timestamptz = r.period_end
                   AND rep.report_type = 'daily'
              FROM support_troubleshooting_report_schedule_runs r
              JOIN support_troubleshooting_reports rep ON rep.id = r.report_id WHERE r.schedule_id = $id")" "t" \
   "the report covers the day before the due time, midnight to midnight in New York"
is "$(P -c "SELECT (r.period_start AT TIME ZONE 'America/New_York')::time || ' ' ||
                   ((r.due_at AT TIME ZONE 'America/New_York')::date - (r.period_start AT TIME ZONE 'America/New_York')::date)
              FROM support_troubleshooting_report_schedule_runs r WHERE schedule_id = $id")" "00:00:00 1" \
   "period start: local midnight of the previous day"
is "$(P -c "SELECT next_run_at > now() AND next_run_at = troubleshooting_schedule_next_run(id, now())
              FROM support_troubleshooting_report_schedules WHERE id = $id")" "t" "next_run_at moves to the next due time"

# --- one notification per recipient, e-mail with the PDF ---
is "$(P -c "SELECT count(*) || ' ' || count(DISTINCT idempotency_key) || ' ' || bool_and(template = 'report_ready')
                   || ' ' || bool_and(subject LIKE 'Your daily troubleshooting report is ready')
              FROM support_troubleshooting_notifications WHERE idempotency_key LIKE 'report-schedule:$id:%'")" \
   "4 4 true true" "four report_ready notifications, one per recipient, each with its own idempotency key"
is "$(P -c "SELECT string_agg(channel || ':' || (metadata #>> '{attachments,0,filename}') || ':' ||
                   (metadata #>> '{attachments,0,content_type}') || ':' ||
                   (substr(decode(metadata #>> '{attachments,0,content}', 'base64'), 1, 5) = '%PDF-'::bytea), ' ' ORDER BY recipient)
              FROM support_troubleshooting_notifications WHERE channel = 'email'")" \
   "$(P -c "SELECT 'email:troubleshooting-daily-' || to_char(period_start AT TIME ZONE 'America/New_York', 'YYYY-MM-DD') || '.pdf:application/pdf:true'
              FROM support_troubleshooting_report_schedule_runs WHERE schedule_id = $id" | sed 'p' | paste -sd' ')" \
   "each e-mail carries the report as a PDF (base64 decodes to %PDF-)"
is "$(P -c "SELECT string_agg(channel || ' ' || metadata::text, ', ' ORDER BY channel) FROM support_troubleshooting_notifications
              WHERE channel IN ('slack', 'webhook')")" \
   "slack {\"webhook_url\": \"$URL/_mode/slack/services/T0/B0/x\"}, webhook {}" \
   "slack (its webhook_url only) and webhook recipients get no attachment"
is "$(P -c "SELECT count(DISTINCT data) || ' ' || bool_and((data->>'report_id')::bigint = r.report_id
                   AND data->>'report_type' = 'daily' AND data->>'time_zone' = 'America/New_York'
                   AND (data->>'period_start')::timestamptz = r.period_start AND (data->>'period_end')::timestamptz = r.period_end
                   AND data->>'period_start' ~ '^\d{4}-\d\d-\d\dT00:00:00-0[45]:00$')
              FROM support_troubleshooting_notifications n, support_troubleshooting_report_schedule_runs r
              WHERE r.schedule_id = $id AND n.idempotency_key LIKE 'report-schedule:$id:%'")" "1 true" \
   "every recipient's data: report id, type, local period with offset, zone"

# --- delivered by the dispatcher ---
wait_for "SELECT count(*) FROM support_troubleshooting_notifications WHERE idempotency_key LIKE 'report-schedule:$id:%' AND status = 'sent'" 4 120
ok $? "the dispatcher sends all four"
check "
mail = [r for r in rows if r['path'] == '/v3/mail/send']
assert len(mail) == 2, len(mail)
for r in mail:
    d = json.loads(r['body'])
    a = d['attachments']
    assert len(a) == 1 and a[0]['type'] == 'application/pdf' and a[0]['filename'].endswith('.pdf'), a
    assert base64.b64decode(a[0]['content'])[:5] == b'%PDF-', a[0]['content'][:20]
    assert 'daily' in d['subject'], d['subject']
assert sorted(d2['personalizations'][0]['to'][0]['email'] for d2 in map(lambda r: json.loads(r['body']), mail)) == ['ana@example.com', 'luis@example.com']
"
ok $? "each e-mail reaches the provider with the PDF attached"
check "
slack = [r for r in rows if r['path'] == '/services/T0/B0/x']
hook = [r for r in rows if r['path'] == '/reports']
assert len(slack) == 1 and len(hook) == 1, (len(slack), len(hook))
for r in slack + hook:
    assert 'JVBERi0' not in r['body'] and 'attachments' not in r['body'], r['body'][:300]
assert 'is ready (report ' in slack[0]['body'], slack[0]['body']
"
ok $? "Slack and the webhook get the message without the file"

# --- exactly once: a restart and more worker runs change nothing ---
restart_main
ok $? "cluster restarted"
wait_for "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'troubleshooting maintenance'" 1 120
ts_maintenance_rounds postgres 3
ok $? "the worker has been through three rounds since"
is "$(P -c "SELECT count(*) FROM support_troubleshooting_report_schedule_runs")|$(P -c "SELECT count(*) FROM support_troubleshooting_reports")|$(P -c "SELECT count(*) FROM support_troubleshooting_notifications")" \
   "1|1|4" "after the restart: still one run, one report, four notifications"
# the same due time again (as if the worker had died before moving next_run_at)
P -c "UPDATE support_troubleshooting_report_schedules SET next_run_at = now() - interval '1 minute' WHERE id = $id" >/dev/null
wait_for "SELECT next_run_at > now() FROM support_troubleshooting_report_schedules WHERE id = $id" t 120
ok $? "the worker takes the schedule up again"
is "$(P -c "SELECT count(*) FROM support_troubleshooting_report_schedule_runs")|$(P -c "SELECT count(*) FROM support_troubleshooting_reports")|$(P -c "SELECT count(*) FROM support_troubleshooting_notifications")" \
   "1|1|4" "a due time already done is not run again"

# --- a disabled channel costs its recipient only ---
P -c "SELECT set_troubleshooting_config('notification_channels', 'email,slack')" >/dev/null
id2=$(P -c "SELECT create_troubleshooting_report_schedule('weekly csv', 'weekly', '05:00',
        '[{\"channel\": \"email\", \"recipient\": \"ana@example.com\"},
          {\"channel\": \"sms\", \"recipient\": \"+14155550100\"}]', 'Europe/Madrid', 'csv', p_weekday => 1)")
P -c "UPDATE support_troubleshooting_report_schedules SET next_run_at = now() - interval '20 days' WHERE id = $id2" >/dev/null
wait_for "SELECT count(*) FROM support_troubleshooting_report_schedule_runs WHERE schedule_id = $id2" 1 120
ok $? "the weekly schedule runs once"
is "$(P -c "SELECT status || ' ' || notifications || ' ' || (error LIKE 'recipient 1 not enqueued: channel \"sms\" is disabled%')
              FROM support_troubleshooting_report_schedule_runs WHERE schedule_id = $id2")" "done 1 true" \
   "the e-mail is enqueued, the SMS (channel disabled) is noted in the run"
is "$(P -c "SELECT (p.period_end - p.period_start)::text || ' ' || extract(isodow FROM p.period_start AT TIME ZONE 'Europe/Madrid')
                   || ' ' || (n.metadata #>> '{attachments,0,content_type}') || ' ' || (n.metadata #>> '{attachments,0,filename}' LIKE '%.csv')
              FROM support_troubleshooting_report_schedule_runs r,
                   ts_report_schedule_period('weekly', 'Europe/Madrid', r.due_at) p,
                   support_troubleshooting_notifications n
              WHERE r.schedule_id = $id2 AND n.idempotency_key LIKE 'report-schedule:$id2:%'")" \
   "7 days 1 text/csv true" "a week from Monday, sent as CSV"
grep -q 'report schedule "weekly csv": report [0-9]* sent to 1 of its recipients' "$MAIN/server.log"
ok $? "the partial delivery is logged as a warning"
P -c "SELECT set_troubleshooting_config('notification_channels', NULL)" >/dev/null

# --- a failing run: rolled back, recorded, retried three times at most ---
id3=$(P -c "SELECT create_troubleshooting_report_schedule('broken', 'monthly', '04:00',
        '[{\"channel\": \"email\", \"recipient\": \"ana@example.com\"}]', 'UTC', 'json',
        p_month_day => 1)")
# (the trigger refuses bad filters, so they are written past it, as a row
# restored from an older dump could hold them)
P -c "SET session_replication_role = replica" \
  -c "UPDATE support_troubleshooting_report_schedules SET filters = '{\"no_such_filter\": 1}' WHERE id = $id3" >/dev/null
reports=$(P -c "SELECT count(*) FROM support_troubleshooting_reports")
notes=$(P -c "SELECT count(*) FROM support_troubleshooting_notifications")
P -c "UPDATE support_troubleshooting_report_schedules SET next_run_at = now() - interval '1 hour' WHERE id = $id3" >/dev/null
wait_for "SELECT attempts FROM support_troubleshooting_report_schedule_runs WHERE schedule_id = $id3" 1 120
ok $? "the failing run is recorded"
is "$(P -c "SELECT status || ' ' || (error LIKE '%unknown report filter%') || ' ' || (report_id IS NULL)
              FROM support_troubleshooting_report_schedule_runs WHERE schedule_id = $id3")" "failed true true" \
   "status failed, with the error"
is "$(P -c "SELECT next_run_at BETWEEN now() + interval '4 minutes' AND now() + interval '5 minutes'
              FROM support_troubleshooting_report_schedules WHERE id = $id3")" "t" "retried in five minutes"
for n in 2 3; do
    P -c "UPDATE support_troubleshooting_report_schedules SET next_run_at = now() - interval '1 second' WHERE id = $id3" >/dev/null
    wait_for "SELECT attempts FROM support_troubleshooting_report_schedule_runs WHERE schedule_id = $id3" "$n" 120
    ok $? "attempt $n"
done
is "$(P -c "SELECT next_run_at = troubleshooting_schedule_next_run(id, now()) FROM support_troubleshooting_report_schedules WHERE id = $id3")" \
   "t" "after the third failure the schedule waits for its next due time"
P -c "UPDATE support_troubleshooting_report_schedules SET next_run_at = now() - interval '1 second' WHERE id = $id3" >/dev/null
wait_for "SELECT next_run_at > now() FROM support_troubleshooting_report_schedules WHERE id = $id3" t 120
is "$(P -c "SELECT attempts FROM support_troubleshooting_report_schedule_runs WHERE schedule_id = $id3")|$(P -c "SELECT count(*) FROM support_troubleshooting_reports")|$(P -c "SELECT count(*) FROM support_troubleshooting_notifications")" \
   "3|$reports|$notes" "no fourth attempt; failed runs left no report and no notification"
grep -q 'report schedule "broken" failed (attempt 3 of 3)' "$MAIN/server.log"
ok $? "each failure is logged"

# --- a disabled schedule does not run ---
P -c "UPDATE support_troubleshooting_report_schedules SET enabled = false WHERE id = $id" >/dev/null
P -c "UPDATE support_troubleshooting_report_schedules SET next_run_at = now() - interval '2 days' WHERE id = $id" >/dev/null
ts_maintenance_rounds postgres 2
ok $? "the worker has been through two rounds since"
is "$(P -c "SELECT count(*) FROM support_troubleshooting_report_schedule_runs WHERE schedule_id = $id")" "1" "a disabled schedule does not run"

grep -q "SG.schedule-test-key" "$MAIN/server.log"
ok $((! $?)) "the provider key is not in the log"

P -c "DROP EXTENSION troubleshooting CASCADE" >/dev/null 2>&1
conf_reset allow_private_destinations maintenance_naptime
done_testing
