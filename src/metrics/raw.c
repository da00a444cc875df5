/*
 * raw.c
 *	  The metrics read straight from the raw session, attempt and feedback
 *	  tables: the partial hours at the buckets' edges, all in one query per
 *	  table, and whole ranges when no maintenance worker folds this
 *	  database's deltas (ts_metrics_read_raw).
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
#include "utils/lsyscache.h"
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

/*
 * The raw tables grouped by piece of range: %1$s the schema, %2$s the
 * condition on the time column that picks the ranges (ts_ranges_sql: $1 and
 * $2), $3 the lows of the ranges' pieces in single buckets (ts_range_pieces).
 * A row's piece is width_bucket() over those instants, which the session's
 * time zone placed: the same wherever it runs (on Citus a worker node runs
 * its shards' part, in its own time zone).
 */
static const char *const ts_raw_queries[3] = {
	"SELECT width_bucket(started_at, $3), count(*),"
	" count(*) FILTER (WHERE status = 'resolved'), count(*) FILTER (WHERE status = 'escalated'),"
	" count(*) FILTER (WHERE status IN ('abandoned', 'timed_out')),"
	" count(*) FILTER (WHERE status = 'resolved' AND resolved_at IS NOT NULL),"
	" coalesce(sum((extract(epoch FROM resolved_at - started_at) * 1000000::numeric)::bigint)"
	"   FILTER (WHERE status = 'resolved' AND resolved_at IS NOT NULL), 0)::bigint,"
	" array_agg(DISTINCT detected_problem_id) FILTER (WHERE detected_problem_id IS NOT NULL)"
	" FROM %1$s.support_troubleshooting_sessions WHERE %2$s GROUP BY 1",
	"SELECT width_bucket(attempted_at, $3), count(*), count(*) FILTER (WHERE success)"
	" FROM %1$s.support_troubleshooting_attempts WHERE %2$s GROUP BY 1",
	"SELECT width_bucket(collected_at, $3), count(*), coalesce(sum(rating), 0),"
	" count(nps_score), count(*) FILTER (WHERE nps_score >= 9), count(*) FILTER (WHERE nps_score <= 6)"
	" FROM %1$s.support_troubleshooting_feedback WHERE %2$s GROUP BY 1",
};

/* The time column of each of ts_raw_queries. */
static const char *const ts_raw_columns[3] = {"started_at", "attempted_at", "collected_at"};

/*
 * Adds the raw rows of the n ranges (sorted, inside the buckets) to the
 * buckets they fall in, each table in one query grouped by piece of range,
 * and sets every bucket's count of unique problems.
 */
void
ts_raw_ranges(TsBucket *buckets, int nbuckets, const TsRange *ranges, int n, TsProblemDict *dict)
{
	Oid			types[3] = {TIMESTAMPTZARRAYOID, TIMESTAMPTZARRAYOID, TIMESTAMPTZARRAYOID};
	Datum		args[3];
	TimestampTz *lows = palloc(sizeof(TimestampTz) * (n + nbuckets + 1));
	int		   *bucket = palloc(sizeof(int) * (n + nbuckets + 1));
	int			np = ts_range_pieces(buckets, nbuckets, ranges, n, lows, bucket);
	const char *nsp = quote_identifier(get_namespace_name(ts_metrics_schema()));

	args[0] = ts_ranges_bounds(ranges, n, false);
	args[1] = ts_ranges_bounds(ranges, n, true);
	args[2] = ts_times_array(lows, np);
	for (int q = 0; q < 3 && np > 0; q++)
	{
		int			ret = ts_ranges_execute(psprintf(ts_raw_queries[q], nsp,
													 ts_ranges_sql(ts_raw_columns[q], n)),
											n, 3, types, args, NULL);

		if (ret != SPI_OK_SELECT)
			elog(ERROR, "metrics query failed: %s", SPI_result_code_string(ret));
		for (uint64 r = 0; r < SPI_processed; r++)
		{
			int64		k = ts_get_int64((int) r, 1);
			TsBucket   *b;

			CHECK_FOR_INTERRUPTS();
			if (k < 1 || k > np)
				continue;
			b = &buckets[bucket[k - 1]];
			if (q == 0)
				ts_raw_sessions_row(&b->m, r, 2, &b->problems, dict);
			else if (q == 1)
				ts_raw_attempts_row(&b->m, r, 2);
			else
				ts_raw_feedback_row(&b->m, r, 2);
		}
	}
	for (int i = 0; i < nbuckets; i++)
		buckets[i].unique_problems = bms_num_members(buckets[i].problems);
}

/*
 * Fills every bucket from the raw tables, each in one pass grouped by
 * bucket: what ts_metrics_read_raw chose.
 */
void
ts_raw_buckets(TsBucket *buckets, int n, TsProblemDict *dict)
{
	TsRange		whole;

	if (n == 0)
		return;
	whole.lo = buckets[0].lo;
	whole.hi = buckets[n - 1].hi;
	ts_raw_ranges(buckets, n, &whole, 1, dict);
}
