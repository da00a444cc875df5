-- pgTAP: who may call what. Metrics need an explicit GRANT EXECUTE, and then
-- work without any grant on the tables behind them.
BEGIN;
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION troubleshooting;
RESET client_min_messages;
SELECT * FROM no_plan();

CREATE ROLE ts_dashboard;
CREATE ROLE ts_nobody;
INSERT INTO support_troubleshooting_sessions (session_id, customer_name, detected_problem_id)
VALUES ('perm-1', 'Juan Pérez', 'wifi');
GRANT EXECUTE ON FUNCTION get_troubleshooting_metrics_by_period(text, timestamptz, timestamptz),
      get_troubleshooting_realtime_metrics(), ts_realtime_kpis() TO ts_dashboard;
GRANT SELECT ON vw_troubleshooting_realtime_metrics TO ts_dashboard;

SET ROLE ts_nobody;
SELECT throws_ok($$SELECT * FROM get_troubleshooting_metrics_by_period()$$, '42501', NULL,
                 'by-period metrics need EXECUTE');
SELECT throws_ok($$SELECT get_troubleshooting_realtime_metrics()$$, '42501', NULL,
                 'realtime metrics need EXECUTE');
SELECT throws_ok($$SELECT * FROM vw_troubleshooting_realtime_metrics$$, '42501', NULL,
                 'the view needs SELECT');
SELECT throws_ok($$SELECT * FROM ts_metrics_hourly$$, '42501', NULL, 'rollups are private');
SELECT throws_ok($$SELECT refresh_troubleshooting_metrics()$$, '42501', NULL, 'folding is the owner''s');
SELECT throws_ok($$SELECT * FROM support_troubleshooting_sessions$$, '42501', NULL, 'sessions are private');
SELECT throws_ok($$SELECT * FROM support_troubleshooting_providers$$, '42501', NULL,
                 'provider settings (secrets) are private');
SELECT throws_ok($$SELECT * FROM support_troubleshooting_notification_events$$, '42501', NULL,
                 'notification events are private');
SELECT throws_ok($$SELECT set_troubleshooting_provider('email', 'sendgrid', '{"api_key": "k", "from": "a@example.com"}')$$,
                 '42501', NULL, 'setting a provider is the owner''s');
SELECT throws_ok($$SELECT * FROM troubleshooting_providers()$$, '42501', NULL,
                 'the masked provider settings need EXECUTE');
SELECT throws_ok($$SELECT record_troubleshooting_notification_event(1, 'read')$$, '42501', NULL,
                 'recording events needs EXECUTE');
SELECT throws_ok($$SELECT record_troubleshooting_notification_event('0123456789abcdef0123456789abcdef')$$, '42501', NULL,
                 'the pixel''s entry point needs EXECUTE');
SELECT throws_ok($$SELECT * FROM ingest_troubleshooting_provider_event('twilio', '{}')$$, '42501', NULL,
                 'ingesting provider callbacks needs EXECUTE');
RESET ROLE;

SET ROLE ts_dashboard;
SELECT is((SELECT sum(total_sessions) FROM get_troubleshooting_metrics_by_period('day', now() - interval '1 day', now() + interval '1 hour')),
          1::numeric, 'granted role reads metrics without table grants');
SELECT is(get_troubleshooting_realtime_metrics() #>> '{active_sessions,0,customer_name}', 'Juan Pérez',
          'granted role reads the realtime document');
SELECT is((SELECT active_sessions FROM vw_troubleshooting_realtime_metrics), 1::bigint,
          'granted role reads the view');
SELECT throws_ok($$SELECT * FROM support_troubleshooting_sessions$$, '42501', NULL,
                 'but still not the sessions themselves');
-- a hostile search_path does not change what the definer functions do
CREATE TEMP TABLE support_troubleshooting_sessions (x int);
SELECT is((SELECT sum(total_sessions) FROM get_troubleshooting_metrics_by_period('day', now() - interval '1 day', now() + interval '1 hour')),
          1::numeric, 'a look-alike temp table is ignored');
RESET ROLE;

-- the masked provider settings, once granted, without any right on the table
SELECT set_troubleshooting_provider('email', 'sendgrid', '{"api_key": "SG.perm-secret", "from": "a@example.com"}');
GRANT EXECUTE ON FUNCTION troubleshooting_providers() TO ts_dashboard;
SET ROLE ts_dashboard;
SELECT is((SELECT settings ->> 'api_key' FROM troubleshooting_providers()), '********',
          'granted role sees the provider with its secret masked');
SELECT throws_ok($$SELECT * FROM support_troubleshooting_providers$$, '42501', NULL,
                 'but not the settings table');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
