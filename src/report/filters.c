/*
 * filters.c
 *	  The filters of a report (a jsonb object) validated into
 *	  TsReportFilters, and ts_report_filters_check() for report schedules.
 */
#include "postgres.h"

#include "report/filters.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(ts_report_filters_check);

/* The longest string a filter takes (a problem id, a domain, an agent). */
#define TS_FILTER_STRING_MAX 200
/* The most elements a filter's array takes. */
#define TS_FILTER_ARRAY_MAX 1000

static const char *const ts_filter_keys =
"problem_ids, statuses, min_rating, max_rating, customer_email_domain, assigned_agent";

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
void
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
