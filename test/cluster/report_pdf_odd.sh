#!/usr/bin/env bash
# PDF export of report documents with odd numbers: huge, tiny, negative and
# beyond a double's range (jsonb takes 1e1000) in every number slot that is
# drawn or printed.  Each PDF must pass qpdf --check with no warning (no
# non-finite or huge coordinate reaches a content stream) and show the
# numbers as short text.
. "$(dirname "$0")/tap.sh"

DB=ts_report_pdf_odd
OUT=$TS_WORK/report_pdf_odd
fresh_dir "$OUT"

fresh_extension_db "$DB"

D >/dev/null <<'SQL'
CREATE TABLE base (doc jsonb NOT NULL);
INSERT INTO base VALUES ($json$
{
  "id": 7, "report_type": "weekly", "title": "Odd numbers",
  "period": {"start": "2026-04-27T00:00:00+02:00", "end": "2026-05-04T00:00:00+02:00",
             "time_zone": "Europe/Madrid", "granularity": "day"},
  "filters": {}, "include_charts": true, "generated_at": "2026-05-04T06:00:00+02:00",
  "summary": {"total_sessions": 1234, "resolved_sessions": 987, "resolution_rate": 0.7998,
              "avg_resolution_time_minutes": 17.25, "avg_rating": 4.37, "nps": 42},
  "series": [
    {"period_start": "2026-04-27T00:00:00+02:00", "total_sessions": 200, "resolved_sessions": 150},
    {"period_start": "2026-04-28T00:00:00+02:00", "total_sessions": 180, "resolved_sessions": 160}],
  "top_problems": [
    {"problem_id": "wifi-drop", "title": "Wi-Fi keeps dropping", "sessions": 700,
     "resolved_sessions": 560, "escalated_sessions": 90, "resolution_rate": 0.8000,
     "escalation_rate": 0.1286, "median_resolution_time_minutes": 11.00,
     "failing_steps": [{"step_number": 3, "step_title": "Update the router firmware",
                        "attempts": 300, "failed_attempts": 120, "failure_rate": 0.4000}]}],
  "satisfaction": {"feedback_count": 400, "rated_sessions": 390,
                   "rating_distribution": {"1": 10, "2": 20, "3": 50, "4": 120, "5": 200},
                   "avg_rating": 4.37, "csat": 0.8000,
                   "nps": {"score": 42, "promoters": 200, "passives": 120, "detractors": 32,
                           "responses": 352},
                   "helpful_share": 0.8100, "feedback_response_rate": 0.3250},
  "trends": {"previous_period": {"start": "2026-04-20T00:00:00+02:00",
                                 "end": "2026-04-27T00:00:00+02:00"},
             "metrics": [
               {"metric": "total_sessions", "current": 1234, "previous": 1000, "change": 234,
                "change_percent": 23.40, "direction": "up", "better": null},
               {"metric": "resolution_rate", "current": 0.7998, "previous": 0.7500,
                "change": 0.0498, "change_percent": 6.64, "direction": "up", "better": true}]},
  "recommendations": [{"rule": "r", "severity": "warning", "message": "m", "data": {}}],
  "executive_summary": null
}
$json$);
-- one document per odd value (v), put in every number slot that is drawn
CREATE TABLE docs (name text PRIMARY KEY, doc jsonb NOT NULL);
INSERT INTO docs
SELECT name, (SELECT jsonb_set(jsonb_set(jsonb_set(jsonb_set(jsonb_set(jsonb_set(jsonb_set(jsonb_set(
                 jsonb_set(jsonb_set(jsonb_set(jsonb_set(doc,
                 '{satisfaction,rating_distribution,2}', v),
                 '{satisfaction,rating_distribution,5}', v),
                 '{series,0,total_sessions}', v),
                 '{series,1,resolved_sessions}', v),
                 '{summary,total_sessions}', v),
                 '{summary,resolution_rate}', v),
                 '{summary,avg_resolution_time_minutes}', v),
                 '{trends,metrics,0,change_percent}', v),
                 '{trends,metrics,1,previous}', v),
                 '{top_problems,0,sessions}', v),
                 '{top_problems,0,failing_steps,0,failure_rate}', v),
                 '{satisfaction,csat}', v)
              FROM base)
FROM (VALUES ('minus_1e308', '-1e308'::jsonb), ('plus_1e308', '1e308'), ('plus_1e1000', '1e1000'),
             ('minus_1e1000', '-1e1000'), ('tiny', '1e-300'), ('e15', '1e15'), ('e16', '12345678901234567'),
             ('minus_one', '-1'), ('max_double', '1.7976931348623157e308')) AS odd(name, v);
SQL
ok $? "odd documents stored"


for n in $(D -c "SELECT name FROM docs ORDER BY name"); do
    export_pdf_checked "$n" "$OUT/$n.pdf"
    # qpdf: 0 = no problem, 3 = warnings (such as EOF while reading a token), 2 = errors
    qpdf --check "$OUT/$n.pdf" > "$OUT/$n.qpdf" 2>&1
    rc=$?
    ok $rc "$n: qpdf --check passes with no warning (status $rc)"
    [ $rc = 0 ] || sed 's/^/#   /' "$OUT/$n.qpdf" | grep -iE 'warning|error' | head -5
done

# the numbers are shown as short text, the document's values
pdf_text "$OUT/minus_1e308.pdf" | grep -qE '^ *Sessions +-1\.00e\+308 '
ok $? "-1e308 reads -1.00e+308 in the key figures"
pdf_text "$OUT/plus_1e1000.pdf" | grep -qE '^ *Sessions +1\.00e\+1000 '
ok $? "1e1000 (beyond a double) reads 1.00e+1000"
pdf_text "$OUT/minus_1e308.pdf" | sed -n '/Rating distribution/,$p' | grep -qF -- '-1.00e+308'
ok $? "the rating chart labels the bar -1.00e+308"
pdf_text "$OUT/e16.pdf" | grep -qE '^ *Sessions +1\.23e\+16 '
ok $? "numbers from 1e15 up read in scientific notation"
pdf_text "$OUT/plus_1e308.pdf" | grep -qE '^ *Resolution rate +1\.00e\+308 '
ok $? "a rate whose percentage overflows reads as the number itself"
pdf_text "$OUT/plus_1e308.pdf" | grep -qE '^ *Sessions +1\.00e\+308 +1000 +▲ +\+1\.00e\+308%'
ok $? "a huge change percentage reads +1.00e+308%"
longest=$(for f in "$OUT"/*.pdf; do pdf_text "$f"; done | awk '{ for (i = 1; i <= NF; i++) if (length($i) > m) m = length($i) } END { print m }')
[ "${longest:-999}" -le 40 ]
ok $? "no word of any odd PDF's text is longer than 40 characters (longest $longest)"

q -c "DROP DATABASE $DB" >/dev/null 2>&1
done_testing
