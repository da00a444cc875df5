/*
 * metrics.h
 *	  The partial aggregates ("measures") that the metrics rollups keep per
 *	  UTC hour, shared by the delta triggers (rollup.c) and the readers
 *	  (metrics_read.c, metrics.c, realtime.c).
 */
#ifndef TS_METRICS_H
#define TS_METRICS_H

#include "postgres.h"

#include "access/htup.h"
#include "access/tupdesc.h"
#include "datatype/timestamp.h"
#include "nodes/bitmapset.h"
#include "utils/hsearch.h"
#include "utils/numeric.h"

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

/* One UTC hour of aggregates, with the problems that had sessions in it. */
typedef struct TsHour
{
	TimestampTz hour;			/* hash key */
	TsMeasures	m;
	Bitmapset  *problems;		/* problem numbers (see TsProblemDict) */
	bool		problems_dirty; /* pending deltas changed problem counts */
} TsHour;

/* Problem id text <-> small integer, from ts_metrics_problems plus locals. */
typedef struct TsProblemDict
{
	HTAB	   *by_name;
	int			next;
} TsProblemDict;

#define TS_USECS_PER_HOUR INT64CONST(3600000000)

extern TimestampTz ts_hour_floor(TimestampTz t);
extern TimestampTz ts_hour_ceil(TimestampTz t);
extern void ts_measures_add(TsMeasures *dst, const TsMeasures *src);

/* rollup.c: deltas of many row changes, merged before they are written */
typedef enum TsRowKind
{
	TS_ROW_SESSION,
	TS_ROW_ATTEMPT,
	TS_ROW_FEEDBACK
} TsRowKind;

typedef struct TsDeltaBatch TsDeltaBatch;

extern TsDeltaBatch *ts_delta_batch_create(void);
extern void ts_delta_batch_add(TsDeltaBatch *batch, TsRowKind kind, HeapTuple tup,
							   TupleDesc desc, int sign);
extern void ts_delta_batch_write(TsDeltaBatch *batch, Oid nspid);

/* The saved queries of metrics_read.c. */
enum
{
	P_HOURS,
	P_DELTAS,
	P_PROBLEM_HOUR,
	P_DICT,
	P_RAW_SESSIONS,
	P_RAW_ATTEMPTS,
	P_RAW_FEEDBACK,
	P_RAW_RESOLVED,
	P_RAW_ESCALATED,
	P_PROBLEM_RANGE,
	P_PROBLEM_DELTAS,
	P_RAW_PROBLEMS,
	P_ACTIVE_COUNT,
	P_TITLE,
	P_ACTIVE_LIST,
	P_DELTA_COUNT,
	P_RAWB_SESSIONS,
	P_RAWB_ATTEMPTS,
	P_RAWB_FEEDBACK,
	P_NPLANS
};

/* metrics_read.c */
extern void ts_exec(int plan, Datum a, Datum b);
extern int64 ts_get_int64(int row, int col);
extern Oid	ts_metrics_schema(void);
extern TsProblemDict *ts_problem_dict_load(void);
extern int	ts_problem_number(TsProblemDict *dict, const char *problem);
extern HTAB *ts_hours_load(TimestampTz from, TimestampTz to, TsProblemDict *dict);
extern void ts_raw_range(TimestampTz from, TimestampTz to, TsMeasures *out,
						 Bitmapset **problems, TsProblemDict *dict);
extern bool ts_metrics_read_raw(void);
extern Numeric ts_ratio(int64 num, int64 den, int scale);
extern Numeric ts_avg_minutes(int64 sum_us, int64 n);
extern Numeric ts_nps(int64 promoters, int64 detractors, int64 n);

/* metrics.c: one bucket of get_troubleshooting_metrics_by_period, counted over [lo, hi). */
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
extern void ts_fill_buckets(TsBucket *buckets, int n, TimestampTz start, TimestampTz end);

/* metrics_read.c: every bucket from the raw tables */
extern void ts_raw_buckets(TsBucket *buckets, int n, TsProblemDict *dict);

#endif							/* TS_METRICS_H */
