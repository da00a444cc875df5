/*
 * by_period.c
 *	  get_troubleshooting_metrics_by_period(): one row per hour, day, ISO week
 *	  or month bucket in the session's TimeZone.  Whole UTC hours come from the
 *	  rollups (plus visible pending deltas), partial hours from the raw tables,
 *	  so the answer equals a GROUP BY over the raw rows at any history size.
 */
#include "postgres.h"

#include "metrics/buckets.h"
#include "metrics/ratio.h"
#include "metrics/raw.h"
#include "metrics/read.h"

#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

PG_FUNCTION_INFO_V1(get_troubleshooting_metrics_by_period);

/* Reports a NULL argument. */
static void
ts_null_arg(const char *name)
{
	ereport(ERROR,
			(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
			 errmsg("%s must not be null", name)));
}

/* Finds the bucket whose [start, next start) contains t (buckets sorted). */
static int
ts_bucket_of(TsBucket *b, int n, TimestampTz t)
{
	int			lo = 0,
				hi = n - 1;

	if (n == 0 || t < b[0].start)
		return -1;
	while (lo < hi)
	{
		int			mid = (lo + hi + 1) / 2;

		if (b[mid].start <= t)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

/* Accumulates rollup hours and raw partial hours into the buckets. */
static void
ts_fill_buckets(TsBucket *buckets, int n, TimestampTz start, TimestampTz end)
{
	TsProblemDict *dict;
	HTAB	   *hours;
	HASH_SEQ_STATUS seq;
	TsHour	   *h;
	TsRange    *ranges;
	int			nranges;

	ts_metrics_schema();
	dict = ts_problem_dict_load();
	if (ts_metrics_read_raw())
	{
		/* no worker folds here and the deltas have piled up: the raw tables */
		ts_raw_buckets(buckets, n, dict);
		return;
	}
	hours = ts_hours_load(ts_hour_ceil(start), ts_hour_floor(end), dict);

	/* whole hours that lie inside one bucket's counted range */
	hash_seq_init(&seq, hours);
	while ((h = hash_seq_search(&seq)) != NULL)
	{
		int			i = ts_bucket_of(buckets, n, h->hour);

		if (i < 0 || h->hour < buckets[i].lo || h->hour + TS_USECS_PER_HOUR > buckets[i].hi)
			continue;
		ts_measures_add(&buckets[i].m, &h->m);
		buckets[i].problems = bms_add_members(buckets[i].problems, h->problems);
	}

	/* the ragged edges of the buckets, from the raw tables */
	ranges = ts_partial_ranges(buckets, n, &nranges);
	ts_raw_ranges(buckets, n, ranges, nranges, dict);
}

/* Returns a Numeric as a Datum for a tuple, setting *isnull for NULL. */
static Datum
ts_numeric_datum(Numeric n, bool *isnull)
{
	*isnull = (n == NULL);
	return n ? NumericGetDatum(n) : (Datum) 0;
}

/* get_troubleshooting_metrics_by_period(period, start, end) */
Datum
get_troubleshooting_metrics_by_period(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *period;
	TimestampTz start;
	TimestampTz end;
	TsBucket   *buckets;
	int			n;
	TupleDesc	tupdesc;
	Tuplestorestate *store;
	MemoryContext oldcxt;

	if (PG_ARGISNULL(0))
		ts_null_arg("p_period");
	if (PG_ARGISNULL(1))
		ts_null_arg("p_start");
	if (PG_ARGISNULL(2))
		ts_null_arg("p_end");
	period = text_to_cstring(PG_GETARG_TEXT_PP(0));
	start = PG_GETARG_TIMESTAMPTZ(1);
	end = PG_GETARG_TIMESTAMPTZ(2);
	(void) ts_period_interval(period);
	if (TIMESTAMP_NOT_FINITE(start) || TIMESTAMP_NOT_FINITE(end))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("p_start and p_end must be finite")));
	if (start > end)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("p_start must not be after p_end"),
				 errdetail("p_start is %s, p_end is %s.",
						   pstrdup(timestamptz_to_str(start)), pstrdup(timestamptz_to_str(end)))));

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		!(rsinfo->allowedModes & SFRM_Materialize))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("set-valued function called in context that cannot accept a set")));
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	buckets = ts_make_buckets(period, start, end, &n);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ts_fill_buckets(buckets, n, start, end);
	SPI_finish();

	oldcxt = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	tupdesc = CreateTupleDescCopy(tupdesc);
	store = tuplestore_begin_heap(true, false, work_mem);
	MemoryContextSwitchTo(oldcxt);

	for (int i = 0; i < n; i++)
	{
		TsBucket   *b = &buckets[i];
		Datum		v[13];
		bool		isnull[13] = {0};

		v[0] = TimestampTzGetDatum(b->start);
		v[1] = Int64GetDatum(b->m.m[M_SESSIONS]);
		v[2] = Int64GetDatum(b->m.m[M_RESOLVED]);
		v[3] = Int64GetDatum(b->m.m[M_ESCALATED]);
		v[4] = Int64GetDatum(b->m.m[M_ABANDONED]);
		v[5] = ts_numeric_datum(ts_ratio(b->m.m[M_RESOLVED], b->m.m[M_SESSIONS], 4), &isnull[5]);
		v[6] = ts_numeric_datum(ts_avg_minutes(b->m.m[M_RES_US], b->m.m[M_RES_N]), &isnull[6]);
		v[7] = Int64GetDatum(b->unique_problems);
		v[8] = Int64GetDatum(b->m.m[M_ATTEMPTS]);
		v[9] = Int64GetDatum(b->m.m[M_ATTEMPTS_OK]);
		v[10] = Int64GetDatum(b->m.m[M_FEEDBACK]);
		v[11] = ts_numeric_datum(ts_ratio(b->m.m[M_RATING_SUM], b->m.m[M_FEEDBACK], 2), &isnull[11]);
		v[12] = ts_numeric_datum(ts_nps(b->m.m[M_PROMOTERS], b->m.m[M_DETRACTORS], b->m.m[M_NPS_N]),
								 &isnull[12]);
		tuplestore_putvalues(store, tupdesc, v, isnull);
	}

	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = store;
	rsinfo->setDesc = tupdesc;
	return (Datum) 0;
}
