/*
 * buckets.c
 *	  The buckets of get_troubleshooting_metrics_by_period() and of the
 *	  reports' series: one per hour, day, ISO week or month in the session's
 *	  TimeZone, from date_trunc(period, start) up to the end of the range;
 *	  the parts of them outside whole UTC hours (which the rollups answer),
 *	  and the condition that picks those ranges' raw rows in one query.
 */
#include "postgres.h"

#include "compat.h"
#include "metrics/buckets.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#define TS_MAX_BUCKETS 100000

/* Returns interval '1 <period>' for a validated period name. */
Interval *
ts_period_interval(const char *period)
{
	Interval   *iv = palloc0(sizeof(Interval));

	if (strcmp(period, "hour") == 0)
		iv->time = USECS_PER_HOUR;
	else if (strcmp(period, "day") == 0)
		iv->day = 1;
	else if (strcmp(period, "week") == 0)
		iv->day = 7;
	else if (strcmp(period, "month") == 0)
		iv->month = 1;
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown period \"%s\"", period),
				 errhint("Use hour, day, week or month.")));
	return iv;
}

/*
 * Builds the bucket list from date_trunc(period, start) up to end, exclusive:
 * no bucket starts at or after end (none at all when start equals end).
 */
TsBucket *
ts_make_buckets(const char *period, TimestampTz start, TimestampTz end, int *nbuckets)
{
	Interval   *step = ts_period_interval(period);
	Datum		unit = CStringGetTextDatum(period);
	TimestampTz b = DatumGetTimestampTz(DirectFunctionCall2(timestamptz_trunc, unit,
															TimestampTzGetDatum(start)));
	int			cap = 64;
	int			n = 0;
	TsBucket   *buckets = palloc0(sizeof(TsBucket) * cap);

	while (b < end)
	{
		TimestampTz next = DatumGetTimestampTz(DirectFunctionCall2(timestamptz_pl_interval,
																   TimestampTzGetDatum(b),
																   PointerGetDatum(step)));

		if (n >= TS_MAX_BUCKETS)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("range from %s to %s has more than %d %s buckets",
							pstrdup(timestamptz_to_str(start)), pstrdup(timestamptz_to_str(end)),
							TS_MAX_BUCKETS, period),
					 errhint("Use a longer period or a shorter range.")));
		if (n == cap)
		{
			cap *= 2;
			buckets = repalloc(buckets, sizeof(TsBucket) * cap);
			memset(buckets + n, 0, sizeof(TsBucket) * (cap - n));
		}
		buckets[n].start = b;
		buckets[n].lo = Max(b, start);
		buckets[n].hi = Min(next, end);
		n++;
		CHECK_FOR_INTERRUPTS();
		b = next;
	}
	*nbuckets = n;
	return buckets;
}

/*
 * The parts of the buckets outside whole hours of single buckets (which the
 * rollups answer): each bucket's partial first and last hour, or all of a
 * bucket without a whole hour, adjacent ranges merged; sorted.
 */
TsRange *
ts_partial_ranges(const TsBucket *buckets, int n, int *nranges)
{
	TsRange    *r = palloc(sizeof(TsRange) * (2 * n + 1));

	*nranges = 0;
	for (int i = 0; i < n; i++)
	{
		const TsBucket *b = &buckets[i];
		TimestampTz ff = ts_hour_ceil(b->lo);
		TimestampTz lf = ts_hour_floor(b->hi);
		TsRange		parts[2];
		int			np = 0;

		if (b->lo >= b->hi)
			continue;
		if (ff >= lf)
			parts[np++] = (TsRange) {b->lo, b->hi};
		else
		{
			if (b->lo < ff)
				parts[np++] = (TsRange) {b->lo, ff};
			if (lf < b->hi)
				parts[np++] = (TsRange) {lf, b->hi};
		}
		for (int k = 0; k < np; k++)
		{
			if (*nranges > 0 && r[*nranges - 1].hi == parts[k].lo)
				r[*nranges - 1].hi = parts[k].hi;
			else
				r[(*nranges)++] = parts[k];
		}
	}
	return r;
}

/*
 * The ranges (sorted, inside the buckets) cut where buckets meet: the low of
 * each piece into lows (sorted: the thresholds of a width_bucket() that
 * tells a row's piece) and its bucket's index into bucket, both with room
 * for n + nbuckets; returns how many pieces.
 */
int
ts_range_pieces(const TsBucket *buckets, int nbuckets, const TsRange *ranges, int n,
				TimestampTz *lows, int *bucket)
{
	int			np = 0;
	int			b = 0;

	for (int i = 0; i < n; i++)
	{
		TimestampTz t = ranges[i].lo;

		while (t < ranges[i].hi)
		{
			while (b < nbuckets && buckets[b].hi <= t)
				b++;
			if (b >= nbuckets)
				return np;
			lows[np] = t;
			bucket[np++] = b;
			t = Min(ranges[i].hi, buckets[b].hi);
		}
	}
	return np;
}

/*
 * The condition that column col lies in one of n ranges whose bounds are
 * the elements of parameters $1 (lows) and $2 (highs): an index range per
 * range, each estimated by its bounds (constants to the planner), all in
 * one query (on Citus, one distributed query rather than one per range).
 */
char *
ts_ranges_sql(const char *col, int n)
{
	StringInfoData buf;

	Assert(n > 0);
	initStringInfo(&buf);
	appendStringInfoChar(&buf, '(');
	for (int i = 1; i <= n; i++)
		appendStringInfo(&buf, "%s(%s >= $1[%d] AND %s < $2[%d])", i > 1 ? " OR " : "",
						 col, i, col, i);
	appendStringInfoChar(&buf, ')');
	return buf.data;
}

/* A timestamptz[] of the n times. */
Datum
ts_times_array(const TimestampTz *times, int n)
{
	Datum	   *v = palloc(sizeof(Datum) * Max(n, 1));

	for (int i = 0; i < n; i++)
		v[i] = TimestampTzGetDatum(times[i]);
	return PointerGetDatum(construct_array(v, n, TIMESTAMPTZOID, sizeof(TimestampTz),
										   FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/* The lows (or, with high, the highs) of n ranges as a timestamptz[] ($1 and $2 of ts_ranges_sql). */
Datum
ts_ranges_bounds(const TsRange *ranges, int n, bool high)
{
	TimestampTz *t = palloc(sizeof(TimestampTz) * Max(n, 1));

	for (int i = 0; i < n; i++)
		t[i] = high ? ranges[i].hi : ranges[i].lo;
	return ts_times_array(t, n);
}

/*
 * SPI_execute_with_args (read-only) of a query over n ranges of
 * ts_ranges_sql.  With several ranges JIT is off while it runs: each range
 * is a small index range, as when each was a query of its own, but their
 * summed estimate would have PostgreSQL compile the query, which costs more
 * than running it.
 */
int
ts_ranges_execute(const char *sql, int n, int nargs, Oid *types, Datum *values,
				  const char *nulls)
{
	int			nest = -1;
	int			ret;

	if (n > 1)
	{
		nest = NewGUCNestLevel();
		(void) set_config_option("jit", "off", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
								 true, 0, false);
	}
	ret = SPI_execute_with_args(sql, nargs, types, values, nulls, true, 0);
	if (nest >= 0)
		AtEOXact_GUC(true, nest);
	return ret;
}
