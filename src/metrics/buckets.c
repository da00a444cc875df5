/*
 * buckets.c
 *	  The buckets of get_troubleshooting_metrics_by_period() and of the
 *	  reports' series: one per hour, day, ISO week or month in the session's
 *	  TimeZone, from date_trunc(period, start) up to the end of the range.
 */
#include "postgres.h"

#include "compat.h"
#include "metrics/buckets.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
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
