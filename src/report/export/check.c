/*
 * check.c
 *	  The check that a jsonb document is a report document (see report.h)
 *	  before any exporter reads it: each part, and each member the exporters
 *	  read, of its kind or null, so that a malformed document gives an
 *	  error, not a crash.
 */
#include "postgres.h"

#include "report/export/check.h"
#include "report/export/document.h"

#include "miscadmin.h"

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
