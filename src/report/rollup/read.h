/*
 * read.h
 *	  The whole hours of a report period from the report rollups, with the
 *	  pending changes the reader can see (read.c).
 */
#ifndef TS_REPORT_ROLLUP_READ_H
#define TS_REPORT_ROLLUP_READ_H

#include "postgres.h"

#include "report/filters.h"
#include "report/stats.h"

extern void ts_rollup_sessions(TsPeriodStats *st, const TsReportFilters *f);
extern void ts_rollup_attempts(TsPeriodStats *st, const TsReportFilters *f);
extern void ts_rollup_feedback(TsPeriodStats *st, const TsReportFilters *f, bool distinct);
extern int64 ts_rollup_rated_raw(const TsPeriodStats *st, const TsReportFilters *f);
extern int64 ts_rollup_rated_edge(const TsPeriodStats *st, const TsReportFilters *f,
								  const TsRange *ranges, int n);

#endif							/* TS_REPORT_ROLLUP_READ_H */
