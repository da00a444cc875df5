/*
 * csv.c
 *	  A report document as CSV (RFC 4180): one section per part of the
 *	  report, each a title line (the part's name) and a header row, then its
 *	  rows; sections are separated by an empty line.  Parts that are null or
 *	  missing in the document are left out.  Sections: report, summary,
 *	  series, top_problems, failing_steps, satisfaction, trends,
 *	  recommendations, executive_summary.
 *
 * Fields are quoted when they hold a comma, a double quote, CR or LF, with
 * quotes doubled; lines end with CRLF; a JSON null is an empty field.  The
 * text is UTF-8, with no byte order mark.
 *
 * Spreadsheet formula injection (OWASP "CSV Injection"): a field that comes
 * from a JSON string and starts with '=', '+', '-', '@', tab or CR gets a
 * single quote in front, so that a spreadsheet shows it as text.  JSON
 * numbers are never changed: -3.5 is a number, and a spreadsheet must read it
 * as one.  The same text in a JSON string ("-3.5") is neutralised, since a
 * string can hold anything.  Metric names taken from the document's keys
 * count as strings.  Booleans and nested JSON (which starts with '{' or '[')
 * cannot start with those characters.
 */
#include "postgres.h"

#include "report/export/check.h"
#include "report/export/csv.h"
#include "report/export/document.h"

#include "lib/stringinfo.h"

/* The CSV being written: the text and where the current row stands. */
typedef struct TsCsv
{
	StringInfoData buf;
	bool		row_started;	/* a field is already on the current line */
	int			sections;
} TsCsv;

static const char *const ts_summary_keys[] = {TS_SUMMARY_KEYS};

static const char *const ts_satisfaction_keys[] = {
	"feedback_count", "rated_sessions", "rating_distribution", "avg_rating", "csat",
	"nps", "helpful_share", "helpful_responses", "finished_sessions",
	"feedback_response_rate"
};

static const char *const ts_nps_keys[] = {
	"score", "promoters", "passives", "detractors", "responses"
};

static const char *const ts_series_cols[] = {
	"period_start", "total_sessions", "resolved_sessions", "escalated_sessions",
	"abandoned_sessions", "resolution_rate", "avg_resolution_time_minutes",
	"total_attempts", "feedback_count", "avg_rating"
};

static const char *const ts_problem_cols[] = {
	"problem_id", "title", "sessions", "resolved_sessions", "escalated_sessions",
	"resolution_rate", "escalation_rate", "median_resolution_time_minutes"
};

static const char *const ts_step_cols[] = {
	"step_number", "step_title", "attempts", "failed_attempts", "failure_rate"
};

static const char *const ts_trend_cols[] = {
	"metric", "current", "previous", "change", "change_percent", "direction", "better"
};

static const char *const ts_recommendation_cols[] = {"rule", "severity", "message"};

/* Appends one field, quoted when needed; neutralise puts ' before formula starts. */
static void
ts_csv_field(TsCsv *csv, const char *s, bool neutralise)
{
	StringInfo	buf = &csv->buf;

	if (csv->row_started)
		appendStringInfoChar(buf, ',');
	csv->row_started = true;
	if (s == NULL)
		return;
	if (neutralise && s[0] != '\0' && strchr("=+-@\t\r", s[0]) != NULL)
	{
		/* the quote becomes part of the field, quoted or not */
		if (strpbrk(s, ",\"\r\n") == NULL)
		{
			appendStringInfoChar(buf, '\'');
			appendStringInfoString(buf, s);
			return;
		}
		appendStringInfoString(buf, "\"'");
	}
	else if (strpbrk(s, ",\"\r\n") == NULL)
	{
		appendStringInfoString(buf, s);
		return;
	}
	else
		appendStringInfoChar(buf, '"');
	for (const char *p = s; *p; p++)
	{
		if (*p == '"')
			appendStringInfoChar(buf, '"');
		appendStringInfoChar(buf, *p);
	}
	appendStringInfoChar(buf, '"');
}

/* Appends a field holding a document value (null or missing: empty). */
static void
ts_csv_value(TsCsv *csv, JsonbValue *v)
{
	ts_csv_field(csv, ts_export_text(v), v != NULL && v->type == jbvString);
}

/* Ends the current row. */
static void
ts_csv_end_row(TsCsv *csv)
{
	appendStringInfoString(&csv->buf, "\r\n");
	csv->row_started = false;
}

/* Starts a section: an empty line after the previous one, the title, the header. */
static void
ts_csv_section(TsCsv *csv, const char *title, const char *const *cols, int ncols)
{
	if (csv->sections++ > 0)
		appendStringInfoString(&csv->buf, "\r\n");
	ts_csv_field(csv, title, false);
	ts_csv_end_row(csv);
	for (int i = 0; i < ncols; i++)
		ts_csv_field(csv, cols[i], false);
	ts_csv_end_row(csv);
}

/* Appends one row: the columns of object row, in order. */
static void
ts_csv_object_row(TsCsv *csv, JsonbContainer *row, const char *const *cols, int ncols)
{
	for (int i = 0; i < ncols; i++)
		ts_csv_value(csv, ts_export_get(row, cols[i]));
	ts_csv_end_row(csv);
}

/* A section with one row per element (an object) of array part arr. */
static void
ts_csv_table(TsCsv *csv, const char *title, JsonbContainer *arr,
			 const char *const *cols, int ncols)
{
	ts_csv_section(csv, title, cols, ncols);
	for (int i = 0; i < ts_export_count(arr); i++)
		ts_csv_object_row(csv, ts_export_object(ts_export_item(arr, i)), cols, ncols);
}

/* Appends a metric,value row: prefix + name, then the value. */
static void
ts_csv_metric_row(TsCsv *csv, const char *prefix, const char *name, JsonbValue *v)
{
	char	   *metric = prefix ? psprintf("%s%s", prefix, name) : pstrdup(name);

	/* a key from the document is user text; neutralise it like a string */
	ts_csv_field(csv, metric, true);
	ts_csv_value(csv, v);
	ts_csv_end_row(csv);
}

static void ts_csv_metrics(TsCsv *csv, JsonbContainer *obj, const char *prefix,
						   const char *const *order, int norder);

/* Appends the metric rows of one member (objects become prefixed rows). */
static void
ts_csv_metric(TsCsv *csv, const char *prefix, const char *key, JsonbValue *v)
{
	JsonbContainer *inner = ts_export_object(v);
	char	   *sub;

	if (inner == NULL)
	{
		ts_csv_metric_row(csv, prefix, key, v);
		return;
	}
	if (prefix == NULL && strcmp(key, "rating_distribution") == 0)
		sub = pstrdup("rating_");
	else
		sub = psprintf("%s%s_", prefix ? prefix : "", key);
	if (prefix == NULL && strcmp(key, "nps") == 0)
		ts_csv_metrics(csv, inner, sub, ts_nps_keys, TS_NELEMS(ts_nps_keys));
	else
		ts_csv_metrics(csv, inner, sub, NULL, 0);
}

/* Appends metric,value rows: the keys in order first, then the others. */
static void
ts_csv_metrics(TsCsv *csv, JsonbContainer *obj, const char *prefix,
			   const char *const *order, int norder)
{
	JsonbIterator *it;
	JsonbValue	key;
	JsonbValue	val;
	JsonbIteratorToken tok;

	for (int i = 0; i < norder; i++)
	{
		JsonbValue *v = ts_export_get(obj, order[i]);

		if (v != NULL)
			ts_csv_metric(csv, prefix, order[i], v);
	}
	it = JsonbIteratorInit(obj);
	while ((tok = JsonbIteratorNext(&it, &key, true)) != WJB_DONE)
	{
		char	   *name;
		bool		listed = false;

		if (tok != WJB_KEY)
			continue;
		name = pnstrdup(key.val.string.val, key.val.string.len);
		tok = JsonbIteratorNext(&it, &val, true);
		Assert(tok == WJB_VALUE);
		for (int i = 0; i < norder && !listed; i++)
			listed = strcmp(order[i], name) == 0;
		if (!listed)
			ts_csv_metric(csv, prefix, name, &val);
	}
}

/* The report section: what the report covers and when it was made. */
static void
ts_csv_report(TsCsv *csv, Jsonb *doc)
{
	static const char *const cols[] = {
		"id", "report_type", "title", "period_start", "period_end", "time_zone",
		"granularity", "previous_period_start", "previous_period_end",
		"generated_at", "include_charts", "filters"
	};
	JsonbContainer *period = ts_export_object(ts_export_get(&doc->root, "period"));
	JsonbContainer *trends = ts_export_object(ts_export_get(&doc->root, "trends"));
	JsonbContainer *prev = ts_export_object(ts_export_get(trends, "previous_period"));

	ts_csv_section(csv, "report", cols, TS_NELEMS(cols));
	ts_csv_value(csv, ts_export_get(&doc->root, "id"));
	ts_csv_value(csv, ts_export_get(&doc->root, "report_type"));
	ts_csv_value(csv, ts_export_get(&doc->root, "title"));
	ts_csv_value(csv, ts_export_get(period, "start"));
	ts_csv_value(csv, ts_export_get(period, "end"));
	ts_csv_value(csv, ts_export_get(period, "time_zone"));
	ts_csv_value(csv, ts_export_get(period, "granularity"));
	ts_csv_value(csv, ts_export_get(prev, "start"));
	ts_csv_value(csv, ts_export_get(prev, "end"));
	ts_csv_value(csv, ts_export_get(&doc->root, "generated_at"));
	ts_csv_value(csv, ts_export_get(&doc->root, "include_charts"));
	ts_csv_value(csv, ts_export_get(&doc->root, "filters"));
	ts_csv_end_row(csv);
}

/* The failing_steps section: every problem's steps, with the problem's id. */
static void
ts_csv_failing_steps(TsCsv *csv, JsonbContainer *problems)
{
	static const char *const cols[] = {
		"problem_id", "step_number", "step_title", "attempts", "failed_attempts",
		"failure_rate"
	};

	ts_csv_section(csv, "failing_steps", cols, TS_NELEMS(cols));
	for (int i = 0; i < ts_export_count(problems); i++)
	{
		JsonbContainer *problem = ts_export_object(ts_export_item(problems, i));
		JsonbValue *id = ts_export_get(problem, "problem_id");
		JsonbContainer *steps = ts_export_array(ts_export_get(problem, "failing_steps"));

		for (int j = 0; j < ts_export_count(steps); j++)
		{
			ts_csv_value(csv, id);
			ts_csv_object_row(csv, ts_export_object(ts_export_item(steps, j)),
							  ts_step_cols, TS_NELEMS(ts_step_cols));
		}
	}
}

/* The report document as CSV bytes (UTF-8). */
bytea *
ts_report_csv(Jsonb *doc)
{
	TsCsv		csv;
	JsonbContainer *root;
	JsonbContainer *part;
	JsonbValue *v;

	ts_export_check(doc);
	root = &doc->root;
	initStringInfo(&csv.buf);
	csv.row_started = false;
	csv.sections = 0;

	ts_csv_report(&csv, doc);
	if ((part = ts_export_object(ts_export_get(root, "summary"))) != NULL)
	{
		static const char *const cols[] = {"metric", "value"};

		ts_csv_section(&csv, "summary", cols, TS_NELEMS(cols));
		ts_csv_metrics(&csv, part, NULL, ts_summary_keys, TS_NELEMS(ts_summary_keys));
	}
	if ((part = ts_export_array(ts_export_get(root, "series"))) != NULL)
		ts_csv_table(&csv, "series", part, ts_series_cols, TS_NELEMS(ts_series_cols));
	if ((part = ts_export_array(ts_export_get(root, "top_problems"))) != NULL)
	{
		ts_csv_table(&csv, "top_problems", part, ts_problem_cols, TS_NELEMS(ts_problem_cols));
		ts_csv_failing_steps(&csv, part);
	}
	if ((part = ts_export_object(ts_export_get(root, "satisfaction"))) != NULL)
	{
		static const char *const cols[] = {"metric", "value"};

		ts_csv_section(&csv, "satisfaction", cols, TS_NELEMS(cols));
		ts_csv_metrics(&csv, part, NULL, ts_satisfaction_keys, TS_NELEMS(ts_satisfaction_keys));
	}
	part = ts_export_object(ts_export_get(root, "trends"));
	if ((part = ts_export_array(ts_export_get(part, "metrics"))) != NULL)
		ts_csv_table(&csv, "trends", part, ts_trend_cols, TS_NELEMS(ts_trend_cols));
	if ((part = ts_export_array(ts_export_get(root, "recommendations"))) != NULL)
		ts_csv_table(&csv, "recommendations", part, ts_recommendation_cols,
					 TS_NELEMS(ts_recommendation_cols));
	v = ts_export_get(root, "executive_summary");
	if (v != NULL && v->type != jbvNull)
	{
		static const char *const cols[] = {"text"};

		ts_csv_section(&csv, "executive_summary", cols, TS_NELEMS(cols));
		ts_csv_value(&csv, v);
		ts_csv_end_row(&csv);
	}
	return ts_export_utf8_bytea(csv.buf.data, csv.buf.len);
}
