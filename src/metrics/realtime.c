/*
 * realtime.c
 *	  get_troubleshooting_realtime_metrics() (the existing API's JSON) and
 *	  ts_realtime_kpis() (behind vw_troubleshooting_realtime_metrics).  The
 *	  24-hour figures come from the hourly rollups plus raw partial hours; the
 *	  one-hour figures, the active sessions and problem titles from indexes.
 *	  Windows are [now() - span, now()], both ends included.
 */
#include "postgres.h"

#include "base/json_write.h"
#include "compat.h"
#include "metrics/ratio.h"
#include "metrics/raw.h"
#include "metrics/read.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(get_troubleshooting_realtime_metrics);
PG_FUNCTION_INFO_V1(ts_realtime_kpis);

#define TS_TOP_PROBLEMS 10

/* Sessions started in the last 24 hours with one problem id. */
typedef struct TsProblemCount
{
	char	   *problem;
	char	   *title;
	int64		sessions;
	int64		resolved;
	int64		escalated;
} TsProblemCount;

typedef struct TsRealtime
{
	TimestampTz now;
	int64		active;
	int64		resolved_1h;
	int64		escalated_1h;
	int64		res_n_24h;
	int64		res_us_24h;
	int64		feedback_24h;
	int64		rating_sum_24h;
	int64		unique_24h;
	List	   *problems;		/* TsProblemCount, most sessions first */
	char	   *timestamp;		/* now() in ISO 8601, UTC */
	char	   *active_json;
} TsRealtime;

/* Adds the rows of the last (problem, sessions, resolved, escalated) result. */
static void
ts_merge_problem_rows(List **list)
{
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		char	   *problem = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		TsProblemCount *pc = NULL;
		ListCell   *lc;

		foreach(lc, *list)
		{
			if (strcmp(((TsProblemCount *) lfirst(lc))->problem, problem) == 0)
			{
				pc = lfirst(lc);
				break;
			}
		}
		if (pc == NULL)
		{
			pc = palloc0(sizeof(TsProblemCount));
			pc->problem = problem;
			*list = lappend(*list, pc);
		}
		pc->sessions += ts_get_int64((int) i, 2);
		pc->resolved += ts_get_int64((int) i, 3);
		pc->escalated += ts_get_int64((int) i, 4);
	}
}

/* Orders problems by sessions (descending), then id. */
static int
ts_problem_cmp(const ListCell *a, const ListCell *b)
{
	const TsProblemCount *x = lfirst(a);
	const TsProblemCount *y = lfirst(b);

	if (x->sessions != y->sessions)
		return x->sessions > y->sessions ? -1 : 1;
	return strcmp(x->problem, y->problem);
}

/* Runs a plan over [a, b) if the range is not empty. */
static bool
ts_exec_range(int plan, TimestampTz a, TimestampTz b)
{
	if (a >= b)
		return false;
	ts_exec(plan, TimestampTzGetDatum(a), TimestampTzGetDatum(b));
	return true;
}

/* Computes every realtime figure; with lists, also top problems and active sessions. */
static void
ts_realtime_compute(TsRealtime *rt, bool lists)
{
	TimestampTz end;
	TimestampTz day_ago;
	TimestampTz first_full;
	TimestampTz last_full;
	HTAB	   *hours;
	HASH_SEQ_STATUS seq;
	TsHour	   *h;
	List	   *problems = NIL;
	ListCell   *lc;

	rt->now = GetCurrentTransactionStartTimestamp();
	end = rt->now + 1;			/* windows include now() itself */
	day_ago = rt->now - USECS_PER_DAY;
	first_full = ts_hour_ceil(day_ago);
	last_full = Max(ts_hour_floor(end), first_full);

	ts_metrics_schema();
	if (ts_metrics_read_raw())
		first_full = last_full = end;	/* the whole day from the raw tables */
	ts_exec(P_ACTIVE_COUNT, 0, 0);
	rt->active = ts_get_int64(0, 1);

	ts_exec(P_RAW_RESOLVED, TimestampTzGetDatum(rt->now - USECS_PER_HOUR), TimestampTzGetDatum(end));
	rt->resolved_1h = ts_get_int64(0, 1);
	ts_exec(P_RAW_ESCALATED, TimestampTzGetDatum(rt->now - USECS_PER_HOUR), TimestampTzGetDatum(end));
	rt->escalated_1h = ts_get_int64(0, 1);

	/* whole hours of the last day from the rollups */
	hours = ts_hours_load(first_full, last_full, NULL);	/* problems come below */
	hash_seq_init(&seq, hours);
	while ((h = hash_seq_search(&seq)) != NULL)
	{
		rt->res_n_24h += h->m.m[M_RESOLVED_AT_N];
		rt->res_us_24h += h->m.m[M_RESOLVED_AT_US];
		rt->feedback_24h += h->m.m[M_FEEDBACK];
		rt->rating_sum_24h += h->m.m[M_RATING_SUM];
	}

	/* and its two partial hours from the raw tables */
	for (int side = 0; side < 2; side++)
	{
		TimestampTz a = side == 0 ? day_ago : last_full;
		TimestampTz b = side == 0 ? Min(first_full, end) : end;

		if (ts_exec_range(P_RAW_RESOLVED, a, b))
		{
			rt->res_n_24h += ts_get_int64(0, 1);
			rt->res_us_24h += ts_get_int64(0, 2);
		}
		if (ts_exec_range(P_RAW_FEEDBACK, a, b))
		{
			rt->feedback_24h += ts_get_int64(0, 1);
			rt->rating_sum_24h += ts_get_int64(0, 2);
		}
		if (ts_exec_range(P_RAW_PROBLEMS, a, b))
			ts_merge_problem_rows(&problems);
	}

	/* sessions per problem: folded hours, pending deltas, partial hours */
	if (ts_exec_range(P_PROBLEM_RANGE, first_full, last_full))
		ts_merge_problem_rows(&problems);
	if (ts_exec_range(P_PROBLEM_DELTAS, first_full, last_full))
		ts_merge_problem_rows(&problems);

	foreach(lc, problems)
	{
		TsProblemCount *pc = lfirst(lc);

		if (pc->sessions > 0)
			rt->unique_24h++;
		else
			problems = foreach_delete_current(problems, lc);
	}
	if (!lists)
		return;

	list_sort(problems, ts_problem_cmp);
	if (list_length(problems) > TS_TOP_PROBLEMS)
		problems = list_truncate(problems, TS_TOP_PROBLEMS);
	foreach(lc, problems)
	{
		TsProblemCount *pc = lfirst(lc);

		ts_exec(P_TITLE, CStringGetTextDatum(pc->problem), (Datum) 0);
		pc->title = SPI_processed ? SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1) : NULL;
	}
	rt->problems = problems;

	ts_exec(P_ACTIVE_LIST, TimestampTzGetDatum(rt->now), (Datum) 0);
	rt->timestamp = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	rt->active_json = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
}

/* Copies what rt points to in SPI memory into context cxt. */
static void
ts_realtime_copy_out(TsRealtime *rt, MemoryContext cxt)
{
	MemoryContext old = MemoryContextSwitchTo(cxt);
	List	   *copy = NIL;
	ListCell   *lc;

	foreach(lc, rt->problems)
	{
		TsProblemCount *dst = palloc(sizeof(TsProblemCount));

		*dst = *(TsProblemCount *) lfirst(lc);
		dst->problem = pstrdup(dst->problem);
		dst->title = dst->title ? pstrdup(dst->title) : NULL;
		copy = lappend(copy, dst);
	}
	rt->problems = copy;
	rt->timestamp = rt->timestamp ? pstrdup(rt->timestamp) : NULL;
	rt->active_json = rt->active_json ? pstrdup(rt->active_json) : NULL;
	MemoryContextSwitchTo(old);
}

/* Runs ts_realtime_compute inside its own SPI connection. */
static void
ts_realtime(TsRealtime *rt, bool lists)
{
	MemoryContext outer = CurrentMemoryContext;

	memset(rt, 0, sizeof(*rt));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ts_realtime_compute(rt, lists);
	ts_realtime_copy_out(rt, outer);
	SPI_finish();
}

/* get_troubleshooting_realtime_metrics(): the dashboard document. */
Datum
get_troubleshooting_realtime_metrics(PG_FUNCTION_ARGS)
{
	TsRealtime	rt;
	StringInfoData buf;
	ListCell   *lc;
	bool		first = true;

	ts_realtime(&rt, true);

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"timestamp\": ");
	ts_json_text(&buf, rt.timestamp);
	appendStringInfo(&buf, ", \"metrics\": {\"active_sessions\": " INT64_FORMAT
					 ", \"resolved_last_hour\": " INT64_FORMAT
					 ", \"escalated_last_hour\": " INT64_FORMAT
					 ", \"avg_resolution_time_minutes\": ",
					 rt.active, rt.resolved_1h, rt.escalated_1h);
	ts_json_numeric(&buf, ts_avg_minutes(rt.res_us_24h, rt.res_n_24h));
	appendStringInfo(&buf, ", \"unique_problems_24h\": " INT64_FORMAT ", \"avg_rating_24h\": ",
					 rt.unique_24h);
	ts_json_numeric(&buf, ts_ratio(rt.rating_sum_24h, rt.feedback_24h, 2));
	appendStringInfoString(&buf, "}, \"top_problems\": [");
	foreach(lc, rt.problems)
	{
		TsProblemCount *pc = lfirst(lc);

		ts_json_object_begin(&buf, first);
		first = false;
		appendStringInfoString(&buf, "\"problem_id\": ");
		ts_json_text(&buf, pc->problem);
		appendStringInfoString(&buf, ", \"title\": ");
		ts_json_text(&buf, pc->title);
		appendStringInfo(&buf, ", \"sessions\": " INT64_FORMAT ", \"resolved\": " INT64_FORMAT
						 ", \"escalated\": " INT64_FORMAT ", \"resolution_rate\": ",
						 pc->sessions, pc->resolved, pc->escalated);
		ts_json_numeric(&buf, ts_ratio(pc->resolved, pc->sessions, 4));
		appendStringInfoChar(&buf, '}');
	}
	appendStringInfo(&buf, "], \"active_sessions\": %s}", rt.active_json);

	return DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data));
}

/* ts_realtime_kpis(): the six KPIs as one row (the view's body). */
Datum
ts_realtime_kpis(PG_FUNCTION_ARGS)
{
	TsRealtime	rt;
	TupleDesc	tupdesc;
	Datum		v[6];
	bool		isnull[6] = {0};
	Numeric		n;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	tupdesc = BlessTupleDesc(tupdesc);

	ts_realtime(&rt, false);
	v[0] = Int64GetDatum(rt.active);
	v[1] = Int64GetDatum(rt.resolved_1h);
	v[2] = Int64GetDatum(rt.escalated_1h);
	n = ts_avg_minutes(rt.res_us_24h, rt.res_n_24h);
	v[3] = n ? NumericGetDatum(n) : (Datum) 0;
	isnull[3] = (n == NULL);
	v[4] = Int64GetDatum(rt.unique_24h);
	n = ts_ratio(rt.rating_sum_24h, rt.feedback_24h, 2);
	v[5] = n ? NumericGetDatum(n) : (Datum) 0;
	isnull[5] = (n == NULL);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, v, isnull)));
}
