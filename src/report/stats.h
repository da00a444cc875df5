/*
 * stats.h
 *	  The figures a report collects for one period (stats.c): per bucket,
 *	  per problem and per fix step, with the functions that add rows to them
 *	  (used by the raw-table reads in report_data.c and the rollup reads in
 *	  rollup/read.c).
 */
#ifndef TS_REPORT_STATS_H
#define TS_REPORT_STATS_H

#include "postgres.h"

#include "metrics/buckets.h"
#include "nodes/pg_list.h"

/* How many rows carried one title (the greatest title with a positive count wins). */
typedef struct TsTitleCount
{
	char	   *title;
	int64		n;
} TsTitleCount;

/* Failed attempts of one fix step of one problem. */
typedef struct TsStepStats
{
	int			step_number;
	char	   *step_title;
	List	   *titles;			/* TsTitleCount, while collecting */
	int64		attempts;
	int64		failed;
} TsStepStats;

/* One problem's sessions in the period. */
typedef struct TsProblemStats
{
	char	   *problem_id;		/* NULL: sessions with no detected problem */
	char	   *title;
	int64		sessions;
	int64		resolved;
	int64		escalated;
	int			nres;			/* resolution minutes (in no order) */
	double	   *res_minutes;
	int			capres;
	int			ndel;			/* resolution minutes that pending changes removed */
	double	   *del_minutes;
	int			capdel;
	List	   *titles;			/* TsTitleCount, while collecting */
	int64	   *bucket_sessions;	/* sessions per series bucket */
	List	   *steps;			/* TsStepStats, most failed first */
} TsProblemStats;

/* Everything a report says about one period. */
typedef struct TsPeriodStats
{
	TimestampTz start;
	TimestampTz end;
	TsBucket   *buckets;		/* the series */
	int			nbuckets;
	TsMeasures	total;
	int64		unique_problems;
	int			nres;			/* all resolution minutes (in no order) */
	double	   *res_minutes;
	int64		finished;		/* resolved, escalated, abandoned or timed out */
	int64		finished_rated; /* ... with feedback */
	int64		first_tries;	/* attempts that were a step's first try */
	int64		first_ok;
	int64		ratings[6];		/* feedback rows per rating 1-5 */
	int64		rated_sessions;
	int64		passives;
	int64		helpful_n;
	int64		helpful_yes;
	List	   *problems;		/* TsProblemStats, most sessions first */
} TsPeriodStats;

extern TsProblemStats *ts_report_problem(TsPeriodStats *st, const char *id);
extern TsStepStats *ts_report_step(TsProblemStats *p, int step_number);
extern void ts_report_title(List **tally, const char *title, int64 n);
extern void ts_report_add_sessions(TsPeriodStats *st, int bucket, TsProblemStats *p,
								   const char *status, int64 n, int64 rated);
extern void ts_report_add_minutes(TsProblemStats *p, int64 us, bool removed);

#endif							/* TS_REPORT_STATS_H */
