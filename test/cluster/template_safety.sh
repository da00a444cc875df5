#!/usr/bin/env bash
# Template safety from SQL: the issue's crash (100,000 nested sections) run by
# a fresh LOGIN role, the partial bomb and sections over large arrays end in
# clear errors; the server log shows no backend killed by a signal and the
# postmaster never restarted.
. "$(dirname "$0")/tap.sh"

DB=ts_template_safety
ROLE=ts_tpl_nobody
# Runs SQL as the fresh role; prints stdout and stderr.
R() { psql -X -qAt -U "$ROLE" -d "$DB" -v ON_ERROR_STOP=1 "$@" 2>&1; }
# Records whether output $1 contains the fixed string $2 (description $3).
expect() {
    if echo "$1" | grep -qF -- "$2"; then ok 0 "$3"; else ok 1 "$3"; echo "$1" | sed 's/^/#   /'; fi
}

fresh_extension_db "$DB"
q -c "DROP ROLE IF EXISTS $ROLE" >/dev/null 2>&1
q -c "CREATE ROLE $ROLE LOGIN" >/dev/null
ok $? "a fresh LOGIN role with no grants"

started=$(D -c "SELECT pg_postmaster_start_time()")
log_mark
# a witness session open through the whole test: a crash of any backend makes
# the postmaster end every session (pg_postmaster_start_time stays the same
# over such a crash restart, so it alone cannot tell)
D -c "SET application_name = 'ts_tpl_witness'" -c "SELECT pg_sleep(900)" >/dev/null 2>&1 &
witness_psql=$!
witness=
for _ in $(seq 600); do
    witness=$(D -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'ts_tpl_witness'")
    [ -n "$witness" ] && break
    sleep 0.1
done
[ -n "$witness" ]
ok $? "a witness session is open (pid $witness)"

ISSUE="SELECT render_troubleshooting_mustache(repeat('{{#a}}',100000) || 'x' || repeat('{{/a}}',100000), '{\"a\":true}')"
out=$(R -c "$ISSUE")
expect "$out" "ERROR:  permission denied for function render_troubleshooting_mustache" \
    "the issue's query as the fresh role: permission denied (PUBLIC has no EXECUTE)"
out=$(R -c "SELECT ts_template_parses(repeat('{{#a}}',100000))")
expect "$out" "ERROR:  permission denied for function ts_template_parses" "ts_template_parses: not PUBLIC's either"

D -c "GRANT EXECUTE ON FUNCTION render_troubleshooting_mustache(text, jsonb, jsonb, text) TO $ROLE" >/dev/null
out=$(R -c "$ISSUE")
expect "$out" 'ERROR:  template "inline" nests sections too deeply' \
    "granted EXECUTE, the issue's query is an error"
expect "$out" "DETAIL:  Sections may nest at most 100 levels deep" "its detail names the nesting limit"
out=$(D -c "$ISSUE" 2>&1)
expect "$out" 'ERROR:  template "inline" nests sections too deeply' "the same as superuser"

BOMB="SELECT render_troubleshooting_mustache('{{>p0}}', '{}', (SELECT jsonb_object_agg('p' || i,
      CASE WHEN i < @N@ THEN '{{>p' || (i + 1) || '}}{{>p' || (i + 1) || '}}' ELSE 'x' END) FROM generate_series(0, @N@) i))"
out=$(R -c "${BOMB//@N@/40}")
expect "$out" 'ERROR:  partials nest more than 32 deep' "the 40-level partial bomb: partial depth error"
out=$(R -c "${BOMB//@N@/25}")
expect "$out" 'ERROR:  rendered template "inline" is too long' "a 25-level partial bomb: output limit error"
expect "$out" 'DETAIL:  A rendered template may be at most 1048576 bytes.' "its detail names the output limit"
out=$(R -c "SELECT render_troubleshooting_mustache('{{#a}}{{#a}}{{#a}}x{{/a}}{{/a}}{{/a}}',
                 jsonb_build_object('a', (SELECT jsonb_agg(i) FROM generate_series(1, 1000) i)))")
expect "$out" 'ERROR:  rendered template "inline" is too long' \
    "three nested sections over 1,000 items: output limit error, not out of memory"
out=$(R -c "SET statement_timeout = '50ms'" -c "SELECT render_troubleshooting_mustache('{{#a}}{{#a}}{{#a}}{{/a}}{{/a}}{{/a}}',
                 jsonb_build_object('a', (SELECT jsonb_agg(i) FROM generate_series(1, 1000) i)))")
expect "$out" 'ERROR:  canceling statement due to statement timeout' "statement_timeout stops a heavy render"

# the backend and the server lived through all of it
is "$(R -c "SELECT 'alive'")" "alive" "the role still connects and queries"
is "$(D -c "SELECT pg_postmaster_start_time()")" "$started" "the server did not restart (pg_postmaster_start_time unchanged)"
is "$(D -c "SELECT count(*) FROM pg_stat_activity WHERE pid = ${witness:-0}")" "1" \
    "the witness session lived through it all (no crash restart)"
[ -n "$witness" ] && D -c "SELECT pg_terminate_backend($witness)" >/dev/null
wait "$witness_psql" 2>/dev/null
crash=$(newlog | grep -E "terminated by signal|PANIC|TRAP:|was terminated|server process .* exited|all server processes terminated")
if [ -z "$crash" ]; then ok 0 "no backend terminated by a signal in the server log"; else
    ok 1 "no backend terminated by a signal in the server log"; echo "$crash" | sed 's/^/#   /'; fi

q -c "DROP DATABASE $DB" >/dev/null 2>&1
q -c "DROP ROLE IF EXISTS $ROLE" >/dev/null 2>&1
done_testing
