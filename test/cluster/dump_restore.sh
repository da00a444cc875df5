#!/usr/bin/env bash
# pg_dump of a database using the extension, restored into a new database,
# keeps every row users wrote (config changes and edited templates included)
# without duplicating the rows CREATE EXTENSION seeds.
. "$(dirname "$0")/tap.sh"

for db in ts_dump_src ts_dump_plain ts_dump_custom; do q -c "DROP DATABASE IF EXISTS $db"; done
q -c "CREATE DATABASE ts_dump_src"
q -d ts_dump_src >/dev/null <<'SQL'
CREATE EXTENSION troubleshooting;
INSERT INTO support_troubleshooting_sessions (session_id, customer_email, customer_name, status, started_at)
SELECT 'sess-' || g, 'c' || g || '@example.com', 'Juan Pérez ' || g,
       (ARRAY['started','resolved','escalated','abandoned'])[1 + g % 4], '2026-01-01'::timestamptz + g * interval '1 hour'
FROM generate_series(1, 50) g;
INSERT INTO support_troubleshooting_attempts (session_id, step_number, success, attempted_at)
SELECT 'sess-' || (1 + g % 50), g % 5, g % 3 = 0, '2026-01-01'::timestamptz + g * interval '10 minutes'
FROM generate_series(1, 200) g;
INSERT INTO support_troubleshooting_feedback (session_id, rating, nps_score, comment)
SELECT 'sess-' || g, 1 + g % 5, g % 11, E'line1\nline2 "quoted"' FROM generate_series(1, 30) g;
INSERT INTO support_troubleshooting_ml_training (session_id, predicted_problem_id, confidence_score)
VALUES ('sess-1', 'wifi', 0.5), ('sess-gone', 'dns', 0.9);
INSERT INTO support_webhooks (url, description) VALUES ('https://hooks.example.com/a', 'crm');
INSERT INTO support_troubleshooting_notifications (channel, recipient, body, session_id)
VALUES ('slack', '#support', 'hello', 'sess-2'), ('email', 'a@example.com', 'hi', '');
INSERT INTO support_troubleshooting_reports (report_type, cache_key, data) VALUES ('daily', 'k1', '{"a": 1}');
SELECT set_troubleshooting_config('auto_escalate_after_failures', '5');
SELECT set_troubleshooting_config('notification_channels', 'email,slack');
SELECT set_troubleshooting_config('default_timeout_minutes', '10');
SELECT set_troubleshooting_config('default_timeout_minutes', NULL);
UPDATE support_troubleshooting_templates SET body = 'Edited: {{session_id}}' WHERE name = 'session_resolved';
INSERT INTO support_troubleshooting_templates (name, channel, body) VALUES ('custom_note', 'slack', 'Note {{x}}');
SQL

# A digest of every table's contents, in key order (rows the extension seeds
# at install carry their install time, so that is left out for them).
digest() {
    q -d "$1" <<'SQL'
SELECT string_agg(t || ':' || n || ':' || h, ' ' ORDER BY t) FROM (
  SELECT 'sessions' t, count(*) n, md5(coalesce(string_agg(s::text, '|' ORDER BY id), '')) h FROM support_troubleshooting_sessions s
  UNION ALL SELECT 'attempts', count(*), md5(coalesce(string_agg(a::text, '|' ORDER BY id), '')) FROM support_troubleshooting_attempts a
  UNION ALL SELECT 'feedback', count(*), md5(coalesce(string_agg(f::text, '|' ORDER BY id), '')) FROM support_troubleshooting_feedback f
  UNION ALL SELECT 'ml', count(*), md5(coalesce(string_agg(m::text, '|' ORDER BY id), '')) FROM support_troubleshooting_ml_training m
  UNION ALL SELECT 'webhooks', count(*), md5(coalesce(string_agg(w::text, '|' ORDER BY id), '')) FROM support_webhooks w
  UNION ALL SELECT 'notifications', count(*), md5(coalesce(string_agg(x::text, '|' ORDER BY id), '')) FROM support_troubleshooting_notifications x
  UNION ALL SELECT 'reports', count(*), md5(coalesce(string_agg(r::text, '|' ORDER BY id), '')) FROM support_troubleshooting_reports r
  UNION ALL SELECT 'config', count(*), md5(coalesce(string_agg((c.config_key, c.config_value, c.default_value, c.value_type, c.description, c.updated_by, CASE WHEN c.config_value IS DISTINCT FROM c.default_value THEN c.updated_at END)::text, '|' ORDER BY config_key), '')) FROM support_troubleshooting_config c
  UNION ALL SELECT 'history', count(*), md5(coalesce(string_agg(h::text, '|' ORDER BY id), '')) FROM support_troubleshooting_config_history h
  UNION ALL SELECT 'templates', count(*), md5(coalesce(string_agg((tp.id, tp.name, tp.channel, tp.subject, tp.body, tp.format, tp.is_default, CASE WHEN NOT tp.is_default THEN tp.updated_at END)::text, '|' ORDER BY name, channel), '')) FROM support_troubleshooting_templates tp
) d
SQL
}

src=$(digest ts_dump_src)
ok $? "source database digested"
is "$(q -d ts_dump_src -c "SELECT count(*) FROM support_troubleshooting_sessions")" 50 "source has its sessions"

# plain SQL dump through psql
q -c "CREATE DATABASE ts_dump_plain"
pg_dump -U postgres ts_dump_src | psql -X -q -U postgres -v ON_ERROR_STOP=1 -d ts_dump_plain >/dev/null 2>"$TS_WORK/restore_plain.err"
ok $? "plain dump restores without errors"
is "$(digest ts_dump_plain)" "$src" "plain restore: every table identical"

# custom format through pg_restore
q -c "CREATE DATABASE ts_dump_custom"
pg_dump -U postgres -Fc -f "$TS_WORK/ts.dump" ts_dump_src && \
    pg_restore -U postgres --exit-on-error -d ts_dump_custom "$TS_WORK/ts.dump" 2>"$TS_WORK/restore_custom.err"
ok $? "custom-format dump restores with pg_restore"
is "$(digest ts_dump_custom)" "$src" "pg_restore: every table identical"

is "$(q -d ts_dump_plain -c "SELECT get_troubleshooting_config('auto_escalate_after_failures') || ',' || get_troubleshooting_config('notification_channels') || ',' || get_troubleshooting_config('default_timeout_minutes')")" \
   "5,email,slack,30" "restored config answers through the C lookup"
is "$(q -d ts_dump_plain -c "SELECT count(*) FROM support_troubleshooting_config_history")" "4" \
   "history restored once, not re-recorded by the restore"
is "$(q -d ts_dump_plain -c "SELECT body FROM support_troubleshooting_templates WHERE name = 'session_resolved'")" \
   "Edited: {{session_id}}" "edited shipped template restored"

# identity sequences continue after the restored rows
q -d ts_dump_plain -c "INSERT INTO support_troubleshooting_sessions (session_id) VALUES ('after-restore');
    INSERT INTO support_troubleshooting_templates (name, body) VALUES ('after_restore', 'x');
    SELECT set_troubleshooting_config('auto_escalate_after_failures', '6');" >/dev/null 2>&1
ok $? "new rows after restore do not collide with restored keys"
is "$(q -d ts_dump_plain -c "SELECT max(id) FROM support_troubleshooting_sessions")" "51" "session ids continue at 51"

# the restored database dumps to the same data again
pg_dump -U postgres --data-only ts_dump_custom | grep -Ev '^(--|SELECT pg_catalog.set_config|\\(un)?restrict)' > "$TS_WORK/again.sql"
pg_dump -U postgres --data-only ts_dump_src | grep -Ev '^(--|SELECT pg_catalog.set_config|\\(un)?restrict)' > "$TS_WORK/first.sql"
cmp -s "$TS_WORK/again.sql" "$TS_WORK/first.sql"
ok $? "a dump of the restored database equals the original dump"

for db in ts_dump_src ts_dump_plain ts_dump_custom; do q -c "DROP DATABASE $db"; done
done_testing
