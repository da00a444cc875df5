/*
 * read.c
 *	  The whole hours of a report period, read from the report rollups
 *	  (ts_report_*_hourly) plus the pending changes the reader can see in
 *	  ts_report_delta, so the figures are exact under the reader's snapshot
 *	  whether or not anything was folded.  An hour counts here when it lies
 *	  whole inside one series bucket; report_data.c reads the rest (partial
 *	  hours) from the raw tables.  Also the distinct rated sessions, which
 *	  need the hour of each session's previous feedback.
 *
 *	  The rollup rows come straight from each rollup's hour index
 *	  (scan.c) and are added up row by row as they come: a 90-day
 *	  period is some 250,000 rollup rows, and grouping them in SQL cost
 *	  more than reading them.  The pending changes, usually few, come
 *	  through SPI.  Both pass the same filters and the same adders.
 */
#include "postgres.h"

#include "compat.h"
#include "base/extschema.h"
#include "metrics/read.h"
#include "report/rollup/read.h"
#include "report/rollup/scan.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#define TS_RNPARAMS 6

/*
 * The pending changes of the whole hours [$1, $2), one row each (the
 * filters apply in C, to these rows and the rollup rows alike).
 */
static const char *const ts_d_sessions =
"SELECT bucket, problem, label, status, m1, m2, m3, us, dur_add, dur_del"
" FROM %1$s.ts_report_delta WHERE kind = 's' AND bucket >= $1 AND bucket < $2";
static const char *const ts_d_attempts =
"SELECT bucket, problem, num, label, m1, m2, m3, m4"
" FROM %1$s.ts_report_delta WHERE kind = 'a' AND bucket >= $1 AND bucket < $2";
static const char *const ts_d_feedback =
"SELECT bucket, problem, num, prev_hour, m1, m2, m3, m4, m5, m6"
" FROM %1$s.ts_report_delta WHERE kind = 'f' AND bucket >= $1 AND bucket < $2";

/* The rollup columns, in the order of the pending-change queries above. */
static const char *const ts_c_sessions[] = {"bucket", "problem", "title", "status", "sessions",
"rated", "res_n", "res_us", "durations"};
static const char *const ts_c_attempts[] = {"bucket", "problem", "step", "title", "attempts",
"successes", "first_tries", "first_successes"};
static const char *const ts_c_feedback[] = {"bucket", "problem", "rating", "prev_hour",
"responses", "nps_n", "promoters", "detractors", "helpful_n", "helpful_yes"};

/* A problem id seen in the rows, with its stats. */
typedef struct TsSeenProblem
{
	const char *id;
	int			len;
	TsProblemStats *p;
} TsSeenProblem;

/*
 * What the row readers need: the period, which bucket each whole hour from
 * `from` falls in (-1: a partial hour, counted from the raw rows), the
 * filters as C strings, and the problems seen so far.
 */
typedef struct TsRowCtx
{
	TsPeriodStats *st;
	TimestampTz from;
	TimestampTz to;
	int64		nhours;
	int		   *map;
	bool		delta;			/* rows of ts_report_delta (durations added and removed) */
	bool		distinct;		/* feedback: count distinct rated sessions too */
	char	  **problems;		/* NULL: no problem filter */
	int			nproblems;
	char	  **statuses;		/* NULL: no status filter */
	int			nstatuses;
	int			rmin;
	int			rmax;
	TsSeenProblem *seen;
	int			nseen;
	int			capseen;
	TsProblemStats *undetected; /* the NULL problem, once seen */
	StringInfoData buf;			/* a title or status as a C string */
} TsRowCtx;

/* The non-NULL elements of a text[] filter as C strings. */
static char **
ts_filter_strings(Datum arr, int *n)
{
	Datum	   *elems;
	bool	   *enulls;
	int			nelems;
	char	  **out;

	deconstruct_array(DatumGetArrayTypeP(arr), TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &enulls, &nelems);
	out = palloc(sizeof(char *) * (nelems + 1));
	*n = 0;
	for (int i = 0; i < nelems; i++)
		if (!enulls[i])
			out[(*n)++] = TextDatumGetCString(elems[i]);
	return out;
}

/* The bucket an hour lies whole inside, or -1 (the raw queries count it). */
static int
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

/*
 * Sets up the readers for the whole hours of the series buckets; false when
 * no bucket has a whole hour.
 */
static bool
ts_row_ctx_init(TsRowCtx *c, TsPeriodStats *st, const TsReportFilters *f)
{
	bool		any = false;

	memset(c, 0, sizeof(*c));
	c->st = st;
	c->from = ts_hour_ceil(st->start);
	c->to = ts_hour_floor(st->end);
	if (c->from >= c->to || st->nbuckets == 0)
		return false;
	c->nhours = (c->to - c->from) / TS_USECS_PER_HOUR;
	c->map = palloc(sizeof(int) * c->nhours);
	for (int64 h = 0; h < c->nhours; h++)
	{
		c->map[h] = ts_rollup_bucket(st, c->from + h * TS_USECS_PER_HOUR);
		any = any || c->map[h] >= 0;
		if ((h & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	if (!any)
		return false;
	if (f->problem_ids)
		c->problems = ts_filter_strings(f->problem_ids, &c->nproblems);
	if (f->statuses)
		c->statuses = ts_filter_strings(f->statuses, &c->nstatuses);
	c->rmin = f->min_rating ? f->min_rating : 1;
	c->rmax = f->max_rating ? f->max_rating : 5;
	initStringInfo(&c->buf);
	return true;
}

/* The bucket of a rollup hour, or -1 (a partial hour, or outside the whole hours). */
static int
ts_row_bucket(const TsRowCtx *c, TimestampTz hour)
{
	if (hour < c->from || hour >= c->to)
		return -1;
	return c->map[(hour - c->from) / TS_USECS_PER_HOUR];
}

/* True when text d equals one of the strings (as = ANY (filter) compares). */
static bool
ts_text_in(Datum d, char **set, int n)
{
	text	   *t = DatumGetTextPP(d);
	int			len = VARSIZE_ANY_EXHDR(t);
	const char *data = VARDATA_ANY(t);

	for (int i = 0; i < n; i++)
		if ((int) strlen(set[i]) == len && memcmp(set[i], data, len) == 0)
			return true;
	return false;
}

/* Whether a row's problem (and status, when given) pass the filters. */
static bool
ts_row_passes(const TsRowCtx *c, Datum problem, bool problem_null, const Datum *status)
{
	if (c->problems && (problem_null || !ts_text_in(problem, c->problems, c->nproblems)))
		return false;
	if (status && c->statuses && !ts_text_in(*status, c->statuses, c->nstatuses))
		return false;
	return true;
}

/* The stats of a row's problem (looked up by its bytes, created on first use). */
static TsProblemStats *
ts_row_problem(TsRowCtx *c, Datum problem, bool isnull)
{
	text	   *t;
	int			len;
	const char *data;
	char	   *id;

	if (isnull)
	{
		if (c->undetected == NULL)
			c->undetected = ts_report_problem(c->st, NULL);
		return c->undetected;
	}
	t = DatumGetTextPP(problem);
	len = VARSIZE_ANY_EXHDR(t);
	data = VARDATA_ANY(t);
	for (int i = 0; i < c->nseen; i++)
		if (c->seen[i].len == len && memcmp(c->seen[i].id, data, len) == 0)
			return c->seen[i].p;
	if (c->nseen == c->capseen)
	{
		c->capseen = c->capseen ? c->capseen * 2 : 16;
		c->seen = c->seen ? repalloc(c->seen, sizeof(TsSeenProblem) * c->capseen) :
			palloc(sizeof(TsSeenProblem) * c->capseen);
	}
	id = text_to_cstring(t);
	c->seen[c->nseen].id = id;
	c->seen[c->nseen].len = len;
	c->seen[c->nseen].p = ts_report_problem(c->st, id);
	return c->seen[c->nseen++].p;
}

/* A text value as a C string in the context's buffer (valid until the next call), or NULL. */
static const char *
ts_row_cstr(TsRowCtx *c, Datum d, bool isnull)
{
	text	   *t;

	if (isnull)
		return NULL;
	t = DatumGetTextPP(d);
	resetStringInfo(&c->buf);
	appendBinaryStringInfo(&c->buf, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
	return c->buf.data;
}

/* Adds (or, removed, takes away) the resolution times of a bigint[] to a problem. */
static void
ts_row_durations(TsProblemStats *p, Datum d, bool removed)
{
	ArrayType  *a = DatumGetArrayTypeP(d);
	int			n = ArrayGetNItems(ARR_NDIM(a), ARR_DIMS(a));

	if (ARR_ELEMTYPE(a) != INT8OID)
		elog(ERROR, "resolution times must be a bigint array");
	if (ARR_HASNULL(a))
	{
		Datum	   *elems;
		bool	   *enulls;

		deconstruct_array(a, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &elems, &enulls, &n);
		for (int i = 0; i < n; i++)
			if (!enulls[i])
				ts_report_add_minutes(p, DatumGetInt64(elems[i]), removed);
	}
	else
	{
		/* no NULLs: the data follows the fixed header */
		const int64 *v = (const int64 *) ((const char *) a + ARR_OVERHEAD_NONULLS(ARR_NDIM(a)));

		for (int i = 0; i < n; i++)
			ts_report_add_minutes(p, v[i], removed);
	}
	if ((Pointer) a != DatumGetPointer(d))
		pfree(a);
}

/*
 * One sessions row: bucket, problem, title, status, sessions, rated, res_n,
 * res_us, then the sorted resolution times (rollup rows, counted when
 * resolved) or the times added and removed (pending changes).
 */
static void
ts_session_row(void *arg, Datum *v, bool *n)
{
	TsRowCtx   *c = arg;
	int			b = ts_row_bucket(c, DatumGetTimestampTz(v[0]));
	TsProblemStats *p;
	const char *status;
	int64		sessions;

	if (b < 0 || !ts_row_passes(c, v[1], n[1], &v[3]))
		return;
	p = ts_row_problem(c, v[1], n[1]);
	sessions = DatumGetInt64(v[4]);
	ts_report_title(&p->titles, ts_row_cstr(c, v[2], n[2]), sessions);
	status = ts_row_cstr(c, v[3], n[3]);
	ts_report_add_sessions(c->st, b, p, status ? status : "", sessions, DatumGetInt64(v[5]));
	c->st->buckets[b].m.m[M_RES_N] += DatumGetInt64(v[6]);
	c->st->buckets[b].m.m[M_RES_US] += DatumGetInt64(v[7]);
	if (c->delta)
	{
		if (!n[8])
			ts_row_durations(p, v[8], false);
		if (!n[9])
			ts_row_durations(p, v[9], true);
	}
	else if (!n[8] && status && strcmp(status, "resolved") == 0)
		ts_row_durations(p, v[8], false);
}

/* One attempts row: bucket, problem, step, title, attempts, successes, first tries and their successes. */
static void
ts_attempt_row(void *arg, Datum *v, bool *n)
{
	TsRowCtx   *c = arg;
	int			b = ts_row_bucket(c, DatumGetTimestampTz(v[0]));
	TsProblemStats *p;
	TsStepStats *s;
	int64		attempts;
	int64		ok;

	if (b < 0 || !ts_row_passes(c, v[1], n[1], NULL))
		return;
	p = ts_row_problem(c, v[1], n[1]);
	s = ts_report_step(p, DatumGetInt32(v[2]));
	attempts = DatumGetInt64(v[4]);
	ok = DatumGetInt64(v[5]);
	ts_report_title(&s->titles, ts_row_cstr(c, v[3], n[3]), attempts);
	s->attempts += attempts;
	s->failed += attempts - ok;
	c->st->buckets[b].m.m[M_ATTEMPTS] += attempts;
	c->st->buckets[b].m.m[M_ATTEMPTS_OK] += ok;
	c->st->first_tries += DatumGetInt64(v[6]);
	c->st->first_ok += DatumGetInt64(v[7]);
}

/*
 * One feedback row: bucket, problem, rating, the hour of the session's
 * previous feedback, responses, NPS answers, promoters, detractors, helpful
 * answers and yes.  A response counts as a distinct rated session when its
 * session's previous feedback is an hour or more before the period (or
 * there is none).
 */
static void
ts_feedback_row(void *arg, Datum *v, bool *n)
{
	TsRowCtx   *c = arg;
	int			b = ts_row_bucket(c, DatumGetTimestampTz(v[0]));
	TsBucket   *bk;
	int			rating = DatumGetInt32(v[2]);
	int64		responses = DatumGetInt64(v[4]);
	int64		nps_n = DatumGetInt64(v[5]);
	int64		prom = DatumGetInt64(v[6]);
	int64		det = DatumGetInt64(v[7]);

	if (b < 0 || rating < c->rmin || rating > c->rmax || !ts_row_passes(c, v[1], n[1], NULL))
		return;
	bk = &c->st->buckets[b];
	bk->m.m[M_FEEDBACK] += responses;
	bk->m.m[M_RATING_SUM] += rating * responses;
	bk->m.m[M_NPS_N] += nps_n;
	bk->m.m[M_PROMOTERS] += prom;
	bk->m.m[M_DETRACTORS] += det;
	c->st->passives += nps_n - prom - det;
	if (rating >= 1 && rating <= 5)
		c->st->ratings[rating] += responses;
	c->st->helpful_n += DatumGetInt64(v[8]);
	c->st->helpful_yes += DatumGetInt64(v[9]);
	if (c->distinct &&
		(n[3] || DatumGetTimestampTz(v[3]) + TS_USECS_PER_HOUR <= c->st->start))
		c->st->rated_sessions += responses;
}

/* Feeds the rows of a rollup, then its pending changes in the same hours, to fn. */
static void
ts_rollup_rows(TsRowCtx *c, const char *rollup, const char *const *cols, int ncols,
			   const char *delta_sql, TsRollupRowFn fn)
{
	Oid			types[2] = {TIMESTAMPTZOID, TIMESTAMPTZOID};
	Datum		args[2];
	const char *nsp = quote_identifier(get_namespace_name(ts_extension_schema(false)));
	Datum	   *values;
	bool	   *nulls;
	int			natts;
	int			ret;

	c->delta = false;
	ts_rollup_scan(rollup, cols, ncols, c->from, c->to, fn, c);

	args[0] = TimestampTzGetDatum(c->from);
	args[1] = TimestampTzGetDatum(c->to);
	ret = SPI_execute_with_args(psprintf(delta_sql, nsp), 2, types, args, NULL, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "report rollup query failed: %s", SPI_result_code_string(ret));
	c->delta = true;
	natts = SPI_tuptable->tupdesc->natts;
	values = palloc(sizeof(Datum) * natts);
	nulls = palloc(sizeof(bool) * natts);
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		for (int i = 0; i < natts; i++)
			values[i] = SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, i + 1,
									  &nulls[i]);
		fn(c, values, nulls);
		CHECK_FOR_INTERRUPTS();
	}
	SPI_freetuptable(SPI_tuptable);
}

/*
 * The raw queries below count rows in ranges [lo, hi) of their time
 * column, %2$s: the ranges' bounds are the elements of $1 and $2
 * (ts_ranges_sql).
 */

/* Feedback rows of matching sessions in the ranges with no feedback of their session in [$4, the row). */
static const char *const ts_r_first_in_period =
"SELECT count(*) FROM %1$s.support_troubleshooting_feedback f"
" WHERE %2$s"
"   AND ($3::text[] IS NULL OR EXISTS (SELECT 1 FROM %1$s.support_troubleshooting_sessions s"
"        WHERE s.session_id = f.session_id AND s.detected_problem_id = ANY ($3::text[])))"
"   AND NOT EXISTS (SELECT 1 FROM %1$s.support_troubleshooting_feedback p"
"        WHERE p.session_id = f.session_id AND p.collected_at >= $4"
"          AND (p.collected_at < f.collected_at OR (p.collected_at = f.collected_at AND p.id < f.id)))";

/* The next feedback of the same session after each matching feedback row in the range. */
static const char *const ts_r_next_feedback =
"SELECT n.collected_at FROM %1$s.support_troubleshooting_feedback p"
" CROSS JOIN LATERAL (SELECT q.collected_at FROM %1$s.support_troubleshooting_feedback q"
"      WHERE q.session_id = p.session_id"
"        AND (q.collected_at > p.collected_at OR (q.collected_at = p.collected_at AND q.id > p.id))"
"      ORDER BY q.collected_at, q.id LIMIT 1) n"
" WHERE %2$s"
"   AND ($3::text[] IS NULL OR EXISTS (SELECT 1 FROM %1$s.support_troubleshooting_sessions s"
"        WHERE s.session_id = p.session_id AND s.detected_problem_id = ANY ($3::text[])))";

/* Distinct sessions with feedback in the range within the rating bounds. */
static const char *const ts_r_rated_raw =
"SELECT count(DISTINCT f.session_id) FROM %1$s.support_troubleshooting_feedback f"
" WHERE %2$s"
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

/*
 * Runs a raw query over the n ranges (sorted) of its time column col: $3
 * problems, $4 a (the period start) or statuses, $5/$6 rating bounds.
 */
static void
ts_rollup_query(const char *sql, const char *col, const TsRange *ranges, int n,
				const TsReportFilters *f, const TimestampTz *a)
{
	Oid			types[TS_RNPARAMS] = {TIMESTAMPTZARRAYOID, TIMESTAMPTZARRAYOID, TEXTARRAYOID,
	a ? TIMESTAMPTZOID : TEXTARRAYOID, INT4OID, INT4OID};
	Datum		values[TS_RNPARAMS];
	char		nulls[TS_RNPARAMS];
	const char *nsp = quote_identifier(get_namespace_name(ts_extension_schema(false)));
	int			ret;

	memset(nulls, ' ', sizeof(nulls));
	values[0] = ts_ranges_bounds(ranges, n, false);
	values[1] = ts_ranges_bounds(ranges, n, true);
	ts_bind_filters(f, values + 2, nulls + 2);
	if (a)
	{
		values[3] = TimestampTzGetDatum(*a);
		nulls[3] = ' ';
	}
	ret = ts_ranges_execute(psprintf(sql, nsp, ts_ranges_sql(col, n)), n,
							TS_RNPARAMS, types, values, nulls);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "report rollup query failed: %s", SPI_result_code_string(ret));
}

/* Column col of row r as a timestamptz; *isnull says whether it is NULL. */
static TimestampTz
ts_col_time(uint64 r, int col, bool *isnull)
{
	return DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc,
											 col, isnull));
}

/* Sessions of the whole hours: counts by status, problems, titles, resolution times. */
void
ts_rollup_sessions(TsPeriodStats *st, const TsReportFilters *f)
{
	TsRowCtx	c;

	if (!ts_row_ctx_init(&c, st, f))
		return;
	ts_rollup_rows(&c, "ts_report_sessions_hourly", ts_c_sessions, lengthof(ts_c_sessions),
				   ts_d_sessions, ts_session_row);
}

/* Attempts of the whole hours: per bucket, per problem and step, first tries. */
void
ts_rollup_attempts(TsPeriodStats *st, const TsReportFilters *f)
{
	TsRowCtx	c;

	if (!ts_row_ctx_init(&c, st, f))
		return;
	ts_rollup_rows(&c, "ts_report_attempts_hourly", ts_c_attempts, lengthof(ts_c_attempts),
				   ts_d_attempts, ts_attempt_row);
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
	TsRowCtx	c;

	if (!ts_row_ctx_init(&c, st, f))
		return;
	c.distinct = distinct;
	ts_rollup_rows(&c, "ts_report_feedback_hourly", ts_c_feedback, lengthof(ts_c_feedback),
				   ts_d_feedback, ts_feedback_row);

	/* rows whose previous feedback lies in the period's first, partial hour but before it */
	if (distinct && a_hour < a)
	{
		TsRange		before = {a_hour, a};

		ts_rollup_query(ts_r_next_feedback, "p.collected_at", &before, 1, f, NULL);
		for (uint64 r = 0; r < SPI_processed; r++)
		{
			bool		isnull;
			TimestampTz next = ts_col_time(r, 1, &isnull);

			if (ts_rollup_bucket(st, ts_hour_floor(next)) >= 0)
				st->rated_sessions++;
		}
	}
}

/* Distinct rated sessions contributed by the n raw ranges (sorted) of the period. */
int64
ts_rollup_rated_edge(const TsPeriodStats *st, const TsReportFilters *f, const TsRange *ranges,
					 int n)
{
	TimestampTz a = st->start;

	ts_rollup_query(ts_r_first_in_period, "f.collected_at", ranges, n, f, &a);
	return ts_get_int64(0, 1);
}

/* Distinct rated sessions of the whole period from the raw rows (under rating bounds). */
int64
ts_rollup_rated_raw(const TsPeriodStats *st, const TsReportFilters *f)
{
	TsRange		whole = {st->start, st->end};

	ts_rollup_query(ts_r_rated_raw, "f.collected_at", &whole, 1, f, NULL);
	return ts_get_int64(0, 1);
}
