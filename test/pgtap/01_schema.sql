-- pgTAP: every table, column type, default, index and foreign key of the data model.
BEGIN;
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION troubleshooting;
RESET client_min_messages;
SELECT * FROM no_plan();

SELECT tables_are('public', ARRAY[
    'support_troubleshooting_sessions', 'support_troubleshooting_attempts',
    'support_troubleshooting_feedback', 'support_webhooks',
    'support_troubleshooting_notifications', 'support_troubleshooting_templates',
    'support_troubleshooting_providers', 'support_troubleshooting_notification_events',
    'support_troubleshooting_reports', 'support_troubleshooting_config',
    'support_troubleshooting_config_history', 'support_troubleshooting_ml_training',
    'support_troubleshooting_report_schedules', 'support_troubleshooting_report_schedule_runs',
    'support_troubleshooting_llm_credentials', 'support_troubleshooting_report_summaries',
    'ts_metrics_delta', 'ts_metrics_hourly', 'ts_metrics_problems', 'ts_metrics_problem_hourly',
    'ts_report_delta', 'ts_report_sessions_hourly', 'ts_report_attempts_hourly', 'ts_report_feedback_hourly',
    'ts_live_event_queue']);
SELECT views_are('public', ARRAY['vw_troubleshooting_realtime_metrics']);

-- columns: table, column, type, not null
CREATE TEMP TABLE cols (t, c, ty, nn) AS VALUES
    ('support_troubleshooting_sessions', 'id', 'bigint', true),
    ('support_troubleshooting_sessions', 'session_id', 'text', true),
    ('support_troubleshooting_sessions', 'customer_email', 'text', false),
    ('support_troubleshooting_sessions', 'customer_name', 'text', false),
    ('support_troubleshooting_sessions', 'problem_description', 'text', false),
    ('support_troubleshooting_sessions', 'detected_problem_id', 'text', false),
    ('support_troubleshooting_sessions', 'detected_problem_title', 'text', false),
    ('support_troubleshooting_sessions', 'status', 'text', true),
    ('support_troubleshooting_sessions', 'ticket_id', 'text', false),
    ('support_troubleshooting_sessions', 'assigned_agent', 'text', false),
    ('support_troubleshooting_sessions', 'started_at', 'timestamp with time zone', true),
    ('support_troubleshooting_sessions', 'last_activity_at', 'timestamp with time zone', true),
    ('support_troubleshooting_sessions', 'resolved_at', 'timestamp with time zone', false),
    ('support_troubleshooting_sessions', 'escalated_at', 'timestamp with time zone', false),
    ('support_troubleshooting_sessions', 'ended_at', 'timestamp with time zone', false),
    ('support_troubleshooting_sessions', 'total_steps', 'integer', true),
    ('support_troubleshooting_sessions', 'completed_steps', 'integer', true),
    ('support_troubleshooting_sessions', 'metadata', 'jsonb', true),
    ('support_troubleshooting_attempts', 'id', 'bigint', true),
    ('support_troubleshooting_attempts', 'session_id', 'text', true),
    ('support_troubleshooting_attempts', 'step_number', 'integer', true),
    ('support_troubleshooting_attempts', 'step_title', 'text', false),
    ('support_troubleshooting_attempts', 'success', 'boolean', true),
    ('support_troubleshooting_attempts', 'error_message', 'text', false),
    ('support_troubleshooting_attempts', 'duration_ms', 'integer', false),
    ('support_troubleshooting_attempts', 'attempted_at', 'timestamp with time zone', true),
    ('support_troubleshooting_attempts', 'metadata', 'jsonb', true),
    ('support_troubleshooting_feedback', 'id', 'bigint', true),
    ('support_troubleshooting_feedback', 'session_id', 'text', true),
    ('support_troubleshooting_feedback', 'rating', 'smallint', true),
    ('support_troubleshooting_feedback', 'nps_score', 'smallint', false),
    ('support_troubleshooting_feedback', 'was_helpful', 'boolean', false),
    ('support_troubleshooting_feedback', 'comment', 'text', false),
    ('support_troubleshooting_feedback', 'collected_at', 'timestamp with time zone', true),
    ('support_webhooks', 'id', 'bigint', true),
    ('support_webhooks', 'url', 'text', true),
    ('support_webhooks', 'events', 'text[]', true),
    ('support_webhooks', 'secret', 'text', true),
    ('support_webhooks', 'active', 'boolean', true),
    ('support_webhooks', 'description', 'text', false),
    ('support_webhooks', 'created_at', 'timestamp with time zone', true),
    ('support_troubleshooting_notifications', 'id', 'bigint', true),
    ('support_troubleshooting_notifications', 'channel', 'text', true),
    ('support_troubleshooting_notifications', 'provider', 'text', false),
    ('support_troubleshooting_notifications', 'recipient', 'text', true),
    ('support_troubleshooting_notifications', 'template', 'text', false),
    ('support_troubleshooting_notifications', 'priority', 'text', true),
    ('support_troubleshooting_notifications', 'status', 'text', true),
    ('support_troubleshooting_notifications', 'subject', 'text', false),
    ('support_troubleshooting_notifications', 'body', 'text', false),
    ('support_troubleshooting_notifications', 'data', 'jsonb', true),
    ('support_troubleshooting_notifications', 'metadata', 'jsonb', true),
    ('support_troubleshooting_notifications', 'idempotency_key', 'text', true),
    ('support_troubleshooting_notifications', 'session_id', 'text', true),
    ('support_troubleshooting_notifications', 'attempts', 'integer', true),
    ('support_troubleshooting_notifications', 'max_attempts', 'integer', true),
    ('support_troubleshooting_notifications', 'next_attempt_at', 'timestamp with time zone', true),
    ('support_troubleshooting_notifications', 'last_error', 'text', false),
    ('support_troubleshooting_notifications', 'provider_message_id', 'text', false),
    ('support_troubleshooting_notifications', 'created_at', 'timestamp with time zone', true),
    ('support_troubleshooting_notifications', 'sent_at', 'timestamp with time zone', false),
    ('support_troubleshooting_notifications', 'delivered_at', 'timestamp with time zone', false),
    ('support_troubleshooting_notifications', 'read_at', 'timestamp with time zone', false),
    ('support_troubleshooting_notifications', 'failed_at', 'timestamp with time zone', false),
    ('support_troubleshooting_templates', 'name', 'text', true),
    ('support_troubleshooting_templates', 'channel', 'text', false),
    ('support_troubleshooting_templates', 'subject', 'text', false),
    ('support_troubleshooting_templates', 'body', 'text', true),
    ('support_troubleshooting_templates', 'format', 'text', true),
    ('support_troubleshooting_templates', 'updated_at', 'timestamp with time zone', true),
    ('support_troubleshooting_ml_training', 'id', 'bigint', true),
    ('support_troubleshooting_ml_training', 'session_id', 'text', true),
    ('support_troubleshooting_ml_training', 'problem_description', 'text', false),
    ('support_troubleshooting_ml_training', 'predicted_problem_id', 'text', false),
    ('support_troubleshooting_ml_training', 'confidence_score', 'numeric', false),
    ('support_troubleshooting_ml_training', 'corrected_problem_id', 'text', false),
    ('support_troubleshooting_ml_training', 'corrected_by', 'text', false),
    ('support_troubleshooting_ml_training', 'correction_notes', 'text', false),
    ('support_troubleshooting_ml_training', 'use_for_training', 'boolean', true),
    ('support_troubleshooting_ml_training', 'created_at', 'timestamp with time zone', true),
    ('support_troubleshooting_ml_training', 'reviewed_at', 'timestamp with time zone', false),
    ('support_troubleshooting_reports', 'id', 'bigint', true),
    ('support_troubleshooting_reports', 'report_type', 'text', true),
    ('support_troubleshooting_reports', 'parameters', 'jsonb', true),
    ('support_troubleshooting_reports', 'cache_key', 'text', true),
    ('support_troubleshooting_reports', 'data', 'jsonb', true),
    ('support_troubleshooting_reports', 'generated_at', 'timestamp with time zone', true),
    ('support_troubleshooting_reports', 'expires_at', 'timestamp with time zone', false),
    ('support_troubleshooting_reports', 'generation_ms', 'double precision', false),
    ('support_troubleshooting_config', 'config_key', 'text', true),
    ('support_troubleshooting_config', 'config_value', 'text', false),
    ('support_troubleshooting_config', 'default_value', 'text', true),
    ('support_troubleshooting_config', 'value_type', 'text', true),
    ('support_troubleshooting_config', 'description', 'text', true),
    ('support_troubleshooting_config', 'updated_at', 'timestamp with time zone', true),
    ('support_troubleshooting_config', 'updated_by', 'text', true),
    ('support_troubleshooting_config_history', 'config_key', 'text', true),
    ('support_troubleshooting_config_history', 'old_value', 'text', false),
    ('support_troubleshooting_config_history', 'new_value', 'text', false),
    ('support_troubleshooting_config_history', 'changed_at', 'timestamp with time zone', true),
    ('support_troubleshooting_config_history', 'changed_by', 'text', true);
SELECT col_type_is(t, c, ty, format('%s.%s is %s', t, c, ty)) FROM cols;
SELECT CASE WHEN nn THEN col_not_null(t, c) ELSE col_is_null(t, c) END FROM cols;

-- bigint identity keys
SELECT ok(a.attidentity = 'd', format('%s.id is an identity column', c.relname))
FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'id'
WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r';
SELECT col_is_pk('support_troubleshooting_config', 'config_key');
-- session_id is the sessions' key and in every key of the tables about
-- sessions (what Citus needs to distribute them by it)
SELECT col_is_pk('support_troubleshooting_sessions', 'session_id');
SELECT col_is_pk(t, ARRAY['id', 'session_id'])
FROM unnest(ARRAY['support_troubleshooting_attempts', 'support_troubleshooting_feedback',
                  'support_troubleshooting_ml_training', 'support_troubleshooting_notifications',
                  'support_troubleshooting_notification_events']) AS t;
SELECT col_is_unique('support_troubleshooting_notifications', ARRAY['idempotency_key', 'session_id']);
SELECT col_is_unique('support_troubleshooting_notifications', ARRAY['tracking_token', 'session_id']);

-- the named indexes, on the right columns
SELECT has_index('support_troubleshooting_sessions', 'idx_sessions_status_started_at',
                 ARRAY['status', 'started_at']);
SELECT has_index('support_troubleshooting_sessions', 'idx_sessions_customer_email_status',
                 ARRAY['customer_email', 'status']);
SELECT has_index('support_troubleshooting_attempts', 'idx_attempts_session_success',
                 ARRAY['session_id', 'success']);
SELECT has_index('support_troubleshooting_feedback', 'idx_feedback_rating_collected_at',
                 ARRAY['rating', 'collected_at']);
SELECT has_index('support_troubleshooting_notifications', 'idx_notifications_pending',
                 ARRAY['priority_rank', 'id']);

-- every index, per table (nothing missing, nothing extra)
SELECT indexes_are('public', t, ix) FROM (VALUES
    ('support_troubleshooting_sessions', ARRAY['support_troubleshooting_sessions_pkey',
        'idx_sessions_status_started_at',
        'idx_sessions_customer_email_status', 'idx_sessions_started_at',
        'idx_sessions_problem_started_at', 'idx_sessions_active_last_activity',
        'idx_sessions_resolved_at', 'idx_sessions_escalated_at', 'idx_sessions_active_started_at']),
    ('support_troubleshooting_attempts', ARRAY['support_troubleshooting_attempts_pkey',
        'idx_attempts_session_success', 'idx_attempts_attempted_at', 'idx_attempts_session_step']),
    ('support_troubleshooting_feedback', ARRAY['support_troubleshooting_feedback_pkey',
        'idx_feedback_rating_collected_at', 'idx_feedback_session_id', 'idx_feedback_collected_at']),
    ('support_troubleshooting_ml_training', ARRAY['support_troubleshooting_ml_training_pkey',
        'idx_ml_training_session_id', 'idx_ml_training_created_at']),
    ('support_webhooks', ARRAY['support_webhooks_pkey']),
    ('support_troubleshooting_templates', ARRAY['support_troubleshooting_templates_pkey',
        'idx_templates_name_channel']),
    ('support_troubleshooting_notifications', ARRAY['support_troubleshooting_notifications_pkey',
        'support_troubleshooting_notifica_idempotency_key_session_id_key', 'idx_notifications_pending',
        'idx_notifications_sending_lease', 'idx_notifications_session_id',
        'idx_notifications_provider_message_id', 'idx_notifications_created_at',
        'support_troubleshooting_notificat_tracking_token_session_id_key']),
    ('support_troubleshooting_reports', ARRAY['support_troubleshooting_reports_pkey',
        'idx_reports_cache_key', 'idx_reports_expires_at']),
    ('support_troubleshooting_config', ARRAY['support_troubleshooting_config_pkey']),
    ('support_troubleshooting_config_history', ARRAY['support_troubleshooting_config_history_pkey',
        'idx_config_history_key_changed_at']),
    ('ts_metrics_delta', ARRAY[]::text[]),
    ('ts_metrics_hourly', ARRAY['ts_metrics_hourly_pkey']),
    ('ts_metrics_problems', ARRAY['ts_metrics_problems_pkey', 'ts_metrics_problems_n_key']),
    ('ts_metrics_problem_hourly', ARRAY['ts_metrics_problem_hourly_pkey'])
) AS x(t, ix);

-- foreign keys to sessions(session_id): attempts and feedback go with their
-- session; notifications and ML rows outlive it (no key); no ON UPDATE action
SELECT fk_ok(t, 'session_id', 'support_troubleshooting_sessions', 'session_id')
FROM unnest(ARRAY['support_troubleshooting_attempts', 'support_troubleshooting_feedback']) AS t;
SELECT is(con.confdeltype::text, want, format('%s: ON DELETE %s', con.conrelid::regclass, want))
FROM pg_constraint con
JOIN (VALUES ('support_troubleshooting_attempts', 'c'), ('support_troubleshooting_feedback', 'c'))
     AS w(t, want) ON con.conrelid = w.t::regclass
WHERE con.contype = 'f';
SELECT is((SELECT count(*) FROM pg_constraint
            WHERE contype = 'f' AND confrelid = 'support_troubleshooting_sessions'::regclass), 2::bigint,
          'only attempts and feedback reference sessions');
SELECT is((SELECT count(*) FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
            WHERE con.contype = 'f' AND c.relnamespace = 'public'::regnamespace AND con.confupdtype <> 'a'),
          0::bigint, 'no foreign key has an ON UPDATE action');
SELECT fk_ok('support_troubleshooting_notification_events', ARRAY['notification_id', 'session_id'],
             'support_troubleshooting_notifications', ARRAY['id', 'session_id']);
SELECT hasnt_fk('support_troubleshooting_notifications');
SELECT hasnt_fk('support_troubleshooting_ml_training');

-- defaults
SELECT col_default_is('support_troubleshooting_sessions', 'status', 'started');
SELECT col_default_is('support_troubleshooting_notifications', 'priority', 'normal');
SELECT col_default_is('support_troubleshooting_notifications', 'status', 'pending');
SELECT col_has_default('support_troubleshooting_sessions', 'started_at');
SELECT col_has_default('support_troubleshooting_notifications', 'idempotency_key');
SELECT col_has_default('support_webhooks', 'secret');

-- triggers
SELECT has_trigger('support_troubleshooting_sessions', 'ts_sessions_lifecycle');
SELECT has_trigger('support_troubleshooting_config', 'ts_config_guard');
SELECT has_trigger('support_troubleshooting_config', 'ts_config_record_history');

-- privileges: nothing but config is readable by ordinary roles
SELECT is(has_table_privilege('public', t, 'SELECT'), t IN ('support_troubleshooting_config',
          'support_troubleshooting_config_history'), format('PUBLIC SELECT on %s', t))
FROM unnest(ARRAY['support_troubleshooting_sessions', 'support_webhooks',
                  'support_troubleshooting_notifications', 'support_troubleshooting_config',
                  'support_troubleshooting_config_history', 'support_troubleshooting_reports',
                  'ts_metrics_delta', 'ts_metrics_hourly']) AS t;

SELECT * FROM finish();
ROLLBACK;
