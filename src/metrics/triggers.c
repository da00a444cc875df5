/*
 * triggers.c
 *	  The AFTER ROW triggers on the session, attempt and feedback tables that
 *	  record, in the writer's transaction, what each row change does to the
 *	  hourly metrics (the deltas of delta.c).
 */
#include "postgres.h"

#include "base/extschema.h"
#include "citus/placement.h"
#include "metrics/delta.h"

#include "access/htup_details.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "utils/rel.h"

/* The table each kind of row lives in. */
static const char *const ts_row_tables[] = {
	[TS_ROW_SESSION] = "support_troubleshooting_sessions",
	[TS_ROW_ATTEMPT] = "support_troubleshooting_attempts",
	[TS_ROW_FEEDBACK] = "support_troubleshooting_feedback",
};

PG_FUNCTION_INFO_V1(ts_metrics_sessions_delta);
PG_FUNCTION_INFO_V1(ts_metrics_attempts_delta);
PG_FUNCTION_INFO_V1(ts_metrics_feedback_delta);

/* Shared body of the three AFTER ROW triggers. */
static Datum
ts_metrics_delta_trigger(FunctionCallInfo fcinfo, TsRowKind kind)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Relation	rel;
	TupleDesc	desc;
	TsDeltaSet	set;
	Datum		session_id;
	bool		isnull;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event))
		elog(ERROR, "metrics delta trigger must be an AFTER ROW trigger");

	rel = trigdata->tg_relation;
	desc = RelationGetDescr(rel);
	set.n = 0;
	if (TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
		ts_delta_contrib(&set, kind, trigdata->tg_trigtuple, desc, 1);
	else if (TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
		ts_delta_contrib(&set, kind, trigdata->tg_trigtuple, desc, -1);
	else
	{
		ts_delta_contrib(&set, kind, trigdata->tg_trigtuple, desc, -1);
		ts_delta_contrib(&set, kind, trigdata->tg_newtuple, desc, 1);
	}
	if (set.n == 0)
		return PointerGetDatum(NULL);
	/* a session's id never changes: the old row's is the new row's */
	session_id = heap_getattr(trigdata->tg_trigtuple,
							  ts_column_number(desc, ts_row_tables[kind], "session_id"), desc, &isnull);
	ts_delta_write(set.items, set.n,
				   ts_beside_relid(rel, ts_row_tables[kind], "ts_metrics_delta"),
				   isnull ? (Datum) 0 : session_id);
	return PointerGetDatum(NULL);
}

/* AFTER ROW trigger on support_troubleshooting_sessions. */
Datum
ts_metrics_sessions_delta(PG_FUNCTION_ARGS)
{
	return ts_metrics_delta_trigger(fcinfo, TS_ROW_SESSION);
}

/* AFTER ROW trigger on support_troubleshooting_attempts. */
Datum
ts_metrics_attempts_delta(PG_FUNCTION_ARGS)
{
	return ts_metrics_delta_trigger(fcinfo, TS_ROW_ATTEMPT);
}

/* AFTER ROW trigger on support_troubleshooting_feedback. */
Datum
ts_metrics_feedback_delta(PG_FUNCTION_ARGS)
{
	return ts_metrics_delta_trigger(fcinfo, TS_ROW_FEEDBACK);
}
