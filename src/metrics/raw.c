/*
 * raw.c
 *	  The metrics read straight from the raw session, attempt and feedback
 *	  tables: the partial hours at a range's edges, and whole ranges when no
 *	  maintenance worker folds this database's deltas (ts_metrics_read_raw).
 *	  Callers are connected to SPI and have called ts_metrics_schema().
 */
#include "postgres.h"

#include "metrics/raw.h"
#include "metrics/read.h"
#include "worker/registry.h"

#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

/* Adds the problem ids of a text[] datum to *set. */
static void
ts_add_problem_array(Datum arr, Bitmapset **set, TsProblemDict *dict)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;

	deconstruct_array(DatumGetArrayTypeP(arr), TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
		if (!nulls[i])
			*set = bms_add_member(*set, ts_problem_number(dict, TextDatumGetCString(elems[i])));
}

/*
 * Adds the measures of row `row` of a raw session query, whose columns from
 * col on are the counts and the resolution sum, then the problem ids (added
 * to *problems unless it is NULL).
 */
static void
ts_raw_sessions_row(TsMeasures *m, uint64 row, int col, Bitmapset **problems,
					TsProblemDict *dict)
{
	bool		isnull;
	Datum		arr;

	m->m[M_SESSIONS] += ts_get_int64(row, col);
	m->m[M_RESOLVED] += ts_get_int64(row, col + 1);
	m->m[M_ESCALATED] += ts_get_int64(row, col + 2);
	m->m[M_ABANDONED] += ts_get_int64(row, col + 3);
	m->m[M_RES_N] += ts_get_int64(row, col + 4);
	m->m[M_RES_US] += ts_get_int64(row, col + 5);
	arr = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col + 6, &isnull);
	if (!isnull && problems)
		ts_add_problem_array(arr, problems, dict);
}

/* Adds the measures of row `row` of a raw attempt query (columns from col on). */
static void
ts_raw_attempts_row(TsMeasures *m, uint64 row, int col)
{
	m->m[M_ATTEMPTS] += ts_get_int64(row, col);
	m->m[M_ATTEMPTS_OK] += ts_get_int64(row, col + 1);
}

/* Adds the measures of row `row` of a raw feedback query (columns from col on). */
static void
ts_raw_feedback_row(TsMeasures *m, uint64 row, int col)
{
	m->m[M_FEEDBACK] += ts_get_int64(row, col);
	m->m[M_RATING_SUM] += ts_get_int64(row, col + 1);
	m->m[M_NPS_N] += ts_get_int64(row, col + 2);
	m->m[M_PROMOTERS] += ts_get_int64(row, col + 3);
	m->m[M_DETRACTORS] += ts_get_int64(row, col + 4);
}

/* Adds the raw-table aggregates of [from, to) to *out and *problems. */
void
ts_raw_range(TimestampTz from, TimestampTz to, TsMeasures *out,
			 Bitmapset **problems, TsProblemDict *dict)
{
	Datum		a = TimestampTzGetDatum(from);
	Datum		b = TimestampTzGetDatum(to);

	if (from >= to)
		return;
	ts_exec(P_RAW_SESSIONS, a, b);
	ts_raw_sessions_row(out, 0, 1, problems, dict);
	ts_exec(P_RAW_ATTEMPTS, a, b);
	ts_raw_attempts_row(out, 0, 1);
	ts_exec(P_RAW_FEEDBACK, a, b);
	ts_raw_feedback_row(out, 0, 1);
}

/*
 * True when this database's figures should come from the raw tables: no
 * maintenance worker of this server folds its metric changes (the library
 * is not preloaded, the database is not listed in troubleshooting.database
 * or gets no slot, or the server is a hot standby whose primary does not
 * fold) and more than TS_RAW_DELTAS of them are pending.  Reading that many
 * deltas one by one would be slower than the raw tables, which answer in
 * one grouped pass each.  The first time in a session it says so with a
 * WARNING.  The answer is the same either way.
 */
bool
ts_metrics_read_raw(void)
{
	static bool warned = false;

	if (ts_registry_serves(MyDatabaseId))
		return false;
	ts_exec(P_DELTA_COUNT, 0, 0);
	if (ts_get_int64(0, 1) < TS_RAW_DELTAS)
		return false;
	if (!warned)
	{
		char	   *db = get_database_name(MyDatabaseId);

		warned = true;
		ereport(WARNING,
				(errcode(ERRCODE_WARNING),
				 errmsg("metric changes are not being folded in database \"%s\"", db ? db : "?"),
				 errdetail("%d or more changes wait in ts_metrics_delta and no troubleshooting maintenance worker serves this database; figures are read from the raw tables, which is slower than the rollups.",
						   TS_RAW_DELTAS),
				 errhint("Preload the library (shared_preload_libraries = 'troubleshooting') and let troubleshooting.database include this database, or run SELECT refresh_troubleshooting_metrics() regularly.")));
	}
	return true;
}

/* The bucket of a grouped raw row (1-based width_bucket in column 1), or NULL. */
static TsBucket *
ts_raw_bucket_of(TsBucket *buckets, int n, int row)
{
	int64		b = ts_get_int64(row, 1);

	return (b >= 1 && b <= n) ? &buckets[b - 1] : NULL;
}

/*
 * Fills every bucket from the raw tables, each in one pass grouped by
 * bucket (width_bucket over the buckets' bounds): what
 * ts_metrics_read_raw chose.  Buckets are contiguous: [lo_1, lo_2, ...,
 * lo_n, hi_n) bounds them all.
 */
void
ts_raw_buckets(TsBucket *buckets, int n, TsProblemDict *dict)
{
	Datum	   *bounds = palloc((n + 1) * sizeof(Datum));
	Datum		args[3];
	static const int plans[3] = {P_RAWB_SESSIONS, P_RAWB_ATTEMPTS, P_RAWB_FEEDBACK};

	if (n == 0)
		return;
	for (int i = 0; i < n; i++)
		bounds[i] = TimestampTzGetDatum(buckets[i].lo);
	bounds[n] = TimestampTzGetDatum(buckets[n - 1].hi);
	args[0] = PointerGetDatum(construct_array(bounds, n + 1, TIMESTAMPTZOID, sizeof(TimestampTz),
											  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	args[1] = TimestampTzGetDatum(buckets[0].lo);
	args[2] = TimestampTzGetDatum(buckets[n - 1].hi);
	for (int p = 0; p < 3; p++)
	{
		ts_exec_args(plans[p], args);
		for (uint64 r = 0; r < SPI_processed; r++)
		{
			TsBucket   *b = ts_raw_bucket_of(buckets, n, (int) r);

			CHECK_FOR_INTERRUPTS();
			if (b == NULL)
				continue;
			if (plans[p] == P_RAWB_SESSIONS)
				ts_raw_sessions_row(&b->m, r, 2, &b->problems, dict);
			else if (plans[p] == P_RAWB_ATTEMPTS)
				ts_raw_attempts_row(&b->m, r, 2);
			else
				ts_raw_feedback_row(&b->m, r, 2);
		}
	}
	for (int i = 0; i < n; i++)
		buckets[i].unique_problems = bms_num_members(buckets[i].problems);
}
