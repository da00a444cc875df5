/*
 * measures.h
 *	  The partial aggregates ("measures") that the metrics rollups keep per
 *	  UTC hour, and the hour arithmetic around them (measures.c); shared by
 *	  the delta triggers, the readers and the reports.
 */
#ifndef TS_METRICS_MEASURES_H
#define TS_METRICS_MEASURES_H

#include "postgres.h"

#include "datatype/timestamp.h"

/* Measures in the column order of ts_metrics_delta and ts_metrics_hourly. */
typedef enum TsMeasure
{
	M_SESSIONS,
	M_RESOLVED,
	M_ESCALATED,
	M_ABANDONED,
	M_RES_N,
	M_RES_US,
	M_ATTEMPTS,
	M_ATTEMPTS_OK,
	M_FEEDBACK,
	M_RATING_SUM,
	M_NPS_N,
	M_PROMOTERS,
	M_DETRACTORS,
	M_RESOLVED_AT_N,
	M_RESOLVED_AT_US,
	M_ESCALATED_AT_N,
	TS_NMEASURES
} TsMeasure;

extern const char *const ts_measure_names[TS_NMEASURES];

typedef struct TsMeasures
{
	int64		m[TS_NMEASURES];
} TsMeasures;

#define TS_USECS_PER_HOUR INT64CONST(3600000000)

extern TimestampTz ts_hour_floor(TimestampTz t);
extern TimestampTz ts_hour_ceil(TimestampTz t);
extern void ts_measures_add(TsMeasures *dst, const TsMeasures *src);

#endif							/* TS_METRICS_MEASURES_H */
