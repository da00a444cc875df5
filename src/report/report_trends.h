/*
 * report_trends.h
 *	  The KPIs of a period, and the trends and recommendations that compare
 *	  two periods (report_trends.c).
 */
#ifndef TS_REPORT_REPORT_TRENDS_H
#define TS_REPORT_REPORT_TRENDS_H

#include "postgres.h"

#include "lib/stringinfo.h"
#include "report/stats.h"
#include "utils/numeric.h"

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

extern Numeric ts_kpi_value(const TsPeriodStats *st, TsKpi k);

extern void ts_report_trends(StringInfo out, const TsPeriodStats *cur,
							 const TsPeriodStats *prev);
extern void ts_report_recommendations(StringInfo out, const TsPeriodStats *cur,
									  const TsPeriodStats *prev, const char *report_type);

#endif							/* TS_REPORT_REPORT_TRENDS_H */
