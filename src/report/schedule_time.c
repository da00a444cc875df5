/*
 * schedule_time.c
 *	  Due times and report periods of report schedules, computed in each
 *	  schedule's own time zone, and their SQL functions
 *	  ts_report_schedule_due() and ts_report_schedule_period().
 *
 * A schedule is due at time_of_day (wall-clock time in its zone) every day,
 * on an ISO weekday, or on a day of the month (1-28, so every month has it).
 * Days are walked in the zone and each due time converted with the zone's
 * rules: a time a DST change skips runs as PostgreSQL reads it (02:30 on a
 * spring-forward night is 03:30 daylight time); a time it repeats runs once,
 * at its standard-time instance.  A report covers the day, ISO week or
 * calendar month before the one its due time falls in, midnight to midnight
 * in the zone.
 */
#include "postgres.h"

#include "report/schedule_time.h"

#include "access/htup_details.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/fmgrprotos.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(ts_report_schedule_due);
PG_FUNCTION_INFO_V1(ts_report_schedule_period);

/* Parses a frequency name; errors on anything else. */
char
ts_schedule_frequency(const char *s)
{
	if (strcmp(s, "daily") == 0 || strcmp(s, "weekly") == 0 || strcmp(s, "monthly") == 0)
		return s[0];
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown frequency \"%s\"", s),
			 errhint("Use daily, weekly or monthly.")));
	return 0;					/* keep compiler quiet */
}

/* The wall-clock time of instant t in zone tz. */
static Timestamp
ts_local(TimestampTz t, const char *tz)
{
	return DatumGetTimestamp(DirectFunctionCall2(timestamptz_zone, CStringGetTextDatum(tz),
												 TimestampTzGetDatum(t)));
}

/* The instant wall-clock time local denotes in zone tz. */
static TimestampTz
ts_instant(Timestamp local, const char *tz)
{
	return DatumGetTimestampTz(DirectFunctionCall2(timestamp_zone, CStringGetTextDatum(tz),
												   TimestampGetDatum(local)));
}

/* Day number (days since 2000-01-01) of a wall-clock time. */
static int
ts_day(Timestamp local)
{
	int64		d = local / USECS_PER_DAY;

	if (local % USECS_PER_DAY < 0)
		d--;
	return (int) d;
}

/* ISO weekday (1 = Monday ... 7 = Sunday) of day number d. */
static int
ts_iso_weekday(int d)
{
	int			dow = j2day(d + POSTGRES_EPOCH_JDATE);	/* 0 = Sunday */

	return dow == 0 ? 7 : dow;
}

/* True if the schedule runs on day number d. */
static bool
ts_runs_on(const TsTiming *t, int d)
{
	int			y,
				m,
				md;

	if (t->frequency == 'w')
		return ts_iso_weekday(d) == t->weekday;
	if (t->frequency == 'm')
	{
		j2date(d + POSTGRES_EPOCH_JDATE, &y, &m, &md);
		return md == t->month_day;
	}
	return true;
}

/* The instant the schedule is due on day number d. */
static TimestampTz
ts_due_on(const TsTiming *t, int d)
{
	return ts_instant((Timestamp) d * USECS_PER_DAY + t->time_of_day, t->time_zone);
}

/*
 * The first due time after at (next), or the latest at or before it.  Days
 * are walked in the schedule's zone; one on either side covers the offset.
 */
TimestampTz
ts_schedule_due(const TsTiming *t, TimestampTz at, bool next)
{
	int			day;

	if (TIMESTAMP_NOT_FINITE(at))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("due times need a finite timestamp")));
	day = ts_day(ts_local(at, t->time_zone));
	for (int i = 0; i <= 40; i++)
	{
		int			d = next ? day - 1 + i : day + 1 - i;
		TimestampTz due;

		if (!ts_runs_on(t, d))
			continue;
		due = ts_due_on(t, d);
		if (next ? due > at : due <= at)
			return due;
	}
	elog(ERROR, "no due time within 40 days");	/* every frequency has one */
	return 0;					/* keep compiler quiet */
}

/*
 * The period a report due at due covers: the day, ISO week or calendar
 * month before the one due falls in, midnight to midnight in the zone.
 */
void
ts_schedule_period(char frequency, const char *tz, TimestampTz due,
				   TimestampTz *start, TimestampTz *end)
{
	int			day = ts_day(ts_local(due, tz));
	int			first;
	int			last;

	if (frequency == 'd')
	{
		first = day - 1;
		last = day;
	}
	else if (frequency == 'w')
	{
		last = day - (ts_iso_weekday(day) - 1);	/* this week's Monday */
		first = last - 7;
	}
	else
	{
		int			y,
					m,
					md;

		j2date(day + POSTGRES_EPOCH_JDATE, &y, &m, &md);
		last = date2j(y, m, 1) - POSTGRES_EPOCH_JDATE;
		first = (m == 1 ? date2j(y - 1, 12, 1) : date2j(y, m - 1, 1)) - POSTGRES_EPOCH_JDATE;
	}
	*start = ts_instant((Timestamp) first * USECS_PER_DAY, tz);
	*end = ts_instant((Timestamp) last * USECS_PER_DAY, tz);
}

/* Instant t as ISO 8601 wall-clock time in zone tz with its offset. */
char *
ts_schedule_iso_local(TimestampTz t, const char *tz)
{
	Timestamp	local = ts_local(t, tz);
	int64		off = (local - t) / USECS_PER_SEC;
	int64		aoff = off < 0 ? -off : off;
	struct pg_tm tm;
	fsec_t		fsec;

	if (timestamp2tm(local, NULL, &tm, &fsec, NULL, NULL) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	return psprintf("%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d",
					tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
					off < 0 ? '-' : '+', (int) (aoff / 3600), (int) (aoff % 3600 / 60));
}

/*
 * ts_report_schedule_due(frequency, time_of_day, time_zone, weekday,
 * month_day, at, next): the next due time after at, or the latest at or
 * before it.
 */
Datum
ts_report_schedule_due(PG_FUNCTION_ARGS)
{
	TsTiming	t;
	char	   *freq;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(5) || PG_ARGISNULL(6))
		PG_RETURN_NULL();
	freq = text_to_cstring(PG_GETARG_TEXT_PP(0));
	t.frequency = ts_schedule_frequency(freq);
	t.time_of_day = PG_GETARG_TIMEADT(1);
	t.time_zone = text_to_cstring(PG_GETARG_TEXT_PP(2));
	t.weekday = PG_ARGISNULL(3) ? 0 : PG_GETARG_INT32(3);
	t.month_day = PG_ARGISNULL(4) ? 0 : PG_GETARG_INT32(4);
	if (t.frequency == 'w' && (t.weekday < 1 || t.weekday > 7))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a weekly schedule needs a weekday from 1 to 7")));
	if (t.frequency == 'm' && (t.month_day < 1 || t.month_day > 28))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a monthly schedule needs a month_day from 1 to 28")));
	if (t.time_of_day < 0 || t.time_of_day >= USECS_PER_DAY)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("time_of_day must be before 24:00")));
	PG_RETURN_TIMESTAMPTZ(ts_schedule_due(&t, PG_GETARG_TIMESTAMPTZ(5), PG_GETARG_BOOL(6)));
}

/* ts_report_schedule_period(frequency, time_zone, due): the period it covers. */
Datum
ts_report_schedule_period(PG_FUNCTION_ARGS)
{
	char		freq = ts_schedule_frequency(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	char	   *tz = text_to_cstring(PG_GETARG_TEXT_PP(1));
	TimestampTz due = PG_GETARG_TIMESTAMPTZ(2);
	TupleDesc	desc;
	Datum		values[2];
	bool		nulls[2] = {false, false};
	TimestampTz start;
	TimestampTz end;

	if (TIMESTAMP_NOT_FINITE(due))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("due times need a finite timestamp")));
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	ts_schedule_period(freq, tz, due, &start, &end);
	values[0] = TimestampTzGetDatum(start);
	values[1] = TimestampTzGetDatum(end);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls)));
}
