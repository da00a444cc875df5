/*
 * report.h
 *	  Reports: generation (generate.c, period.c, filters.c, stats.c,
 *	  report_data.c, sections.c, report_trends.c, store.c; rollup/),
 *	  export (export/: export.c, csv.c, pdf.c, each with its header) and
 *	  schedules with the optional LLM summary (schedule.c, llm.c).
 *
 * The report document (jsonb, stored in support_troubleshooting_reports.data)
 * has these top-level keys, always all present (null where a part does not
 * fit the report type):
 *
 *	id				bigint (null on a hot standby: not stored)
 *	report_type		daily | weekly | monthly | problem_analysis |
 *					customer_satisfaction | custom
 *	title			"Monthly troubleshooting report" ...
 *	period			{start, end, time_zone, granularity: "hour" | "day"}
 *	filters			the validated filters object ({} when none)
 *	include_charts	boolean
 *	generated_at	timestamptz (ISO 8601 text)
 *	summary			{total_sessions, resolved_sessions, escalated_sessions,
 *					 abandoned_sessions, resolution_rate, escalation_rate,
 *					 avg_resolution_time_minutes, median_resolution_time_minutes,
 *					 p90_resolution_time_minutes, total_attempts,
 *					 successful_attempts, attempts_per_session,
 *					 first_attempt_success_rate, feedback_count, avg_rating,
 *					 nps, unique_problems}
 *	series			[{period_start, total_sessions, resolved_sessions,
 *					  escalated_sessions, abandoned_sessions, resolution_rate,
 *					  avg_resolution_time_minutes, total_attempts,
 *					  feedback_count, avg_rating}]  (by hour for daily, else day)
 *	top_problems	[{problem_id, title, sessions, resolved_sessions,
 *					  escalated_sessions, resolution_rate, escalation_rate,
 *					  median_resolution_time_minutes,
 *					  failing_steps: [{step_number, step_title, attempts,
 *					                   failed_attempts, failure_rate}]}]
 *	satisfaction	{feedback_count, rated_sessions,
 *					 rating_distribution: {"1": n, ..., "5": n}, avg_rating,
 *					 csat, nps: {score, promoters, passives, detractors,
 *					 responses}, helpful_share, helpful_responses,
 *					 finished_sessions, feedback_response_rate}
 *	trends			{previous_period: {start, end},
 *					 metrics: [{metric, current, previous, change,
 *					            change_percent, direction: up|down|flat,
 *					            better: true|false|null}]}
 *	recommendations	[{rule, severity: info|warning|critical, message, data}]
 *	executive_summary	text added later by the LLM step, else null
 *
 * Rates are fractions (0..1, 4 decimals), minutes and averages 2 decimals;
 * numbers are JSON numbers, a value with no data (no sessions) is null.
 */
#ifndef TS_REPORT_H
#define TS_REPORT_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "utils/jsonb.h"

/* store.c: a stored report's document by id (ERROR when there is none). */
extern Jsonb *ts_report_load(int64 id);

/* export/pdf.c: the troubleshooting.pdf_font setting (called from _PG_init). */
extern void ts_report_define_gucs(void);

/*
 * schedule.c, llm.c: steps of the maintenance worker, called between its
 * transactions; each opens its own short ones (the LLM request runs outside
 * any transaction).
 */
extern void ts_report_schedules_step(void);
extern void ts_report_llm_step(void);

#endif							/* TS_REPORT_H */
