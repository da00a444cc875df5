-- Report export from hand-written documents: exact CSV (RFC 4180 quoting,
-- CRLF, formula neutralisation, UTF-8), the JSON export, and the errors.
-- PDFs are checked with qpdf and pdftotext by test/cluster/report_pdf.sh.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS troubleshooting CASCADE;
CREATE EXTENSION troubleshooting;
RESET client_min_messages;

CREATE TEMP TABLE docs (name text PRIMARY KEY, doc jsonb NOT NULL);
INSERT INTO docs VALUES ('full', $json$
{
  "id": 42,
  "report_type": "weekly",
  "title": "Weekly troubleshooting report",
  "period": {"start": "2026-04-27T00:00:00+02:00", "end": "2026-05-04T00:00:00+02:00",
             "time_zone": "Europe/Madrid", "granularity": "day"},
  "filters": {"agent": "Juan Pérez"},
  "include_charts": true,
  "generated_at": "2026-05-04T06:00:00+02:00",
  "summary": {"total_sessions": 120, "resolved_sessions": 90, "escalated_sessions": 20,
              "abandoned_sessions": 10, "resolution_rate": 0.7500, "escalation_rate": 0.1667,
              "avg_resolution_time_minutes": 12.50, "median_resolution_time_minutes": 10.00,
              "p90_resolution_time_minutes": 25.25, "total_attempts": 300,
              "successful_attempts": 150, "attempts_per_session": 2.50,
              "first_attempt_success_rate": 0.4000, "feedback_count": 40, "avg_rating": 4.10,
              "nps": 35, "unique_problems": 3},
  "series": [
    {"period_start": "2026-04-27T00:00:00+02:00", "total_sessions": 70, "resolved_sessions": 50,
     "escalated_sessions": 12, "abandoned_sessions": 8, "resolution_rate": 0.7143,
     "avg_resolution_time_minutes": 11.00, "total_attempts": 180, "feedback_count": 25,
     "avg_rating": 4.00},
    {"period_start": "2026-04-28T00:00:00+02:00", "total_sessions": 50, "resolved_sessions": 40,
     "escalated_sessions": 8, "abandoned_sessions": 2, "resolution_rate": 0.8000,
     "avg_resolution_time_minutes": 14.75, "total_attempts": 120, "feedback_count": 15,
     "avg_rating": null}
  ],
  "top_problems": [
    {"problem_id": "wifi-drop", "title": "Wi-Fi drops, \"often\"", "sessions": 70,
     "resolved_sessions": 50, "escalated_sessions": 12, "resolution_rate": 0.7143,
     "escalation_rate": 0.1714, "median_resolution_time_minutes": 9.50,
     "failing_steps": [{"step_number": 2, "step_title": "Restart the router\nthen wait",
                        "attempts": 40, "failed_attempts": 12, "failure_rate": 0.3000}]},
    {"problem_id": "=1+1", "title": "+x", "sessions": 40, "resolved_sessions": 30,
     "escalated_sessions": 6, "resolution_rate": 0.7500, "escalation_rate": 0.1500,
     "median_resolution_time_minutes": null,
     "failing_steps": [{"step_number": 1, "step_title": "-cmd", "attempts": 10,
                        "failed_attempts": 5, "failure_rate": 0.5000},
                       {"step_number": 3, "step_title": "@SUM(A1:A2)", "attempts": 4,
                        "failed_attempts": 1, "failure_rate": 0.2500}]},
    {"problem_id": "impresora", "title": "Resolución de impresora — Día 1", "sessions": 10,
     "resolved_sessions": 10, "escalated_sessions": 0, "resolution_rate": 1.0000,
     "escalation_rate": 0.0000, "median_resolution_time_minutes": 4.00, "failing_steps": []}
  ],
  "satisfaction": {"feedback_count": 40, "rated_sessions": 38,
                   "rating_distribution": {"1": 2, "2": 3, "3": 5, "4": 10, "5": 20},
                   "avg_rating": 4.10, "csat": 0.7500,
                   "nps": {"score": 35, "promoters": 20, "passives": 14, "detractors": 6,
                           "responses": 40},
                   "helpful_share": 0.8000, "helpful_responses": 30, "finished_sessions": 110,
                   "feedback_response_rate": 0.3455},
  "trends": {"previous_period": {"start": "2026-04-20T00:00:00+02:00",
                                 "end": "2026-04-27T00:00:00+02:00"},
             "metrics": [
               {"metric": "total_sessions", "current": 120, "previous": 100, "change": 20,
                "change_percent": 20.00, "direction": "up", "better": null},
               {"metric": "resolution_rate", "current": 0.7500, "previous": 0.8000,
                "change": -0.0500, "change_percent": -6.25, "direction": "down", "better": false},
               {"metric": "csat", "current": 0.7500, "previous": null, "change": null,
                "change_percent": null, "direction": null, "better": null}]},
  "recommendations": [
    {"rule": "low_resolution_rate", "severity": "warning",
     "message": "Resolution rate fell to 75.0%, below the 80.0% target", "data": {}},
    {"rule": "customer_quote", "severity": "info",
     "message": "Juan Pérez wrote: \"=HYPERLINK(x)\", 5 € lost", "data": {}},
    {"rule": "minus", "severity": "info", "message": "-3.5", "data": {"delta": -3.5}},
    {"rule": "tab", "severity": "critical", "message": "\tindented", "data": {}}
  ],
  "executive_summary": "Sessions grew 20%.\r\nResolution fell."
}
$json$);
INSERT INTO docs VALUES ('minimal', $json$
{
  "id": null, "report_type": "custom", "title": null,
  "period": {"start": "2026-05-01T00:00:00+00:00", "end": "2026-05-02T00:00:00+00:00",
             "time_zone": "UTC", "granularity": "hour"},
  "filters": {}, "include_charts": false, "generated_at": "2026-05-02T00:00:01+00:00",
  "summary": {"total_sessions": 0, "resolution_rate": null, "avg_rating": null},
  "series": null, "top_problems": null, "satisfaction": null, "trends": null,
  "recommendations": [], "executive_summary": null
}
$json$);

-- the CSV, CR shown as \r (every line ends with CRLF; the LF inside quotes is data)
\pset format unaligned
\pset tuples_only on
SELECT replace(convert_from(export_troubleshooting_report(doc, 'csv'), 'UTF8'), E'\r', '\r')
FROM docs WHERE name = 'full';
SELECT replace(convert_from(export_troubleshooting_report(doc, 'csv'), 'UTF8'), E'\r', '\r')
FROM docs WHERE name = 'minimal';
\pset format aligned
\pset tuples_only off

-- the text is UTF-8 (é is C3 A9, € is E2 82 AC); the only LF without a CR is
-- the one inside the quoted step title
SELECT position('\x4a75616e2050c3a972657a'::bytea IN csv) > 0 AS juan_perez_utf8,
       position('\x3520e282ac'::bytea IN csv) > 0 AS euro_utf8,
       length(csv) AS csv_bytes,
       (SELECT count(*) FROM regexp_matches(convert_from(csv, 'UTF8'), E'[^\r]\n', 'g')) AS bare_lf
FROM (SELECT export_troubleshooting_report(doc, 'csv') AS csv FROM docs WHERE name = 'full') x;

-- json: the document itself, as its canonical jsonb text
SELECT name,
       convert_from(export_troubleshooting_report(doc, 'json'), 'UTF8') = doc::text AS same_text,
       convert_from(export_troubleshooting_report(doc, 'json'), 'UTF8')::jsonb = doc AS same_jsonb
FROM docs ORDER BY name;

-- formats are matched case-insensitively; a PDF starts with its header
SELECT convert_from(substring(export_troubleshooting_report(doc, 'PDF') FROM 1 FOR 5), 'UTF8') AS pdf_header,
       export_troubleshooting_report(doc, 'Csv') = export_troubleshooting_report(doc, 'csv') AS csv_any_case
FROM docs WHERE name = 'minimal';

-- errors: unknown format, null arguments, documents that are not reports
SELECT export_troubleshooting_report(doc, 'xlsx') FROM docs WHERE name = 'minimal';
SELECT export_troubleshooting_report(doc, NULL) FROM docs WHERE name = 'minimal';
SELECT export_troubleshooting_report(NULL::jsonb, 'csv');
SELECT export_troubleshooting_report(NULL::bigint, 'csv');
SELECT export_troubleshooting_report('[1, 2]'::jsonb, 'json');
SELECT export_troubleshooting_report('"report"'::jsonb, 'csv');
SELECT export_troubleshooting_report('{"report_type": "daily"}'::jsonb, 'csv');
SELECT export_troubleshooting_report(doc || '{"series": {"a": 1}}', 'pdf') FROM docs WHERE name = 'minimal';
SELECT export_troubleshooting_report(doc || '{"top_problems": [1]}', 'csv') FROM docs WHERE name = 'minimal';
SELECT export_troubleshooting_report(doc || '{"top_problems": [{"failing_steps": "x"}]}', 'csv')
FROM docs WHERE name = 'minimal';
SELECT export_troubleshooting_report(doc || '{"summary": 5}', 'json') FROM docs WHERE name = 'minimal';

-- a missing font file: an error naming the setting
SET troubleshooting.pdf_font = '/nonexistent/NoSuchFont.ttf';
SELECT export_troubleshooting_report(doc, 'pdf') IS NOT NULL FROM docs WHERE name = 'minimal';
SET troubleshooting.pdf_font = '/etc/passwd';
SELECT export_troubleshooting_report(doc, 'pdf') IS NOT NULL FROM docs WHERE name = 'minimal';
RESET troubleshooting.pdf_font;

-- the document's shape is checked before any format is written: every part
-- and every member an exporter reads is of its kind or null (numbers where
-- numbers go); the detail names the part and what it must be
SELECT export_troubleshooting_report(jsonb_set(doc, '{summary,total_sessions}', '"abc"'), 'csv') FROM docs WHERE name = 'full';
SELECT export_troubleshooting_report(jsonb_set(doc, '{summary,total_sessions}', '"abc"'), 'pdf') FROM docs WHERE name = 'full';
SELECT export_troubleshooting_report(doc || '{"id": "42"}', 'csv') FROM docs WHERE name = 'full';
SELECT export_troubleshooting_report(doc || '{"id": {"n": 1}}', 'pdf') FROM docs WHERE name = 'full';
SELECT export_troubleshooting_report(doc || '{"generated_at": 5}', 'csv') FROM docs WHERE name = 'full';
SELECT export_troubleshooting_report(doc || '{"generated_at": [2026]}', 'pdf') FROM docs WHERE name = 'full';
SELECT export_troubleshooting_report(jsonb_set(doc, '{period,start}', '1'), 'csv') FROM docs WHERE name = 'full';
SELECT export_troubleshooting_report(doc || '{"series": [{"period_start": {"x": [1]}, "total_sessions": 1}]}', 'csv')
FROM docs WHERE name = 'minimal';
SELECT export_troubleshooting_report(doc || '{"series": [{"period_start": "2026-05-01", "total_sessions": "many"}]}', 'pdf')
FROM docs WHERE name = 'minimal';
SELECT export_troubleshooting_report(jsonb_set(doc, '{top_problems,1,sessions}', 'true'), 'csv') FROM docs WHERE name = 'full';
SELECT export_troubleshooting_report(jsonb_set(doc, '{top_problems,1,failing_steps,1,attempts}', '[4]'), 'pdf') FROM docs WHERE name = 'full';
SELECT export_troubleshooting_report(jsonb_set(doc, '{satisfaction,rating_distribution,"3"}', '"5"'), 'pdf') FROM docs WHERE name = 'full';
SELECT export_troubleshooting_report(jsonb_set(doc, '{satisfaction,rating_distribution,"0"}', '{}'), 'csv') FROM docs WHERE name = 'full';
SELECT export_troubleshooting_report(jsonb_set(doc, '{satisfaction,nps,score}', '"35"'), 'csv') FROM docs WHERE name = 'full';
SELECT export_troubleshooting_report(jsonb_set(doc, '{satisfaction,csat}', '"75%"'), 'pdf') FROM docs WHERE name = 'full';
SELECT export_troubleshooting_report(jsonb_set(doc, '{trends,metrics,0,change_percent}', '"20"'), 'pdf') FROM docs WHERE name = 'full';
SELECT export_troubleshooting_report(jsonb_set(doc, '{trends,metrics,1,better}', '"no"'), 'csv') FROM docs WHERE name = 'full';
SELECT export_troubleshooting_report(jsonb_set(doc, '{trends,previous_period}', '[]'), 'csv') FROM docs WHERE name = 'full';
SELECT export_troubleshooting_report(jsonb_set(doc, '{recommendations,0,message}', '7'), 'pdf') FROM docs WHERE name = 'full';
SELECT export_troubleshooting_report(jsonb_set(doc, '{recommendations,0,data}', '"x"'), 'csv') FROM docs WHERE name = 'full';

-- numbers of any size are numbers: the CSV writes them exactly, the PDF
-- shows them shortly and clamps what it draws (qpdf checks these PDFs in
-- test/cluster/report_pdf_odd.sh)
SELECT split_part(csv, E'\r\n', 7) LIKE 'total_sessions,-1000000000%' AS total_row_exact,
       length(split_part(csv, E'\r\n', 7)) AS total_row_length,
       split_part(csv, E'\r\n', 8) AS resolved_row
FROM (SELECT convert_from(export_troubleshooting_report(
          jsonb_set(jsonb_set(doc, '{summary,total_sessions}', '-1e308'), '{summary,resolved_sessions}', '1e40'),
          'csv'), 'UTF8') AS csv FROM docs WHERE name = 'full') x;
SELECT length(export_troubleshooting_report(
           jsonb_set(jsonb_set(doc, '{satisfaction,rating_distribution,"2"}', '-1e308'), '{summary,total_sessions}', '1e1000'),
           'pdf')) > 1000 AS odd_numbers_pdf
FROM docs WHERE name = 'full';
