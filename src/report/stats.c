/*
 * stats.c
 *	  Adding rows to the figures of a report period: problems, fix steps and
 *	  their titles created on first use, sessions counted per bucket, status
 *	  and problem, resolution times kept for the percentiles.  Shared by the
 *	  raw-table reads (report_data.c) and the rollup reads (rollup/read.c).
 */
#include "postgres.h"

#include "report/stats.h"

/* The stats of a problem (NULL id: undetected), created on first use. */
TsProblemStats *
ts_report_problem(TsPeriodStats *st, const char *id)
{
	ListCell   *lc;
	TsProblemStats *p;

	foreach(lc, st->problems)
	{
		p = lfirst(lc);
		if ((p->problem_id == NULL && id == NULL) ||
			(p->problem_id && id && strcmp(p->problem_id, id) == 0))
			return p;
	}
	p = palloc0(sizeof(TsProblemStats));
	p->problem_id = id ? pstrdup(id) : NULL;
	p->bucket_sessions = palloc0(sizeof(int64) * Max(st->nbuckets, 1));
	st->problems = lappend(st->problems, p);
	return p;
}

/* Counts n rows that carried title (NULL titles count for nothing, as max() skips them). */
void
ts_report_title(List **tally, const char *title, int64 n)
{
	ListCell   *lc;
	TsTitleCount *t;

	if (title == NULL || n == 0)
		return;
	foreach(lc, *tally)
	{
		t = lfirst(lc);
		if (strcmp(t->title, title) == 0)
		{
			t->n += n;
			return;
		}
	}
	t = palloc(sizeof(TsTitleCount));
	t->title = pstrdup(title);
	t->n = n;
	*tally = lappend(*tally, t);
}

/* The stats of a problem's step, created on first use. */
TsStepStats *
ts_report_step(TsProblemStats *p, int step_number)
{
	ListCell   *lc;
	TsStepStats *s;

	foreach(lc, p->steps)
	{
		s = lfirst(lc);
		if (s->step_number == step_number)
			return s;
	}
	s = palloc0(sizeof(TsStepStats));
	s->step_number = step_number;
	p->steps = lappend(p->steps, s);
	return s;
}

/* Appends v to a growable array of doubles. */
static void
ts_push_double(double **vals, int *n, int *cap, double v)
{
	if (*n >= *cap)
	{
		*cap = Max(64, *cap * 2);
		*vals = *vals ? repalloc(*vals, sizeof(double) * *cap) : palloc(sizeof(double) * *cap);
	}
	(*vals)[(*n)++] = v;
}

/* Adds (or, removed, takes away) one resolution time of a problem, in minutes. */
void
ts_report_add_minutes(TsProblemStats *p, int64 us, bool removed)
{
	/* as extract(epoch ...)::float8 / 60 computes it */
	double		minutes = ((double) us / 1000000.0) / 60.0;

	if (removed)
		ts_push_double(&p->del_minutes, &p->ndel, &p->capdel, minutes);
	else
		ts_push_double(&p->res_minutes, &p->nres, &p->capres, minutes);
}

/* Adds n sessions (rated of them with feedback) of one status to a bucket and a problem. */
void
ts_report_add_sessions(TsPeriodStats *st, int bucket, TsProblemStats *p, const char *status,
					   int64 n, int64 rated)
{
	TsBucket   *bk = &st->buckets[bucket];
	bool		finished = false;

	bk->m.m[M_SESSIONS] += n;
	p->sessions += n;
	p->bucket_sessions[bucket] += n;
	if (strcmp(status, "resolved") == 0)
	{
		bk->m.m[M_RESOLVED] += n;
		p->resolved += n;
		finished = true;
	}
	else if (strcmp(status, "escalated") == 0)
	{
		bk->m.m[M_ESCALATED] += n;
		p->escalated += n;
		finished = true;
	}
	else if (strcmp(status, "abandoned") == 0 || strcmp(status, "timed_out") == 0)
	{
		bk->m.m[M_ABANDONED] += n;
		finished = true;
	}
	if (finished)
	{
		st->finished += n;
		st->finished_rated += rated;
	}
}
