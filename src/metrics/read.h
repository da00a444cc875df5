/*
 * read.h
 *	  The metrics readers' saved queries and the hourly rollups plus pending
 *	  deltas (read.c).
 */
#ifndef TS_METRICS_READ_H
#define TS_METRICS_READ_H

#include "postgres.h"

#include "metrics/measures.h"
#include "nodes/bitmapset.h"
#include "utils/hsearch.h"

/*
 * Pending metric changes past which a database no maintenance worker
 * serves reads its figures from the raw tables (see ts_metrics_read_raw).
 */
#define TS_RAW_DELTAS 10000

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

/* The saved queries. */
enum
{
	P_HOURS,
	P_DELTAS,
	P_PROBLEM_HOUR,
	P_DICT,
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
	P_NPLANS
};

extern Oid	ts_metrics_schema(void);
extern void ts_exec_args(int plan, Datum *args);
extern void ts_exec(int plan, Datum a, Datum b);
extern int64 ts_get_int64(int row, int col);
extern TsProblemDict *ts_problem_dict_load(void);
extern int	ts_problem_number(TsProblemDict *dict, const char *problem);
extern HTAB *ts_hours_load(TimestampTz from, TimestampTz to, TsProblemDict *dict);

#endif							/* TS_METRICS_READ_H */
