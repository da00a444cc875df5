#!/usr/bin/env bash
# The LLM executive summary, against a loopback fake of an OpenAI-compatible
# API (test/fake_openai.py): nothing is sent while enable_llm_enhancement is
# off; once on, the worker POSTs {base}/chat/completions with the Bearer key,
# the model and the report's aggregates (no customer data) and stores the
# answer in the report's executive_summary; the key goes only to the base URL
# it was set for; env:NAME keys come from the server's environment; an
# endpoint failing with 500 leaves the report complete without a summary, is
# tried three times at most, and no key reaches the server log.
. "$(dirname "$0")/tap.sh"

FAKE=$TS_WORK/fakellm
mkdir -p "$FAKE"
start_helper "fake LLM server" "$FAKE/port" "$FAKE/server.err" \
    python3 test/fake_openai.py --port 0 --record "$FAKE/requests.jsonl" --portfile "$FAKE/port"
BASE="http://127.0.0.1:$HELPER_PORT"
KEY="sk-test-$RANDOM$RANDOM-llm-key"

# Requests the fake received.
requests() { [ -f "$FAKE/requests.jsonl" ] && wc -l < "$FAKE/requests.jsonl" || echo 0; }
# Runs python check $1 on the last request (r; b = its JSON body).
check_last() {
    python3 - "$FAKE/requests.jsonl" "$FAKE/emails" <<PY
import json, sys
r = [json.loads(l) for l in open(sys.argv[1])][-1]
emails = [l.strip() for l in open(sys.argv[2]) if l.strip()]
h = r["headers"]
b = json.loads(r["body"])
$1
PY
}

conf_set allow_private_destinations on maintenance_naptime 100ms
P -c "CREATE EXTENSION troubleshooting" >/dev/null
q -d postgres -v sessions=300 -v days=3 -f bench/generate_data.sql >/dev/null
ok $? "sample data loaded"
P -c "SELECT DISTINCT customer_email FROM support_troubleshooting_sessions WHERE customer_email IS NOT NULL" > "$FAKE/emails"
P -c "SELECT set_troubleshooting_config('llm_base_url', '$BASE/v1')" \
  -c "SELECT set_troubleshooting_config('llm_model', 'test-model')" \
  -c "SELECT set_troubleshooting_llm_api_key('$KEY')" >/dev/null

# --- off (the default): nothing is sent ---
r1=$(P -c "SELECT generate_troubleshooting_report('daily', now() - interval '2 days', now()) ->> 'id'")
# a whole worker round that began after the LLM step's idle interval (5 s)
# has passed includes a look for reports to summarise
ts_maintenance_rounds postgres 2 5
ok $? "the worker has looked for reports to summarise"
is "$(requests)|$(P -c "SELECT count(*) FROM support_troubleshooting_report_summaries")" "0|0" \
   "enable_llm_enhancement off: no request"
is "$(P -c "SELECT data->'executive_summary' FROM support_troubleshooting_reports WHERE id = $r1")" "null" \
   "the report is complete, executive_summary null"
before=$(P -c "SELECT md5((data - 'executive_summary')::text) FROM support_troubleshooting_reports WHERE id = $r1")

# --- on: one request, the summary stored ---
P -c "SELECT set_troubleshooting_config('enable_llm_enhancement', 'true')" >/dev/null
wait_for "SELECT data->>'executive_summary' IS NOT NULL FROM support_troubleshooting_reports WHERE id = $r1" t 120
ok $? "the worker writes the executive summary"
total=$(P -c "SELECT data #>> '{summary,total_sessions}' FROM support_troubleshooting_reports WHERE id = $r1")
is "$(P -c "SELECT data->>'executive_summary' FROM support_troubleshooting_reports WHERE id = $r1")" \
   "Summary of $total sessions." "it is the model's answer (choices[0].message.content, trimmed)"
is "$(P -c "SELECT md5((data - 'executive_summary')::text) FROM support_troubleshooting_reports WHERE id = $r1")" "$before" \
   "the rest of the document is unchanged"
is "$(P -c "SELECT attempts || ' ' || (summarized_at IS NOT NULL) || ' ' || coalesce(last_error, '-') || ' ' || model
              FROM support_troubleshooting_report_summaries WHERE report_id = $r1")" "1 true - test-model" \
   "one attempt, recorded as done"
is "$(requests)" "1" "one request"
check_last "
assert r['method'] == 'POST' and r['path'] == '/v1/chat/completions', (r['method'], r['path'])
assert h['authorization'] == 'Bearer $KEY', 'authorization'
assert h['content-type'] == 'application/json', h['content-type']
assert b['model'] == 'test-model' and b['temperature'] == 0.2, b
assert [m['role'] for m in b['messages']] == ['system', 'user'], b['messages']
assert 'executive summary' in b['messages'][0]['content'], b['messages'][0]
"
ok $? "POST /v1/chat/completions: Bearer key, JSON, model, temperature, system then user message"
check_last "
report = json.loads(b['messages'][1]['content'])
assert set(report) == {'report_type', 'title', 'period', 'summary', 'satisfaction', 'trends',
                       'top_problems', 'recommendations'}, set(report)
assert report['report_type'] == 'daily' and report['summary']['total_sessions'] == $total, report['summary']
assert len(report['top_problems']) > 0 and 'title' in report['top_problems'][0], report['top_problems']
"
ok $? "the user message is the report's aggregates as JSON (no filters)"
check_last "
body = r['body'].lower()
assert len(emails) > 10, len(emails)
leaked = [e for e in emails if e.lower() in body]
assert not leaked, leaked[:3]
assert 'customer_email' not in body and 'customer_name' not in body
"
ok $? "no customer e-mail address or name in the request"
# after a summary the worker looks again at once (no idle interval)
ts_maintenance_rounds postgres 2
ok $? "the worker has been through two rounds since"
is "$(requests)" "1" "a summarised report is not asked for again"

# --- the key goes only to the URL it was set for ---
P -c "SELECT set_troubleshooting_config('llm_base_url', '$BASE/fail500/v1')" >/dev/null
r2=$(P -c "SELECT generate_troubleshooting_report('daily', now() - interval '1 day', now()) ->> 'id'")
wait_until 120 grep -q "llm_base_url changed since the API key was set" "$LOG"
grep -q "executive summaries are on but cannot be requested: llm_base_url changed since the API key was set" "$LOG"
ok $? "a new llm_base_url without a new key: a warning"
is "$(requests)|$(P -c "SELECT count(*) FROM support_troubleshooting_report_summaries WHERE report_id = $r2")" "1|0" \
   "and nothing is sent"

# --- an endpoint answering 500; the key from the server environment ---
P -c "SELECT set_troubleshooting_llm_api_key('env:EMAIL_API_KEY')" >/dev/null
wait_for "SELECT last_error FROM support_troubleshooting_report_summaries WHERE report_id = $r2" "HTTP 500 from the LLM endpoint" 120
ok $? "a 500 is recorded as the attempt's error"
check_last "
assert r['path'] == '/fail500/v1/chat/completions', r['path']
assert h['authorization'] == 'Bearer $EMAIL_API_KEY', 'authorization'
"
ok $? "env:EMAIL_API_KEY: the key is read from the server's environment"
is "$(P -c "SELECT (data->'executive_summary')::text || ' ' || (data->'summary' IS NOT NULL) || ' ' || (data->'recommendations' IS NOT NULL)
              FROM support_troubleshooting_reports WHERE id = $r2")" "null true true" \
   "the report stays complete without a summary"
grep -q "executive summary of report $r2 failed (attempt 1 of 3)" "$LOG"
ok $? "the failure is logged"
for n in 2 3; do
    P -c "UPDATE support_troubleshooting_report_summaries SET last_attempt_at = now() - interval '1 hour' WHERE report_id = $r2" >/dev/null
    wait_for "SELECT attempts FROM support_troubleshooting_report_summaries WHERE report_id = $r2 AND last_error IS NOT NULL" "$n" 120
    ok $? "retried: attempt $n"
done
P -c "UPDATE support_troubleshooting_report_summaries SET last_attempt_at = now() - interval '1 hour' WHERE report_id = $r2" >/dev/null
ts_maintenance_rounds postgres 2 5
ok $? "the worker has looked again after its idle interval"
is "$(P -c "SELECT attempts FROM support_troubleshooting_report_summaries WHERE report_id = $r2")|$(requests)" "3|4" \
   "no fourth attempt"
grep -q "executive summary of report $r2 failed (attempt 3 of 3)" "$LOG"
ok $? "the last failure is logged"

# --- an answer that is not JSON ---
P -c "SELECT set_troubleshooting_config('llm_base_url', '$BASE/notjson/v1')" \
  -c "SELECT set_troubleshooting_llm_api_key('$KEY')" >/dev/null
r3=$(P -c "SELECT generate_troubleshooting_report('weekly', p_force => true) ->> 'id'")
wait_for "SELECT last_error IS NOT NULL FROM support_troubleshooting_report_summaries WHERE report_id = $r3" t 120
ok $? "a non-JSON answer is an error"
is "$(P -c "SELECT (last_error LIKE '%json%') || ' ' || (summarized_at IS NULL) FROM support_troubleshooting_report_summaries WHERE report_id = $r3")|$(P -c "SELECT data->'executive_summary' FROM support_troubleshooting_reports WHERE id = $r3")" \
   "true true|null" "recorded, and the report has no summary"

# --- an endpoint slower than llm_timeout_seconds ---
P -c "SELECT set_troubleshooting_config('llm_base_url', '$BASE/slow/v1')" \
  -c "SELECT set_troubleshooting_config('llm_timeout_seconds', '1')" \
  -c "SELECT set_troubleshooting_llm_api_key('$KEY')" >/dev/null
r4=$(P -c "SELECT generate_troubleshooting_report('monthly', p_force => true) ->> 'id'")
wait_for "SELECT last_error FROM support_troubleshooting_report_summaries WHERE report_id = $r4" \
    "no answer within 1 seconds (llm_timeout_seconds)" 120
ok $? "a request past llm_timeout_seconds is given up and recorded"
is "$(P -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'troubleshooting maintenance'")" "1" \
   "the worker carries on"

# --- a key from the environment with a line break never reaches a header ---
before=$(requests)
P -c "SELECT set_troubleshooting_config('llm_base_url', '$BASE/v1')" \
  -c "SELECT set_troubleshooting_llm_api_key('env:TS_NEWLINE_KEY')" >/dev/null
r5=$(P -c "SELECT generate_troubleshooting_report('monthly', p_force => true) ->> 'id'")
wait_until 60 grep -q "the API key holds a control character" "$LOG"
grep -q "executive summaries are on but cannot be requested: the API key holds a control character" "$LOG"
ok $? "env:TS_NEWLINE_KEY holding CR/LF: a warning, naming no value"
is "$(requests)|$(P -c "SELECT count(*) FROM support_troubleshooting_report_summaries WHERE report_id = $r5")" "$before|0" \
   "and nothing is sent"
grep -q "sk-newline-key" "$LOG"
ok $((! $?)) "the key is not in the server log"

# --- secrets ---
grep -qF "$KEY" "$LOG"
ok $((! $?)) "the API key is not in the server log"
grep -qF "$EMAIL_API_KEY" "$LOG"
ok $((! $?)) "the key from the environment is not in the server log"
P -c "CREATE ROLE ts_llm_reader" >/dev/null
P -c "SET ROLE ts_llm_reader" -c "SELECT api_key FROM support_troubleshooting_llm_credentials" >/dev/null 2>&1
ok $((! $?)) "other roles cannot read the key"
P -c "DROP ROLE ts_llm_reader" >/dev/null

P -c "DROP EXTENSION troubleshooting CASCADE" >/dev/null 2>&1
conf_reset allow_private_destinations maintenance_naptime
done_testing
