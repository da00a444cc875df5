/*
 * ratio.c
 *	  The numeric arithmetic that makes every rate, average and NPS of the
 *	  metrics and the reports equal, digit for digit, to SQL's division,
 *	  avg() and round().
 */
#include "postgres.h"

#include "compat.h"
#include "metrics/ratio.h"

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"

/* round(num::numeric / den, scale), or NULL when den is 0 (as SQL computes it). */
Numeric
ts_ratio(int64 num, int64 den, int scale)
{
	Datum		q;

	if (den == 0)
		return NULL;
	q = DirectFunctionCall2(numeric_div, NumericGetDatum(int64_to_numeric(num)),
							NumericGetDatum(int64_to_numeric(den)));
	return DatumGetNumeric(DirectFunctionCall2(numeric_round, q, Int32GetDatum(scale)));
}

/* round(avg(extract(epoch FROM interval)) / 60, 2) from a sum of microseconds. */
Numeric
ts_avg_minutes(int64 sum_us, int64 n)
{
	Datum		avg;
	Datum		minutes;

	if (n == 0)
		return NULL;
	/* extract(epoch ...) is numeric with 6 decimals; avg() is sum / count */
	avg = DirectFunctionCall2(numeric_div,
							  NumericGetDatum(int64_div_fast_to_numeric(sum_us, 6)),
							  NumericGetDatum(int64_to_numeric(n)));
	minutes = DirectFunctionCall2(numeric_div, avg, NumericGetDatum(int64_to_numeric(60)));
	return DatumGetNumeric(DirectFunctionCall2(numeric_round, minutes, Int32GetDatum(2)));
}

/* round((promoters - detractors) * 100.0 / n, 2), NULL without answers. */
Numeric
ts_nps(int64 promoters, int64 detractors, int64 n)
{
	Datum		hundred;
	Datum		x;

	if (n == 0)
		return NULL;
	hundred = DirectFunctionCall3(numeric_in, CStringGetDatum("100.0"),
								  ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
	x = DirectFunctionCall2(numeric_mul, NumericGetDatum(int64_to_numeric(promoters - detractors)),
							hundred);
	x = DirectFunctionCall2(numeric_div, x, NumericGetDatum(int64_to_numeric(n)));
	return DatumGetNumeric(DirectFunctionCall2(numeric_round, x, Int32GetDatum(2)));
}
