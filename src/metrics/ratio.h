/*
 * ratio.h
 *	  Rates, average minutes and NPS as SQL computes them (ratio.c).
 */
#ifndef TS_METRICS_RATIO_H
#define TS_METRICS_RATIO_H

#include "postgres.h"

#include "utils/numeric.h"

extern Numeric ts_ratio(int64 num, int64 den, int scale);
extern Numeric ts_avg_minutes(int64 sum_us, int64 n);
extern Numeric ts_nps(int64 promoters, int64 detractors, int64 n);

#endif							/* TS_METRICS_RATIO_H */
