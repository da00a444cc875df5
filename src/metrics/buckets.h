/*
 * buckets.h
 *	  The hour, day, week or month buckets of a range in the session's time
 *	  zone (buckets.c).
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

extern Interval *ts_period_interval(const char *period);
extern TsBucket *ts_make_buckets(const char *period, TimestampTz start, TimestampTz end,
								 int *nbuckets);

#endif							/* TS_METRICS_BUCKETS_H */
