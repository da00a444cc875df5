/*
 * generate.c
 *	  generate_troubleshooting_report(): argument checks, default periods,
 *	  filter validation, the report cache in support_troubleshooting_reports,
 *	  and the assembly of the report document (shape in report.h).
 */
#include "postgres.h"

#include "common/json_write.h"
#include "compat.h"
#include "config.h"
#include "extschema.h"
#include "report/report.h"
#include "report/report_int.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/datetime.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(generate_troubleshooting_report);
PG_FUNCTION_INFO_V1(ts_report_filters_check);

/* The longest string a filter takes (a problem id, a domain, an agent). */
#define TS_FILTER_STRING_MAX 200
/* The most elements a filter's array takes. */
#define TS_FILTER_ARRAY_MAX 1000

static const char *const ts_report_types[] = {
	"daily", "weekly", "monthly", "problem_analysis", "customer_satisfaction", "custom"
};
static const char *const ts_report_titles[] = {
	"Daily troubleshooting report", "Weekly troubleshooting report",
	"Monthly troubleshooting report", "Problem analysis", "Customer satisfaction report",
	"Troubleshooting report"
};

static const char *const ts_filter_keys =
"problem_ids, statuses, min_rating, max_rating, customer_email_domain, assigned_agent";

/* t + iv in the session time zone. */
static TimestampTz
ts_add_interval(TimestampTz t, Interval *iv, int sign)
{
	return DatumGetTimestampTz(DirectFunctionCall2(sign > 0 ? timestamptz_pl_interval
												   : timestamptz_mi_interval,
												   TimestampTzGetDatum(t), PointerGetDatum(iv)));
}

/* date_trunc(unit, t) in the session time zone. */
static TimestampTz
ts_trunc(const char *unit, TimestampTz t)
{
	return DatumGetTimestampTz(DirectFunctionCall2(timestamptz_trunc, CStringGetTextDatum(unit),
												   TimestampTzGetDatum(t)));
}

/* Index of a report type, or an error naming the valid ones. */
static int
ts_report_type_index(const char *type)
{
	for (int i = 0; i < (int) lengthof(ts_report_types); i++)
		if (strcmp(type, ts_report_types[i]) == 0)
			return i;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown report type \"%s\"", type),
			 errhint("Use daily, weekly, monthly, problem_analysis, customer_satisfaction or custom.")));
}

/* The natural length of a report type's period (custom: none). */
static Interval *
ts_type_length(int type)
{
	switch (type)
	{
		case 0:
			return ts_period_interval("day");
		case 1:
			return ts_period_interval("week");
		case 2:
			return ts_period_interval("month");
		case 3:
		case 4:
			{
				Interval   *iv = palloc0(sizeof(Interval));

				iv->day = 30;
				return iv;
			}
		default:
			return NULL;
	}
}

/* Fills in a missing start or end from the report type's defaults. */
static void
ts_report_period(int type, bool has_start, TimestampTz *start, bool has_end, TimestampTz *end)
{
	Interval   *len = ts_type_length(type);

	if (len == NULL && (!has_start || !has_end))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("a custom report needs p_start and p_end")));
	if (!has_start && !has_end)
	{
		/* the last whole day, ISO week, month or 30 days before today */
		const char *unit = type == 1 ? "week" : type == 2 ? "month" : "day";

		*end = ts_trunc(unit, GetCurrentTransactionStartTimestamp());
		*start = ts_add_interval(*end, len, -1);
	}
	else if (!has_end)
		*end = ts_add_interval(*start, len, 1);
	else if (!has_start)
		*start = ts_add_interval(*end, len, -1);

	if (TIMESTAMP_NOT_FINITE(*start) || TIMESTAMP_NOT_FINITE(*end))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("p_start and p_end must be finite")));
	if (*start >= *end)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("p_start must be before p_end"),
				 errdetail("p_start is %s, p_end is %s.",
						   pstrdup(timestamptz_to_str(*start)), pstrdup(timestamptz_to_str(*end)))));
}

/* The period before [start, end): a day, week or month back if it is one, else as long. */
static void
ts_previous_period(TimestampTz start, TimestampTz end, TimestampTz *pstart)
{
	const char *units[] = {"day", "week", "month"};

	for (int i = 0; i < (int) lengthof(units); i++)
	{
		Interval   *iv = ts_period_interval(units[i]);

		if (ts_add_interval(start, iv, 1) == end)
		{
			*pstart = ts_add_interval(start, iv, -1);
			return;
		}
	}
	*pstart = start - (end - start);
}

/* Reports a filter with a wrong value. */
static void
ts_bad_filter(const char *key, const char *problem)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid report filter \"%s\"", key),
			 errdetail("The value %s.", problem)));
}

/* A filter's string as a C string: at most 200 bytes, no control characters. */
static char *
ts_filter_chars(const char *key, const char *val, int len)
{
	if (len > TS_FILTER_STRING_MAX)
		ts_bad_filter(key, "has a string longer than 200 bytes");
	for (int i = 0; i < len; i++)
		if ((unsigned char) val[i] < 0x20 || val[i] == 0x7f)
			ts_bad_filter(key, "has a control character (such as CR or LF)");
	return pnstrdup(val, len);
}

/* A filter's array of non-empty strings as text[] (checked against allowed, if given). */
static Datum
ts_filter_text_array(const char *key, JsonbValue *v, const char *const *allowed, int nallowed)
{
	JsonbIterator *it;
	JsonbValue	e;
	JsonbIteratorToken tok;
	List	   *items = NIL;
	Datum	   *elems;
	ListCell   *lc;
	int			i = 0;

	if (v->type != jbvBinary || !JsonContainerIsArray(v->val.binary.data))
		ts_bad_filter(key, "is not a JSON array of strings");
	it = JsonbIteratorInit(v->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &e, true)) != WJB_DONE)
	{
		char	   *s;
		bool		ok = (allowed == NULL);

		if (tok != WJB_ELEM)
			continue;
		if (e.type != jbvString || e.val.string.len == 0)
			ts_bad_filter(key, "has an element that is not a non-empty string");
		if (list_length(items) >= TS_FILTER_ARRAY_MAX)
			ts_bad_filter(key, "has more than 1000 elements");
		s = ts_filter_chars(key, e.val.string.val, e.val.string.len);
		for (int k = 0; k < nallowed; k++)
			ok |= (strcmp(s, allowed[k]) == 0);
		if (!ok)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid report filter \"%s\"", key),
					 errdetail("\"%s\" is not a session status.", s),
					 errhint("Use started, in_progress, resolved, escalated, abandoned or timed_out.")));
		items = lappend(items, s);
	}
	if (items == NIL)
		ts_bad_filter(key, "is an empty array (it would match nothing)");
	elems = palloc(sizeof(Datum) * list_length(items));
	foreach(lc, items)
		elems[i++] = CStringGetTextDatum(lfirst(lc));
	return PointerGetDatum(construct_array(elems, i, TEXTOID, -1, false, TYPALIGN_INT));
}

/* A filter's non-empty string. */
static char *
ts_filter_string(const char *key, JsonbValue *v)
{
	if (v->type != jbvString || v->val.string.len == 0)
		ts_bad_filter(key, "is not a non-empty JSON string");
	return ts_filter_chars(key, v->val.string.val, v->val.string.len);
}

/* A filter's rating: an integer from 1 to 5. */
static int
ts_filter_rating(const char *key, JsonbValue *v)
{
	char	   *s;
	char	   *end;
	long		r;

	if (v->type != jbvNumeric)
		ts_bad_filter(key, "is not a JSON number");
	s = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v->val.numeric)));
	r = strtol(s, &end, 10);
	if (*end != '\0' || r < 1 || r > 5)
		ts_bad_filter(key, "is not an integer from 1 to 5");
	return (int) r;
}

/* Validates p_filters into *f (an unknown key or a wrong type is an error). */
static void
ts_parse_filters(Jsonb *filters, TsReportFilters *f)
{
	static const char *const statuses[] = {"started", "in_progress", "resolved", "escalated",
	"abandoned", "timed_out"};
	JsonbIterator *it;
	JsonbValue	k;
	JsonbValue	v;
	JsonbIteratorToken tok;

	memset(f, 0, sizeof(*f));
	if (!JB_ROOT_IS_OBJECT(filters))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("p_filters must be a JSON object"),
				 errhint("Keys: %s.", ts_filter_keys)));
	it = JsonbIteratorInit(&filters->root);
	while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
	{
		char	   *key;

		if (tok != WJB_KEY)
			continue;
		key = pnstrdup(k.val.string.val, k.val.string.len);
		tok = JsonbIteratorNext(&it, &v, true);
		Assert(tok == WJB_VALUE);
		if (strcmp(key, "problem_ids") == 0)
			f->problem_ids = ts_filter_text_array(key, &v, NULL, 0);
		else if (strcmp(key, "statuses") == 0)
			f->statuses = ts_filter_text_array(key, &v, statuses, lengthof(statuses));
		else if (strcmp(key, "min_rating") == 0)
			f->min_rating = ts_filter_rating(key, &v);
		else if (strcmp(key, "max_rating") == 0)
			f->max_rating = ts_filter_rating(key, &v);
		else if (strcmp(key, "customer_email_domain") == 0)
		{
			f->email_domain = ts_filter_string(key, &v);
			if (f->email_domain[0] == '@')
				f->email_domain++;
			if (f->email_domain[0] == '\0' || strchr(f->email_domain, '@'))
				ts_bad_filter(key, "is not a domain name");
		}
		else if (strcmp(key, "assigned_agent") == 0)
			f->agent = ts_filter_string(key, &v);
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown report filter \"%s\"", key),
					 errhint("Filters are %s.", ts_filter_keys)));
	}
	if (f->min_rating && f->max_rating && f->min_rating > f->max_rating)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("min_rating must not be above max_rating"),
				 errdetail("min_rating is %d, max_rating is %d.", f->min_rating, f->max_rating)));
	f->on_sessions = f->problem_ids || f->statuses || f->email_domain || f->agent ||
		f->min_rating || f->max_rating;
}

/* Appends the summary object of a period. */
static void
ts_append_summary(StringInfo out, const TsPeriodStats *st)
{
	const int64 *m = st->total.m;
	bool		first = true;

	appendStringInfoChar(out, '{');
	ts_json_key_int(out, &first, "total_sessions", m[M_SESSIONS]);
	ts_json_key_int(out, &first, "resolved_sessions", m[M_RESOLVED]);
	ts_json_key_int(out, &first, "escalated_sessions", m[M_ESCALATED]);
	ts_json_key_int(out, &first, "abandoned_sessions", m[M_ABANDONED]);
	ts_json_key_numeric(out, &first, "resolution_rate", ts_kpi_value(st, K_RESOLUTION_RATE));
	ts_json_key_numeric(out, &first, "escalation_rate", ts_kpi_value(st, K_ESCALATION_RATE));
	ts_json_key_numeric(out, &first, "avg_resolution_time_minutes", ts_kpi_value(st, K_AVG_RES));
	ts_json_key_numeric(out, &first, "median_resolution_time_minutes", ts_kpi_value(st, K_MEDIAN_RES));
	ts_json_key_numeric(out, &first, "p90_resolution_time_minutes", ts_kpi_value(st, K_P90_RES));
	ts_json_key_int(out, &first, "total_attempts", m[M_ATTEMPTS]);
	ts_json_key_int(out, &first, "successful_attempts", m[M_ATTEMPTS_OK]);
	ts_json_key_numeric(out, &first, "attempts_per_session", ts_kpi_value(st, K_ATTEMPTS_PER_SESSION));
	ts_json_key_numeric(out, &first, "first_attempt_success_rate", ts_kpi_value(st, K_FIRST_ATTEMPT));
	ts_json_key_int(out, &first, "feedback_count", m[M_FEEDBACK]);
	ts_json_key_numeric(out, &first, "avg_rating", ts_kpi_value(st, K_AVG_RATING));
	ts_json_key_numeric(out, &first, "nps", ts_kpi_value(st, K_NPS));
	ts_json_key_int(out, &first, "unique_problems", st->unique_problems);
	appendStringInfoChar(out, '}');
}

/* Appends the series array (one object per bucket). */
static void
ts_append_series(StringInfo out, const TsPeriodStats *st)
{
	appendStringInfoChar(out, '[');
	for (int i = 0; i < st->nbuckets; i++)
	{
		const TsBucket *b = &st->buckets[i];
		const int64 *m = b->m.m;
		bool		first = true;

		if (i > 0)
			appendStringInfoString(out, ", ");
		appendStringInfoChar(out, '{');
		ts_json_key(out, &first, "period_start");
		ts_json_timestamptz(out, b->start);
		ts_json_key_int(out, &first, "total_sessions", m[M_SESSIONS]);
		ts_json_key_int(out, &first, "resolved_sessions", m[M_RESOLVED]);
		ts_json_key_int(out, &first, "escalated_sessions", m[M_ESCALATED]);
		ts_json_key_int(out, &first, "abandoned_sessions", m[M_ABANDONED]);
		ts_json_key_numeric(out, &first, "resolution_rate", ts_ratio(m[M_RESOLVED], m[M_SESSIONS], 4));
		ts_json_key_numeric(out, &first, "avg_resolution_time_minutes",
					ts_avg_minutes(m[M_RES_US], m[M_RES_N]));
		ts_json_key_int(out, &first, "total_attempts", m[M_ATTEMPTS]);
		ts_json_key_int(out, &first, "feedback_count", m[M_FEEDBACK]);
		ts_json_key_numeric(out, &first, "avg_rating", ts_ratio(m[M_RATING_SUM], m[M_FEEDBACK], 2));
		appendStringInfoChar(out, '}');
	}
	appendStringInfoChar(out, ']');
}

/* Appends the top problems array (limit < 0: every problem). */
static void
ts_append_problems(StringInfo out, const TsPeriodStats *st, int limit)
{
	ListCell   *lc;
	int			n = 0;

	appendStringInfoChar(out, '[');
	foreach(lc, st->problems)
	{
		TsProblemStats *p = lfirst(lc);
		bool		first = true;
		ListCell   *lc2;
		int			nsteps = 0;

		if (p->sessions == 0)
			continue;			/* attempts only, on sessions started earlier */
		if (limit >= 0 && n >= limit)
			break;
		if (n++ > 0)
			appendStringInfoString(out, ", ");
		appendStringInfoChar(out, '{');
		ts_json_key_text(out, &first, "problem_id", p->problem_id);
		ts_json_key_text(out, &first, "title", p->title);
		ts_json_key_int(out, &first, "sessions", p->sessions);
		ts_json_key_int(out, &first, "resolved_sessions", p->resolved);
		ts_json_key_int(out, &first, "escalated_sessions", p->escalated);
		ts_json_key_numeric(out, &first, "resolution_rate", ts_ratio(p->resolved, p->sessions, 4));
		ts_json_key_numeric(out, &first, "escalation_rate", ts_ratio(p->escalated, p->sessions, 4));
		ts_json_key_numeric(out, &first, "median_resolution_time_minutes",
					ts_percentile(p->res_minutes, p->nres, 0.5));
		ts_json_key(out, &first, "failing_steps");
		appendStringInfoChar(out, '[');
		foreach(lc2, p->steps)
		{
			TsStepStats *s = lfirst(lc2);
			bool		f2 = true;

			if (s->failed == 0 || nsteps >= 3)
				break;
			if (nsteps++ > 0)
				appendStringInfoString(out, ", ");
			appendStringInfoChar(out, '{');
			ts_json_key_int(out, &f2, "step_number", s->step_number);
			ts_json_key_text(out, &f2, "step_title", s->step_title);
			ts_json_key_int(out, &f2, "attempts", s->attempts);
			ts_json_key_int(out, &f2, "failed_attempts", s->failed);
			ts_json_key_numeric(out, &f2, "failure_rate", ts_ratio(s->failed, s->attempts, 4));
			appendStringInfoChar(out, '}');
		}
		appendStringInfoString(out, "]}");
	}
	appendStringInfoChar(out, ']');
}

/* Appends the satisfaction object. */
static void
ts_append_satisfaction(StringInfo out, const TsPeriodStats *st)
{
	const int64 *m = st->total.m;
	bool		first = true;
	bool		f2 = true;

	appendStringInfoChar(out, '{');
	ts_json_key_int(out, &first, "feedback_count", m[M_FEEDBACK]);
	ts_json_key_int(out, &first, "rated_sessions", st->rated_sessions);
	ts_json_key(out, &first, "rating_distribution");
	appendStringInfoChar(out, '{');
	for (int r = 1; r <= 5; r++)
		ts_json_key_int(out, &f2, psprintf("%d", r), st->ratings[r]);
	appendStringInfoChar(out, '}');
	ts_json_key_numeric(out, &first, "avg_rating", ts_kpi_value(st, K_AVG_RATING));
	ts_json_key_numeric(out, &first, "csat", ts_kpi_value(st, K_CSAT));
	ts_json_key(out, &first, "nps");
	f2 = true;
	appendStringInfoChar(out, '{');
	ts_json_key_numeric(out, &f2, "score", ts_kpi_value(st, K_NPS));
	ts_json_key_int(out, &f2, "promoters", m[M_PROMOTERS]);
	ts_json_key_int(out, &f2, "passives", st->passives);
	ts_json_key_int(out, &f2, "detractors", m[M_DETRACTORS]);
	ts_json_key_int(out, &f2, "responses", m[M_NPS_N]);
	appendStringInfoChar(out, '}');
	ts_json_key_numeric(out, &first, "helpful_share", ts_ratio(st->helpful_yes, st->helpful_n, 4));
	ts_json_key_int(out, &first, "helpful_responses", st->helpful_n);
	ts_json_key_int(out, &first, "finished_sessions", st->finished);
	ts_json_key_numeric(out, &first, "feedback_response_rate", ts_kpi_value(st, K_RESPONSE_RATE));
	appendStringInfoChar(out, '}');
}

/* The reports table, schema-qualified and quoted. */
static char *
ts_reports_table(void)
{
	return ts_qualified_name(ts_extension_schema(false), "support_troubleshooting_reports");
}

/* The cached document for a key if one has not expired (SPI connected), else NULL. */
static Jsonb *
ts_cache_lookup(const char *key)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(key)};
	bool		isnull;
	Datum		d;
	int			ret;

	ret = SPI_execute_with_args(psprintf("SELECT data FROM %s WHERE cache_key = $1 AND expires_at > now()"
										 " ORDER BY generated_at DESC LIMIT 1", ts_reports_table()),
								1, types, values, NULL, false, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "report cache lookup failed: %s", SPI_result_code_string(ret));
	if (SPI_processed == 0)
		return NULL;
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return isnull ? NULL : DatumGetJsonbPCopy(d);
}

/* A new report id from the table's identity sequence. */
static int64
ts_next_report_id(void)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(ts_reports_table())};
	int			ret;

	ret = SPI_execute_with_args("SELECT nextval(pg_catalog.pg_get_serial_sequence($1, 'id'))",
								1, types, values, NULL, false, 1);
	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "report id allocation failed: %s", SPI_result_code_string(ret));
	return ts_get_int64(0, 1);
}

/* Stores a generated report (its cache entry expires ttl minutes after generated_at). */
static void
ts_store_report(int64 id, const char *type, const char *key, Jsonb *doc,
				TimestampTz generated_at, int ttl, double ms)
{
	Oid			types[7] = {INT8OID, TEXTOID, TEXTOID, JSONBOID, TIMESTAMPTZOID, INT4OID, FLOAT8OID};
	Datum		values[7];
	int			ret;

	values[0] = Int64GetDatum(id);
	values[1] = CStringGetTextDatum(type);
	values[2] = CStringGetTextDatum(key);
	values[3] = JsonbPGetDatum(doc);
	values[4] = TimestampTzGetDatum(generated_at);
	values[5] = Int32GetDatum(ttl);
	values[6] = Float8GetDatum(ms);
	/* parameters: what the report was asked for, taken from the document */
	ret = SPI_execute_with_args(psprintf("INSERT INTO %s (id, report_type, parameters, cache_key, data,"
										 " generated_at, expires_at, generation_ms)"
										 " VALUES ($1, $2, jsonb_build_object('start', $4->'period'->'start',"
										 " 'end', $4->'period'->'end', 'filters', $4->'filters',"
										 " 'include_charts', $4->'include_charts'),"
										 " $3, $4, $5, $5 + make_interval(mins => $6), $7)",
										 ts_reports_table()),
								7, types, values, NULL, false, 0);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "storing the report failed: %s", SPI_result_code_string(ret));
}

/* Builds the whole document text for the collected periods. */
static char *
ts_report_document(int type, int64 id, TimestampTz start, TimestampTz end, const char *granularity,
				   const char *filters_text, bool include_charts, TimestampTz generated_at,
				   const TsPeriodStats *cur, const TsPeriodStats *prev)
{
	StringInfoData out;
	bool		first = true;
	const char *name = ts_report_types[type];

	initStringInfo(&out);
	appendStringInfoChar(&out, '{');
	ts_json_key(&out, &first, "id");
	if (id > 0)
		appendStringInfo(&out, INT64_FORMAT, id);
	else
		appendStringInfoString(&out, "null");
	ts_json_key(&out, &first, "report_type");
	ts_json_text(&out, name);
	ts_json_key(&out, &first, "title");
	ts_json_text(&out, ts_report_titles[type]);
	ts_json_key(&out, &first, "period");
	appendStringInfoString(&out, "{\"start\": ");
	ts_json_timestamptz(&out, start);
	appendStringInfoString(&out, ", \"end\": ");
	ts_json_timestamptz(&out, end);
	appendStringInfoString(&out, ", \"time_zone\": ");
	ts_json_text(&out, pg_get_timezone_name(session_timezone));
	appendStringInfoString(&out, ", \"granularity\": ");
	ts_json_text(&out, granularity);
	appendStringInfoChar(&out, '}');
	ts_json_key(&out, &first, "filters");
	appendStringInfoString(&out, filters_text);
	ts_json_key(&out, &first, "include_charts");
	appendStringInfoString(&out, include_charts ? "true" : "false");
	ts_json_key(&out, &first, "generated_at");
	ts_json_timestamptz(&out, generated_at);
	ts_json_key(&out, &first, "summary");
	ts_append_summary(&out, cur);
	ts_json_key(&out, &first, "series");
	ts_append_series(&out, cur);
	ts_json_key(&out, &first, "top_problems");
	if (type == 4)
		appendStringInfoString(&out, "null");	/* customer_satisfaction */
	else
		ts_append_problems(&out, cur, type == 3 ? -1 : ts_config_get_int("report_top_problems"));
	ts_json_key(&out, &first, "satisfaction");
	if (type == 3)
		appendStringInfoString(&out, "null");	/* problem_analysis */
	else
		ts_append_satisfaction(&out, cur);
	ts_json_key(&out, &first, "trends");
	ts_report_trends(&out, cur, prev);
	ts_json_key(&out, &first, "recommendations");
	ts_report_recommendations(&out, cur, prev, name);
	ts_json_key(&out, &first, "executive_summary");
	appendStringInfoString(&out, "null");
	appendStringInfoChar(&out, '}');
	return out.data;
}

/* Generates (or fetches from the cache) a report; see report.h. */
Jsonb *
ts_report_generate(const char *report_type, TimestampTz *pstart, TimestampTz *pend,
				   Jsonb *filters, bool include_charts, bool force)
{
	int			type = ts_report_type_index(report_type);
	TimestampTz start = pstart ? *pstart : 0;
	TimestampTz end = pend ? *pend : 0;
	TsReportFilters f;
	const char *filters_text;
	const char *granularity;
	char	   *key;
	int			ttl;
	bool		can_store = !RecoveryInProgress() && !XactReadOnly;
	int64		id = 0;
	TsPeriodStats cur;
	TsPeriodStats prev;
	TimestampTz generated_at = GetCurrentTimestamp();
	instr_time	t0;
	instr_time	t1;
	char	   *doc;
	Jsonb	   *result;
	MemoryContext callercxt = CurrentMemoryContext;

	INSTR_TIME_SET_CURRENT(t0);
	ts_report_period(type, pstart != NULL, &start, pend != NULL, &end);
	ts_parse_filters(filters, &f);
	filters_text = JsonbToCString(NULL, &filters->root, VARSIZE(filters));
	granularity = end - start <= 2 * USECS_PER_DAY ? "hour" : "day";
	/* the time zone too: it decides the series buckets and how times print */
	key = text_to_cstring(DatumGetTextPP(DirectFunctionCall1(md5_text,
															 CStringGetTextDatum(psprintf("%s|" INT64_FORMAT "|" INT64_FORMAT "|%d|%s|%s",
																						  report_type, start, end, (int) include_charts, filters_text,
																						  pg_get_timezone_name(session_timezone))))));
	ttl = ts_config_get_int("report_cache_ttl_minutes");

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	if (!force && ttl > 0)
	{
		Jsonb	   *cached = ts_cache_lookup(key);

		if (cached)
		{
			MemoryContext old = MemoryContextSwitchTo(callercxt);

			result = DatumGetJsonbPCopy(JsonbPGetDatum(cached));
			MemoryContextSwitchTo(old);
			SPI_finish();
			return result;
		}
	}

	memset(&cur, 0, sizeof(cur));
	memset(&prev, 0, sizeof(prev));
	cur.start = start;
	cur.end = end;
	prev.end = start;
	ts_previous_period(start, end, &prev.start);
	ts_report_collect(&cur, &f, granularity);
	ts_report_collect(&prev, &f, granularity);

	if (can_store)
		id = ts_next_report_id();
	doc = ts_report_document(type, id, start, end, granularity, filters_text, include_charts,
							 generated_at, &cur, &prev);
	result = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(doc)));
	if (can_store)
	{
		INSTR_TIME_SET_CURRENT(t1);
		INSTR_TIME_SUBTRACT(t1, t0);
		ts_store_report(id, report_type, key, result, generated_at, ttl,
						INSTR_TIME_GET_MILLISEC(t1));
	}
	{
		MemoryContext old = MemoryContextSwitchTo(callercxt);

		result = DatumGetJsonbPCopy(JsonbPGetDatum(result));
		MemoryContextSwitchTo(old);
	}
	SPI_finish();
	return result;
}

/* Loads a stored report's document; an error when there is none. */
Jsonb *
ts_report_load(int64 id)
{
	Oid			types[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(id)};
	MemoryContext callercxt = CurrentMemoryContext;
	Jsonb	   *result = NULL;
	bool		isnull;
	int			ret;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/* not read-only: a report generated earlier in the same statement is seen */
	ret = SPI_execute_with_args(psprintf("SELECT data FROM %s WHERE id = $1", ts_reports_table()),
								1, types, values, NULL, false, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "report lookup failed: %s", SPI_result_code_string(ret));
	if (SPI_processed == 1)
	{
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		MemoryContext old = MemoryContextSwitchTo(callercxt);

		result = DatumGetJsonbPCopy(d);
		MemoryContextSwitchTo(old);
	}
	SPI_finish();
	if (result == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("report " INT64_FORMAT " does not exist", id),
				 errhint("Reports are removed by cleanup once their cache entry expires (report_cache_ttl_minutes); generate it again.")));
	return result;
}

/* generate_troubleshooting_report(type, start, end, filters, include_charts, force) */
Datum
generate_troubleshooting_report(PG_FUNCTION_ARGS)
{
	TimestampTz start;
	TimestampTz end;
	Jsonb	   *filters;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("p_report_type must not be null")));
	if (!PG_ARGISNULL(1))
		start = PG_GETARG_TIMESTAMPTZ(1);
	if (!PG_ARGISNULL(2))
		end = PG_GETARG_TIMESTAMPTZ(2);
	filters = PG_ARGISNULL(3) ?
		DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum("{}"))) :
		PG_GETARG_JSONB_P(3);
	PG_RETURN_JSONB_P(ts_report_generate(text_to_cstring(PG_GETARG_TEXT_PP(0)),
										 PG_ARGISNULL(1) ? NULL : &start,
										 PG_ARGISNULL(2) ? NULL : &end, filters,
										 !PG_ARGISNULL(4) && PG_GETARG_BOOL(4),
										 !PG_ARGISNULL(5) && PG_GETARG_BOOL(5)));
}

/*
 * ts_report_filters_check(filters): errors unless generate_troubleshooting_report
 * takes these filters (report schedules check theirs when written).
 */
Datum
ts_report_filters_check(PG_FUNCTION_ARGS)
{
	TsReportFilters f;

	ts_parse_filters(PG_GETARG_JSONB_P(0), &f);
	PG_RETURN_VOID();
}
