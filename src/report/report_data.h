/*
 * report_data.h
 *	  Collecting the figures of a report period (report_data.c).
 */
#ifndef TS_REPORT_REPORT_DATA_H
#define TS_REPORT_REPORT_DATA_H

#include "postgres.h"

#include "report/filters.h"
#include "report/stats.h"
#include "utils/numeric.h"

extern void ts_report_collect(TsPeriodStats *st, const TsReportFilters *f,
							  const char *granularity);
extern Numeric ts_percentile(double *vals, int n, double p);

#endif							/* TS_REPORT_REPORT_DATA_H */
