/*
 * rollup_read.c
 *	  The whole hours of a report period, read from the report rollups
 *	  (ts_report_*_hourly) plus the pending changes the reader can see in
 *	  ts_report_delta, so the figures are exact under the reader's snapshot
 *	  whether or not anything was folded.  An hour counts here when it lies
 *	  whole inside one series bucket; report_data.c reads the rest (partial
 *	  hours) from the raw tables.  Also the distinct rated sessions, which
 *	  need the hour of each session's previous feedback.
 */
#include "postgres.h"

#include "compat.h"
#include "extschema.h"
#include "report/report_int.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#define TS_RNPARAMS 6
#define TS_BNPARAMS 9

/*
 * The rollup queries sum the rollup rows and the pending changes of the whole
 * hours of the series buckets per bucket: $1 maps each hour from $2 (an
 * epoch in hours) to its bucket, or -1 for the partial hours the raw queries
 * count; $3/$4 span them all; $5 problems, $6 statuses, $7/$8 rating bounds
 * (NULL: no filter), $9 the period's start.
 */
#define TS_HOUR "(($1::int4[])[(pg_catalog.date_part('epoch', x.bucket)::int8 / 3600 - $2 + 1)::int4])"
#define TS_BUCKET TS_HOUR
#define TS_INSIDE " WHERE " TS_HOUR " >= 0"
#define TS_SPAN " bucket >= $3 AND bucket < $4"
#define TS_PROBLEM_FILTER " AND ($5::text[] IS NULL OR problem = ANY ($5::text[]))"
#define TS_STATUS_FILTER " AND ($6::text[] IS NULL OR status = ANY ($6::text[]))"
#define TS_RATING_FILTER(col) " AND " col " BETWEEN coalesce($7::int4, 1) AND coalesce($8::int4, 5)"

static const char *const ts_r_sessions =
"SELECT " TS_BUCKET ", x.problem, x.title, x.status, sum(x.sessions)::int8, sum(x.rated)::int8,"
"       sum(x.res_n)::int8, sum(x.res_us)::int8"
" FROM (SELECT bucket, problem, title, status, sessions, rated, res_n, res_us"
" FROM %1$s.ts_report_sessions_hourly WHERE" TS_SPAN TS_PROBLEM_FILTER TS_STATUS_FILTER
" UNION ALL "
"SELECT bucket, problem, label, status, m1, m2, m3, us"
" FROM %1$s.ts_report_delta WHERE kind = 's' AND" TS_SPAN TS_PROBLEM_FILTER TS_STATUS_FILTER
") x" TS_INSIDE
" GROUP BY 1, 2, 3, 4";

/* The resolution times of the same rows, one array per row (merged in C, not in SQL). */
static const char *const ts_r_durations =
"SELECT x.problem, x.durations, x.dels"
" FROM (SELECT bucket, problem, durations, NULL::bigint[] AS dels"
" FROM %1$s.ts_report_sessions_hourly WHERE" TS_SPAN TS_PROBLEM_FILTER TS_STATUS_FILTER
"   AND status = 'resolved' AND cardinality(durations) > 0"
" UNION ALL "
"SELECT bucket, problem, dur_add, dur_del"
" FROM %1$s.ts_report_delta WHERE kind = 's' AND" TS_SPAN TS_PROBLEM_FILTER TS_STATUS_FILTER
"   AND (dur_add IS NOT NULL OR dur_del IS NOT NULL)"
") x" TS_INSIDE;

static const char *const ts_r_attempts =
"SELECT " TS_BUCKET ", x.problem, x.step, x.title, sum(x.attempts)::int8, sum(x.successes)::int8,"
"       sum(x.first_tries)::int8, sum(x.first_successes)::int8"
" FROM (SELECT bucket, problem, step, title, attempts, successes, first_tries, first_successes"
" FROM %1$s.ts_report_attempts_hourly WHERE" TS_SPAN TS_PROBLEM_FILTER
" UNION ALL "
"SELECT bucket, problem, num, label, m1, m2, m3, m4"
" FROM %1$s.ts_report_delta WHERE kind = 'a' AND" TS_SPAN TS_PROBLEM_FILTER
") x" TS_INSIDE
" GROUP BY 1, 2, 3, 4";

/* The last column: responses whose session's previous feedback is an hour or more before $10 (or none). */
static const char *const ts_r_feedback =
"SELECT " TS_BUCKET ", x.rating, sum(x.responses)::int8, sum(x.nps_n)::int8, sum(x.promoters)::int8,"
"       sum(x.detractors)::int8, sum(x.helpful_n)::int8, sum(x.helpful_yes)::int8,"
"       coalesce(sum(x.responses) FILTER (WHERE x.prev_hour IS NULL"
"                 OR x.prev_hour + interval '1 hour' <= $9), 0)::int8"
" FROM (SELECT bucket, rating, prev_hour, responses, nps_n, promoters, detractors, helpful_n, helpful_yes"
" FROM %1$s.ts_report_feedback_hourly WHERE" TS_SPAN TS_PROBLEM_FILTER TS_RATING_FILTER("rating")
" UNION ALL "
"SELECT bucket, num, prev_hour, m1, m2, m3, m4, m5, m6"
" FROM %1$s.ts_report_delta WHERE kind = 'f' AND" TS_SPAN TS_PROBLEM_FILTER TS_RATING_FILTER("num")
") x" TS_INSIDE
" GROUP BY 1, 2";

/* Feedback rows of matching sessions in [$1, $2) with no feedback of their session in [$4, the row). */
static const char *const ts_r_first_in_period =
"SELECT count(*) FROM %1$s.support_troubleshooting_feedback f"
" WHERE f.collected_at >= $1 AND f.collected_at < $2"
"   AND ($3::text[] IS NULL OR EXISTS (SELECT 1 FROM %1$s.support_troubleshooting_sessions s"
"        WHERE s.session_id = f.session_id AND s.detected_problem_id = ANY ($3::text[])))"
"   AND NOT EXISTS (SELECT 1 FROM %1$s.support_troubleshooting_feedback p"
"        WHERE p.session_id = f.session_id AND p.collected_at >= $4"
"          AND (p.collected_at < f.collected_at OR (p.collected_at = f.collected_at AND p.id < f.id)))";

/* The next feedback of the same session after each matching feedback row in [$1, $2). */
static const char *const ts_r_next_feedback =
"SELECT n.collected_at FROM %1$s.support_troubleshooting_feedback p"
" CROSS JOIN LATERAL (SELECT q.collected_at FROM %1$s.support_troubleshooting_feedback q"
"      WHERE q.session_id = p.session_id"
"        AND (q.collected_at > p.collected_at OR (q.collected_at = p.collected_at AND q.id > p.id))"
"      ORDER BY q.collected_at, q.id LIMIT 1) n"
" WHERE p.collected_at >= $1 AND p.collected_at < $2"
"   AND ($3::text[] IS NULL OR EXISTS (SELECT 1 FROM %1$s.support_troubleshooting_sessions s"
"        WHERE s.session_id = p.session_id AND s.detected_problem_id = ANY ($3::text[])))";

/* Distinct sessions with feedback in [$1, $2) within the rating bounds. */
static const char *const ts_r_rated_raw =
"SELECT count(DISTINCT f.session_id) FROM %1$s.support_troubleshooting_feedback f"
" WHERE f.collected_at >= $1 AND f.collected_at < $2"
"   AND f.rating BETWEEN coalesce($5::int4, 1) AND coalesce($6::int4, 5)"
"   AND ($3::text[] IS NULL OR EXISTS (SELECT 1 FROM %1$s.support_troubleshooting_sessions s"
"        WHERE s.session_id = f.session_id AND s.detected_problem_id = ANY ($3::text[])))";

/* Binds problems, statuses, min and max rating (NULL when not given) to four parameters. */
static void
ts_bind_filters(const TsReportFilters *f, Datum *values, char *nulls)
{
	values[0] = f->problem_ids;
	nulls[0] = f->problem_ids ? ' ' : 'n';
	values[1] = f->statuses;
	nulls[1] = f->statuses ? ' ' : 'n';
	values[2] = Int32GetDatum(f->min_rating);
	nulls[2] = f->min_rating ? ' ' : 'n';
	values[3] = Int32GetDatum(f->max_rating);
	nulls[3] = f->max_rating ? ' ' : 'n';
}

/* Runs a raw query over [from, to): $3 problems, $4 a (the period start) or statuses, $5/$6 rating bounds. */
static void
ts_rollup_query(const char *sql, TimestampTz from, TimestampTz to,
				const TsReportFilters *f, const TimestampTz *a)
{
	Oid			types[TS_RNPARAMS] = {TIMESTAMPTZOID, TIMESTAMPTZOID, TEXTARRAYOID,
	a ? TIMESTAMPTZOID : TEXTARRAYOID, INT4OID, INT4OID};
	Datum		values[TS_RNPARAMS];
	char		nulls[TS_RNPARAMS];
	const char *nsp = quote_identifier(get_namespace_name(ts_extension_schema(false)));
	int			ret;

	memset(nulls, ' ', sizeof(nulls));
	values[0] = TimestampTzGetDatum(from);
	values[1] = TimestampTzGetDatum(to);
	ts_bind_filters(f, values + 2, nulls + 2);
	if (a)
	{
		values[3] = TimestampTzGetDatum(*a);
		nulls[3] = ' ';
	}
	ret = SPI_execute_with_args(psprintf(sql, nsp),
								TS_RNPARAMS, types, values, nulls, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "report rollup query failed: %s", SPI_result_code_string(ret));
}

/*
 * Runs a rollup query over the whole hours of the series buckets; false
 * (nothing run) when no bucket has a whole hour.
 */
static bool
ts_rollup_buckets_query(const char *sql, const TsPeriodStats *st, const TsReportFilters *f)
{
	Oid			types[TS_BNPARAMS] = {INT4ARRAYOID, INT8OID, TIMESTAMPTZOID, TIMESTAMPTZOID,
	TEXTARRAYOID, TEXTARRAYOID, INT4OID, INT4OID, TIMESTAMPTZOID};
	Datum		values[TS_BNPARAMS];
	char		nulls[TS_BNPARAMS];
	TimestampTz from = ts_hour_ceil(st->start);
	TimestampTz to = ts_hour_floor(st->end);
	int64		nhours;
	Datum	   *map;
	const char *nsp = quote_identifier(get_namespace_name(ts_extension_schema(false)));
	int			ret;
	bool		any = false;

	if (from >= to || st->nbuckets == 0)
		return false;
	nhours = (to - from) / TS_USECS_PER_HOUR;
	map = palloc(sizeof(Datum) * nhours);
	for (int64 h = 0; h < nhours; h++)
	{
		int			b = ts_rollup_bucket(st, from + h * TS_USECS_PER_HOUR);

		map[h] = Int32GetDatum(b);
		any = any || b >= 0;
		if ((h & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	if (!any)
		return false;
	memset(nulls, ' ', sizeof(nulls));
	values[0] = PointerGetDatum(construct_array(map, (int) nhours, INT4OID, 4, true, TYPALIGN_INT));
	/* the epoch hour of from: PostgreSQL's epoch is 2000-01-01, Unix time 946684800 */
	values[1] = Int64GetDatum(from / TS_USECS_PER_HOUR + INT64CONST(946684800) / 3600);
	values[2] = TimestampTzGetDatum(from);
	values[3] = TimestampTzGetDatum(to);
	ts_bind_filters(f, values + 4, nulls + 4);
	values[8] = TimestampTzGetDatum(st->start);
	ret = SPI_execute_with_args(psprintf(sql, nsp), TS_BNPARAMS, types, values, nulls, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "report rollup query failed: %s", SPI_result_code_string(ret));
	return true;
}

/* The bucket an hour lies whole inside, or -1 (the raw queries count it). */
int
ts_rollup_bucket(const TsPeriodStats *st, TimestampTz hour)
{
	int			lo = 0,
				hi = st->nbuckets - 1,
				found = -1;

	/* the last bucket whose counted range starts at or before the hour */
	while (lo <= hi)
	{
		int			mid = (lo + hi) / 2;

		if (st->buckets[mid].lo <= hour)
		{
			found = mid;
			lo = mid + 1;
		}
		else
			hi = mid - 1;
	}
	if (found < 0 || hour + TS_USECS_PER_HOUR > st->buckets[found].hi)
		return -1;
	return found;
}

/* Column col of row r as a timestamptz; *isnull says whether it is NULL. */
static TimestampTz
ts_col_time(uint64 r, int col, bool *isnull)
{
	return DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc,
											 col, isnull));
}

/* Adds the bigint[] in column col of row r to p's resolution times (or their removals). */
static void
ts_col_durations(uint64 r, int col, TsProblemStats *p, bool removed)
{
	bool		isnull;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, col, &isnull);
	Datum	   *elems;
	bool	   *enulls;
	int			n;

	if (isnull)
		return;
	deconstruct_array(DatumGetArrayTypeP(d), INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
					  &elems, &enulls, &n);
	for (int i = 0; i < n; i++)
		ts_report_add_minutes(p, DatumGetInt64(elems[i]), removed);
}

/* Column col of row r as an int4. */
static int
ts_col_int(uint64 r, int col)
{
	bool		isnull;

	return DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, col, &isnull));
}

/* Column col of row r (text) as a C string, or NULL. */
static char *
ts_col_str(uint64 r, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, col, &isnull);

	return isnull ? NULL : TextDatumGetCString(d);
}

/* Sessions of the whole hours: counts by status, problems, titles, resolution times. */
void
ts_rollup_sessions(TsPeriodStats *st, const TsReportFilters *f)
{
	if (!ts_rollup_buckets_query(ts_r_sessions, st, f))
		return;
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		int			b = ts_col_int(r, 1);
		TsProblemStats *p = ts_report_problem(st, ts_col_str(r, 2));
		int64		n = ts_get_int64(r, 5);
		char	   *status = ts_col_str(r, 4);

		ts_report_title(&p->titles, ts_col_str(r, 3), n);
		ts_report_add_sessions(st, b, p, status ? status : "", n, ts_get_int64(r, 6));
		st->buckets[b].m.m[M_RES_N] += ts_get_int64(r, 7);
		st->buckets[b].m.m[M_RES_US] += ts_get_int64(r, 8);
		CHECK_FOR_INTERRUPTS();
	}
	SPI_freetuptable(SPI_tuptable);

	if (!ts_rollup_buckets_query(ts_r_durations, st, f))
		return;
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		TsProblemStats *p = ts_report_problem(st, ts_col_str(r, 1));

		ts_col_durations(r, 2, p, false);
		ts_col_durations(r, 3, p, true);
		CHECK_FOR_INTERRUPTS();
	}
}

/* Attempts of the whole hours: per bucket, per problem and step, first tries. */
void
ts_rollup_attempts(TsPeriodStats *st, const TsReportFilters *f)
{
	if (!ts_rollup_buckets_query(ts_r_attempts, st, f))
		return;
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		int			b = ts_col_int(r, 1);
		TsProblemStats *p = ts_report_problem(st, ts_col_str(r, 2));
		TsStepStats *s = ts_report_step(p, ts_col_int(r, 3));
		int64		n = ts_get_int64(r, 5);
		int64		ok = ts_get_int64(r, 6);

		ts_report_title(&s->titles, ts_col_str(r, 4), n);
		s->attempts += n;
		s->failed += n - ok;
		st->buckets[b].m.m[M_ATTEMPTS] += n;
		st->buckets[b].m.m[M_ATTEMPTS_OK] += ok;
		st->first_tries += ts_get_int64(r, 7);
		st->first_ok += ts_get_int64(r, 8);
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * Feedback of the whole hours.  With distinct, also the distinct rated
 * sessions among them: a row counts when its session's previous feedback is
 * before the period (or there is none); when the period starts inside the
 * previous feedback's hour, the raw rows of that hour decide.
 */
void
ts_rollup_feedback(TsPeriodStats *st, const TsReportFilters *f, bool distinct)
{
	TimestampTz a = st->start;
	TimestampTz a_hour = ts_hour_floor(a);

	if (!ts_rollup_buckets_query(ts_r_feedback, st, f))
		return;
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		TsBucket   *bk = &st->buckets[ts_col_int(r, 1)];
		int64		rating = ts_col_int(r, 2);
		int64		n = ts_get_int64(r, 3);
		int64		nps_n = ts_get_int64(r, 4);
		int64		prom = ts_get_int64(r, 5);
		int64		det = ts_get_int64(r, 6);

		bk->m.m[M_FEEDBACK] += n;
		bk->m.m[M_RATING_SUM] += rating * n;
		bk->m.m[M_NPS_N] += nps_n;
		bk->m.m[M_PROMOTERS] += prom;
		bk->m.m[M_DETRACTORS] += det;
		st->passives += nps_n - prom - det;
		if (rating >= 1 && rating <= 5)
			st->ratings[rating] += n;
		st->helpful_n += ts_get_int64(r, 7);
		st->helpful_yes += ts_get_int64(r, 8);
		if (distinct)
			st->rated_sessions += ts_get_int64(r, 9);
		CHECK_FOR_INTERRUPTS();
	}

	/* rows whose previous feedback lies in the period's first, partial hour but before it */
	if (distinct && a_hour < a)
	{
		ts_rollup_query(ts_r_next_feedback, a_hour, a, f, NULL);
		for (uint64 r = 0; r < SPI_processed; r++)
		{
			bool		isnull;
			TimestampTz next = ts_col_time(r, 1, &isnull);

			if (ts_rollup_bucket(st, ts_hour_floor(next)) >= 0)
				st->rated_sessions++;
		}
	}
}

/* Distinct rated sessions contributed by the raw range [lo, hi) of the period. */
int64
ts_rollup_rated_edge(const TsPeriodStats *st, const TsReportFilters *f, TimestampTz lo,
					 TimestampTz hi)
{
	TimestampTz a = st->start;

	ts_rollup_query(ts_r_first_in_period, lo, hi, f, &a);
	return ts_get_int64(0, 1);
}

/* Distinct rated sessions of the whole period from the raw rows (under rating bounds). */
int64
ts_rollup_rated_raw(const TsPeriodStats *st, const TsReportFilters *f)
{
	ts_rollup_query(ts_r_rated_raw, st->start, st->end, f, NULL);
	return ts_get_int64(0, 1);
}
