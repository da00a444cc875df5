/*
 * read.c
 *	  Reading the metrics machinery: the saved queries (of the rollups and
 *	  the raw tables), hourly rollup rows plus the pending deltas the
 *	  caller's snapshot can see, and the problem dictionary.  Callers are
 *	  connected to SPI.
 */
#include "postgres.h"

#include "compat.h"
#include "base/extschema.h"
#include "metrics/read.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

/* Saved plans, valid for the schema they were prepared in. */
static SPIPlanPtr ts_plans[P_NPLANS];
static Oid	ts_plans_schema = InvalidOid;

#define TSZ TIMESTAMPTZOID

/*
 * The queries behind the readers; %1$s is the quoted extension schema, %2$s
 * the measure columns.  Arguments are always bound, never spliced.
 */
static const struct
{
	const char *sql;
	int			nargs;
	Oid			types[3];
}			ts_queries[P_NPLANS] = {
	[P_HOURS] = {"SELECT bucket, %2$s, problems FROM %1$s.ts_metrics_hourly"
		" WHERE bucket >= $1 AND bucket < $2", 2, {TSZ, TSZ}},
	[P_DELTAS] = {"SELECT bucket, problem, %2$s FROM %1$s.ts_metrics_delta"
		" WHERE bucket >= $1 AND bucket < $2", 2, {TSZ, TSZ}},
	[P_PROBLEM_HOUR] = {"SELECT problem, sessions FROM %1$s.ts_metrics_problem_hourly"
		" WHERE bucket = $1", 1, {TSZ}},
	[P_DICT] = {"SELECT problem, n FROM %1$s.ts_metrics_problems ORDER BY problem COLLATE \"C\"", 0},
	[P_RAW_FEEDBACK] = {"SELECT count(*), coalesce(sum(rating), 0), count(nps_score),"
		" count(*) FILTER (WHERE nps_score >= 9), count(*) FILTER (WHERE nps_score <= 6)"
		" FROM %1$s.support_troubleshooting_feedback WHERE collected_at >= $1 AND collected_at < $2",
	2, {TSZ, TSZ}},
	[P_RAW_RESOLVED] = {"SELECT count(*),"
		" coalesce(sum((extract(epoch FROM resolved_at - started_at) * 1000000::numeric)::bigint), 0)::bigint"
		" FROM %1$s.support_troubleshooting_sessions WHERE resolved_at >= $1 AND resolved_at < $2",
	2, {TSZ, TSZ}},
	[P_RAW_ESCALATED] = {"SELECT count(*) FROM %1$s.support_troubleshooting_sessions"
		" WHERE escalated_at >= $1 AND escalated_at < $2", 2, {TSZ, TSZ}},
	[P_PROBLEM_RANGE] = {"SELECT problem, sum(sessions)::bigint, sum(resolved)::bigint,"
		" sum(escalated)::bigint FROM %1$s.ts_metrics_problem_hourly"
		" WHERE bucket >= $1 AND bucket < $2 GROUP BY problem", 2, {TSZ, TSZ}},
	[P_PROBLEM_DELTAS] = {"SELECT problem, sum(sessions)::bigint, sum(resolved)::bigint,"
		" sum(escalated)::bigint FROM %1$s.ts_metrics_delta"
		" WHERE problem IS NOT NULL AND bucket >= $1 AND bucket < $2 GROUP BY problem",
	2, {TSZ, TSZ}},
	[P_RAW_PROBLEMS] = {"SELECT detected_problem_id, count(*),"
		" count(*) FILTER (WHERE status = 'resolved'), count(*) FILTER (WHERE status = 'escalated')"
		" FROM %1$s.support_troubleshooting_sessions"
		" WHERE started_at >= $1 AND started_at < $2 AND detected_problem_id IS NOT NULL"
		" GROUP BY detected_problem_id", 2, {TSZ, TSZ}},
	[P_ACTIVE_COUNT] = {"SELECT count(*) FROM %1$s.support_troubleshooting_sessions"
		" WHERE status IN ('started', 'in_progress')", 0},
	[P_TITLE] = {"SELECT detected_problem_title FROM %1$s.support_troubleshooting_sessions"
		" WHERE detected_problem_id = $1 ORDER BY started_at DESC, id DESC LIMIT 1", 1, {TEXTOID}},
	/*
	 * the 50 newest active sessions, then their attempt counts: each step a
	 * query of its own (materialized), not a subquery per session, which
	 * Citus does not run over distributed tables
	 */
	[P_ACTIVE_LIST] = {"WITH s AS MATERIALIZED ("
		"  SELECT id, session_id, customer_name, detected_problem_title, status, started_at"
		"  FROM %1$s.support_troubleshooting_sessions WHERE status IN ('started', 'in_progress')"
		"  ORDER BY started_at DESC, id DESC LIMIT 50),"
		" a AS MATERIALIZED ("
		"  SELECT session_id, count(*) AS n FROM %1$s.support_troubleshooting_attempts"
		"  WHERE session_id IN (SELECT session_id FROM s) GROUP BY session_id)"
		" SELECT to_char($1 AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),"
		" coalesce((SELECT jsonb_agg(jsonb_build_object("
		"   'session_id', s.session_id, 'customer_name', s.customer_name,"
		"   'problem', s.detected_problem_title, 'status', s.status,"
		"   'started_at', to_char(s.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),"
		"   'minutes_active', round(extract(epoch FROM $1 - s.started_at) / 60::numeric, 1),"
		"   'attempts', coalesce(a.n, 0))"
		"   ORDER BY s.started_at DESC, s.id DESC)"
		"  FROM s LEFT JOIN a ON a.session_id = s.session_id), '[]')::text", 1, {TSZ}},
	/* (a column in the subquery: Citus plans it apart, and cannot with none) */
	[P_DELTA_COUNT] = {"SELECT count(*) FROM (SELECT 1 FROM %1$s.ts_metrics_delta LIMIT "
		CppAsString2(TS_RAW_DELTAS) ") d", 0},
};

/* The measure columns, comma-separated, in TsMeasure order. */
static char *
ts_measure_list(void)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (int i = 0; i < TS_NMEASURES; i++)
		appendStringInfo(&buf, "%s%s", i ? ", " : "", ts_measure_names[i]);
	return buf.data;
}

/* Returns the extension schema, (re)preparing the saved plans for it. */
Oid
ts_metrics_schema(void)
{
	Oid			nspid = ts_extension_schema(false);
	const char *s;
	char	   *ms;

	if (nspid == ts_plans_schema)
		return nspid;
	for (int i = 0; i < P_NPLANS; i++)
	{
		if (ts_plans[i])
			SPI_freeplan(ts_plans[i]);
		ts_plans[i] = NULL;
	}
	ts_plans_schema = InvalidOid;

	s = quote_identifier(get_namespace_name(nspid));
	ms = ts_measure_list();
	for (int i = 0; i < P_NPLANS; i++)
	{
		char	   *sql = psprintf(ts_queries[i].sql, s, ms);
		SPIPlanPtr	plan = SPI_prepare(sql, ts_queries[i].nargs, (Oid *) ts_queries[i].types);

		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed for \"%s\": %s", sql, SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "SPI_keepplan failed");
		ts_plans[i] = plan;
	}
	ts_plans_schema = nspid;
	return nspid;
}

/* Runs a saved plan with the arguments it takes. */
void
ts_exec_args(int plan, Datum *args)
{
	int			ret = SPI_execute_plan(ts_plans[plan], args, NULL, true, 0);

	if (ret != SPI_OK_SELECT)
		elog(ERROR, "metrics query failed: %s", SPI_result_code_string(ret));
}

/* Runs a saved plan with the given arguments (as many as it takes). */
void
ts_exec(int plan, Datum a, Datum b)
{
	Datum		args[3] = {a, b, 0};

	ts_exec_args(plan, args);
}

/* Runs a saved plan over the timestamp range [a, b) (unused arguments ignored). */
static void
ts_run(int plan, TimestampTz a, TimestampTz b)
{
	ts_exec(plan, TimestampTzGetDatum(a), TimestampTzGetDatum(b));
}

/* Returns column col (1-based) of row `row` of the last result as int64 (NULL = 0). */
int64
ts_get_int64(int row, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, &isnull);
	Oid			type = SPI_gettypeid(SPI_tuptable->tupdesc, col);

	if (isnull)
		return 0;
	if (type == INT4OID)
		return DatumGetInt32(d);
	if (type == INT8OID)
		return DatumGetInt64(d);
	if (type == NUMERICOID)
		return DatumGetInt64(DirectFunctionCall1(numeric_int8, d));
	elog(ERROR, "unexpected type %u in metrics query", type);
	return 0;
}

/* Orders dictionary names for bsearch. */
static int
ts_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

typedef struct TsDictData
{
	int			n;
	char	  **names;			/* sorted (bytewise) */
	int		   *numbers;
	List	   *extra_names;	/* problems not yet in ts_metrics_problems */
	List	   *extra_numbers;
} TsDictData;

/* Loads ts_metrics_problems (problem id <-> number). */
TsProblemDict *
ts_problem_dict_load(void)
{
	TsProblemDict *dict = palloc0(sizeof(TsProblemDict));
	TsDictData *d = palloc0(sizeof(TsDictData));

	ts_run(P_DICT, 0, 0);
	d->n = (int) SPI_processed;
	d->names = palloc(sizeof(char *) * Max(d->n, 1));
	d->numbers = palloc(sizeof(int) * Max(d->n, 1));
	for (int i = 0; i < d->n; i++)
	{
		d->names[i] = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		d->numbers[i] = (int) ts_get_int64(i, 2);
		dict->next = Max(dict->next, d->numbers[i] + 1);
	}
	dict->by_name = (HTAB *) d;
	return dict;
}

/* Returns the number of a problem id, giving unknown ones local numbers. */
int
ts_problem_number(TsProblemDict *dict, const char *problem)
{
	TsDictData *d = (TsDictData *) dict->by_name;
	char	  **hit = bsearch(&problem, d->names, d->n, sizeof(char *), ts_name_cmp);
	ListCell   *ln,
			   *lv;

	if (hit)
		return d->numbers[hit - d->names];
	forboth(ln, d->extra_names, lv, d->extra_numbers)
		if (strcmp((char *) lfirst(ln), problem) == 0)
			return lfirst_int(lv);
	d->extra_names = lappend(d->extra_names, pstrdup(problem));
	d->extra_numbers = lappend_int(d->extra_numbers, dict->next);
	return dict->next++;
}

typedef struct TsProblemDelta
{
	TimestampTz hour;
	char	   *problem;
	int64		sessions;
} TsProblemDelta;

/* Recomputes an hour's problem set from its stored counts plus pending deltas. */
static void
ts_hour_problems_refresh(TsHour *h, List *pdeltas, TsProblemDict *dict)
{
	List	   *names = NIL;
	List	   *counts = NIL;
	ListCell   *lc;
	ListCell   *lcnt;

	ts_run(P_PROBLEM_HOUR, h->hour, 0);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		names = lappend(names, SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1));
		counts = lappend(counts, palloc(sizeof(int64)));
		*(int64 *) llast(counts) = ts_get_int64((int) i, 2);
	}
	foreach(lc, pdeltas)
	{
		TsProblemDelta *pd = lfirst(lc);
		ListCell   *ln;
		bool		found = false;

		if (pd->hour != h->hour)
			continue;
		forboth(ln, names, lcnt, counts)
		{
			if (strcmp((char *) lfirst(ln), pd->problem) == 0)
			{
				*(int64 *) lfirst(lcnt) += pd->sessions;
				found = true;
				break;
			}
		}
		if (!found)
		{
			names = lappend(names, pd->problem);
			counts = lappend(counts, palloc(sizeof(int64)));
			*(int64 *) llast(counts) = pd->sessions;
		}
	}
	bms_free(h->problems);
	h->problems = NULL;
	forboth(lc, names, lcnt, counts)
		if (*(int64 *) lfirst(lcnt) > 0)
			h->problems = bms_add_member(h->problems, ts_problem_number(dict, lfirst(lc)));
}

/* Returns the hour entry for t, creating an empty one if needed. */
static TsHour *
ts_hour_entry(HTAB *hours, TimestampTz t)
{
	bool		found;
	TsHour	   *h = hash_search(hours, &t, HASH_ENTER, &found);

	if (!found)
	{
		memset(&h->m, 0, sizeof(h->m));
		h->problems = NULL;
		h->problems_dirty = false;
	}
	return h;
}

/* Finds the hour entry of result row `row` (bucket in column 1) and reads its
 * measures, which start at column firstcol, into *m. */
static TsHour *
ts_row_hour(HTAB *hours, int row, int firstcol, TsMeasures *m)
{
	bool		isnull;
	Datum		bucket = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, 1, &isnull);

	for (int i = 0; i < TS_NMEASURES; i++)
		m->m[i] = ts_get_int64(row, firstcol + i);
	return ts_hour_entry(hours, DatumGetTimestampTz(bucket));
}

/* Adds the problem numbers of an int4[] datum to *set. */
static void
ts_add_number_array(Datum arr, Bitmapset **set)
{
	Datum	   *elems;
	bool	   *enulls;
	int			n;

	deconstruct_array(DatumGetArrayTypeP(arr), INT4OID, sizeof(int32), true,
					  TYPALIGN_INT, &elems, &enulls, &n);
	for (int k = 0; k < n; k++)
		if (!enulls[k])
			*set = bms_add_member(*set, DatumGetInt32(elems[k]));
}

/*
 * Loads the aggregates of every UTC hour in [from, to) that has data: the
 * rollup row plus every pending delta visible to the current snapshot.  With
 * dict NULL the hours' problem sets are left out (callers that do not need
 * them save the per-hour problem lookups).
 */
HTAB *
ts_hours_load(TimestampTz from, TimestampTz to, TsProblemDict *dict)
{
	HASHCTL		ctl;
	HTAB	   *hours;
	List	   *pdeltas = NIL;
	HASH_SEQ_STATUS seq;
	TsHour	   *h;
	TsMeasures	row_m;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(TimestampTz);
	ctl.entrysize = sizeof(TsHour);
	ctl.hcxt = CurrentMemoryContext;
	hours = hash_create("troubleshooting metrics hours", 1024, &ctl,
						HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	if (from >= to)
		return hours;

	ts_run(P_HOURS, from, to);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		bool		isnull;
		Datum		arr;

		h = ts_row_hour(hours, (int) i, 2, &row_m);
		h->m = row_m;
		arr = SPI_getbinval(tup, SPI_tuptable->tupdesc, TS_NMEASURES + 2, &isnull);
		if (!isnull && dict != NULL)
			ts_add_number_array(arr, &h->problems);
	}

	ts_run(P_DELTAS, from, to);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		bool		isnull;
		TsMeasures	d;

		h = ts_row_hour(hours, (int) i, 3, &d);
		ts_measures_add(&h->m, &d);
		(void) SPI_getbinval(tup, SPI_tuptable->tupdesc, 2, &isnull);
		if (!isnull && d.m[M_SESSIONS] != 0 && dict != NULL)
		{
			TsProblemDelta *pd = palloc(sizeof(TsProblemDelta));

			pd->hour = h->hour;
			pd->problem = SPI_getvalue(tup, SPI_tuptable->tupdesc, 2);
			pd->sessions = d.m[M_SESSIONS];
			pdeltas = lappend(pdeltas, pd);
			h->problems_dirty = true;
		}
	}

	if (pdeltas != NIL)
	{
		hash_seq_init(&seq, hours);
		while ((h = hash_seq_search(&seq)) != NULL)
			if (h->problems_dirty)
				ts_hour_problems_refresh(h, pdeltas, dict);
	}
	return hours;
}
