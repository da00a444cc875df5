/*
 * period.h
 *	  Report types and their periods (period.c).
 */
#ifndef TS_REPORT_PERIOD_H
#define TS_REPORT_PERIOD_H

#include "postgres.h"

#include "datatype/timestamp.h"

/* The report types, in the order of their names in period.c. */
typedef enum TsReportType
{
	TS_REPORT_DAILY,
	TS_REPORT_WEEKLY,
	TS_REPORT_MONTHLY,
	TS_REPORT_PROBLEM_ANALYSIS,
	TS_REPORT_CUSTOMER_SATISFACTION,
	TS_REPORT_CUSTOM
} TsReportType;

extern int	ts_report_type_index(const char *type);
extern const char *ts_report_type_name(int type);
extern const char *ts_report_type_title(int type);
extern void ts_report_period(int type, bool has_start, TimestampTz *start, bool has_end,
							 TimestampTz *end);
extern void ts_previous_period(TimestampTz start, TimestampTz end, TimestampTz *pstart);

#endif							/* TS_REPORT_PERIOD_H */
