/*
 * generate.c
 *	  generate_troubleshooting_report() and ts_report_generate(): the
 *	  arguments checked, the cache consulted, both periods collected, the
 *	  report document assembled (shape in report.h) and stored.
 */
#include "postgres.h"

#include "base/json_write.h"
#include "compat.h"
#include "config/config.h"
#include "report/filters.h"
#include "report/period.h"
#include "report/report.h"
#include "report/report_data.h"
#include "report/report_trends.h"
#include "report/sections.h"
#include "report/store.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(generate_troubleshooting_report);

/* Builds the whole document text for the collected periods. */
static char *
ts_report_document(int type, int64 id, TimestampTz start, TimestampTz end, const char *granularity,
				   const char *filters_text, bool include_charts, TimestampTz generated_at,
				   const TsPeriodStats *cur, const TsPeriodStats *prev)
{
	StringInfoData out;
	bool		first = true;
	const char *name = ts_report_type_name(type);

	initStringInfo(&out);
	appendStringInfoChar(&out, '{');
	ts_json_key(&out, &first, "id");
	if (id > 0)
		appendStringInfo(&out, INT64_FORMAT, id);
	else
		appendStringInfoString(&out, "null");
	ts_json_key(&out, &first, "report_type");
	ts_json_text(&out, name);
	ts_json_key(&out, &first, "title");
	ts_json_text(&out, ts_report_type_title(type));
	ts_json_key(&out, &first, "period");
	appendStringInfoString(&out, "{\"start\": ");
	ts_json_timestamptz(&out, start);
	appendStringInfoString(&out, ", \"end\": ");
	ts_json_timestamptz(&out, end);
	appendStringInfoString(&out, ", \"time_zone\": ");
	ts_json_text(&out, pg_get_timezone_name(session_timezone));
	appendStringInfoString(&out, ", \"granularity\": ");
	ts_json_text(&out, granularity);
	appendStringInfoChar(&out, '}');
	ts_json_key(&out, &first, "filters");
	appendStringInfoString(&out, filters_text);
	ts_json_key(&out, &first, "include_charts");
	appendStringInfoString(&out, include_charts ? "true" : "false");
	ts_json_key(&out, &first, "generated_at");
	ts_json_timestamptz(&out, generated_at);
	ts_json_key(&out, &first, "summary");
	ts_append_summary(&out, cur);
	ts_json_key(&out, &first, "series");
	ts_append_series(&out, cur);
	ts_json_key(&out, &first, "top_problems");
	if (type == TS_REPORT_CUSTOMER_SATISFACTION)
		appendStringInfoString(&out, "null");
	else
		ts_append_problems(&out, cur, type == TS_REPORT_PROBLEM_ANALYSIS ? -1 :
						   ts_config_get_int("report_top_problems"));
	ts_json_key(&out, &first, "satisfaction");
	if (type == TS_REPORT_PROBLEM_ANALYSIS)
		appendStringInfoString(&out, "null");
	else
		ts_append_satisfaction(&out, cur);
	ts_json_key(&out, &first, "trends");
	ts_report_trends(&out, cur, prev);
	ts_json_key(&out, &first, "recommendations");
	ts_report_recommendations(&out, cur, prev, name);
	ts_json_key(&out, &first, "executive_summary");
	appendStringInfoString(&out, "null");
	appendStringInfoChar(&out, '}');
	return out.data;
}

/* Generates (or fetches from the cache) a report; see report.h. */
static Jsonb *
ts_report_generate(const char *report_type, TimestampTz *pstart, TimestampTz *pend,
				   Jsonb *filters, bool include_charts, bool force)
{
	int			type = ts_report_type_index(report_type);
	TimestampTz start = pstart ? *pstart : 0;
	TimestampTz end = pend ? *pend : 0;
	TsReportFilters f;
	const char *filters_text;
	const char *granularity;
	char	   *key;
	int			ttl;
	bool		can_store = !RecoveryInProgress() && !XactReadOnly;
	int64		id = 0;
	TsPeriodStats cur;
	TsPeriodStats prev;
	TimestampTz generated_at = GetCurrentTimestamp();
	instr_time	t0;
	instr_time	t1;
	char	   *doc;
	Jsonb	   *result;
	MemoryContext callercxt = CurrentMemoryContext;

	INSTR_TIME_SET_CURRENT(t0);
	ts_report_period(type, pstart != NULL, &start, pend != NULL, &end);
	ts_parse_filters(filters, &f);
	filters_text = JsonbToCString(NULL, &filters->root, VARSIZE(filters));
	granularity = end - start <= 2 * USECS_PER_DAY ? "hour" : "day";
	/* the time zone too: it decides the series buckets and how times print */
	key = text_to_cstring(DatumGetTextPP(DirectFunctionCall1(md5_text,
															 CStringGetTextDatum(psprintf("%s|" INT64_FORMAT "|" INT64_FORMAT "|%d|%s|%s",
																						  report_type, start, end, (int) include_charts, filters_text,
																						  pg_get_timezone_name(session_timezone))))));
	ttl = ts_config_get_int("report_cache_ttl_minutes");

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	if (!force && ttl > 0)
	{
		Jsonb	   *cached = ts_report_cache_lookup(key);

		if (cached)
		{
			MemoryContext old = MemoryContextSwitchTo(callercxt);

			result = DatumGetJsonbPCopy(JsonbPGetDatum(cached));
			MemoryContextSwitchTo(old);
			SPI_finish();
			return result;
		}
	}

	memset(&cur, 0, sizeof(cur));
	memset(&prev, 0, sizeof(prev));
	cur.start = start;
	cur.end = end;
	prev.end = start;
	ts_previous_period(start, end, &prev.start);
	ts_report_collect(&cur, &f, granularity);
	ts_report_collect(&prev, &f, granularity);

	if (can_store)
		id = ts_report_next_id();
	doc = ts_report_document(type, id, start, end, granularity, filters_text, include_charts,
							 generated_at, &cur, &prev);
	result = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(doc)));
	if (can_store)
	{
		INSTR_TIME_SET_CURRENT(t1);
		INSTR_TIME_SUBTRACT(t1, t0);
		ts_report_store(id, report_type, key, result, generated_at, ttl,
						INSTR_TIME_GET_MILLISEC(t1));
	}
	{
		MemoryContext old = MemoryContextSwitchTo(callercxt);

		result = DatumGetJsonbPCopy(JsonbPGetDatum(result));
		MemoryContextSwitchTo(old);
	}
	SPI_finish();
	return result;
}

/* generate_troubleshooting_report(type, start, end, filters, include_charts, force) */
Datum
generate_troubleshooting_report(PG_FUNCTION_ARGS)
{
	TimestampTz start;
	TimestampTz end;
	Jsonb	   *filters;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("p_report_type must not be null")));
	if (!PG_ARGISNULL(1))
		start = PG_GETARG_TIMESTAMPTZ(1);
	if (!PG_ARGISNULL(2))
		end = PG_GETARG_TIMESTAMPTZ(2);
	filters = PG_ARGISNULL(3) ?
		DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum("{}"))) :
		PG_GETARG_JSONB_P(3);
	PG_RETURN_JSONB_P(ts_report_generate(text_to_cstring(PG_GETARG_TEXT_PP(0)),
										 PG_ARGISNULL(1) ? NULL : &start,
										 PG_ARGISNULL(2) ? NULL : &end, filters,
										 !PG_ARGISNULL(4) && PG_GETARG_BOOL(4),
										 !PG_ARGISNULL(5) && PG_GETARG_BOOL(5)));
}

