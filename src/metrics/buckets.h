/*
 * buckets.h
 *	  The hour, day, week or month buckets of a range in the session's time
 *	  zone, and the ranges of them the raw tables answer (buckets.c).
 */
#ifndef TS_METRICS_BUCKETS_H
#define TS_METRICS_BUCKETS_H

#include "postgres.h"

#include "metrics/measures.h"
#include "nodes/bitmapset.h"

/* One bucket of get_troubleshooting_metrics_by_period, counted over [lo, hi). */
typedef struct TsBucket
{
	TimestampTz start;			/* period_start */
	TimestampTz lo;				/* counted range [lo, hi) */
	TimestampTz hi;
	TsMeasures	m;
	Bitmapset  *problems;
	int64		unique_problems;
} TsBucket;

/* A range [lo, hi) of a period that the raw tables answer. */
typedef struct TsRange
{
	TimestampTz lo;
	TimestampTz hi;
} TsRange;

extern Interval *ts_period_interval(const char *period);
extern TsBucket *ts_make_buckets(const char *period, TimestampTz start, TimestampTz end,
								 int *nbuckets);
extern TsRange *ts_partial_ranges(const TsBucket *buckets, int n, int *nranges);
extern int	ts_range_pieces(const TsBucket *buckets, int nbuckets, const TsRange *ranges, int n,
							TimestampTz *lows, int *bucket);
extern char *ts_ranges_sql(const char *col, int n);
extern Datum ts_times_array(const TimestampTz *times, int n);
extern Datum ts_ranges_bounds(const TsRange *ranges, int n, bool high);
extern int	ts_ranges_execute(const char *sql, int n, int nargs, Oid *types, Datum *values,
							  const char *nulls);

#endif							/* TS_METRICS_BUCKETS_H */
