/*
 * triggers.c
 *	  The AFTER ROW triggers on the session, attempt and feedback tables that
 *	  record, in the writer's transaction, what each row change does to the
 *	  hourly metrics (the deltas of delta.c).
 */
#include "postgres.h"

#include "metrics/delta.h"

#include "commands/trigger.h"
#include "fmgr.h"
#include "utils/rel.h"

PG_FUNCTION_INFO_V1(ts_metrics_sessions_delta);
PG_FUNCTION_INFO_V1(ts_metrics_attempts_delta);
PG_FUNCTION_INFO_V1(ts_metrics_feedback_delta);

/* Shared body of the three AFTER ROW triggers. */
static Datum
ts_metrics_delta_trigger(FunctionCallInfo fcinfo, TsRowKind kind)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	TsDeltaSet	set;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event))
		elog(ERROR, "metrics delta trigger must be an AFTER ROW trigger");

	desc = RelationGetDescr(trigdata->tg_relation);
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
	ts_delta_write(set.items, set.n, RelationGetNamespace(trigdata->tg_relation));
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
