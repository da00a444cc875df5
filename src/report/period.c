/*
 * period.c
 *	  The report types (names, titles) and the periods a report covers: the
 *	  default range of each type and the previous period its trends compare
 *	  against, in the session's time zone.
 */
#include "postgres.h"

#include "metrics/buckets.h"
#include "report/period.h"

#include "access/xact.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

/* indexed by TsReportType */
static const char *const ts_report_types[] = {
	"daily", "weekly", "monthly", "problem_analysis", "customer_satisfaction", "custom"
};
static const char *const ts_report_titles[] = {
	"Daily troubleshooting report", "Weekly troubleshooting report",
	"Monthly troubleshooting report", "Problem analysis", "Customer satisfaction report",
	"Troubleshooting report"
};

/* t + iv in the session time zone. */
static TimestampTz
ts_add_interval(TimestampTz t, Interval *iv, int sign)
{
	return DatumGetTimestampTz(DirectFunctionCall2(sign > 0 ? timestamptz_pl_interval
												   : timestamptz_mi_interval,
												   TimestampTzGetDatum(t), PointerGetDatum(iv)));
}

/* date_trunc(unit, t) in the session time zone. */
static TimestampTz
ts_trunc(const char *unit, TimestampTz t)
{
	return DatumGetTimestampTz(DirectFunctionCall2(timestamptz_trunc, CStringGetTextDatum(unit),
												   TimestampTzGetDatum(t)));
}

/* Index of a report type, or an error naming the valid ones. */
int
ts_report_type_index(const char *type)
{
	for (int i = 0; i < (int) lengthof(ts_report_types); i++)
		if (strcmp(type, ts_report_types[i]) == 0)
			return i;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown report type \"%s\"", type),
			 errhint("Use daily, weekly, monthly, problem_analysis, customer_satisfaction or custom.")));
}

/* The natural length of a report type's period (custom: none). */
static Interval *
ts_type_length(int type)
{
	switch (type)
	{
		case TS_REPORT_DAILY:
			return ts_period_interval("day");
		case TS_REPORT_WEEKLY:
			return ts_period_interval("week");
		case TS_REPORT_MONTHLY:
			return ts_period_interval("month");
		case TS_REPORT_PROBLEM_ANALYSIS:
		case TS_REPORT_CUSTOMER_SATISFACTION:
			{
				Interval   *iv = palloc0(sizeof(Interval));

				iv->day = 30;
				return iv;
			}
		default:
			return NULL;
	}
}

/* Fills in a missing start or end from the report type's defaults. */
void
ts_report_period(int type, bool has_start, TimestampTz *start, bool has_end, TimestampTz *end)
{
	Interval   *len = ts_type_length(type);

	if (len == NULL && (!has_start || !has_end))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("a custom report needs p_start and p_end")));
	if (!has_start && !has_end)
	{
		/* the last whole day, ISO week, month or 30 days before today */
		const char *unit = type == TS_REPORT_WEEKLY ? "week" : type == TS_REPORT_MONTHLY ? "month" : "day";

		*end = ts_trunc(unit, GetCurrentTransactionStartTimestamp());
		*start = ts_add_interval(*end, len, -1);
	}
	else if (!has_end)
		*end = ts_add_interval(*start, len, 1);
	else if (!has_start)
		*start = ts_add_interval(*end, len, -1);

	if (TIMESTAMP_NOT_FINITE(*start) || TIMESTAMP_NOT_FINITE(*end))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("p_start and p_end must be finite")));
	if (*start >= *end)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("p_start must be before p_end"),
				 errdetail("p_start is %s, p_end is %s.",
						   pstrdup(timestamptz_to_str(*start)), pstrdup(timestamptz_to_str(*end)))));
}

/* The period before [start, end): a day, week or month back if it is one, else as long. */
void
ts_previous_period(TimestampTz start, TimestampTz end, TimestampTz *pstart)
{
	const char *units[] = {"day", "week", "month"};

	for (int i = 0; i < (int) lengthof(units); i++)
	{
		Interval   *iv = ts_period_interval(units[i]);

		if (ts_add_interval(start, iv, 1) == end)
		{
			*pstart = ts_add_interval(start, iv, -1);
			return;
		}
	}
	*pstart = start - (end - start);
}

/* The name of a report type (an index of ts_report_type_index). */
const char *
ts_report_type_name(int type)
{
	return ts_report_types[type];
}

/* The document title of a report type. */
const char *
ts_report_type_title(int type)
{
	return ts_report_titles[type];
}
