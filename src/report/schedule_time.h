/*
 * schedule_time.h
 *	  Due times and report periods of report schedules (schedule_time.c),
 *	  used by the worker's step that runs them (schedule.c).
 */
#ifndef TS_REPORT_SCHEDULE_TIME_H
#define TS_REPORT_SCHEDULE_TIME_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "utils/date.h"

/* A schedule's timing: what the due times and the period depend on. */
typedef struct TsTiming
{
	char		frequency;		/* 'd'aily, 'w'eekly, 'm'onthly */
	TimeADT		time_of_day;
	const char *time_zone;
	int			weekday;		/* 1 (Monday) to 7, weekly only */
	int			month_day;		/* 1 to 28, monthly only */
} TsTiming;

extern char ts_schedule_frequency(const char *name);
extern TimestampTz ts_schedule_due(const TsTiming *t, TimestampTz at, bool next);
extern void ts_schedule_period(char frequency, const char *tz, TimestampTz due,
							   TimestampTz *start, TimestampTz *end);
extern char *ts_schedule_iso_local(TimestampTz t, const char *tz);

#endif							/* TS_REPORT_SCHEDULE_TIME_H */
