/*
 * export.c
 *	  export_troubleshooting_report(): a report document (stored, by id, or
 *	  given as jsonb) as json, csv or pdf bytes.  Owns the check that a jsonb
 *	  document is a report and the helpers the CSV and PDF writers read the
 *	  document with, so that a malformed document gives an error, not a crash.
 *
 * Formats are matched case-insensitively.  Every format's text is UTF-8,
 * whatever the database encoding.
 */
#include "postgres.h"

#include "report/export/document.h"
#include "report/report.h"

#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/numeric.h"

#include <math.h>

PG_FUNCTION_INFO_V1(export_troubleshooting_report_by_id);
PG_FUNCTION_INFO_V1(export_troubleshooting_report_doc);

/* The export formats. */
typedef enum TsExportFormat
{
	TS_EXPORT_JSON,
	TS_EXPORT_CSV,
	TS_EXPORT_PDF
} TsExportFormat;

/* Top-level parts and the kind of JSON value each must be when not null. */
typedef struct TsPartKind
{
	const char *key;
	enum jbvType kind;			/* jbvObject, jbvArray, jbvString, jbvBool, jbvNumeric */
	bool		required;
} TsPartKind;

static const TsPartKind ts_parts[] = {
	{"id", jbvNumeric, false},
	{"report_type", jbvString, true},
	{"period", jbvObject, true},
	{"generated_at", jbvString, true},
	{"summary", jbvObject, true},
	{"title", jbvString, false},
	{"filters", jbvObject, false},
	{"include_charts", jbvBool, false},
	{"series", jbvArray, false},
	{"top_problems", jbvArray, false},
	{"satisfaction", jbvObject, false},
	{"trends", jbvObject, false},
	{"recommendations", jbvArray, false},
	{"executive_summary", jbvString, false},
};

/* A member of an object inside the document and the kind it must be when not null. */
typedef struct TsMember
{
	const char *key;
	enum jbvType kind;
} TsMember;

#define N jbvNumeric
#define S jbvString

static const TsMember ts_period_members[] = {
	{"start", S}, {"end", S}, {"time_zone", S}, {"granularity", S}
};
static const TsMember ts_series_members[] = {
	{"period_start", S}, {"total_sessions", N}, {"resolved_sessions", N},
	{"escalated_sessions", N}, {"abandoned_sessions", N}, {"resolution_rate", N},
	{"avg_resolution_time_minutes", N}, {"total_attempts", N}, {"feedback_count", N},
	{"avg_rating", N}
};
static const TsMember ts_problem_members[] = {
	{"problem_id", S}, {"title", S}, {"sessions", N}, {"resolved_sessions", N},
	{"escalated_sessions", N}, {"resolution_rate", N}, {"escalation_rate", N},
	{"median_resolution_time_minutes", N}, {"failing_steps", jbvArray}
};
static const TsMember ts_step_members[] = {
	{"step_number", N}, {"step_title", S}, {"attempts", N}, {"failed_attempts", N},
	{"failure_rate", N}
};
static const TsMember ts_satisfaction_members[] = {
	{"feedback_count", N}, {"rated_sessions", N}, {"rating_distribution", jbvObject},
	{"avg_rating", N}, {"csat", N}, {"nps", jbvObject}, {"helpful_share", N},
	{"helpful_responses", N}, {"finished_sessions", N}, {"feedback_response_rate", N}
};
static const TsMember ts_nps_members[] = {
	{"score", N}, {"promoters", N}, {"passives", N}, {"detractors", N}, {"responses", N}
};
static const TsMember ts_trends_members[] = {
	{"previous_period", jbvObject}, {"metrics", jbvArray}
};
static const TsMember ts_metric_members[] = {
	{"metric", S}, {"current", N}, {"previous", N}, {"change", N}, {"change_percent", N},
	{"direction", S}, {"better", jbvBool}
};
static const TsMember ts_recommendation_members[] = {
	{"rule", S}, {"severity", S}, {"message", S}, {"data", jbvObject}
};

#undef N
#undef S

/* The name of a JSON value's kind, for error details. */
static const char *
ts_export_kind_name(JsonbValue *v)
{
	switch (v->type)
	{
		case jbvNull:
			return "null";
		case jbvString:
			return "a string";
		case jbvNumeric:
			return "a number";
		case jbvBool:
			return "a boolean";
		case jbvBinary:
			return JsonContainerIsObject(v->val.binary.data) ? "an object" : "an array";
		default:
			return "a JSON value";
	}
}

/* The name of a kind of JSON value a part must be, for error details. */
static const char *
ts_export_kind_wanted(enum jbvType kind)
{
	switch (kind)
	{
		case jbvObject:
			return "an object";
		case jbvArray:
			return "an array";
		case jbvString:
			return "a string";
		case jbvBool:
			return "a boolean";
		case jbvNumeric:
			return "a number";
		default:
			return "a JSON value";
	}
}

/* True when v (not null) is of the kind wanted (jbvObject/jbvArray/scalar type). */
static bool
ts_export_is_kind(JsonbValue *v, enum jbvType kind)
{
	if (kind == jbvObject)
		return ts_export_object(v) != NULL;
	if (kind == jbvArray)
		return ts_export_array(v) != NULL;
	return v->type == kind;
}

/* Raises the error for a document that is not a report, saying why. */
static void
ts_export_not_report(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("document is not a troubleshooting report"),
			 errdetail_internal("%s", detail),
			 errhint("Export the jsonb that generate_troubleshooting_report returns.")));
}

/* Errors unless v (when present and not null) is of kind; where names it. */
static void
ts_export_check_value(JsonbValue *v, enum jbvType kind, const char *where)
{
	if (v == NULL || v->type == jbvNull || ts_export_is_kind(v, kind))
		return;
	ts_export_not_report(psprintf("The value of \"%s\" is %s, not %s or null.",
								  where, ts_export_kind_name(v), ts_export_kind_wanted(kind)));
}

/* Checks the members of object obj (if any) against their kinds; where names obj. */
static void
ts_export_check_members(JsonbContainer *obj, const TsMember *members, int n, const char *where)
{
	for (int i = 0; i < n; i++)
		ts_export_check_value(ts_export_get(obj, members[i].key), members[i].kind,
							  psprintf("%s.%s", where, members[i].key));
}

/* Checks that every member of object obj (if any) is a number or null. */
static void
ts_export_check_all_numbers(JsonbContainer *obj, const char *where)
{
	JsonbIterator *it;
	JsonbValue	key;
	JsonbValue	val;
	JsonbIteratorToken tok;

	if (obj == NULL)
		return;
	it = JsonbIteratorInit(obj);
	while ((tok = JsonbIteratorNext(&it, &key, true)) != WJB_DONE)
	{
		if (tok != WJB_KEY)
			continue;
		tok = JsonbIteratorNext(&it, &val, true);
		Assert(tok == WJB_VALUE);
		ts_export_check_value(&val, jbvNumeric,
							  psprintf("%s.%.*s", where, key.val.string.len, key.val.string.val));
	}
}

/*
 * Checks that every element of array arr (if any) is an object whose members
 * are of their kinds; where names the array.
 */
static void
ts_export_check_rows(JsonbContainer *arr, const char *where, const TsMember *members, int nmembers)
{
	int			n = ts_export_count(arr);

	for (int i = 0; i < n; i++)
	{
		JsonbValue *row = ts_export_item(arr, i);
		char	   *at = psprintf("%s[%d]", where, i);

		CHECK_FOR_INTERRUPTS();
		if (ts_export_object(row) == NULL)
			ts_export_not_report(psprintf("The value of \"%s\" is %s, not an object.",
										  at, ts_export_kind_name(row)));
		ts_export_check_members(ts_export_object(row), members, nmembers, at);
	}
}

/*
 * Errors unless doc has the shape of a report document (see report.h): each
 * part, and each member the exporters read, of its kind or null (numbers
 * where numbers go), so that no exporter prints or draws what it did not
 * expect.  The detail names the part (a path like top_problems[0].sessions)
 * and what it must be.
 */
void
ts_export_check(Jsonb *doc)
{
	static const char *const summary_keys[] = {TS_SUMMARY_KEYS};
	JsonbContainer *root;
	JsonbContainer *problems;
	JsonbContainer *sat;
	JsonbContainer *trends;

	if (doc == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("report document must not be null")));
	if (!JB_ROOT_IS_OBJECT(doc))
		ts_export_not_report(psprintf("A report is a JSON object; this document is %s.",
									  JB_ROOT_IS_SCALAR(doc) ? "a scalar" : "an array"));
	root = &doc->root;
	for (int i = 0; i < TS_NELEMS(ts_parts); i++)
	{
		JsonbValue *v = ts_export_get(root, ts_parts[i].key);

		if (v == NULL && ts_parts[i].required)
			ts_export_not_report(psprintf("The key \"%s\" is missing.", ts_parts[i].key));
		ts_export_check_value(v, ts_parts[i].kind, ts_parts[i].key);
	}
	ts_export_check_members(ts_export_object(ts_export_get(root, "period")), ts_period_members,
							TS_NELEMS(ts_period_members), "period");
	for (int i = 0; i < TS_NELEMS(summary_keys); i++)
		ts_export_check_value(ts_export_get(ts_export_object(ts_export_get(root, "summary")),
											summary_keys[i]),
							  jbvNumeric, psprintf("summary.%s", summary_keys[i]));
	ts_export_check_rows(ts_export_array(ts_export_get(root, "series")), "series",
						 ts_series_members, TS_NELEMS(ts_series_members));
	problems = ts_export_array(ts_export_get(root, "top_problems"));
	ts_export_check_rows(problems, "top_problems", ts_problem_members,
						 TS_NELEMS(ts_problem_members));
	for (int i = 0; i < ts_export_count(problems); i++)
		ts_export_check_rows(ts_export_array(ts_export_get(ts_export_object(ts_export_item(problems, i)),
														   "failing_steps")),
							 psprintf("top_problems[%d].failing_steps", i),
							 ts_step_members, TS_NELEMS(ts_step_members));
	sat = ts_export_object(ts_export_get(root, "satisfaction"));
	ts_export_check_members(sat, ts_satisfaction_members, TS_NELEMS(ts_satisfaction_members),
							"satisfaction");
	ts_export_check_all_numbers(ts_export_object(ts_export_get(sat, "rating_distribution")),
								"satisfaction.rating_distribution");
	ts_export_check_members(ts_export_object(ts_export_get(sat, "nps")), ts_nps_members,
							TS_NELEMS(ts_nps_members), "satisfaction.nps");
	trends = ts_export_object(ts_export_get(root, "trends"));
	ts_export_check_members(trends, ts_trends_members, TS_NELEMS(ts_trends_members), "trends");
	ts_export_check_members(ts_export_object(ts_export_get(trends, "previous_period")),
							ts_period_members, 2, "trends.previous_period");
	ts_export_check_rows(ts_export_array(ts_export_get(trends, "metrics")), "trends.metrics",
						 ts_metric_members, TS_NELEMS(ts_metric_members));
	ts_export_check_rows(ts_export_array(ts_export_get(root, "recommendations")),
						 "recommendations", ts_recommendation_members,
						 TS_NELEMS(ts_recommendation_members));
}

/* The value of key in object obj; NULL when obj is NULL or has no such key. */
JsonbValue *
ts_export_get(JsonbContainer *obj, const char *key)
{
	if (obj == NULL || !JsonContainerIsObject(obj))
		return NULL;
	return getKeyJsonValueFromContainer(obj, key, strlen(key), NULL);
}

/* The object v holds, or NULL when v is missing or not an object. */
JsonbContainer *
ts_export_object(JsonbValue *v)
{
	if (v == NULL || v->type != jbvBinary || !JsonContainerIsObject(v->val.binary.data))
		return NULL;
	return v->val.binary.data;
}

/* The array v holds, or NULL when v is missing or not an array. */
JsonbContainer *
ts_export_array(JsonbValue *v)
{
	if (v == NULL || v->type != jbvBinary || !JsonContainerIsArray(v->val.binary.data) ||
		JsonContainerIsScalar(v->val.binary.data))
		return NULL;
	return v->val.binary.data;
}

/* The number of elements of array arr (0 when NULL). */
int
ts_export_count(JsonbContainer *arr)
{
	return arr ? (int) JsonContainerSize(arr) : 0;
}

/* Element i of array arr (0-based, in range). */
JsonbValue *
ts_export_item(JsonbContainer *arr, int i)
{
	return getIthJsonbValueFromContainer(arr, (uint32) i);
}

/* A value as text (strings unquoted, containers as JSON); NULL for null or missing. */
char *
ts_export_text(JsonbValue *v)
{
	if (v == NULL)
		return NULL;
	switch (v->type)
	{
		case jbvNull:
			return NULL;
		case jbvString:
			return pnstrdup(v->val.string.val, v->val.string.len);
		case jbvNumeric:
			return DatumGetCString(DirectFunctionCall1(numeric_out,
													   NumericGetDatum(v->val.numeric)));
		case jbvBool:
			return pstrdup(v->val.boolean ? "true" : "false");
		case jbvBinary:
			return JsonbToCString(NULL, v->val.binary.data, v->val.binary.len);
		default:
			elog(ERROR, "unexpected jsonb value type %d", (int) v->type);
	}
	return NULL;				/* keep the compiler quiet */
}

/*
 * Sets *out to v when v is a JSON number a double holds (finite); false
 * otherwise, also for numbers beyond a double's range (1e400), which jsonb
 * accepts.
 */
bool
ts_export_number(JsonbValue *v, double *out)
{
	double		d;

	if (v == NULL || v->type != jbvNumeric || numeric_is_nan(v->val.numeric) ||
		numeric_is_inf(v->val.numeric))
		return false;
	d = DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow,
										   NumericGetDatum(v->val.numeric)));
	if (!isfinite(d))
		return false;
	*out = d;
	return true;
}

/* Text in the database encoding as a bytea of its UTF-8 bytes. */
bytea *
ts_export_utf8_bytea(const char *data, int len)
{
	char	   *utf8 = pg_server_to_any(data, len, PG_UTF8);
	int			n = (utf8 == data) ? len : (int) strlen(utf8);
	bytea	   *out = (bytea *) palloc(n + VARHDRSZ);

	SET_VARSIZE(out, n + VARHDRSZ);
	memcpy(VARDATA(out), utf8, n);
	return out;
}

/* The format a name stands for; errors on NULL or an unknown name. */
static TsExportFormat
ts_export_format(const char *format)
{
	if (format == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("export format must not be null"),
				 errhint("Use one of: json, csv, pdf.")));
	if (pg_strcasecmp(format, "json") == 0)
		return TS_EXPORT_JSON;
	if (pg_strcasecmp(format, "csv") == 0)
		return TS_EXPORT_CSV;
	if (pg_strcasecmp(format, "pdf") == 0)
		return TS_EXPORT_PDF;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown report export format \"%s\"", format),
			 errhint("Use one of: json, csv, pdf.")));
	return TS_EXPORT_JSON;		/* keep the compiler quiet */
}

/* The document as the bytes of a format: json, csv or pdf. */
bytea *
ts_report_export(Jsonb *doc, const char *format)
{
	TsExportFormat f = ts_export_format(format);
	char	   *json;

	ts_export_check(doc);
	switch (f)
	{
		case TS_EXPORT_JSON:
			json = JsonbToCString(NULL, &doc->root, VARSIZE(doc));
			return ts_export_utf8_bytea(json, strlen(json));
		case TS_EXPORT_CSV:
			return ts_report_csv(doc);
		case TS_EXPORT_PDF:
			return ts_report_pdf(doc);
	}
	return NULL;				/* keep the compiler quiet */
}

/* The format argument argno of a call, checked (NULL and unknown names error). */
static char *
ts_export_format_arg(FunctionCallInfo fcinfo, int argno)
{
	char	   *format = PG_ARGISNULL(argno) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(argno));

	(void) ts_export_format(format);
	return format;
}

/* SQL: export_troubleshooting_report(p_report_id bigint, p_format text) -> bytea. */
Datum
export_troubleshooting_report_by_id(PG_FUNCTION_ARGS)
{
	char	   *format = ts_export_format_arg(fcinfo, 1);

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("report id must not be null")));
	PG_RETURN_BYTEA_P(ts_report_export(ts_report_load(PG_GETARG_INT64(0)), format));
}

/* SQL: export_troubleshooting_report(p_report jsonb, p_format text) -> bytea. */
Datum
export_troubleshooting_report_doc(PG_FUNCTION_ARGS)
{
	char	   *format = ts_export_format_arg(fcinfo, 1);

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("report document must not be null")));
	PG_RETURN_BYTEA_P(ts_report_export(PG_GETARG_JSONB_P(0), format));
}
