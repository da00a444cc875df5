-- test/fuzz/harness.sql: the fuzzer's server side, installed by test/fuzz/run
-- into its own database (never the one troubleshooting.database names, so no
-- worker ever reads what the fuzzer writes).  fuzz.run() executes one SQL
-- entry point once per element of its argument arrays, each in its own
-- subtransaction that is always rolled back (a success raises FZ000 to undo
-- itself), and the caller rolls the whole batch back too: nothing a fuzzed
-- input enqueues or configures ever commits.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS troubleshooting;
DROP SCHEMA IF EXISTS fuzz CASCADE;
CREATE SCHEMA fuzz;

-- Runs p_sql with $1..$8 bound to a[i]..h[i] for every i; returns
-- {n, ok, sqlstates: {code: count}, bad: [{i, sqlstate, message}]}.
-- Unexpected SQLSTATEs (internal errors, data corruption, system errors,
-- out of memory) are listed in bad.  With p_trace, a NOTICE "fz i" is sent
-- (and flushed) before element i, so a client that loses its connection or
-- times out knows which input was running.
CREATE FUNCTION fuzz.run(p_sql text, a text[], b text[] DEFAULT '{}', c text[] DEFAULT '{}',
                         d text[] DEFAULT '{}', e text[] DEFAULT '{}', f text[] DEFAULT '{}',
                         g text[] DEFAULT '{}', h text[] DEFAULT '{}', p_trace boolean DEFAULT true)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    n integer := coalesce(cardinality(a), 0);
    ok integer := 0;
    counts jsonb := '{}';
    bad jsonb := '[]';
    code text;
    msg text;
BEGIN
    FOR i IN 1..n LOOP
        IF p_trace THEN
            RAISE NOTICE 'fz %', i;
        END IF;
        BEGIN
            EXECUTE p_sql USING a[i], b[i], c[i], d[i], e[i], f[i], g[i], h[i];
            RAISE SQLSTATE 'FZ000';
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
            IF code = 'FZ000' THEN
                ok := ok + 1;
            ELSE
                counts := jsonb_set(counts, ARRAY[code], to_jsonb(coalesce((counts ->> code)::integer, 0) + 1));
                IF code LIKE 'XX%' OR code LIKE '58%' OR code = '53200' THEN
                    bad := bad || jsonb_build_object('i', i, 'sqlstate', code, 'message', left(msg, 500));
                END IF;
            END IF;
        END;
    END LOOP;
    RETURN jsonb_build_object('n', n, 'ok', ok, 'sqlstates', counts, 'bad', bad);
END
$$;

-- Stores a template (the CHECK parses it) and renders it with data: the
-- path user-edited templates take.
CREATE FUNCTION fuzz.template_roundtrip(p_body text, p_subject text, p_text_body text,
                                        p_format text, p_channel text, p_data text)
RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
    PERFORM ts_template_parses(p_body);
    INSERT INTO support_troubleshooting_templates (name, channel, subject, body, format, text_body)
    VALUES ('fuzz', p_channel, p_subject, p_body, coalesce(p_format, 'text'), p_text_body);
    RETURN render_troubleshooting_template('fuzz', p_data::jsonb, p_channel);
END
$$;

-- Records a tracking event through one of the two overloads.
CREATE FUNCTION fuzz.record_event(p_kind text, p_ref text, p_event text, p_at text, p_detail text)
RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    IF p_kind = 'id' THEN
        RETURN record_troubleshooting_notification_event(p_ref::bigint, p_event, p_at::timestamptz,
                                                         coalesce(p_detail, '{}')::jsonb);
    END IF;
    RETURN record_troubleshooting_notification_event(p_ref, p_event, p_at::timestamptz,
                                                     coalesce(p_detail, '{}')::jsonb);
END
$$;

-- Gives a URL to one of the places that validate URLs (nothing is fetched:
-- every call is rolled back and this database has no dispatcher).
CREATE FUNCTION fuzz.url_path(p_path text, p_url text)
RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    CASE p_path
    WHEN 'tracking_url' THEN
        PERFORM set_troubleshooting_config('email_open_tracking_url', p_url);
    WHEN 'llm_base_url' THEN
        PERFORM set_troubleshooting_config('llm_base_url', p_url);
    WHEN 'recipients' THEN
        PERFORM set_troubleshooting_config('escalation_recipients', 'webhook:' || p_url);
    WHEN 'webhook' THEN
        PERFORM send_troubleshooting_notification('webhook', p_url, NULL, '{"x": 1}');
    WHEN 'chat' THEN
        PERFORM send_troubleshooting_notification('slack', '#ops', 'session_started', '{}', 'normal',
                                                  jsonb_build_object('webhook_url', p_url));
    WHEN 'schedule' THEN
        PERFORM ts_report_schedule_recipient_check('teams', '#ops', p_url);
    WHEN 'schedule_webhook' THEN
        PERFORM ts_report_schedule_recipient_check('webhook', p_url, NULL);
    WHEN 'provider' THEN
        PERFORM set_troubleshooting_provider('email', 'sendgrid',
            jsonb_build_object('api_key', 'env:EMAIL_API_KEY', 'from', 'a@example.com', 'base_url', p_url));
    WHEN 'smtp' THEN
        PERFORM set_troubleshooting_provider('email', 'smtp',
            jsonb_build_object('url', p_url, 'from', 'a@example.com'));
    ELSE
        RAISE EXCEPTION 'unknown url path %', p_path;
    END CASE;
    RETURN p_path;
END
$$;

-- Creates a report schedule from a JSON object of its arguments.
CREATE FUNCTION fuzz.schedule(p_args text)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    j jsonb := p_args::jsonb;
BEGIN
    RETURN create_troubleshooting_report_schedule(
        j ->> 'name', j ->> 'report_type', (j ->> 'time_of_day')::time, j -> 'recipients',
        j ->> 'time_zone', coalesce(j ->> 'format', 'pdf'), (j ->> 'weekday')::integer,
        (j ->> 'month_day')::integer, j ->> 'frequency', coalesce(j -> 'filters', '{}'),
        coalesce((j ->> 'include_charts')::boolean, false));
END
$$;

-- Records a prediction, then (when p_corrected is given) its correction.
CREATE FUNCTION fuzz.ml(p_session text, p_problem text, p_confidence text, p_corrected text, p_by text,
                        p_notes text)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    id bigint := record_troubleshooting_prediction(p_session, p_problem, p_confidence::numeric);
BEGIN
    IF p_corrected IS NOT NULL THEN
        PERFORM record_troubleshooting_correction(p_session, p_corrected, p_by, p_notes);
    END IF;
    RETURN id;
END
$$;
