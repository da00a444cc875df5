/*
 * report_data.c
 *	  The figures of one report period, read from the raw tables with bound
 *	  parameters: sessions by start time (the cohort), attempts by attempt
 *	  time and feedback by collection time, as get_troubleshooting_metrics_by_period
 *	  counts them, per series bucket and per problem and step, plus the
 *	  resolution times behind the median and 90th percentile.  Whole hours
 *	  come from the report rollups (rollup/read.c) for the parts whose
 *	  filters are dimensions of them; the raw queries here count the partial
 *	  hours at the edges of buckets, and whole periods under the other
 *	  filters.  A raw row's bucket comes from width_bucket() over the lows
 *	  of its ranges' pieces in single buckets, which the session's time zone
 *	  placed: a comparison of instants, the same wherever it runs (a Citus
 *	  worker node runs its shards' part in its own time zone, so date_trunc()
 *	  there would place rows by that zone's days).
 */
#include "postgres.h"

#include "base/compare.h"
#include "compat.h"
#include "base/extschema.h"
#include "metrics/read.h"
#include "report/report_data.h"
#include "report/rollup/read.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include <math.h>

#define TS_NPARAMS 9

/*
 * The queries below count the rows of ranges [lo, hi) of their time column,
 * %2$s: the ranges' bounds are the elements of $1 and $2 (ts_ranges_sql).
 * $9 holds the lows of the ranges' pieces in single buckets
 * (ts_range_pieces): width_bucket() over them tells a row's piece.
 */

/* Which sessions count ($3..$8), on alias s; a NULL parameter is no filter. */
#define TS_SESSION_FILTER \
	" AND ($3::text[] IS NULL OR s.detected_problem_id = ANY ($3::text[]))" \
	" AND ($4::text[] IS NULL OR s.status = ANY ($4::text[]))" \
	" AND ($5::text IS NULL OR lower(split_part(s.customer_email, '@', 2)) = lower($5::text))" \
	" AND ($6::text IS NULL OR s.assigned_agent = $6::text)" \
	" AND (($7::int4 IS NULL AND $8::int4 IS NULL) OR EXISTS (" \
	"      SELECT 1 FROM %1$s.support_troubleshooting_feedback rf" \
	"      WHERE rf.session_id = s.session_id" \
	"        AND rf.rating BETWEEN coalesce($7::int4, 1) AND coalesce($8::int4, 5)))"

/* TS_SESSION_FILTER with the schema filled in, for queries that add it optionally. */
#define TS_SESSION_FILTER_TEXT(nsp) psprintf(TS_SESSION_FILTER, (nsp))

/* Sessions started in the period, per bucket and problem. */
static const char *const ts_q_sessions =
"SELECT width_bucket(s.started_at, $9), s.detected_problem_id, max(s.detected_problem_title COLLATE \"C\"),"
"       count(*), count(*) FILTER (WHERE s.status = 'resolved'),"
"       count(*) FILTER (WHERE s.status = 'escalated'),"
"       count(*) FILTER (WHERE s.status IN ('abandoned', 'timed_out')),"
"       count(*) FILTER (WHERE s.status IN ('resolved', 'escalated', 'abandoned', 'timed_out')),"
"       array_agg((extract(epoch FROM s.resolved_at - s.started_at) * 1000000)::int8)"
"           FILTER (WHERE s.status = 'resolved' AND s.resolved_at IS NOT NULL)"
" FROM %1$s.support_troubleshooting_sessions s"
" WHERE %2$s" TS_SESSION_FILTER
" GROUP BY 1, 2";

/* Finished sessions started in the period that have feedback. */
static const char *const ts_q_rated =
"SELECT count(*) FROM %1$s.support_troubleshooting_sessions s"
" WHERE %2$s" TS_SESSION_FILTER
"   AND s.status IN ('resolved', 'escalated', 'abandoned', 'timed_out')"
"   AND EXISTS (SELECT 1 FROM %1$s.support_troubleshooting_feedback f"
"               WHERE f.session_id = s.session_id)";

/*
 * Attempts made in the period, per bucket, problem and step; a first try is
 * an attempt with no earlier attempt at the same step of the same session.
 */
static const char *const ts_q_attempts =
"SELECT width_bucket(a.attempted_at, $9), s.detected_problem_id, a.step_number,"
"       max(a.step_title COLLATE \"C\"), count(*), count(*) FILTER (WHERE a.success),"
"       count(*) FILTER (WHERE a.first_try), count(*) FILTER (WHERE a.first_try AND a.success)"
" FROM (SELECT a.session_id, a.step_number, a.step_title, a.success, a.attempted_at,"
"              NOT EXISTS (SELECT 1 FROM %1$s.support_troubleshooting_attempts b"
"                          WHERE b.session_id = a.session_id AND b.step_number = a.step_number"
"                            AND (b.attempted_at, b.id) < (a.attempted_at, a.id)) AS first_try"
"       FROM %1$s.support_troubleshooting_attempts a"
"       WHERE %2$s"
"       OFFSET 0) a"  /* not flattened: first_try is computed once per attempt, not per use */
" JOIN %1$s.support_troubleshooting_sessions s ON s.session_id = a.session_id"
" WHERE true" TS_SESSION_FILTER
" GROUP BY 1, 2, 3";

/* Feedback collected in the period, per bucket (the rating filter applies to rows). */
static const char *const ts_q_feedback =
"SELECT width_bucket(f.collected_at, $9), count(*), sum(f.rating),"
"       count(f.nps_score), count(*) FILTER (WHERE f.nps_score >= 9),"
"       count(*) FILTER (WHERE f.nps_score <= 6), count(*) FILTER (WHERE f.nps_score IN (7, 8)),"
"       count(*) FILTER (WHERE f.rating = 1), count(*) FILTER (WHERE f.rating = 2),"
"       count(*) FILTER (WHERE f.rating = 3), count(*) FILTER (WHERE f.rating = 4),"
"       count(*) FILTER (WHERE f.rating = 5),"
"       count(f.was_helpful), count(*) FILTER (WHERE f.was_helpful)"
" FROM %1$s.support_troubleshooting_feedback f"
" %3$s"
" WHERE %2$s %4$s"
"   AND f.rating BETWEEN coalesce($7::int4, 1) AND coalesce($8::int4, 5)"
" GROUP BY 1";

/*
 * The distinct sessions of those feedback rows.  Its own query, not a
 * grand-total grouping set of the one above: Citus runs no GROUPING SETS
 * over a distributed table.
 */
static const char *const ts_q_feedback_sessions =
"SELECT count(DISTINCT f.session_id)"
" FROM %1$s.support_troubleshooting_feedback f"
" %3$s"
" WHERE %2$s %4$s"
"   AND f.rating BETWEEN coalesce($7::int4, 1) AND coalesce($8::int4, 5)";

/* The feedback queries' join to sessions and its filter (%3$s, %4$s): only with session filters. */
#define TS_FEEDBACK_JOIN "JOIN %1$s.support_troubleshooting_sessions s ON s.session_id = f.session_id"

/* The bucket of each piece of the ranges of the last query (ts_report_query), and their number. */
typedef struct TsPieces
{
	int		   *bucket;
	int			n;
} TsPieces;

/*
 * Runs one of the queries above over the n ranges (sorted, inside the
 * period) of its time column col, with the filters bound; returns the
 * bucket of each piece of the ranges (width_bucket k is piece k - 1).
 */
static TsPieces
ts_report_query(const char *sql, const char *col, const TsPeriodStats *st,
				const TsRange *ranges, int n, const TsReportFilters *f)
{
	Oid			types[TS_NPARAMS] = {TIMESTAMPTZARRAYOID, TIMESTAMPTZARRAYOID, TEXTARRAYOID,
	TEXTARRAYOID, TEXTOID, TEXTOID, INT4OID, INT4OID, TIMESTAMPTZARRAYOID};
	Datum		values[TS_NPARAMS];
	char		nulls[TS_NPARAMS];
	const char *nsp = quote_identifier(get_namespace_name(ts_extension_schema(false)));
	TimestampTz *lows = palloc(sizeof(TimestampTz) * (n + st->nbuckets + 1));
	TsPieces	pieces;
	int			ret;

	pieces.bucket = palloc(sizeof(int) * (n + st->nbuckets + 1));
	pieces.n = ts_range_pieces(st->buckets, st->nbuckets, ranges, n, lows, pieces.bucket);
	memset(nulls, ' ', sizeof(nulls));
	values[0] = ts_ranges_bounds(ranges, n, false);
	values[1] = ts_ranges_bounds(ranges, n, true);
	values[2] = f->problem_ids;
	nulls[2] = f->problem_ids ? ' ' : 'n';
	values[3] = f->statuses;
	nulls[3] = f->statuses ? ' ' : 'n';
	values[4] = f->email_domain ? CStringGetTextDatum(f->email_domain) : (Datum) 0;
	nulls[4] = f->email_domain ? ' ' : 'n';
	values[5] = f->agent ? CStringGetTextDatum(f->agent) : (Datum) 0;
	nulls[5] = f->agent ? ' ' : 'n';
	values[6] = Int32GetDatum(f->min_rating);
	nulls[6] = f->min_rating ? ' ' : 'n';
	values[7] = Int32GetDatum(f->max_rating);
	nulls[7] = f->max_rating ? ' ' : 'n';
	values[8] = ts_times_array(lows, pieces.n);

	/* without session filters, feedback needs no join (its session exists) */
	ret = ts_ranges_execute(psprintf(sql, nsp, ts_ranges_sql(col, n),
									 f->on_sessions ? psprintf(TS_FEEDBACK_JOIN, nsp) : "",
									 f->on_sessions ? TS_SESSION_FILTER_TEXT(nsp) : ""),
							n, TS_NPARAMS, types, values, nulls);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "report query failed: %s", SPI_result_code_string(ret));
	return pieces;
}

/* Column col (1-based) of result row `row` as text, or NULL. */
static char *
ts_get_text(int row, int col)
{
	char	   *v = SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col);

	return v;
}

/* The bucket index of result row r: column 1 is its piece's width_bucket (ts_report_query). */
static int
ts_row_bucket(TsPieces pieces, uint64 r)
{
	int64		k = ts_get_int64((int) r, 1);

	if (k < 1 || k > pieces.n)
		elog(ERROR, "report row outside the period's buckets");
	return pieces.bucket[k - 1];
}

/* The greatest title (byte order, as max(... COLLATE "C")) with rows left, or NULL. */
static char *
ts_title_max(List *tally)
{
	ListCell   *lc;
	char	   *best = NULL;

	foreach(lc, tally)
	{
		TsTitleCount *t = lfirst(lc);

		if (t->n > 0 && (best == NULL || strcmp(t->title, best) > 0))
			best = t->title;
	}
	return best;
}

/* qsort comparator for doubles, ascending. */
static int
ts_double_cmp(const void *a, const void *b)
{
	return ts_cmp_double(*(const double *) a, *(const double *) b);
}

/* Problems: most sessions first, then by id (undetected last among equals). */
static int
ts_problem_cmp(const ListCell *a, const ListCell *b)
{
	const TsProblemStats *x = lfirst(a);
	const TsProblemStats *y = lfirst(b);

	if (x->sessions != y->sessions)
		return x->sessions > y->sessions ? -1 : 1;
	if (x->problem_id == NULL || y->problem_id == NULL)
		return (x->problem_id == NULL) - (y->problem_id == NULL);
	return strcmp(x->problem_id, y->problem_id);
}

/* Steps: most failed attempts first, then by step number. */
static int
ts_step_cmp(const ListCell *a, const ListCell *b)
{
	const TsStepStats *x = lfirst(a);
	const TsStepStats *y = lfirst(b);

	if (x->failed != y->failed)
		return x->failed > y->failed ? -1 : 1;
	return ts_cmp_int64(x->step_number, y->step_number);
}

/* Adds the microseconds array in column col of row `row` to p; returns (sum, count). */
static int64
ts_add_minutes(int row, int col, TsProblemStats *p, int64 *count)
{
	bool		isnull;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, &isnull);
	Datum	   *elems;
	bool	   *enulls;
	int			nelems;
	int64		sum = 0;

	*count = 0;
	if (isnull)
		return 0;
	deconstruct_array(DatumGetArrayTypeP(d), INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
					  &elems, &enulls, &nelems);
	for (int i = 0; i < nelems; i++)
	{
		sum += DatumGetInt64(elems[i]);
		ts_report_add_minutes(p, DatumGetInt64(elems[i]), false);
	}
	*count = nelems;
	return sum;
}

/* Reads the sessions query over the ranges into buckets, problems and resolution times. */
static void
ts_collect_sessions(TsPeriodStats *st, const TsReportFilters *f, const TsRange *ranges, int n)
{
	TsPieces	pieces = ts_report_query(ts_q_sessions, "s.started_at", st, ranges, n, f);

	for (uint64 r = 0; r < SPI_processed; r++)
	{
		int			b = ts_row_bucket(pieces, r);
		TsBucket   *bk = &st->buckets[b];
		TsProblemStats *p = ts_report_problem(st, ts_get_text(r, 2));
		int64		n = ts_get_int64(r, 4);
		int64		nres;

		ts_report_title(&p->titles, ts_get_text(r, 3), n);
		p->sessions += n;
		p->resolved += ts_get_int64(r, 5);
		p->escalated += ts_get_int64(r, 6);
		p->bucket_sessions[b] += n;
		bk->m.m[M_SESSIONS] += n;
		bk->m.m[M_RESOLVED] += ts_get_int64(r, 5);
		bk->m.m[M_ESCALATED] += ts_get_int64(r, 6);
		bk->m.m[M_ABANDONED] += ts_get_int64(r, 7);
		st->finished += ts_get_int64(r, 8);
		bk->m.m[M_RES_US] += ts_add_minutes(r, 9, p, &nres);
		bk->m.m[M_RES_N] += nres;
	}
	(void) ts_report_query(ts_q_rated, "s.started_at", st, ranges, n, f);
	st->finished_rated += ts_get_int64(0, 1);
}

/* Reads the attempts query over the ranges into buckets, problems' steps and first tries. */
static void
ts_collect_attempts(TsPeriodStats *st, const TsReportFilters *f, const TsRange *ranges, int n)
{
	TsPieces	pieces = ts_report_query(ts_q_attempts, "a.attempted_at", st, ranges, n, f);

	for (uint64 r = 0; r < SPI_processed; r++)
	{
		TsBucket   *bk = &st->buckets[ts_row_bucket(pieces, r)];
		TsProblemStats *p = ts_report_problem(st, ts_get_text(r, 2));
		TsStepStats *s = ts_report_step(p, (int) ts_get_int64(r, 3));
		int64		n = ts_get_int64(r, 5);
		int64		ok = ts_get_int64(r, 6);

		ts_report_title(&s->titles, ts_get_text(r, 4), n);
		s->attempts += n;
		s->failed += n - ok;
		bk->m.m[M_ATTEMPTS] += n;
		bk->m.m[M_ATTEMPTS_OK] += ok;
		st->first_tries += ts_get_int64(r, 7);
		st->first_ok += ts_get_int64(r, 8);
	}
}

/*
 * Reads the feedback query over the ranges into buckets and the
 * satisfaction figures; with whole, the one range is the period and its
 * distinct rated sessions are counted too.
 */
static void
ts_collect_feedback(TsPeriodStats *st, const TsReportFilters *f, const TsRange *ranges, int n,
					bool whole)
{
	TsPieces	pieces = ts_report_query(ts_q_feedback, "f.collected_at", st, ranges, n, f);

	for (uint64 r = 0; r < SPI_processed; r++)
	{
		TsBucket   *bk = &st->buckets[ts_row_bucket(pieces, r)];

		bk->m.m[M_FEEDBACK] += ts_get_int64(r, 2);
		bk->m.m[M_RATING_SUM] += ts_get_int64(r, 3);
		bk->m.m[M_NPS_N] += ts_get_int64(r, 4);
		bk->m.m[M_PROMOTERS] += ts_get_int64(r, 5);
		bk->m.m[M_DETRACTORS] += ts_get_int64(r, 6);
		st->passives += ts_get_int64(r, 7);
		for (int k = 1; k <= 5; k++)
			st->ratings[k] += ts_get_int64(r, 7 + k);
		st->helpful_n += ts_get_int64(r, 13);
		st->helpful_yes += ts_get_int64(r, 14);
	}
	if (whole)
	{
		(void) ts_report_query(ts_q_feedback_sessions, "f.collected_at", st, ranges, n, f);
		st->rated_sessions = ts_get_int64(0, 1);
	}
}

/* Removes the sorted values of del from the sorted values of vals (as multisets). */
static void
ts_remove_minutes(double *vals, int *n, double *del, int ndel)
{
	int			k = 0;

	for (int i = 0, j = 0; i < *n; i++)
	{
		while (j < ndel && del[j] < vals[i])
			j++;
		if (j < ndel && del[j] == vals[i])
		{
			j++;
			continue;
		}
		vals[k++] = vals[i];
	}
	*n = k;
}

typedef void (*TsRollupFn) (TsPeriodStats *st, const TsReportFilters *f);
typedef void (*TsCollectFn) (TsPeriodStats *st, const TsReportFilters *f,
							 const TsRange *ranges, int n);

/*
 * Reads one kind of row: with use_rollup, the whole hours from its rollup
 * and the raw ranges (if any) from the table; otherwise the whole period
 * from the table.
 */
static void
ts_collect_split(TsPeriodStats *st, const TsReportFilters *f, bool use_rollup, const TsRange *raw,
				 int nraw, TsRollupFn rollup, TsCollectFn collect)
{
	TsRange		whole = {st->start, st->end};

	if (use_rollup)
	{
		rollup(st, f);
		if (nraw > 0)
			collect(st, f, raw, nraw);
	}
	else
		collect(st, f, &whole, 1);
}

/* Collects every figure of the period [st->start, st->end) (SPI connected). */
void
ts_report_collect(TsPeriodStats *st, const TsReportFilters *f, const char *granularity)
{
	ListCell   *lc;
	int			cap;
	TsRange    *raw;
	int			nraw;

	/* which parts the rollups answer: their dimensions are problem, status and rating */
	bool		other = f->email_domain || f->agent;
	bool		sessions_rollup = !other && !f->min_rating && !f->max_rating;
	bool		attempts_rollup = sessions_rollup && !f->statuses;
	bool		feedback_rollup = !other && !f->statuses;
	bool		distinct_rollup = feedback_rollup && !f->min_rating && !f->max_rating;

	st->buckets = ts_make_buckets(granularity, st->start, st->end, &st->nbuckets);
	/* a bucket that starts at the end of the range counts nothing */
	while (st->nbuckets > 0 && st->buckets[st->nbuckets - 1].lo >= st->buckets[st->nbuckets - 1].hi)
		st->nbuckets--;
	raw = ts_partial_ranges(st->buckets, st->nbuckets, &nraw);

	ts_collect_split(st, f, sessions_rollup, raw, nraw,
					 ts_rollup_sessions, ts_collect_sessions);
	ts_collect_split(st, f, attempts_rollup, raw, nraw,
					 ts_rollup_attempts, ts_collect_attempts);

	if (feedback_rollup)
	{
		ts_rollup_feedback(st, f, distinct_rollup);
		if (nraw > 0)
		{
			ts_collect_feedback(st, f, raw, nraw, false);
			if (distinct_rollup)
				st->rated_sessions += ts_rollup_rated_edge(st, f, raw, nraw);
		}
		if (!distinct_rollup)
			st->rated_sessions = ts_rollup_rated_raw(st, f);
	}
	else
	{
		TsRange		whole = {st->start, st->end};

		ts_collect_feedback(st, f, &whole, 1, true);
	}

	for (int i = 0; i < st->nbuckets; i++)
		ts_measures_add(&st->total, &st->buckets[i].m);

	/* titles, unique problems per bucket, and all resolution times (percentiles select, not sort) */
	cap = 0;
	foreach(lc, st->problems)
	{
		TsProblemStats *p = lfirst(lc);
		ListCell   *lc2;

		p->title = ts_title_max(p->titles);
		foreach(lc2, p->steps)
		{
			TsStepStats *s = lfirst(lc2);

			s->step_title = ts_title_max(s->titles);
		}
		if (p->problem_id)
			for (int i = 0; i < st->nbuckets; i++)
				if (p->bucket_sessions[i] > 0)
					st->buckets[i].unique_problems++;
		if (p->ndel > 0)
		{
			/* pending changes removed some: take them out of the sorted values */
			qsort(p->res_minutes, p->nres, sizeof(double), ts_double_cmp);
			qsort(p->del_minutes, p->ndel, sizeof(double), ts_double_cmp);
			ts_remove_minutes(p->res_minutes, &p->nres, p->del_minutes, p->ndel);
		}
		cap += p->nres;
		if (p->problem_id && p->sessions > 0)
			st->unique_problems++;
	}
	st->res_minutes = palloc(sizeof(double) * Max(cap, 1));
	foreach(lc, st->problems)
	{
		TsProblemStats *p = lfirst(lc);

		if (p->nres > 0)
		{
			memcpy(st->res_minutes + st->nres, p->res_minutes, sizeof(double) * p->nres);
			st->nres += p->nres;
		}
		list_sort(p->steps, ts_step_cmp);
	}
	list_sort(st->problems, ts_problem_cmp);
}

/* Swaps two doubles. */
static inline void
ts_swap(double *a, double *b)
{
	double		t = *a;

	*a = *b;
	*b = t;
}

/*
 * Puts the k-th smallest of v[0..n) at v[k], smaller ones before it and
 * greater or equal ones after it (quickselect; a range that does not shrink
 * fast enough is sorted instead, so crafted data cannot make it quadratic).
 */
static void
ts_select(double *v, int n, int k)
{
	int			lo = 0,
				hi = n - 1;
	int			budget = 64;

	for (int m = n; m > 1; m >>= 1)
		budget += 2;
	while (hi > lo)
	{
		int			mid = lo + (hi - lo) / 2;
		double		pivot;
		int			i,
					j;

		if (--budget < 0)
		{
			qsort(v + lo, hi - lo + 1, sizeof(double), ts_double_cmp);
			return;
		}
		/* median of three as the pivot */
		if (v[mid] < v[lo])
			ts_swap(&v[mid], &v[lo]);
		if (v[hi] < v[lo])
			ts_swap(&v[hi], &v[lo]);
		if (v[hi] < v[mid])
			ts_swap(&v[hi], &v[mid]);
		pivot = v[mid];
		i = lo;
		j = hi;
		while (i <= j)
		{
			while (v[i] < pivot)
				i++;
			while (v[j] > pivot)
				j--;
			if (i <= j)
			{
				ts_swap(&v[i], &v[j]);
				i++;
				j--;
			}
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			return;				/* v[j+1..i-1] all equal the pivot */
	}
}

/*
 * percentile_cont(p) of the n values (reordered in place), rounded to 2
 * decimals as numeric (NULL if none).
 */
Numeric
ts_percentile(double *vals, int n, double p)
{
	double		pos;
	double		lo;
	double		hi;
	double		v;
	int			k;

	if (n == 0)
		return NULL;
	/* the arithmetic of PostgreSQL's percentile_cont, on the two neighbours of pos */
	pos = p * (n - 1);
	k = (int) floor(pos);
	ts_select(vals, n, k);
	lo = vals[k];
	hi = lo;
	if ((int) ceil(pos) != k)
	{
		hi = vals[k + 1];
		for (int i = k + 2; i < n; i++)
			if (vals[i] < hi)
				hi = vals[i];
	}
	v = lo + (hi - lo) * (pos - floor(pos));
	return DatumGetNumeric(DirectFunctionCall2(numeric_round,
											   DirectFunctionCall1(float8_numeric, Float8GetDatum(v)),
											   Int32GetDatum(2)));
}
