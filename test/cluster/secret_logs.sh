#!/usr/bin/env bash
# Secrets never reach the server log through the STATEMENT: line of a
# failing set_troubleshooting_provider() or set_troubleshooting_llm_api_key()
# call: each call below fails inside the function with a literal secret in
# its statement (as the superuser owner, and as a non-superuser granted
# EXECUTE, with and without rights on the tables), and the log must show
# the error but never the secret.  Successful calls leave nothing either.
# Each secret is unique, so a grep for it finds only what this test caused.
. "$(dirname "$0")/tap.sh"

TAG="sec$RANDOM$RANDOM"
# (newlog: the server log since this test started)
log_mark

P -c "CREATE EXTENSION troubleshooting" >/dev/null
P -c "CREATE ROLE ts_secret_admin LOGIN" \
  -c "GRANT EXECUTE ON FUNCTION set_troubleshooting_provider(text, text, jsonb), set_troubleshooting_llm_api_key(text) TO ts_secret_admin" >/dev/null

# Runs SQL $2 as role $1 (expecting it to fail); prints its error message.
fails_as() { psql -X -qAt -U "$1" -d postgres -v ON_ERROR_STOP=1 -c "$2" 2>&1 >/dev/null | sed -n 's/^ERROR:  //p' | head -1; }
# Waits (up to 30 s) until the server log holds n ($2) lines with text $1.
log_has() { wait_until 30 newlog_has "$1" "$2"; }

# --- failures inside the functions, as the superuser owner ---
is "$(fails_as postgres "SELECT set_troubleshooting_provider('email', 'sendgrid', '{\"api_key\": \"SG.$TAG-1\", \"from\": \"not an address\"}')")" \
   'invalid value for setting "from" of provider sendgrid' \
   "provider with a bad setting fails (superuser)"
is "$(fails_as postgres "SELECT set_troubleshooting_provider('sms', 'twilio', '{\"account_sid\": \"nope\", \"auth_token\": \"$TAG-2\"}')")" \
   'invalid value for setting "account_sid" of provider twilio' \
   "twilio with a bad account sid fails (superuser)"
is "$(fails_as postgres "SELECT set_troubleshooting_llm_api_key('$TAG-3 with a space')")" "invalid LLM API key" \
   "LLM key with a space fails (superuser)"
is "$(fails_as postgres "SELECT set_troubleshooting_llm_api_key('env:$TAG-4')")" \
   "invalid environment variable name in LLM API key" "LLM key env:bad-name fails (superuser)"

# --- a non-superuser granted EXECUTE only: the tables refuse it, inside the function ---
is "$(fails_as ts_secret_admin "SELECT set_troubleshooting_llm_api_key('$TAG-5')")" \
   "permission denied for table support_troubleshooting_llm_credentials" \
   "LLM key by a role with EXECUTE but no table rights fails"
is "$(fails_as ts_secret_admin "SELECT set_troubleshooting_provider('email', 'sendgrid', '{\"api_key\": \"SG.$TAG-6\", \"from\": \"a@example.com\"}')")" \
   "permission denied for table support_troubleshooting_providers" \
   "provider by a role with EXECUTE but no table rights fails"
is "$(fails_as ts_secret_admin "SELECT set_troubleshooting_llm_api_key(E'$TAG-7\\t')")" "invalid LLM API key" \
   "LLM key with a tab fails (non-superuser)"

# --- with the table rights, it succeeds; a bad call still fails ---
P -c "GRANT SELECT, INSERT, UPDATE, DELETE ON support_troubleshooting_llm_credentials, support_troubleshooting_providers TO ts_secret_admin" >/dev/null
psql -X -qAt -U ts_secret_admin -d postgres -v ON_ERROR_STOP=1 \
     -c "SELECT set_troubleshooting_llm_api_key('$TAG-8')" \
     -c "SELECT set_troubleshooting_provider('email', 'sendgrid', '{\"api_key\": \"SG.$TAG-9\", \"from\": \"a@example.com\"}')" >/dev/null
ok $? "a granted non-superuser sets the LLM key and a provider"
is "$(P -c "SELECT (SELECT api_key FROM support_troubleshooting_llm_credentials) || ' ' || (SELECT settings ->> 'api_key' FROM support_troubleshooting_providers WHERE channel = 'email')")" \
   "$TAG-8 SG.$TAG-9" "both stored"
is "$(fails_as ts_secret_admin "SELECT set_troubleshooting_provider('email', 'mailgun', '{\"api_key\": \"$TAG-10\", \"from\": \"a@example.com\"}')")" \
   'provider mailgun needs setting "domain"' "mailgun without its domain fails (non-superuser)"
P -c "SELECT set_troubleshooting_llm_api_key('$TAG-11')" >/dev/null
ok $? "the superuser sets the LLM key"

# --- the log: every error is there, no secret is ---
log_has "ERROR:  invalid LLM API key" 2 && log_has "ERROR:  permission denied for table support_troubleshooting_providers" 1 &&
    log_has 'ERROR:  provider mailgun needs setting "domain"' 1
ok $? "the errors are in the server log"
is "$(grep -c -- "$TAG" "$LOG")" "0" "no secret of any call, failed or not, is in the server log"
is "$(newlog | grep 'STATEMENT:' | grep -c 'set_troubleshooting_')" "0" "and no STATEMENT: line names the setters"

# what cannot be prevented (README): an error before the function runs
# (here, no EXECUTE right) logs the statement that names the secret
P -c "CREATE ROLE ts_secret_other LOGIN" >/dev/null
is "$(fails_as ts_secret_other "SELECT set_troubleshooting_llm_api_key('$TAG-outside')")" \
   "permission denied for function set_troubleshooting_llm_api_key" "a role without EXECUTE is refused"
log_has "$TAG-outside" 1
ok $? "that refusal, raised before the function runs, does log its statement (documented)"

P -c "DROP EXTENSION troubleshooting CASCADE" -c "DROP ROLE ts_secret_admin" -c "DROP ROLE ts_secret_other" >/dev/null
done_testing
