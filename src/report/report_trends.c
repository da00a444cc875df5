/*
 * report_trends.c
 *	  The KPIs of a report period, their change against the previous period
 *	  (trends), and the recommendations: findings from rules whose thresholds
 *	  are configuration keys (report_*).
 */
#include "postgres.h"

#include "base/json_write.h"
#include "compat.h"
#include "config/config.h"
#include "metrics/ratio.h"
#include "report/report_data.h"
#include "report/report_trends.h"

#include "utils/builtins.h"
#include "utils/fmgrprotos.h"

static const char *const ts_kpi_names[TS_NKPIS] = {
	"total_sessions", "resolution_rate", "escalation_rate", "avg_resolution_time_minutes",
	"median_resolution_time_minutes", "p90_resolution_time_minutes", "attempts_per_session",
	"first_attempt_success_rate", "avg_rating", "csat", "nps", "feedback_response_rate"
};

/* Whether a KPI going up is good (1), bad (-1) or neither (0). */
static const int ts_kpi_up_is_good[TS_NKPIS] = {0, 1, -1, -1, -1, -1, -1, 1, 1, 1, 1, 1};

/* A KPI's value for a period (NULL when there is nothing to measure). */
Numeric
ts_kpi_value(const TsPeriodStats *st, TsKpi k)
{
	const int64 *m = st->total.m;

	switch (k)
	{
		case K_TOTAL_SESSIONS:
			return int64_to_numeric(m[M_SESSIONS]);
		case K_RESOLUTION_RATE:
			return ts_ratio(m[M_RESOLVED], m[M_SESSIONS], 4);
		case K_ESCALATION_RATE:
			return ts_ratio(m[M_ESCALATED], m[M_SESSIONS], 4);
		case K_AVG_RES:
			return ts_avg_minutes(m[M_RES_US], m[M_RES_N]);
		case K_MEDIAN_RES:
			return ts_percentile(st->res_minutes, st->nres, 0.5);
		case K_P90_RES:
			return ts_percentile(st->res_minutes, st->nres, 0.9);
		case K_ATTEMPTS_PER_SESSION:
			return ts_ratio(m[M_ATTEMPTS], m[M_SESSIONS], 2);
		case K_FIRST_ATTEMPT:
			return ts_ratio(st->first_ok, st->first_tries, 4);
		case K_AVG_RATING:
			return ts_ratio(m[M_RATING_SUM], m[M_FEEDBACK], 2);
		case K_CSAT:
			return ts_ratio(st->ratings[4] + st->ratings[5], m[M_FEEDBACK], 4);
		case K_NPS:
			return ts_nps(m[M_PROMOTERS], m[M_DETRACTORS], m[M_NPS_N]);
		case K_RESPONSE_RATE:
			return ts_ratio(st->finished_rated, st->finished, 4);
		default:
			elog(ERROR, "unknown kpi %d", (int) k);
	}
}

/* Numeric as a double (for comparisons against thresholds). */
static double
ts_num_double(Numeric n)
{
	return DatumGetFloat8(DirectFunctionCall1(numeric_float8, NumericGetDatum(n)));
}

/* Sign of a Numeric: -1, 0 or 1. */
static int
ts_num_sign(Numeric n)
{
	return (int) DatumGetFloat8(DirectFunctionCall1(numeric_float8,
													DirectFunctionCall1(numeric_sign,
																		NumericGetDatum(n))));
}

/* The config key as a double (ratio keys). */
static double
ts_config_double(const char *key)
{
	return strtod(ts_config_get_text(key), NULL);
}

/* Appends the trends object: every KPI now, before, and how it moved. */
void
ts_report_trends(StringInfo out, const TsPeriodStats *cur, const TsPeriodStats *prev)
{
	bool		first = true;

	appendStringInfoChar(out, '{');
	ts_json_key(out, &first, "previous_period");
	appendStringInfoString(out, "{\"start\": ");
	ts_json_timestamptz(out, prev->start);
	appendStringInfoString(out, ", \"end\": ");
	ts_json_timestamptz(out, prev->end);
	appendStringInfoChar(out, '}');
	ts_json_key(out, &first, "metrics");
	appendStringInfoChar(out, '[');
	for (int k = 0; k < TS_NKPIS; k++)
	{
		Numeric		c = ts_kpi_value(cur, k);
		Numeric		p = ts_kpi_value(prev, k);
		Numeric		change = NULL;
		Numeric		pct = NULL;
		int			dir = 0;
		bool		f2 = true;

		if (c && p)
		{
			change = DatumGetNumeric(DirectFunctionCall2(numeric_sub, NumericGetDatum(c),
														 NumericGetDatum(p)));
			dir = ts_num_sign(change);
			if (ts_num_sign(p) != 0)
			{
				Datum		x = DirectFunctionCall2(numeric_div, NumericGetDatum(change),
													NumericGetDatum(p));

				x = DirectFunctionCall2(numeric_mul, x,
										NumericGetDatum(int64_to_numeric(100)));
				pct = DatumGetNumeric(DirectFunctionCall2(numeric_round, x, Int32GetDatum(2)));
			}
		}
		ts_json_object_begin(out, k == 0);
		ts_json_key_text(out, &f2, "metric", ts_kpi_names[k]);
		ts_json_key_numeric(out, &f2, "current", c);
		ts_json_key_numeric(out, &f2, "previous", p);
		ts_json_key_numeric(out, &f2, "change", change);
		ts_json_key_numeric(out, &f2, "change_percent", pct);
		ts_json_key_text(out, &f2, "direction",
						 change == NULL ? NULL : dir > 0 ? "up" : dir < 0 ? "down" : "flat");
		ts_json_key(out, &f2, "better");
		if (change == NULL || dir == 0 || ts_kpi_up_is_good[k] == 0)
			appendStringInfoString(out, "null");
		else
			appendStringInfoString(out, (dir * ts_kpi_up_is_good[k]) > 0 ? "true" : "false");
		appendStringInfoChar(out, '}');
	}
	appendStringInfoString(out, "]}");
}

/* Starts one recommendation object: rule, severity, message, then "data": {. */
static void
ts_rec_begin(StringInfo out, int *n, const char *rule, const char *severity, const char *message)
{
	bool		first = true;

	ts_json_object_begin(out, (*n)++ == 0);
	ts_json_key_text(out, &first, "rule", rule);
	ts_json_key_text(out, &first, "severity", severity);
	ts_json_key_text(out, &first, "message", message);
	ts_json_key(out, &first, "data");
	appendStringInfoChar(out, '{');
}

/* Ends a recommendation: the rule's threshold, then closes data and the object. */
static void
ts_rec_end(StringInfo out, bool *first, double threshold)
{
	ts_json_key(out, first, "threshold");
	appendStringInfo(out, "%g", threshold);
	appendStringInfoString(out, "}}");
}

/* Appends a whole recommendation whose data is two numbers (k1: v1, k2: v2) and the threshold. */
static void
ts_rec_pair(StringInfo out, int *n, const char *rule, const char *severity, const char *message,
			const char *k1, Numeric v1, const char *k2, Numeric v2, double threshold)
{
	bool		first = true;

	ts_rec_begin(out, n, rule, severity, message);
	ts_json_key_numeric(out, &first, k1, v1);
	ts_json_key_numeric(out, &first, k2, v2);
	ts_rec_end(out, &first, threshold);
}

/* A fraction as a percentage with one decimal, for messages. */
static char *
ts_pct(double v)
{
	return psprintf("%.1f%%", v * 100.0);
}

/* Appends the recommendations array: every rule that fires, rule by rule. */
void
ts_report_recommendations(StringInfo out, const TsPeriodStats *cur, const TsPeriodStats *prev,
						  const char *report_type)
{
	int			n = 0;
	int			min_sample = ts_config_get_int("report_min_sample");
	double		min_res = ts_config_double("report_min_resolution_rate");
	double		esc_rise = ts_config_double("report_escalation_rise");
	double		step_fail = ts_config_double("report_step_failure_rate");
	double		csat_drop = ts_config_double("report_csat_drop");
	double		min_resp = ts_config_double("report_min_feedback_response_rate");
	ListCell   *lc;
	Numeric		c;
	Numeric		p;
	bool		first;
	bool		on_problems;
	bool		on_satisfaction;

	appendStringInfoChar(out, '[');

	/* the rules that fit the type: no satisfaction rules in a problem analysis, no problem rules in a satisfaction report */
	on_problems = strcmp(report_type, "customer_satisfaction") != 0;
	on_satisfaction = strcmp(report_type, "problem_analysis") != 0;

	/* problems that resolve too rarely (critical when they also fell below it) */
	foreach(lc, cur->problems)
	{
		TsProblemStats *pr = lfirst(lc);
		Numeric		rate = ts_ratio(pr->resolved, pr->sessions, 4);
		Numeric		before = NULL;
		ListCell   *lc2;

		if (!on_problems || pr->problem_id == NULL || pr->sessions < min_sample ||
			ts_num_double(rate) >= min_res)
			continue;
		foreach(lc2, prev->problems)
		{
			TsProblemStats *pp = lfirst(lc2);

			if (pp->problem_id && strcmp(pp->problem_id, pr->problem_id) == 0)
				before = ts_ratio(pp->resolved, pp->sessions, 4);
		}
		ts_rec_begin(out, &n, "low_resolution_rate",
					 before && ts_num_double(before) >= min_res ? "critical" : "warning",
					 psprintf("%s resolves in %s of sessions, below the %s target%s",
							  pr->title ? pr->title : pr->problem_id, ts_pct(ts_num_double(rate)),
							  ts_pct(min_res),
							  before && ts_num_double(before) >= min_res ?
							  psprintf(" (it was %s in the previous period)",
									   ts_pct(ts_num_double(before))) : ""));
		first = true;
		ts_json_key_text(out, &first, "problem_id", pr->problem_id);
		ts_json_key_numeric(out, &first, "sessions", int64_to_numeric(pr->sessions));
		ts_json_key_numeric(out, &first, "resolution_rate", rate);
		ts_json_key_numeric(out, &first, "previous_resolution_rate", before);
		ts_rec_end(out, &first, min_res);
	}

	/* escalations rising */
	c = ts_kpi_value(cur, K_ESCALATION_RATE);
	p = ts_kpi_value(prev, K_ESCALATION_RATE);
	if (on_problems && c && p && cur->total.m[M_SESSIONS] >= min_sample && prev->total.m[M_SESSIONS] >= min_sample &&
		ts_num_double(c) > ts_num_double(p) * (1.0 + esc_rise) && ts_num_double(c) > 0)
	{
		ts_rec_pair(out, &n, "escalations_rising", "warning",
					psprintf("Escalation rate rose from %s to %s", ts_pct(ts_num_double(p)),
							 ts_pct(ts_num_double(c))),
					"escalation_rate", c, "previous_escalation_rate", p, esc_rise);
	}

	/* per problem, the step that fails the largest share of its attempts, if too large */
	foreach(lc, cur->problems)
	{
		TsProblemStats *pr = lfirst(lc);
		TsStepStats *s = NULL;
		Numeric		rate = NULL;
		ListCell   *lc2;

		if (!on_problems)
			break;
		foreach(lc2, pr->steps)
		{
			TsStepStats *c = lfirst(lc2);
			Numeric		r = ts_ratio(c->failed, c->attempts, 4);

			if (c->attempts >= min_sample && ts_num_double(r) > step_fail &&
				(s == NULL || ts_num_double(r) > ts_num_double(rate)))
			{
				s = c;
				rate = r;
			}
		}
		if (s != NULL)
		{
			ts_rec_begin(out, &n, "failing_step", "warning",
						 psprintf("Step %d \"%s\" of %s fails %s of attempts", s->step_number,
								  s->step_title ? s->step_title : "",
								  pr->title ? pr->title : pr->problem_id ? pr->problem_id : "sessions with no detected problem",
								  ts_pct(ts_num_double(rate))));
			first = true;
			ts_json_key_text(out, &first, "problem_id", pr->problem_id);
			ts_json_key_numeric(out, &first, "step_number", int64_to_numeric(s->step_number));
			ts_json_key_numeric(out, &first, "attempts", int64_to_numeric(s->attempts));
			ts_json_key_numeric(out, &first, "failed_attempts", int64_to_numeric(s->failed));
			ts_json_key_numeric(out, &first, "failure_rate", rate);
			ts_rec_end(out, &first, step_fail);
		}
	}

	/* CSAT dropping */
	c = ts_kpi_value(cur, K_CSAT);
	p = ts_kpi_value(prev, K_CSAT);
	if (on_satisfaction && c && p && cur->total.m[M_FEEDBACK] >= min_sample && prev->total.m[M_FEEDBACK] >= min_sample &&
		ts_num_double(p) - ts_num_double(c) > csat_drop)
	{
		ts_rec_pair(out, &n, "csat_dropping", "warning",
					psprintf("CSAT fell from %s to %s", ts_pct(ts_num_double(p)),
							 ts_pct(ts_num_double(c))),
					"csat", c, "previous_csat", p, csat_drop);
	}

	/* too few customers answer the feedback request */
	c = ts_kpi_value(cur, K_RESPONSE_RATE);
	if (on_satisfaction && c && cur->finished >= min_sample && ts_num_double(c) < min_resp)
	{
		ts_rec_pair(out, &n, "low_feedback_response", "info",
					psprintf("Only %s of finished sessions left feedback (target %s)",
							 ts_pct(ts_num_double(c)), ts_pct(min_resp)),
					"feedback_response_rate", c, "finished_sessions",
					int64_to_numeric(cur->finished), min_resp);
	}
	appendStringInfoChar(out, ']');
}
