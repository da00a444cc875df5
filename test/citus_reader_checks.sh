# test/citus_reader_checks.sh: the readers on a Citus coordinator against a
# single server holding the same rows (sourced by a TAP test).
#
# The sourcing test provides:
#   is GOT EXPECTED DESCRIPTION, ok STATUS DESCRIPTION   TAP
#   CN I PSQL-OPTIONS...   psql on Citus node I (0 = the coordinator)
#   R PSQL-OPTIONS...      psql -X -qAt -v ON_ERROR_STOP=1 on the reference
#                          database of a single server
# and has loaded test/cluster/citus_data.sql into both (on Citus partly
# through worker node 1), with the extension's tables distributed
# (distribute_troubleshooting_tables()), deltas folded or not.
#
# citus_reader_checks runs three rounds of comparisons:
#   1. the data as it is;
#   2. after more rows (through the coordinator and through worker node 1 on
#      Citus), with their metric and report changes still pending (checked);
#   3. after refresh_troubleshooting_metrics() on both sides (none pending).
# While a round compares, a session on each side holds the lock that
# refresh_troubleshooting_metrics() takes first, so no fold moves rows
# between the deltas and the rollups in the middle of a round (Citus has
# no snapshot across nodes: a fold committing while a reader runs could be
# seen half).  Each round checks:
#   - get_troubleshooting_metrics_by_period for hour, day, week and month in
#     UTC, America/New_York and Asia/Kolkata, over a historical range with
#     ragged ends and over the last two days: Citus equals the single server,
#     and equals a plain GROUP BY over the Citus tables;
#   - get_troubleshooting_realtime_metrics() (timestamp and minutes_active
#     blanked), ts_realtime_kpis(), the view, and the queries of the HTTP
#     realtime, metrics and /metrics endpoints;
#   - generate_troubleshooting_report for every type (given ranges and the
#     defaults), custom reports with every filter, in the three zones, with
#     id and generated_at removed; a second call served from the cache;
#   - a stored report exported as csv and json (id and generated_at
#     blanked), and as pdf on Citus.
# Extra rows use prefixes u<k> and v<k> (the first k not taken), so the
# checks can run again on the same clusters.

CRC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CRC_ZONES=(UTC America/New_York Asia/Kolkata)
CRC_HIST=("2026-03-20 05:30:15+00" "2026-06-01 00:00+00")

# psql on the Citus coordinator; messages below ERROR are not printed (a
# side may warn, e.g. that no worker folds its changes yet, and still answer
# the same).
_crc_c() { PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=error" CN 0 "$@"; }

# psql on the reference, as _crc_c.
_crc_r() { PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=error" R "$@"; }

# Records whether files $2 and $3 are equal (description $1); on a
# difference, prints the start of the diff (long lines cut) as TAP comments.
_crc_same() {
    if cmp -s "$2" "$3"; then
        ok 0 "$1"
    else
        ok 1 "$1"
        diff "$2" "$3" | head -20 | cut -c1-240 | sed 's/^/#   /'
    fi
}

# Runs SQL $3 on both sides in time zone $2, into $CRC_TMP/c.out and
# r.out; records a failure (description $1) and fails when either side
# errs or says nothing.
_crc_fetch() {
    _crc_c -c "SET TimeZone = '$2'" -c "$3" > "$CRC_TMP/c.out" 2>&1
    _crc_r -c "SET TimeZone = '$2'" -c "$3" > "$CRC_TMP/r.out" 2>&1
    if [ ! -s "$CRC_TMP/c.out" ] || [ ! -s "$CRC_TMP/r.out" ] ||
       grep -q '^ERROR:' "$CRC_TMP/c.out" "$CRC_TMP/r.out"; then
        ok 1 "$1 (an error or no output)"
        head -5 "$CRC_TMP/c.out" "$CRC_TMP/r.out" | cut -c1-240 | sed 's/^/#   /'
        return 1
    fi
}

# Runs SQL $3 on both sides in time zone $2 and compares (description $1).
_crc_both() {
    _crc_fetch "$@" && _crc_same "$1" "$CRC_TMP/c.out" "$CRC_TMP/r.out"
}

# The metrics by period as a plain GROUP BY over the raw tables ($1 period,
# $2 start, $3 end, literals; $4 the session's time zone), in the columns and
# rounding of get_troubleshooting_metrics_by_period (the definitions of
# test/fixtures/metrics_reference.sql, in a form Citus runs).  The rows'
# buckets name the zone: Citus truncates on the worker nodes, in their own
# time zone.
_crc_plain_by_period() {
    cat <<EOF
WITH b AS (
    SELECT g AS bs FROM generate_series(date_trunc('$1', '$2'::timestamptz), '$3'::timestamptz,
                                        interval '1 $1') AS g
    WHERE g < '$3'::timestamptz
), s AS MATERIALIZED (
    SELECT date_trunc('$1', started_at, '$4') AS bs, count(*) AS total,
           count(*) FILTER (WHERE status = 'resolved') AS resolved,
           count(*) FILTER (WHERE status = 'escalated') AS escalated,
           count(*) FILTER (WHERE status IN ('abandoned', 'timed_out')) AS abandoned,
           avg(extract(epoch FROM resolved_at - started_at))
               FILTER (WHERE status = 'resolved' AND resolved_at IS NOT NULL) AS avg_res,
           count(DISTINCT detected_problem_id) AS uniq
    FROM support_troubleshooting_sessions
    WHERE started_at >= '$2' AND started_at < '$3' GROUP BY 1
), a AS MATERIALIZED (
    SELECT date_trunc('$1', attempted_at, '$4') AS bs, count(*) AS total, count(*) FILTER (WHERE success) AS ok
    FROM support_troubleshooting_attempts
    WHERE attempted_at >= '$2' AND attempted_at < '$3' GROUP BY 1
), f AS MATERIALIZED (
    SELECT date_trunc('$1', collected_at, '$4') AS bs, count(*) AS n, avg(rating) AS avg_rating,
           count(nps_score) AS nps_n, count(*) FILTER (WHERE nps_score >= 9) AS promoters,
           count(*) FILTER (WHERE nps_score <= 6) AS detractors
    FROM support_troubleshooting_feedback
    WHERE collected_at >= '$2' AND collected_at < '$3' GROUP BY 1
)
SELECT b.bs, coalesce(s.total, 0), coalesce(s.resolved, 0), coalesce(s.escalated, 0),
       coalesce(s.abandoned, 0), round(s.resolved::numeric / nullif(s.total, 0), 4),
       round(s.avg_res / 60, 2), coalesce(s.uniq, 0), coalesce(a.total, 0), coalesce(a.ok, 0),
       coalesce(f.n, 0), round(f.avg_rating, 2),
       round((f.promoters - f.detractors) * 100.0 / nullif(f.nps_n, 0), 2)
FROM b LEFT JOIN s USING (bs) LEFT JOIN a USING (bs) LEFT JOIN f USING (bs)
ORDER BY 1
EOF
}

# By period: every period and zone over the ranges; against the reference
# and against the plain GROUP BY on Citus.  $1 names the round.
_crc_by_period() {
    local round=$1 tz p range from to fn
    for tz in "${CRC_ZONES[@]}"; do
        for range in hist recent; do
            if [ "$range" = hist ]; then from=${CRC_HIST[0]} to=${CRC_HIST[1]}
            else from=$CRC_RECENT_FROM to=$CRC_RECENT_TO; fi
            for p in hour day week month; do
                fn="SELECT * FROM get_troubleshooting_metrics_by_period('$p', '$from', '$to') ORDER BY 1"
                _crc_both "$round: by $p, $tz, $range range: Citus = single server" "$tz" "$fn"
                _crc_c -c "SET TimeZone = '$tz'" -c "$(_crc_plain_by_period "$p" "$from" "$to" "$tz")" \
                    > "$CRC_TMP/plain.out" 2>&1
                _crc_same "$round: by $p, $tz, $range range: Citus = a plain GROUP BY over the Citus tables" \
                    "$CRC_TMP/c.out" "$CRC_TMP/plain.out"
            done
        done
    done
}

# Realtime: the document (clock fields blanked), the KPIs, the view, and
# what the HTTP endpoints query.
_crc_realtime() {
    local round=$1 norm='s/"timestamp": "[^"]*"/"timestamp": "T"/; s/"minutes_active": [0-9.]+/"minutes_active": M/g'
    _crc_fetch "$round: realtime document" UTC "SELECT jsonb_pretty(get_troubleshooting_realtime_metrics())" &&
        sed -Ei "$norm" "$CRC_TMP/c.out" "$CRC_TMP/r.out" &&
        _crc_same "$round: realtime document (clock fields blanked): Citus = single server" \
            "$CRC_TMP/c.out" "$CRC_TMP/r.out"
    grep -q '"problem_id"' "$CRC_TMP/c.out" && grep -q '"attempts": [1-9]' "$CRC_TMP/c.out"
    ok $? "$round: realtime has top problems and active sessions with attempts"
    _crc_both "$round: ts_realtime_kpis()" UTC "SELECT * FROM ts_realtime_kpis()"
    _crc_both "$round: vw_troubleshooting_realtime_metrics" UTC "SELECT * FROM vw_troubleshooting_realtime_metrics"
    # the HTTP worker's queries (api_metrics.c, api_realtime.c, prometheus.c)
    _crc_both "$round: HTTP metrics query" UTC \
        "SELECT '[' || coalesce(string_agg(to_json(m)::text, ',' ORDER BY m.period_start), '') || ']'
           FROM (SELECT coalesce('$CRC_RECENT_TO'::timestamptz, now()) AS e) p,
                get_troubleshooting_metrics_by_period(coalesce('hour', 'day'),
                    coalesce('$CRC_RECENT_FROM'::timestamptz, p.e - interval '30 days'), p.e) m"
    _crc_fetch "$round: HTTP realtime query" UTC \
        "SELECT r.doc::text FROM get_troubleshooting_realtime_metrics() AS r(doc)" &&
        sed -Ei "$norm" "$CRC_TMP/c.out" "$CRC_TMP/r.out" &&
        _crc_same "$round: HTTP realtime query (clock fields blanked)" "$CRC_TMP/c.out" "$CRC_TMP/r.out"
    _crc_both "$round: /metrics sessions by status" UTC \
        "SELECT k.status, coalesce(c.n, 0)
           FROM unnest('{started,in_progress,resolved,escalated,abandoned,timed_out}'::text[])
                WITH ORDINALITY k(status, o)
           LEFT JOIN (SELECT status, count(*) AS n FROM support_troubleshooting_sessions
                      GROUP BY status) c USING (status)
          ORDER BY k.o"
    _crc_both "$round: /metrics KPIs" UTC \
        "SELECT active_sessions, resolved_last_hour, escalated_last_hour, avg_rating_24h FROM ts_realtime_kpis()"
    _crc_both "$round: /metrics notifications by channel and status, and the queue" UTC \
        "SELECT ch.channel, st.status, coalesce(n.n, 0)
           FROM unnest('{email,sms,slack,teams,discord,webhook}'::text[]) WITH ORDINALITY ch(channel, o1)
          CROSS JOIN unnest('{pending,sending,sent,delivered,read,failed,cancelled}'::text[])
                WITH ORDINALITY st(status, o2)
           LEFT JOIN (SELECT channel, status, count(*) AS n
                      FROM support_troubleshooting_notifications GROUP BY 1, 2) n
                ON n.channel = ch.channel AND n.status = st.status
          ORDER BY ch.o1, st.o2;
         SELECT count(*), coalesce(greatest(extract(epoch FROM now() - min(created_at)), 0), 0)::float8
           FROM support_troubleshooting_notifications WHERE status = 'pending'"
}

# One report on both sides: generate_troubleshooting_report($2) in zone $3,
# uncached, without its id and generation time (description $1).
_crc_report() {
    _crc_both "$1" "$3" \
        "SELECT jsonb_pretty(generate_troubleshooting_report($2, p_force => true)
                             - 'id' - 'generated_at' - 'executive_summary')"
}

# Every report type, the defaults, custom ranges and every filter.
_crc_reports() {
    local round=$1 tz t f s=${CRC_HIST[0]} e=${CRC_HIST[1]}
    local filters=(
        '{"problem_ids": ["wifi", "dns", "nope"]}'
        '{"statuses": ["resolved", "escalated"]}'
        '{"min_rating": 3}'
        '{"max_rating": 2}'
        '{"customer_email_domain": "example.com"}'
        '{"assigned_agent": "agent.bob"}'
        '{"problem_ids": ["vpn", "email"], "statuses": ["resolved"], "min_rating": 2, "max_rating": 4}'
        '{"problem_ids": ["printer"], "min_rating": 4}'
    )
    for tz in "${CRC_ZONES[@]}"; do
        for t in daily weekly monthly problem_analysis customer_satisfaction; do
            _crc_report "$round: $t from 2026-05-01 10:30, $tz" "'$t', '2026-05-01 10:30+00'" "$tz"
        done
        _crc_report "$round: custom over the historical range, $tz" "'custom', '$s', '$e'" "$tz"
        _crc_report "$round: custom over the last two days (by hour), $tz" \
            "'custom', '$CRC_RECENT_FROM', '$CRC_RECENT_TO', p_include_charts => true" "$tz"
    done
    for t in daily weekly monthly problem_analysis customer_satisfaction; do
        _crc_report "$round: $t with the default period, America/New_York" "'$t'" America/New_York
    done
    for f in "${filters[@]}"; do
        _crc_report "$round: custom with filters $f" "'custom', '$s', '$e', '$f'" UTC
        _crc_report "$round: daily with filters $f, Asia/Kolkata" "'daily', '2026-05-20 00:00+05:30', NULL, '$f'" Asia/Kolkata
    done
    _crc_report "$round: problem_analysis with filters, America/New_York" \
        "'problem_analysis', '2026-04-10', NULL, '{\"statuses\": [\"escalated\", \"abandoned\"], \"assigned_agent\": \"agent.ann\"}'" \
        America/New_York
    _crc_report "$round: customer_satisfaction with rating filters over recent days" \
        "'customer_satisfaction', NULL, '$CRC_RECENT_TO', '{\"min_rating\": 2, \"max_rating\": 4}'" UTC
    # the cache: a second call without p_force returns the stored document
    _crc_c -c "SELECT generate_troubleshooting_report('weekly', '2026-05-11', NULL, '{\"min_rating\": 2}') = generate_troubleshooting_report('weekly', '2026-05-11', NULL, '{\"min_rating\": 2}')" \
        > "$CRC_TMP/c.out" 2>&1
    is "$(cat "$CRC_TMP/c.out")" t "$round: Citus serves a report from its cache"
}

# Exports of a stored report: csv and json equal on both sides (its id and
# generation time blanked); pdf bytes on Citus.
_crc_exports() {
    local round=$1 fmt args
    for args in "'monthly', '2026-05-01', NULL, '{\"statuses\": [\"resolved\", \"escalated\"]}'" \
                "'custom', '$CRC_RECENT_FROM', '$CRC_RECENT_TO', '{}', true"; do
        for fmt in csv json; do
            _crc_fetch "$round: export as $fmt ($args)" America/New_York \
                "SELECT convert_from(export_troubleshooting_report(
                        (generate_troubleshooting_report($args, p_force => true) ->> 'id')::bigint, '$fmt'), 'UTF8')" ||
                continue
            if [ "$fmt" = csv ]; then
                # the report line: id first, generated_at tenth
                awk -F, -v OFS=, 'prev ~ /^id,report_type,/ { $1 = "ID"; $10 = "GEN" } { prev = $0; print }' \
                    "$CRC_TMP/c.out" > "$CRC_TMP/c.norm"
                awk -F, -v OFS=, 'prev ~ /^id,report_type,/ { $1 = "ID"; $10 = "GEN" } { prev = $0; print }' \
                    "$CRC_TMP/r.out" > "$CRC_TMP/r.norm"
            else
                sed -E 's/"id": [0-9]+/"id": ID/; s/"generated_at": "[^"]*"/"generated_at": "GEN"/' \
                    "$CRC_TMP/c.out" > "$CRC_TMP/c.norm"
                sed -E 's/"id": [0-9]+/"id": ID/; s/"generated_at": "[^"]*"/"generated_at": "GEN"/' \
                    "$CRC_TMP/r.out" > "$CRC_TMP/r.norm"
            fi
            _crc_same "$round: the $fmt export ($args) is identical but for id and generated_at" \
                "$CRC_TMP/c.norm" "$CRC_TMP/r.norm"
        done
    done
    is "$(_crc_c -c "SELECT encode(substr(export_troubleshooting_report(
            (generate_troubleshooting_report('weekly', '2026-05-04', NULL, '{}', true, true) ->> 'id')::bigint,
            'pdf'), 1, 5), 'escape')" 2>&1)" "%PDF-" "$round: Citus exports a stored report as pdf"
}

# Starts a session on side $1 (c or r) that holds the lock every fold takes
# first, and waits until it has it; its backend pid goes to $CRC_TMP/hold.$1,
# the pid of its psql to CRC_HOLD_$1.
_crc_hold_folds() {
    local side=$1 i
    rm -f "$CRC_TMP/hold.$side"
    "_crc_$side" -c "BEGIN" -c "LOCK TABLE ts_metrics_hourly IN SHARE ROW EXCLUSIVE MODE" \
        -c "\\o $CRC_TMP/hold.$side" -c "SELECT pg_backend_pid()" -c "\\o" \
        -c "SELECT pg_sleep(900)" >/dev/null 2>&1 &
    printf -v "CRC_HOLD_$side" '%s' "$!"
    for ((i = 0; i < 300; i++)); do
        [ -s "$CRC_TMP/hold.$side" ] && return 0
        sleep 0.1
    done
    return 1
}

# Ends the lock-holding session of side $1 (its backend, by pid: its
# transaction ends with it) and waits for its psql.
_crc_release_folds() {
    local side=$1 pid psql_pid
    pid=$(cat "$CRC_TMP/hold.$side" 2>/dev/null)
    [[ $pid =~ ^[0-9]+$ ]] && "_crc_$side" -c "SELECT pg_terminate_backend($pid)" >/dev/null 2>&1
    rm -f "$CRC_TMP/hold.$side"
    psql_pid=CRC_HOLD_$side
    [ -n "${!psql_pid:-}" ] && wait "${!psql_pid}" 2>/dev/null
    printf -v "CRC_HOLD_$side" '%s' ""
}

# Pending metric and report changes on side $1, as "metrics report".
_crc_pending() {
    "_crc_$1" -c "SELECT (SELECT count(*) FROM ts_metrics_delta) || ' ' || (SELECT count(*) FROM ts_report_delta)"
}

# One round of comparisons named $1, with folds held off on both sides.
_crc_round() {
    local round=$1
    _crc_hold_folds c && _crc_hold_folds r
    ok $? "$round: folds held off on both sides"
    _crc_by_period "$round"
    _crc_realtime "$round"
    _crc_reports "$round"
    _crc_exports "$round"
    _crc_release_folds c
    _crc_release_folds r
}

# Loads citus_data.sql rows with prefix $2 ($3 sessions) through psql
# function $1, recent rows before $CRC_NOW.
_crc_load() {
    "$1" "${@:4}" -v prefix="$2" -v n="$3" -v base="'2026-06-01 00:00+00'" -v recent="'$CRC_NOW'" \
        -f "$CRC_DIR/cluster/citus_data.sql" >/dev/null
}

# The comparisons of every reader on Citus and the single server (see the
# top of this file).
citus_reader_checks() {
    local k=1 pc pr
    CRC_TMP=$(mktemp -d "${TS_WORK:-/tmp}/citus-readers.XXXXXX")
    CRC_NOW=$(_crc_r -c "SELECT date_trunc('second', now())")
    CRC_RECENT_FROM=$(_crc_r -c "SELECT date_trunc('hour', '$CRC_NOW'::timestamptz) - interval '2 days' + interval '17 minutes'")
    CRC_RECENT_TO=$(_crc_r -c "SELECT date_trunc('hour', '$CRC_NOW'::timestamptz) + interval '1 hour'")

    _crc_round "as loaded"

    # more rows, their changes pending: through the coordinator and worker node 1
    while [ "$(_crc_r -c "SELECT count(*) FROM support_troubleshooting_sessions WHERE session_id = 'u$k-1'")" != 0 ]; do
        k=$((k + 1))
    done
    _crc_hold_folds c && _crc_hold_folds r
    ok $? "pending: folds held off on both sides"
    _crc_load _crc_c "u$k" 300 && _crc_load CN "v$k" 200 1 &&
        _crc_load _crc_r "u$k" 300 && _crc_load _crc_r "v$k" 200
    ok $? "pending: 500 more sessions on both sides (200 through Citus worker node 1)"
    pc=$(_crc_pending c)
    pr=$(_crc_pending r)
    [[ $pc =~ ^[1-9][0-9]*\ [1-9][0-9]*$ ]] && [[ $pr =~ ^[1-9][0-9]*\ [1-9][0-9]*$ ]]
    ok $? "pending: metric and report changes wait on both sides (Citus $pc, single server $pr)"
    _crc_by_period pending
    _crc_realtime pending
    _crc_reports pending
    _crc_exports pending
    _crc_release_folds c
    _crc_release_folds r

    _crc_c -c "SELECT refresh_troubleshooting_metrics()" >/dev/null &&
        _crc_r -c "SELECT refresh_troubleshooting_metrics()" >/dev/null
    ok $? "folded: refresh_troubleshooting_metrics() on both sides"
    is "$(_crc_pending c) / $(_crc_pending r)" "0 0 / 0 0" "folded: nothing pending on either side"
    _crc_round folded
    rm -rf "$CRC_TMP"
}
