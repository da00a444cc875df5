-- Report schedules: validation, due times and periods in the schedule's own
-- time zone (across DST changes), next_run_at upkeep, the LLM key and its
-- settings, and who may read what.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS troubleshooting CASCADE;
CREATE EXTENSION troubleshooting;
RESET client_min_messages;
SET TimeZone = 'UTC';
\set r1 '[{"channel": "email", "recipient": "ops@example.com"}]'

-- a valid schedule; the zone is stored under its canonical name
SELECT create_troubleshooting_report_schedule('ops daily', 'daily', '07:30', :'r1',
                                              'america/new_york') AS id \gset
SELECT name, report_type, frequency, time_of_day, time_zone, weekday, month_day, format,
       filters, include_charts, enabled, created_by = current_user AS by_me
FROM support_troubleshooting_report_schedules WHERE id = :id;
-- next_run_at: the first due time after now, in New York
SELECT next_run_at > now() AS in_future,
       next_run_at = troubleshooting_schedule_next_run(:id, now()) AS is_next,
       next_run_at <= now() + interval '1 day' AS within_a_day,
       (next_run_at AT TIME ZONE 'America/New_York')::time AS local_time
FROM support_troubleshooting_report_schedules WHERE id = :id;

-- validation: what to fix, with a hint
SELECT create_troubleshooting_report_schedule('c', 'custom', '07:00', :'r1', 'UTC');
SELECT create_troubleshooting_report_schedule('c', 'problem_analysis', '07:00', :'r1', 'UTC');
SELECT create_troubleshooting_report_schedule('c', 'daily', '07:00', :'r1', 'UTC', p_frequency => 'weekly');
SELECT create_troubleshooting_report_schedule('c', 'weekly', '07:00', :'r1', 'UTC');
SELECT create_troubleshooting_report_schedule('c', 'daily', '07:00', :'r1', 'UTC', p_weekday => 1);
SELECT create_troubleshooting_report_schedule('c', 'weekly', '07:00', :'r1', 'UTC', p_weekday => 8);
SELECT create_troubleshooting_report_schedule('c', 'monthly', '07:00', :'r1', 'UTC');
SELECT create_troubleshooting_report_schedule('c', 'monthly', '07:00', :'r1', 'UTC', p_month_day => 31);
SELECT create_troubleshooting_report_schedule('c', 'daily', '07:00', :'r1', 'Mars/Olympus_Mons');
SELECT create_troubleshooting_report_schedule('c', 'daily', '07:00', :'r1', 'UTC', p_format => 'xlsx');
SELECT create_troubleshooting_report_schedule('c', 'daily', '07:00', '[]', 'UTC');
SELECT create_troubleshooting_report_schedule('c', 'daily', '07:00', '{"channel": "email"}', 'UTC');
SELECT create_troubleshooting_report_schedule('c', 'daily', '07:00', '[{"channel": "email"}]', 'UTC');
SELECT create_troubleshooting_report_schedule('c', 'daily', '07:00',
    '[{"channel": "email", "recipient": "ops@example.com", "cc": "x@example.com"}]', 'UTC');
SELECT create_troubleshooting_report_schedule('c', 'daily', '07:00',
    '[{"channel": "pager", "recipient": "ops"}]', 'UTC');
SELECT create_troubleshooting_report_schedule('c', 'daily', '07:00',
    '[{"channel": "email", "recipient": "not an address"}]', 'UTC');
SELECT create_troubleshooting_report_schedule('c', 'daily', '07:00',
    '[{"channel": "sms", "recipient": "555-0100"}]', 'UTC');
SELECT create_troubleshooting_report_schedule('c', 'daily', '07:00',
    '[{"channel": "webhook", "recipient": "#ops"}]', 'UTC');
SELECT create_troubleshooting_report_schedule('c', 'daily', '07:00',
    '[{"channel": "slack", "recipient": "#ops", "webhook_url": "ftp://hooks.example.com/x"}]', 'UTC');
SELECT create_troubleshooting_report_schedule('c', 'daily', '07:00',
    '[{"channel": "email", "recipient": "ops@example.com", "webhook_url": "https://example.com/x"}]', 'UTC');
SELECT create_troubleshooting_report_schedule('c', 'daily', '07:00',
    '[{"channel": "email", "recipient": "ops@example.com"},
      {"channel": "email", "recipient": "ops@example.com"}]', 'UTC');
SELECT create_troubleshooting_report_schedule('c', 'daily', '07:00', :'r1', 'UTC',
                                              p_filters => '[]');
SELECT create_troubleshooting_report_schedule('ops daily', 'daily', '07:00', :'r1', 'UTC');
-- direct writes get the same checks
INSERT INTO support_troubleshooting_report_schedules (name, report_type, time_of_day, time_zone, recipients)
VALUES ('c', 'weekly', '07:00', 'UTC', :'r1');
UPDATE support_troubleshooting_report_schedules SET time_zone = 'Nowhere/Land' WHERE id = :id;
-- every channel's accepted form; problem_analysis with a frequency
SELECT create_troubleshooting_report_schedule('all channels', 'problem_analysis', '23:59:59',
    '[{"channel": "email", "recipient": "ops@example.com"},
      {"channel": "sms", "recipient": "+14155550100"},
      {"channel": "slack", "recipient": "#ops", "webhook_url": "https://hooks.slack.com/services/T0/B0/x"},
      {"channel": "slack", "recipient": "#ops"},
      {"channel": "teams", "recipient": "Ops", "webhook_url": "https://example.logic.azure.com/workflows/1?api-version=1&sig=x"},
      {"channel": "discord", "recipient": "ops", "webhook_url": "https://discord.com/api/webhooks/1/x"},
      {"channel": "webhook", "recipient": "https://example.com/hook"},
      {"channel": "webhook", "recipient": "42"}]',
    'Europe/Madrid', 'csv', p_month_day => 1, p_frequency => 'monthly',
    p_filters => '{"statuses": ["resolved"]}', p_include_charts => true) AS id2 \gset
SELECT report_type, frequency, month_day, format, jsonb_array_length(recipients) AS recipients,
       filters, include_charts,
       (next_run_at AT TIME ZONE 'Europe/Madrid')::time AS local_time,
       extract(day FROM next_run_at AT TIME ZONE 'Europe/Madrid') AS local_day
FROM support_troubleshooting_report_schedules WHERE id = :id2;

-- due times in New York across the spring-forward change (2024-03-10 02:00
-- EST -> 03:00 EDT): 07:30 local is 12:30 UTC before, 11:30 UTC after
WITH RECURSIVE runs(n, at) AS (
    SELECT 1, ts_report_schedule_due('daily', '07:30', 'America/New_York', NULL, NULL, '2024-03-08 12:00Z')
    UNION ALL
    SELECT n + 1, ts_report_schedule_due('daily', '07:30', 'America/New_York', NULL, NULL, at)
    FROM runs WHERE n < 4)
SELECT n, at, at AT TIME ZONE 'America/New_York' AS local FROM runs;
-- ... and the fall-back change (2024-11-03 02:00 EDT -> 01:00 EST)
WITH RECURSIVE runs(n, at) AS (
    SELECT 1, ts_report_schedule_due('daily', '07:30', 'America/New_York', NULL, NULL, '2024-11-01 12:00Z')
    UNION ALL
    SELECT n + 1, ts_report_schedule_due('daily', '07:30', 'America/New_York', NULL, NULL, at)
    FROM runs WHERE n < 4)
SELECT n, at, at AT TIME ZONE 'America/New_York' AS local FROM runs;
-- a time the change skips runs an hour later by the clock (02:30 -> 03:30
-- EDT); a time it repeats runs once, at its second (standard time) instance
SELECT ts_report_schedule_due('daily', '02:30', 'America/New_York', NULL, NULL, '2024-03-09 12:00Z') AS skipped,
       ts_report_schedule_due('daily', '02:30', 'America/New_York', NULL, NULL, '2024-03-10 12:00Z') AS day_after,
       ts_report_schedule_due('daily', '01:30', 'America/New_York', NULL, NULL, '2024-11-02 12:00Z') AS repeated,
       ts_report_schedule_due('daily', '01:30', 'America/New_York', NULL, NULL, '2024-11-03 05:30Z') AS after_first,
       ts_report_schedule_due('daily', '01:30', 'America/New_York', NULL, NULL, '2024-11-03 06:30Z') AS after_second;
-- weekly (ISO weekday, 1 = Monday) and monthly (day of the month)
SELECT ts_report_schedule_due('weekly', '08:00', 'America/New_York', 1, NULL, '2024-03-06 12:00Z') AS next_monday,
       ts_report_schedule_due('weekly', '08:00', 'America/New_York', 7, NULL, '2024-03-10 11:00Z') AS this_sunday,
       ts_report_schedule_due('weekly', '08:00', 'America/New_York', 7, NULL, '2024-03-10 12:00Z') AS next_sunday,
       ts_report_schedule_due('monthly', '08:00', 'America/New_York', NULL, 28, '2024-01-28 13:00Z') AS feb_28,
       ts_report_schedule_due('monthly', '08:00', 'America/New_York', NULL, 1, '2024-12-15 00:00Z') AS new_year;
-- the latest due time at or before a moment: what a late worker catches up
-- on (one run, not one per missed day)
SELECT ts_report_schedule_due('daily', '07:30', 'America/New_York', NULL, NULL, '2024-03-13 12:00Z', false) AS latest,
       ts_report_schedule_due('daily', '07:30', 'America/New_York', NULL, NULL, '2024-03-13 11:30Z', false) AS at_due,
       ts_report_schedule_due('weekly', '07:30', 'America/New_York', 1, NULL, '2024-03-13 12:00Z', false) AS last_monday,
       ts_report_schedule_due('monthly', '07:30', 'America/New_York', NULL, 28, '2024-03-13 12:00Z', false) AS last_28th;
-- a zone east of UTC: the local day differs from the UTC one
SELECT ts_report_schedule_due('daily', '00:15', 'Asia/Tokyo', NULL, NULL, '2024-06-30 15:00Z') AS tokyo;
SELECT ts_report_schedule_due('daily', '07:00', 'UTC', NULL, NULL, 'infinity');

-- the period each run covers, midnight to midnight in the schedule's zone
SELECT f, p.period_start, p.period_end, p.period_end - p.period_start AS length
FROM unnest(ARRAY['daily', 'weekly', 'monthly']) f,
     LATERAL ts_report_schedule_period(f, 'America/New_York', '2024-03-11 11:30Z') p;
SELECT * FROM ts_report_schedule_period('monthly', 'America/New_York', '2024-01-01 13:00Z');
SELECT * FROM ts_report_schedule_period('daily', 'Asia/Tokyo', '2024-06-30 15:15Z');
SELECT * FROM ts_report_schedule_period('hourly', 'UTC', '2024-06-30 15:15Z');

-- next_run_at follows changes of timing and re-enabling; a statement that
-- sets it keeps its value
UPDATE support_troubleshooting_report_schedules SET next_run_at = '2024-01-01 00:00Z' WHERE id = :id;
SELECT next_run_at FROM support_troubleshooting_report_schedules WHERE id = :id;
UPDATE support_troubleshooting_report_schedules SET enabled = false WHERE id = :id;
SELECT next_run_at FROM support_troubleshooting_report_schedules WHERE id = :id;
UPDATE support_troubleshooting_report_schedules SET enabled = true WHERE id = :id;
SELECT next_run_at = troubleshooting_schedule_next_run(:id, now()) AS recomputed
FROM support_troubleshooting_report_schedules WHERE id = :id;
UPDATE support_troubleshooting_report_schedules SET next_run_at = '2024-01-01 00:00Z' WHERE id = :id;
UPDATE support_troubleshooting_report_schedules SET time_of_day = '18:00' WHERE id = :id;
SELECT (next_run_at AT TIME ZONE time_zone)::time AS local_time, next_run_at > now() AS in_future
FROM support_troubleshooting_report_schedules WHERE id = :id;
SELECT troubleshooting_schedule_next_run(-1) IS NULL AS unknown_is_null;

-- the LLM settings and key
SELECT config_key, config_value, value_type FROM support_troubleshooting_config
WHERE config_key LIKE 'llm\_%' OR config_key = 'enable_llm_enhancement' ORDER BY 1;
SELECT set_troubleshooting_config('llm_base_url', 'https://llm.example.com/v1');
SELECT set_troubleshooting_llm_api_key('env:TS_LLM_KEY');
SELECT api_key, base_url, updated_by = current_user AS by_me FROM support_troubleshooting_llm_credentials;
SELECT set_troubleshooting_llm_api_key('sk-with a space');
SELECT set_troubleshooting_llm_api_key('env:not-a-name');
SELECT set_troubleshooting_llm_api_key(repeat('k', 4097));
SELECT count(*) AS keys FROM support_troubleshooting_llm_credentials;
SELECT set_troubleshooting_llm_api_key(NULL);
SELECT count(*) AS keys FROM support_troubleshooting_llm_credentials;

-- recipients and the key are the owner's: other roles read nothing
CREATE ROLE ts_sched_reader;
SET ROLE ts_sched_reader;
SELECT count(*) FROM support_troubleshooting_report_schedules;
SELECT count(*) FROM support_troubleshooting_report_schedule_runs;
SELECT count(*) FROM support_troubleshooting_llm_credentials;
SELECT count(*) FROM support_troubleshooting_report_summaries;
SELECT create_troubleshooting_report_schedule('mine', 'daily', '07:00', :'r1', 'UTC');
SELECT set_troubleshooting_llm_api_key('sk-mine');
SELECT troubleshooting_schedule_next_run(1);
RESET ROLE;
DROP ROLE ts_sched_reader;

-- deleting a schedule deletes its runs
INSERT INTO support_troubleshooting_report_schedule_runs (schedule_id, due_at, period_start, period_end, status)
VALUES (:id, '2024-03-11 11:30Z', '2024-03-10 05:00Z', '2024-03-11 04:00Z', 'done');
DELETE FROM support_troubleshooting_report_schedules WHERE id = :id;
SELECT count(*) AS runs FROM support_troubleshooting_report_schedule_runs;
