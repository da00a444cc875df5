/*
 * report_int.h
 *	  Internal structures of report generation: the validated filters and the
 *	  figures of one period, shared by generate.c, report_data.c and
 *	  report_trends.c.
 */
#ifndef TS_REPORT_INT_H
#define TS_REPORT_INT_H

#include "postgres.h"

#include "metrics/buckets.h"
#include "metrics/ratio.h"
#include "metrics/read.h"

#include "lib/stringinfo.h"
#include "nodes/pg_list.h"
#include "utils/numeric.h"

/* The filters of a report, validated (NULL / 0 = not given). */
typedef struct TsReportFilters
{
	Datum		problem_ids;	/* text[] */
	Datum		statuses;		/* text[] */
	char	   *email_domain;
	char	   *agent;
	int			min_rating;
	int			max_rating;
	bool		on_sessions;	/* any filter on which sessions count */
} TsReportFilters;

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

/* report_data.c */
extern void ts_report_collect(TsPeriodStats *st, const TsReportFilters *f,
							  const char *granularity);
extern Numeric ts_percentile(double *vals, int n, double p);
extern TsProblemStats *ts_report_problem(TsPeriodStats *st, const char *id);
extern TsStepStats *ts_report_step(TsProblemStats *p, int step_number);
extern void ts_report_title(List **tally, const char *title, int64 n);
extern void ts_report_add_sessions(TsPeriodStats *st, int bucket, TsProblemStats *p,
								   const char *status, int64 n, int64 rated);
extern void ts_report_add_minutes(TsProblemStats *p, int64 us, bool removed);

/* rollup/read.c: whole hours from the rollups (with pending changes) */
extern void ts_rollup_sessions(TsPeriodStats *st, const TsReportFilters *f);
extern void ts_rollup_attempts(TsPeriodStats *st, const TsReportFilters *f);
extern void ts_rollup_feedback(TsPeriodStats *st, const TsReportFilters *f, bool distinct);
extern int	ts_rollup_bucket(const TsPeriodStats *st, TimestampTz hour);
extern int64 ts_rollup_rated_raw(const TsPeriodStats *st, const TsReportFilters *f);
extern int64 ts_rollup_rated_edge(const TsPeriodStats *st, const TsReportFilters *f,
								  TimestampTz lo, TimestampTz hi);

/* report_trends.c */
extern void ts_report_trends(StringInfo out, const TsPeriodStats *cur,
							 const TsPeriodStats *prev);
extern void ts_report_recommendations(StringInfo out, const TsPeriodStats *cur,
									  const TsPeriodStats *prev, const char *report_type);

/* KPIs compared between periods, in report order */
typedef enum TsKpi
{
	K_TOTAL_SESSIONS,
	K_RESOLUTION_RATE,
	K_ESCALATION_RATE,
	K_AVG_RES,
	K_MEDIAN_RES,
	K_P90_RES,
	K_ATTEMPTS_PER_SESSION,
	K_FIRST_ATTEMPT,
	K_AVG_RATING,
	K_CSAT,
	K_NPS,
	K_RESPONSE_RATE,
	TS_NKPIS
} TsKpi;

extern const char *const ts_kpi_names[TS_NKPIS];
extern Numeric ts_kpi_value(const TsPeriodStats *st, TsKpi k);

#endif							/* TS_REPORT_INT_H */
