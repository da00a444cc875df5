/*
 * sections.c
 *	  The sections of a report document that describe one period: summary,
 *	  series, top problems with their failing steps, and satisfaction (the
 *	  shape is in report.h).
 */
#include "postgres.h"

#include "base/json_write.h"
#include "metrics/ratio.h"
#include "report/report_data.h"
#include "report/report_trends.h"
#include "report/sections.h"

/* Appends the summary object of a period. */
void
ts_append_summary(StringInfo out, const TsPeriodStats *st)
{
	const int64 *m = st->total.m;
	bool		first = true;

	appendStringInfoChar(out, '{');
	ts_json_key_int(out, &first, "total_sessions", m[M_SESSIONS]);
	ts_json_key_int(out, &first, "resolved_sessions", m[M_RESOLVED]);
	ts_json_key_int(out, &first, "escalated_sessions", m[M_ESCALATED]);
	ts_json_key_int(out, &first, "abandoned_sessions", m[M_ABANDONED]);
	ts_json_key_numeric(out, &first, "resolution_rate", ts_kpi_value(st, K_RESOLUTION_RATE));
	ts_json_key_numeric(out, &first, "escalation_rate", ts_kpi_value(st, K_ESCALATION_RATE));
	ts_json_key_numeric(out, &first, "avg_resolution_time_minutes", ts_kpi_value(st, K_AVG_RES));
	ts_json_key_numeric(out, &first, "median_resolution_time_minutes", ts_kpi_value(st, K_MEDIAN_RES));
	ts_json_key_numeric(out, &first, "p90_resolution_time_minutes", ts_kpi_value(st, K_P90_RES));
	ts_json_key_int(out, &first, "total_attempts", m[M_ATTEMPTS]);
	ts_json_key_int(out, &first, "successful_attempts", m[M_ATTEMPTS_OK]);
	ts_json_key_numeric(out, &first, "attempts_per_session", ts_kpi_value(st, K_ATTEMPTS_PER_SESSION));
	ts_json_key_numeric(out, &first, "first_attempt_success_rate", ts_kpi_value(st, K_FIRST_ATTEMPT));
	ts_json_key_int(out, &first, "feedback_count", m[M_FEEDBACK]);
	ts_json_key_numeric(out, &first, "avg_rating", ts_kpi_value(st, K_AVG_RATING));
	ts_json_key_numeric(out, &first, "nps", ts_kpi_value(st, K_NPS));
	ts_json_key_int(out, &first, "unique_problems", st->unique_problems);
	appendStringInfoChar(out, '}');
}

/* Appends the series array (one object per bucket). */
void
ts_append_series(StringInfo out, const TsPeriodStats *st)
{
	appendStringInfoChar(out, '[');
	for (int i = 0; i < st->nbuckets; i++)
	{
		const TsBucket *b = &st->buckets[i];
		const int64 *m = b->m.m;
		bool		first = true;

		ts_json_object_begin(out, i == 0);
		ts_json_key(out, &first, "period_start");
		ts_json_timestamptz(out, b->start);
		ts_json_key_int(out, &first, "total_sessions", m[M_SESSIONS]);
		ts_json_key_int(out, &first, "resolved_sessions", m[M_RESOLVED]);
		ts_json_key_int(out, &first, "escalated_sessions", m[M_ESCALATED]);
		ts_json_key_int(out, &first, "abandoned_sessions", m[M_ABANDONED]);
		ts_json_key_numeric(out, &first, "resolution_rate", ts_ratio(m[M_RESOLVED], m[M_SESSIONS], 4));
		ts_json_key_numeric(out, &first, "avg_resolution_time_minutes",
							ts_avg_minutes(m[M_RES_US], m[M_RES_N]));
		ts_json_key_int(out, &first, "total_attempts", m[M_ATTEMPTS]);
		ts_json_key_int(out, &first, "feedback_count", m[M_FEEDBACK]);
		ts_json_key_numeric(out, &first, "avg_rating", ts_ratio(m[M_RATING_SUM], m[M_FEEDBACK], 2));
		appendStringInfoChar(out, '}');
	}
	appendStringInfoChar(out, ']');
}

/* Appends the failing_steps array of a problem: its three most failed steps with failures. */
static void
ts_append_failing_steps(StringInfo out, const TsProblemStats *p)
{
	ListCell   *lc;
	int			n = 0;

	appendStringInfoChar(out, '[');
	foreach(lc, p->steps)
	{
		TsStepStats *s = lfirst(lc);
		bool		first = true;

		if (s->failed == 0 || n >= 3)
			break;
		ts_json_object_begin(out, n++ == 0);
		ts_json_key_int(out, &first, "step_number", s->step_number);
		ts_json_key_text(out, &first, "step_title", s->step_title);
		ts_json_key_int(out, &first, "attempts", s->attempts);
		ts_json_key_int(out, &first, "failed_attempts", s->failed);
		ts_json_key_numeric(out, &first, "failure_rate", ts_ratio(s->failed, s->attempts, 4));
		appendStringInfoChar(out, '}');
	}
	appendStringInfoChar(out, ']');
}

/* Appends the top problems array (limit < 0: every problem). */
void
ts_append_problems(StringInfo out, const TsPeriodStats *st, int limit)
{
	ListCell   *lc;
	int			n = 0;

	appendStringInfoChar(out, '[');
	foreach(lc, st->problems)
	{
		TsProblemStats *p = lfirst(lc);
		bool		first = true;

		if (p->sessions == 0)
			continue;			/* attempts only, on sessions started earlier */
		if (limit >= 0 && n >= limit)
			break;
		ts_json_object_begin(out, n++ == 0);
		ts_json_key_text(out, &first, "problem_id", p->problem_id);
		ts_json_key_text(out, &first, "title", p->title);
		ts_json_key_int(out, &first, "sessions", p->sessions);
		ts_json_key_int(out, &first, "resolved_sessions", p->resolved);
		ts_json_key_int(out, &first, "escalated_sessions", p->escalated);
		ts_json_key_numeric(out, &first, "resolution_rate", ts_ratio(p->resolved, p->sessions, 4));
		ts_json_key_numeric(out, &first, "escalation_rate", ts_ratio(p->escalated, p->sessions, 4));
		ts_json_key_numeric(out, &first, "median_resolution_time_minutes",
							ts_percentile(p->res_minutes, p->nres, 0.5));
		ts_json_key(out, &first, "failing_steps");
		ts_append_failing_steps(out, p);
		appendStringInfoChar(out, '}');
	}
	appendStringInfoChar(out, ']');
}

/* Appends the satisfaction object. */
void
ts_append_satisfaction(StringInfo out, const TsPeriodStats *st)
{
	const int64 *m = st->total.m;
	bool		first = true;
	bool		f2 = true;

	appendStringInfoChar(out, '{');
	ts_json_key_int(out, &first, "feedback_count", m[M_FEEDBACK]);
	ts_json_key_int(out, &first, "rated_sessions", st->rated_sessions);
	ts_json_key(out, &first, "rating_distribution");
	appendStringInfoChar(out, '{');
	for (int r = 1; r <= 5; r++)
		ts_json_key_int(out, &f2, psprintf("%d", r), st->ratings[r]);
	appendStringInfoChar(out, '}');
	ts_json_key_numeric(out, &first, "avg_rating", ts_kpi_value(st, K_AVG_RATING));
	ts_json_key_numeric(out, &first, "csat", ts_kpi_value(st, K_CSAT));
	ts_json_key(out, &first, "nps");
	f2 = true;
	appendStringInfoChar(out, '{');
	ts_json_key_numeric(out, &f2, "score", ts_kpi_value(st, K_NPS));
	ts_json_key_int(out, &f2, "promoters", m[M_PROMOTERS]);
	ts_json_key_int(out, &f2, "passives", st->passives);
	ts_json_key_int(out, &f2, "detractors", m[M_DETRACTORS]);
	ts_json_key_int(out, &f2, "responses", m[M_NPS_N]);
	appendStringInfoChar(out, '}');
	ts_json_key_numeric(out, &first, "helpful_share", ts_ratio(st->helpful_yes, st->helpful_n, 4));
	ts_json_key_int(out, &first, "helpful_responses", st->helpful_n);
	ts_json_key_int(out, &first, "finished_sessions", st->finished);
	ts_json_key_numeric(out, &first, "feedback_response_rate", ts_kpi_value(st, K_RESPONSE_RATE));
	appendStringInfoChar(out, '}');
}
