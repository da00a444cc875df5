#!/usr/bin/env bash
# The search_path takeover: a non-superuser owner of the database the workers
# serve plants operators and functions in public that shadow what the
# workers' SQL would pick under the default search_path (an exact
# *(int4, interval) for "$2 * interval '1 millisecond'", and the like), and
# sets the database's search_path to put public first; each
# trap notes who ran it and, run by a superuser, makes its owner superuser.
# Then notifications go out, the maintenance worker folds, times out,
# deletes past retention and runs a report schedule, the HTTP worker serves
# metrics (the cluster restarted with http_port), and the owner resolves
# a session (a SECURITY DEFINER trigger enqueues a feedback request): no trap
# ever runs inside a worker or as a superuser for the owner,
# the role stays a plain role, and the notifications still reached the
# loopback capture server.
. "$(dirname "$0")/tap.sh"

M() { psql -X -qAt -U ts_mallory -d postgres -v ON_ERROR_STOP=1 "$@"; }
start_capture_server "$TS_WORK/takeover"

is "$(P -c "SHOW troubleshooting.database")" "postgres" "the workers serve database postgres"
conf_set allow_private_destinations on maintenance_naptime 100ms retry_base_delay 100ms slack_min_interval 0
P -c "CREATE ROLE ts_mallory LOGIN NOSUPERUSER" \
  -c "ALTER DATABASE postgres OWNER TO ts_mallory" >/dev/null
P -c "CREATE EXTENSION troubleshooting" >/dev/null
is "$(P -c "SELECT rolsuper FROM pg_roles WHERE rolname = 'ts_mallory'")" "f" "ts_mallory starts as a plain role owning the database"

# --- the traps, planted by the database owner in public ---
M >/dev/null <<'SQL'
CREATE TABLE public.ts_trap_log (backend_type text, shape text, superuser boolean);
GRANT INSERT ON public.ts_trap_log TO PUBLIC;
-- notes a run outside client backends (that is, in a worker) and escalates when it can
CREATE FUNCTION public.ts_trap(shape text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    bt text;
BEGIN
    SELECT a.backend_type INTO bt FROM pg_catalog.pg_stat_activity a
     WHERE a.pid OPERATOR(pg_catalog.=) pg_catalog.pg_backend_pid();
    -- in a worker, or in SECURITY DEFINER code run as a superuser for another role
    IF NOT coalesce(bt OPERATOR(pg_catalog.=) 'client backend', false)
       OR (pg_catalog.current_setting('is_superuser') OPERATOR(pg_catalog.=) 'on'
           AND current_user OPERATOR(pg_catalog.<>) session_user) THEN
        INSERT INTO public.ts_trap_log VALUES (bt, shape, pg_catalog.current_setting('is_superuser') OPERATOR(pg_catalog.=) 'on');
        IF pg_catalog.current_setting('is_superuser') OPERATOR(pg_catalog.=) 'on' THEN
            EXECUTE 'ALTER ROLE ts_mallory SUPERUSER';
        END IF;
    END IF;
END $$;
-- each trap answers what the shadowed built-in would (the worker keeps working)
CREATE FUNCTION public.ts_t_mul_i4_iv(int4, interval) RETURNS interval LANGUAGE plpgsql AS
  $$ BEGIN PERFORM public.ts_trap('*(int4,interval)'); RETURN $1::float8 OPERATOR(pg_catalog.*) $2; END $$;
CREATE OPERATOR public.* (LEFTARG = int4, RIGHTARG = interval, FUNCTION = public.ts_t_mul_i4_iv);
CREATE FUNCTION public.ts_t_mul_iv_i4(interval, int4) RETURNS interval LANGUAGE plpgsql AS
  $$ BEGIN PERFORM public.ts_trap('*(interval,int4)'); RETURN $1 OPERATOR(pg_catalog.*) $2::float8; END $$;
CREATE OPERATOR public.* (LEFTARG = interval, RIGHTARG = int4, FUNCTION = public.ts_t_mul_iv_i4);
CREATE FUNCTION public.ts_t_mul_i8_iv(int8, interval) RETURNS interval LANGUAGE plpgsql AS
  $$ BEGIN PERFORM public.ts_trap('*(int8,interval)'); RETURN $1::float8 OPERATOR(pg_catalog.*) $2; END $$;
CREATE OPERATOR public.* (LEFTARG = int8, RIGHTARG = interval, FUNCTION = public.ts_t_mul_i8_iv);
CREATE FUNCTION public.ts_t_mul_iv_i8(interval, int8) RETURNS interval LANGUAGE plpgsql AS
  $$ BEGIN PERFORM public.ts_trap('*(interval,int8)'); RETURN $1 OPERATOR(pg_catalog.*) $2::float8; END $$;
CREATE OPERATOR public.* (LEFTARG = interval, RIGHTARG = int8, FUNCTION = public.ts_t_mul_iv_i8);
CREATE FUNCTION public.ts_t_mul_iv_num(interval, numeric) RETURNS interval LANGUAGE plpgsql AS
  $$ BEGIN PERFORM public.ts_trap('*(interval,numeric)'); RETURN $1 OPERATOR(pg_catalog.*) $2::float8; END $$;
CREATE OPERATOR public.* (LEFTARG = interval, RIGHTARG = numeric, FUNCTION = public.ts_t_mul_iv_num);
CREATE FUNCTION public.ts_t_cat_t_i4(text, int4) RETURNS text LANGUAGE plpgsql AS
  $$ BEGIN PERFORM public.ts_trap('||(text,int4)'); RETURN $1 OPERATOR(pg_catalog.||) $2::text; END $$;
CREATE OPERATOR public.|| (LEFTARG = text, RIGHTARG = int4, FUNCTION = public.ts_t_cat_t_i4);
CREATE FUNCTION public.ts_t_cat_t_i8(text, int8) RETURNS text LANGUAGE plpgsql AS
  $$ BEGIN PERFORM public.ts_trap('||(text,int8)'); RETURN $1 OPERATOR(pg_catalog.||) $2::text; END $$;
CREATE OPERATOR public.|| (LEFTARG = text, RIGHTARG = int8, FUNCTION = public.ts_t_cat_t_i8);
CREATE FUNCTION public.ts_t_eq_t_t(text, text) RETURNS boolean LANGUAGE plpgsql AS
  $$ BEGIN PERFORM public.ts_trap('=(text,text)'); RETURN $1 OPERATOR(pg_catalog.=) $2; END $$;
CREATE OPERATOR public.= (LEFTARG = text, RIGHTARG = text, FUNCTION = public.ts_t_eq_t_t);
CREATE FUNCTION public.ts_t_lt_tz_tz(timestamptz, timestamptz) RETURNS boolean LANGUAGE plpgsql AS
  $$ BEGIN PERFORM public.ts_trap('<(timestamptz,timestamptz)'); RETURN $1 OPERATOR(pg_catalog.<) $2; END $$;
CREATE OPERATOR public.< (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = public.ts_t_lt_tz_tz);
-- functions: the built-ins a path with public first would shadow, and
-- argument shapes pg_catalog has no exact match for
CREATE FUNCTION public.now() RETURNS timestamptz LANGUAGE plpgsql AS
  $$ BEGIN PERFORM public.ts_trap('now()'); RETURN pg_catalog.now(); END $$;
CREATE FUNCTION public.lower(text) RETURNS text LANGUAGE plpgsql AS
  $$ BEGIN PERFORM public.ts_trap('lower(text)'); RETURN pg_catalog.lower($1); END $$;
CREATE FUNCTION public.left(text, int8) RETURNS text LANGUAGE plpgsql AS
  $$ BEGIN PERFORM public.ts_trap('left(text,int8)'); RETURN pg_catalog.left($1, $2::int4); END $$;
CREATE FUNCTION public.round(float8, int4) RETURNS numeric LANGUAGE plpgsql AS
  $$ BEGIN PERFORM public.ts_trap('round(float8,int4)'); RETURN pg_catalog.round($1::numeric, $2); END $$;
CREATE FUNCTION public.to_timestamp(int8) RETURNS timestamptz LANGUAGE plpgsql AS
  $$ BEGIN PERFORM public.ts_trap('to_timestamp(int8)'); RETURN pg_catalog.to_timestamp($1::float8); END $$;
-- overloads of the extension's own functions (it lives in public, which the
-- database owner owns) that a call with an untyped literal or NULL would pick
CREATE FUNCTION public.send_troubleshooting_notification(a text, b text, c text, d jsonb, e text, f jsonb, g text, h text)
RETURNS bigint LANGUAGE plpgsql AS
  $$ BEGIN PERFORM public.ts_trap('send_troubleshooting_notification(..., text)');
     RETURN public.send_troubleshooting_notification(a, b, c, d, e, f, g, h::timestamptz); END $$;
CREATE FUNCTION public.send_troubleshooting_notification(a text, b text, c text, d jsonb, e text, f text, g text)
RETURNS bigint LANGUAGE plpgsql AS
  $$ BEGIN PERFORM public.ts_trap('send_troubleshooting_notification(7 args, text metadata)');
     RETURN public.send_troubleshooting_notification(a, b, c, d, e, f::jsonb, g, NULL::timestamptz); END $$;
CREATE FUNCTION public.to_json(record) RETURNS json LANGUAGE plpgsql AS
  $$ BEGIN PERFORM public.ts_trap('to_json(record)'); RETURN pg_catalog.to_json($1); END $$;
CREATE FUNCTION public.jsonb_build_object(text, text) RETURNS jsonb LANGUAGE plpgsql AS
  $$ BEGIN PERFORM public.ts_trap('jsonb_build_object(text,text)'); RETURN pg_catalog.jsonb_build_object(VARIADIC ARRAY[$1, $2]); END $$;
-- and puts public first for every new connection to the database
ALTER DATABASE postgres SET search_path = public, pg_catalog;
SQL
ok $? "the database owner plants operator and function traps in public"

# a client backend that trips a trap is not counted: the trap itself works
is "$(P -c "SELECT (2 * interval '1 second')::text || '|' || (SELECT count(*) FROM public.ts_trap_log)")" \
   "00:00:02|0" "the *(int4, interval) trap is picked under the default search_path and answers right"

# --- the dispatcher: notifications to the loopback capture server ---
for n in 1 2 3; do
    P -c "SELECT send_troubleshooting_notification('slack', '#t', 'session_started', '{\"session_id\": \"take-$n\"}',
          'normal', jsonb_build_object('webhook_url', '$URL/_mode/slack/services/T/B/take$n'))" >/dev/null
done
wait_for "SELECT count(*) FROM support_troubleshooting_notifications WHERE status = 'sent'" 3
ok $? "the dispatcher sends every notification"
is "$(python3 -c "
import json
print(sum(1 for l in open('$CAP/requests.jsonl') if '/services/T/B/take' in json.loads(l)['path']))")" "3" \
   "the capture server received the three requests"

# --- the maintenance worker: folding, timeouts, retention ---
P -c "INSERT INTO support_troubleshooting_sessions (session_id, detected_problem_id, started_at, last_activity_at)
      VALUES ('take-idle', 'wifi', now() - interval '2 hours', now() - interval '31 minutes')" >/dev/null
wait_for "SELECT status FROM support_troubleshooting_sessions WHERE session_id = 'take-idle'" "timed_out"
ok $? "the maintenance worker times out an idle session"
wait_for "SELECT count(*) FROM ts_metrics_delta" 0
ok $? "the maintenance worker folds the metric deltas"
P -c "INSERT INTO support_troubleshooting_sessions (session_id, status, started_at, ended_at)
      VALUES ('take-old', 'resolved', now() - interval '3 years', now() - interval '3 years')" \
  -c "SELECT set_troubleshooting_config('cleanup_interval_minutes', '1')" \
  -c "SELECT pg_reload_conf()" >/dev/null   # a reload starts retention at once
wait_for "SELECT count(*) FROM support_troubleshooting_sessions WHERE session_id = 'take-old'" 0
ok $? "the maintenance worker deletes data past retention"

# --- a report schedule and an LLM summary request ---
sid=$(P -c "SELECT create_troubleshooting_report_schedule('takeover', 'daily', '06:00',
        '[{\"channel\": \"webhook\", \"recipient\": \"$URL/_mode/webhook/takeover\"}]', 'UTC', 'csv')")
P -c "UPDATE support_troubleshooting_report_schedules SET next_run_at = now() - interval '1 hour' WHERE id = $sid" >/dev/null
wait_for "SELECT status FROM support_troubleshooting_report_schedule_runs WHERE schedule_id = $sid" "done"
ok $? "the maintenance worker runs the report schedule"
wait_for "SELECT count(*) FROM support_troubleshooting_notifications WHERE recipient LIKE '%/webhook/takeover' AND status = 'sent'" 1
ok $? "and the dispatcher sends its notification"
is "$(python3 -c "
import json
print(sum(1 for l in open('$CAP/requests.jsonl') if json.loads(l)['raw_path'] == '/_mode/webhook/takeover'))")" "1" \
   "the capture server received the report notification"

# --- the HTTP worker (a restart: http_port is PGC_POSTMASTER) ---
HP=$(ts_free_port 18180)
P -c "CREATE ROLE ts_take_http NOLOGIN" \
  -c "GRANT EXECUTE ON FUNCTION get_troubleshooting_metrics_by_period(text, timestamptz, timestamptz) TO ts_take_http" \
  -c "ALTER SYSTEM SET troubleshooting.http_port = $HP" \
  -c "ALTER SYSTEM SET troubleshooting.http_role = 'ts_take_http'" >/dev/null
restart_main
code=000
for i in $(seq 1 100); do
    code=$(curl -s --noproxy '*' --max-time 5 -o "$CAP/metrics.json" -w '%{http_code}' \
           "http://127.0.0.1:$HP/api/support/troubleshooting/metrics?period=day" 2>/dev/null)
    [ "$code" != 000 ] && break
    sleep 0.1
done
is "$code" "200" "the HTTP worker answers the metrics endpoint"
python3 -c "import json, sys; assert isinstance(json.load(open(sys.argv[1])), list)" "$CAP/metrics.json"
ok $? "with a JSON array"
P -c "ALTER SYSTEM RESET troubleshooting.http_port" -c "ALTER SYSTEM RESET troubleshooting.http_role" >/dev/null
restart_main

# --- after the restart the workers connect under the owner's ALTER DATABASE SET search_path ---
P -c "SELECT send_troubleshooting_notification('slack', '#t', 'session_started', '{\"session_id\": \"take-4\"}',
      'normal', jsonb_build_object('webhook_url', '$URL/_mode/slack/services/T/B/take4'))" \
  -c "INSERT INTO support_troubleshooting_sessions (session_id, started_at, last_activity_at)
      VALUES ('take-idle-2', now() - interval '2 hours', now() - interval '31 minutes')" >/dev/null
wait_for "SELECT count(*) FROM support_troubleshooting_notifications WHERE status = 'sent' AND recipient = '#t'" 4
ok $? "after a restart the dispatcher still sends"
wait_for "SELECT status FROM support_troubleshooting_sessions WHERE session_id = 'take-idle-2'" "timed_out"
ok $? "and the maintenance worker still times out idle sessions"

# --- SECURITY DEFINER code run for the owner's session: the feedback request ---
P -c "GRANT SELECT, INSERT, UPDATE ON support_troubleshooting_sessions TO ts_mallory" >/dev/null
M -c "INSERT INTO support_troubleshooting_sessions (session_id, customer_email) VALUES ('take-fb', 'fb@example.com')" \
  -c "UPDATE support_troubleshooting_sessions SET status = 'resolved' WHERE session_id = 'take-fb'" >/dev/null
ok $? "the database owner resolves a session of its own"
is "$(P -c "SELECT count(*) FROM support_troubleshooting_notifications WHERE idempotency_key = 'feedback_request:take-fb'")" "1" \
   "the feedback request is enqueued"

# --- the verdict ---
is "$(P -c "SELECT coalesce(string_agg(DISTINCT backend_type || ': ' || shape, '; '), '') FROM public.ts_trap_log")" "" \
   "no trap ran inside a worker or as a superuser for the owner"
is "$(P -c "SELECT rolsuper FROM pg_roles WHERE rolname = 'ts_mallory'")" "f" "ts_mallory is still not a superuser"

P -c "DROP EXTENSION troubleshooting CASCADE" >/dev/null 2>&1
P -c "ALTER DATABASE postgres RESET search_path" -c "ALTER DATABASE postgres OWNER TO postgres" \
  -c "DROP OWNED BY ts_mallory CASCADE" -c "DROP ROLE ts_mallory" -c "DROP ROLE ts_take_http" >/dev/null
P -c "ALTER SYSTEM RESET ALL" -c "SELECT pg_reload_conf()" >/dev/null
done_testing
