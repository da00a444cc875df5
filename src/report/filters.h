/*
 * filters.h
 *	  A report's validated filters (filters.c).
 */
#ifndef TS_REPORT_FILTERS_H
#define TS_REPORT_FILTERS_H

#include "postgres.h"

#include "utils/jsonb.h"

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

extern void ts_parse_filters(Jsonb *filters, TsReportFilters *f);

#endif							/* TS_REPORT_FILTERS_H */
