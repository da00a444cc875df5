/*
 * measures.c
 *	  The names of the measures (the rollup tables' columns) and the UTC hour
 *	  arithmetic shared by the delta triggers, the readers and the reports.
 */
#include "postgres.h"

#include "metrics/measures.h"

const char *const ts_measure_names[TS_NMEASURES] = {
	"sessions", "resolved", "escalated", "abandoned", "res_n", "res_us",
	"attempts", "attempts_ok", "feedback", "rating_sum", "nps_n", "promoters",
	"detractors", "resolved_at_n", "resolved_at_us", "escalated_at_n"
};

/* Rounds a timestamp down to its UTC hour. */
TimestampTz
ts_hour_floor(TimestampTz t)
{
	TimestampTz r = t % TS_USECS_PER_HOUR;

	return r < 0 ? t - r - TS_USECS_PER_HOUR : t - r;
}

/* Rounds a timestamp up to a UTC hour. */
TimestampTz
ts_hour_ceil(TimestampTz t)
{
	TimestampTz f = ts_hour_floor(t);

	return f == t ? t : f + TS_USECS_PER_HOUR;
}

/* Adds every measure of src to dst. */
void
ts_measures_add(TsMeasures *dst, const TsMeasures *src)
{
	for (int i = 0; i < TS_NMEASURES; i++)
		dst->m[i] += src->m[i];
}
