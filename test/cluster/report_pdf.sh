#!/usr/bin/env bash
# Report export end to end: PDFs made from report documents (with charts,
# without, a long one, one with Spanish, Russian and Greek text, one with
# symbols and a trend of each direction) are written
# to files and checked with qpdf --check, pdfinfo (pages, title, creator),
# pdffonts (embedded fonts) and pdftotext (title, KPI values, problems,
# steps, recommendations, page numbers, the exact UTF-8 strings); the json
# and csv bytes through psql; export by id of a generated report; the
# troubleshooting.pdf_font setting; privileges.
. "$(dirname "$0")/tap.sh"

DB=ts_report_pdf
OUT=$TS_WORK/report_pdf
fresh_dir "$OUT"

fresh_extension_db "$DB"

# --- the documents ---
D >/dev/null <<'SQL'
CREATE TABLE docs (name text PRIMARY KEY, doc jsonb NOT NULL);
INSERT INTO docs VALUES ('charts', $json$
{
  "id": 7, "report_type": "weekly", "title": "Weekly troubleshooting report",
  "period": {"start": "2026-04-27T00:00:00+02:00", "end": "2026-05-04T00:00:00+02:00",
             "time_zone": "Europe/Madrid", "granularity": "day"},
  "filters": {}, "include_charts": true, "generated_at": "2026-05-04T06:00:00+02:00",
  "summary": {"total_sessions": 1234, "resolved_sessions": 987, "escalated_sessions": 150,
              "abandoned_sessions": 97, "resolution_rate": 0.7998, "escalation_rate": 0.1216,
              "avg_resolution_time_minutes": 17.25, "median_resolution_time_minutes": 12.00,
              "p90_resolution_time_minutes": 41.50, "total_attempts": 3100,
              "successful_attempts": 1500, "attempts_per_session": 2.51,
              "first_attempt_success_rate": 0.4321, "feedback_count": 400, "avg_rating": 4.37,
              "nps": 42, "unique_problems": 2},
  "series": [
    {"period_start": "2026-04-27T00:00:00+02:00", "total_sessions": 200, "resolved_sessions": 150},
    {"period_start": "2026-04-28T00:00:00+02:00", "total_sessions": 180, "resolved_sessions": 160},
    {"period_start": "2026-04-29T00:00:00+02:00", "total_sessions": 170, "resolved_sessions": 120},
    {"period_start": "2026-04-30T00:00:00+02:00", "total_sessions": 190, "resolved_sessions": 150},
    {"period_start": "2026-05-01T00:00:00+02:00", "total_sessions": 160, "resolved_sessions": 130},
    {"period_start": "2026-05-02T00:00:00+02:00", "total_sessions": 150, "resolved_sessions": 130},
    {"period_start": "2026-05-03T00:00:00+02:00", "total_sessions": 184, "resolved_sessions": 147}],
  "top_problems": [
    {"problem_id": "wifi-drop", "title": "Wi-Fi keeps dropping", "sessions": 700,
     "resolved_sessions": 560, "escalated_sessions": 90, "resolution_rate": 0.8000,
     "escalation_rate": 0.1286, "median_resolution_time_minutes": 11.00,
     "failing_steps": [{"step_number": 3, "step_title": "Update the router firmware",
                        "attempts": 300, "failed_attempts": 120, "failure_rate": 0.4000}]},
    {"problem_id": "printer", "title": "Printer offline", "sessions": 534,
     "resolved_sessions": 427, "escalated_sessions": 60, "resolution_rate": 0.7996,
     "escalation_rate": 0.1124, "median_resolution_time_minutes": 14.00, "failing_steps": []}],
  "satisfaction": {"feedback_count": 400, "rated_sessions": 390,
                   "rating_distribution": {"1": 10, "2": 20, "3": 50, "4": 120, "5": 200},
                   "avg_rating": 4.37, "csat": 0.8000,
                   "nps": {"score": 42, "promoters": 200, "passives": 120, "detractors": 32,
                           "responses": 352},
                   "helpful_share": 0.8100, "helpful_responses": 350, "finished_sessions": 1200,
                   "feedback_response_rate": 0.3250},
  "trends": {"previous_period": {"start": "2026-04-20T00:00:00+02:00",
                                 "end": "2026-04-27T00:00:00+02:00"},
             "metrics": [
               {"metric": "total_sessions", "current": 1234, "previous": 1000, "change": 234,
                "change_percent": 23.40, "direction": "up", "better": null},
               {"metric": "resolution_rate", "current": 0.7998, "previous": 0.7500,
                "change": 0.0498, "change_percent": 6.64, "direction": "up", "better": true},
               {"metric": "escalation_rate", "current": 0.1216, "previous": 0.1000,
                "change": 0.0216, "change_percent": 21.60, "direction": "up", "better": false}]},
  "recommendations": [
    {"rule": "step_failure", "severity": "warning",
     "message": "Step 3 of Wi-Fi keeps dropping fails 40.0% of the time; review its instructions.",
     "data": {}}],
  "executive_summary": "Sessions rose by 23.4% while the resolution rate improved to 80.0%."
}
$json$);
-- the same report without charts
INSERT INTO docs SELECT 'nocharts', doc || '{"include_charts": false}' FROM docs WHERE name = 'charts';
-- Spanish, a currency sign, Russian and Greek
INSERT INTO docs
SELECT 'utf8', doc || jsonb_build_object(
    'title', 'Informe semanal — Resolución',
    'executive_summary', 'Juan Pérez resolvió 12 casos el Día 3; coste medio 4,50 €.',
    'top_problems', jsonb_build_array(jsonb_build_object(
        'problem_id', 'impresora', 'title', 'Resolución de la impresora', 'sessions', 5,
        'resolved_sessions', 5, 'escalated_sessions', 0, 'resolution_rate', 1,
        'escalation_rate', 0, 'median_resolution_time_minutes', 3,
        'failing_steps', jsonb_build_array(jsonb_build_object(
            'step_number', 1, 'step_title', 'Reiniciar el equipo del Día', 'attempts', 4,
            'failed_attempts', 1, 'failure_rate', 0.25)))),
    'recommendations', jsonb_build_array(jsonb_build_object(
        'rule', 'agent', 'severity', 'info',
        'message', 'Агент Иван и Ελένη Παπαδοπούλου: más formación', 'data', '{}'::jsonb)))
FROM docs WHERE name = 'charts';
-- accents and symbols a reader copies out of the text layer, and a trend
-- of each direction (the arrows are drawn shapes with the symbol as text)
INSERT INTO docs
SELECT 'symbols', doc || jsonb_build_object(
    'title', 'Señal débil ▲ Café',
    'executive_summary', 'El año pasó: señal débil en el café, 4,50 € por caso ▲ 12 %.',
    'trends', jsonb_build_object('previous_period', doc->'trends'->'previous_period',
        'metrics', jsonb_build_array(
            jsonb_build_object('metric', 'total_sessions', 'current', 1234, 'previous', 1000,
                               'change', 234, 'change_percent', 23.40, 'direction', 'up', 'better', null),
            jsonb_build_object('metric', 'resolution_rate', 'current', 0.7998, 'previous', 0.8498,
                               'change', -0.05, 'change_percent', -5.88, 'direction', 'down', 'better', false),
            jsonb_build_object('metric', 'escalation_rate', 'current', 0.1216, 'previous', 0.1216,
                               'change', 0, 'change_percent', 0, 'direction', 'flat', 'better', null))))
FROM docs WHERE name = 'charts';
-- 80 problems (some with failing steps) and 60 recommendations
INSERT INTO docs
SELECT 'long', doc || jsonb_build_object(
    'title', 'Monthly troubleshooting report',
    'top_problems', (SELECT jsonb_agg(jsonb_build_object(
        'problem_id', 'problem-' || i, 'title', 'Problem ' || i || ' title',
        'sessions', 500 - i, 'resolved_sessions', 400 - i, 'escalated_sessions', 20,
        'resolution_rate', 0.8, 'escalation_rate', 0.04, 'median_resolution_time_minutes', 9.5,
        'failing_steps', (SELECT coalesce(jsonb_agg(jsonb_build_object(
            'step_number', s, 'step_title', 'Step ' || s || ' of problem ' || i, 'attempts', 10,
            'failed_attempts', 4, 'failure_rate', 0.4)), '[]') FROM generate_series(1, i % 3) s))
        ORDER BY i) FROM generate_series(1, 80) i),
    'recommendations', (SELECT jsonb_agg(jsonb_build_object(
        'rule', 'rule_' || i, 'severity', (ARRAY['info', 'warning', 'critical'])[1 + i % 3],
        'message', 'Recommendation ' || i || ': ' || repeat('check the steps that fail most often. ', 1 + i % 4),
        'data', '{}'::jsonb) ORDER BY i) FROM generate_series(1, 60) i))
FROM docs WHERE name = 'charts';
SQL
ok $? "documents stored"

# Whether the text of PDF $1 contains the fixed string $2.
has() { pdf_text "$1" | grep -qF -- "$2"; }
pages() { pdfinfo "$1" 2>/dev/null | sed -n 's/^Pages: *//p'; }

for n in charts nocharts utf8 symbols long; do
    export_pdf_checked "$n" "$OUT/$n.pdf"
    qpdf --check "$OUT/$n.pdf" > "$OUT/$n.qpdf" 2>&1
    ok $? "$n: qpdf --check passes"
done

# --- content of the report with charts ---
P=$OUT/charts.pdf
is "$(pdfinfo "$P" | sed -n 's/^Title: *//p')" "Weekly troubleshooting report" "document title"
is "$(pdfinfo "$P" | sed -n 's/^Creator: *//p')" "troubleshooting" "document creator"
pdfinfo "$P" | grep -qE '^CreationDate: +[A-Z][a-z]{2} '
ok $? "document creation date set"
pdfinfo "$P" | grep -qE '^Producer: +Haru'
ok $? "made by libharu"
pdffonts "$P" 2>/dev/null | grep -F 'DejaVuSans,' | grep -q ' yes '
ok $? "DejaVuSans embedded"
pdffonts "$P" 2>/dev/null | grep -E 'DejaVuSans-Bold' | grep -q ' yes '
ok $? "its bold variant embedded for headings"
has "$P" "Weekly troubleshooting report"; ok $? "title drawn"
has "$P" "Period: 2026-04-27 00:00:00+02:00 to 2026-05-04 00:00:00+02:00 (Europe/Madrid)"; ok $? "period drawn"
has "$P" "Generated at: 2026-05-04 06:00:00+02:00"; ok $? "generation time drawn"
has "$P" "Sessions rose by 23.4% while the resolution rate improved to 80.0%."; ok $? "executive summary drawn"
pdf_text "$P" | grep -qE '^ *Sessions +1234 +1000 +▲ +\+23\.4%'; ok $? "KPI row: sessions, previous, arrow, change"
pdf_text "$P" | grep -qE '^ *Resolution rate +80\.0% +75\.0% +▲ +\+6\.6%'; ok $? "KPI row: resolution rate as a percentage"
pdf_text "$P" | grep -qE '^ *Average resolution time +17\.2 min'; ok $? "KPI row: minutes"
pdf_text "$P" | grep -qE '^ *Net promoter score +42'; ok $? "KPI row: NPS"
has "$P" "Wi-Fi keeps dropping"; ok $? "problem title drawn"
has "$P" "Step 3 · Update the router firmware: 120 of 300 attempts failed (40.0%)"; ok $? "failing step drawn"
has "$P" "Step 3 of Wi-Fi keeps dropping fails 40.0% of the time; review its instructions."; ok $? "recommendation drawn"
has "$P" "WARNING"; ok $? "severity badge drawn"
has "$P" "Sessions by day"; ok $? "sessions chart drawn (include_charts)"
has "$P" "Rating distribution"; ok $? "rating chart drawn (include_charts)"
has "$P" "Page 1 of $(pages "$P")"; ok $? "page number in the footer"

# --- the same without charts ---
N=$OUT/nocharts.pdf
has "$N" "Sessions by day"; ok $((! $?)) "no sessions chart without include_charts"
has "$N" "Rating distribution"; ok $((! $?)) "no rating chart without include_charts"
has "$N" "Wi-Fi keeps dropping"; ok $? "the tables are still there"
[ "$(stat -c %s "$N")" -lt "$(stat -c %s "$P")" ]
ok $? "the chart-less PDF is smaller ($(stat -c %s "$N") < $(stat -c %s "$P") bytes)"

# --- UTF-8 text ---
U=$OUT/utf8.pdf
is "$(pdfinfo "$U" | sed -n 's/^Title: *//p')" "Informe semanal — Resolución" "UTF-8 document title"
for s in "Informe semanal — Resolución" "Juan Pérez resolvió 12 casos el Día 3; coste medio 4,50 €." \
         "Resolución de la impresora" "Reiniciar el equipo del Día" "Агент Иван и Ελένη Παπαδοπούλου: más formación"; do
    has "$U" "$s"; ok $? "pdftotext finds \"$s\""
done

# --- the text layer: accents and symbols copy out exactly ---
S=$OUT/symbols.pdf
pdftotext "$S" "$OUT/symbols.txt"
is "$(head -1 "$OUT/symbols.txt")" "Señal débil ▲ Café" "pdftotext: the title line, exactly"
grep -qxF "El año pasó: señal débil en el café, 4,50 € por caso ▲ 12 %." "$OUT/symbols.txt"
ok $? "pdftotext: the summary line with é, ñ, €, ▲, exactly"
pdf_text "$S" | grep -qE '^ *Sessions +1234 +1000 +▲ +\+23\.4%'; ok $? "an upward trend copies out as ▲"
pdf_text "$S" | grep -qE '^ *Resolution rate +80\.0% +85\.0% +▼ +-5\.9%'; ok $? "a downward trend copies out as ▼"
pdf_text "$S" | grep -qE '^ *Escalation rate +12\.2% +12\.2% +▬ +0\.0%'; ok $? "a flat trend copies out as ▬"

# --- a long report spans pages, each with its footer ---
L=$OUT/long.pdf
n=$(pages "$L")
[ "${n:-0}" -gt 3 ]
ok $? "80 problems and 60 recommendations span several pages ($n)"
is "$(pdf_text "$L" | grep -cE "Page [0-9]+ of $n\$")" "$n" "every page has \"Page i of $n\""
pdftotext -f "$n" -l "$n" -layout "$L" - 2>/dev/null | grep -q "Page $n of $n"
ok $? "the last page is page $n of $n"
has "$L" "Problem 80 title"; ok $? "the last problem is drawn"
has "$L" "Recommendation 60:"; ok $? "the last recommendation is drawn"
is "$(pdf_text "$L" | grep -cE '^ *[0-9]+ +Problem [0-9]+ title')" "80" "80 problem rows"
is "$(pdf_text "$L" | grep -c 'Recommendation [0-9]*:')" "60" "60 recommendations"
p2=$(pdftotext -f 2 -l 2 -layout "$L" - 2>/dev/null)
echo "$p2" | grep -qE '^ *# +Problem +Sessions' || echo "$p2" | grep -q "Recommendations"
ok $? "a page after the first starts with the table header or the next section"

# --- json and csv bytes through psql ---
is "$(D -c "SELECT convert_from(export_troubleshooting_report(doc, 'json'), 'UTF8') = doc::text FROM docs WHERE name = 'utf8'")" "t" \
   "json export is the document's text"
export_doc utf8 json "$OUT/utf8.json"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1], encoding="utf-8")); sys.exit(d["title"] != "Informe semanal — Resolución")' "$OUT/utf8.json"
ok $? "json bytes parse as UTF-8 JSON"
export_doc utf8 csv "$OUT/utf8.csv"
is "$(head -c 8 "$OUT/utf8.csv" | od -An -c | tr -s ' ')" " r e p o r t \r \n" "csv starts with the report title line, CRLF"
python3 - "$OUT/utf8.csv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], encoding="utf-8", newline="")))
names = [r[0] for i, r in enumerate(rows) if r and (i == 0 or rows[i - 1] == [])]
want = ["report", "summary", "series", "top_problems", "failing_steps", "satisfaction",
        "trends", "recommendations", "executive_summary"]
assert names == want, names
assert ["impresora", "1", "Reiniciar el equipo del Día", "4", "1", "0.25"] in rows, rows
PY
ok $? "csv parses (Python csv): sections in order, a failing step row in UTF-8"
tail -c 2 "$OUT/utf8.csv" | od -An -c | grep -q '\\r  *\\n'
ok $? "csv ends with CRLF"

# --- export by id of a generated report ---
id=$(D -c "SELECT generate_troubleshooting_report('daily', p_include_charts => true) ->> 'id'")
[ -n "$id" ]
ok $? "a daily report generated (id $id)"
is "$(D -c "SELECT convert_from(export_troubleshooting_report($id::bigint, 'json'), 'UTF8')::jsonb = data FROM support_troubleshooting_reports WHERE id = $id")" \
   "t" "by id, json is the stored document"
D -c "SELECT encode(export_troubleshooting_report($id::bigint, 'pdf'), 'base64')" | base64 -d > "$OUT/byid.pdf"
qpdf --check "$OUT/byid.pdf" >/dev/null 2>&1
ok $? "by id, the PDF passes qpdf --check"
has "$OUT/byid.pdf" "Report #$id"; ok $? "by id, the PDF names the report"
D -c "SELECT length(export_troubleshooting_report($id::bigint, 'csv')) > 0" >/dev/null
ok $? "by id, csv"
err=$(D -c "SELECT export_troubleshooting_report(-1::bigint, 'pdf')" 2>&1)
[ $? != 0 ] && echo "$err" | grep -q "ERROR"
ok $? "an unknown id is an error"

# --- troubleshooting.pdf_font ---
is "$(D -c "SHOW troubleshooting.pdf_font")" "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf" "pdf_font default"
err=$(D -c "SET troubleshooting.pdf_font = '$OUT/missing.ttf'" -c "SELECT export_troubleshooting_report(doc, 'pdf') FROM docs WHERE name = 'charts'" 2>&1)
echo "$err" | grep -q "could not read PDF font file" && echo "$err" | grep -q "HINT:  Set troubleshooting.pdf_font"
ok $? "a missing font file: an error whose hint names troubleshooting.pdf_font"
D -c "SET troubleshooting.pdf_font = '/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf'" \
  -c "SELECT encode(export_troubleshooting_report(doc, 'pdf'), 'base64') FROM docs WHERE name = 'utf8'" | base64 -d > "$OUT/serif.pdf"
pdffonts "$OUT/serif.pdf" 2>/dev/null | grep -q 'DejaVuSerif-Bold' && ! pdffonts "$OUT/serif.pdf" 2>/dev/null | grep -q 'DejaVuSans'
ok $? "another font (and its -Bold variant) from the setting"
has "$OUT/serif.pdf" "Juan Pérez"; ok $? "UTF-8 text with that font"
D -c "SET troubleshooting.pdf_font = '/usr/share/fonts/truetype/dejavu/DejaVuMathTeXGyre.ttf'" \
  -c "SELECT encode(export_troubleshooting_report(doc, 'pdf'), 'base64') FROM docs WHERE name = 'charts'" | base64 -d > "$OUT/nobold.pdf"
qpdf --check "$OUT/nobold.pdf" >/dev/null 2>&1 && has "$OUT/nobold.pdf" "Key figures"
ok $? "a font with no bold variant is used for headings too"

# --- no PDF reader warning: poppler reads every page of every PDF above silently ---
for f in "$OUT"/*.pdf; do
    n=$(basename "$f" .pdf)
    warn=$( { pdftotext "$f" /dev/null; pdftoppm -r 30 -png "$f" "$OUT/render-$n"; } 2>&1)
    is "$warn" "" "$n: pdftotext and pdftoppm print no warning"
done

# --- privileges ---
D -c "DROP ROLE IF EXISTS ts_pdf_reader; CREATE ROLE ts_pdf_reader LOGIN" >/dev/null 2>&1
D -U ts_pdf_reader -c "SELECT export_troubleshooting_report($id::bigint, 'json')" >/dev/null 2>&1
ok $((! $?)) "no EXECUTE for PUBLIC"
D -c "GRANT EXECUTE ON FUNCTION export_troubleshooting_report(bigint, text) TO ts_pdf_reader" >/dev/null
is "$(D -U ts_pdf_reader -c "SELECT length(export_troubleshooting_report($id::bigint, 'pdf')) > 1000")" "t" \
   "with EXECUTE, export by id works without table privileges (SECURITY DEFINER)"
D -U ts_pdf_reader -c "SET troubleshooting.pdf_font = '/etc/passwd'" >/dev/null 2>&1
ok $((! $?)) "only superusers set troubleshooting.pdf_font"

q -c "DROP DATABASE $DB" >/dev/null 2>&1
q -c "DROP ROLE IF EXISTS ts_pdf_reader" >/dev/null 2>&1
done_testing
