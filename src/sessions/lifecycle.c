/*
 * lifecycle.c
 *	  Row trigger on support_troubleshooting_sessions that keeps the
 *	  lifecycle timestamps consistent with status: resolved_at, escalated_at
 *	  and ended_at are filled when a session reaches a final status and the
 *	  caller did not give them; last_activity_at follows progress.
 */
#include "postgres.h"

#include "base/extschema.h"
#include "compat.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(ts_sessions_lifecycle);

/* Attribute numbers of the columns the trigger reads or writes. */
typedef struct TsSessionCols
{
	int			status;
	int			started_at;
	int			last_activity_at;
	int			resolved_at;
	int			escalated_at;
	int			ended_at;
	int			total_steps;
	int			completed_steps;
} TsSessionCols;

/* Looks up one column's number, failing loudly if the table lost it. */
static int
ts_session_col(TupleDesc desc, const char *name)
{
	return ts_column_number(desc, "support_troubleshooting_sessions", name);
}

/* True for the statuses that end a session. */
static bool
ts_status_is_final(const char *status)
{
	return strcmp(status, "resolved") == 0 || strcmp(status, "escalated") == 0 ||
		strcmp(status, "abandoned") == 0 || strcmp(status, "timed_out") == 0;
}

/* True if column attnum is NULL in tuple. */
static bool
ts_col_isnull(HeapTuple tuple, TupleDesc desc, int attnum)
{
	return heap_attisnull(tuple, attnum, desc);
}

/* True if column attnum has a different value (or nullness) in a and b. */
static bool
ts_col_changed(HeapTuple a, HeapTuple b, TupleDesc desc, int attnum)
{
	bool		anull,
				bnull;
	Datum		ad = heap_getattr(a, attnum, desc, &anull);
	Datum		bd = heap_getattr(b, attnum, desc, &bnull);
	Form_pg_attribute att = TupleDescAttr(desc, attnum - 1);

	if (anull || bnull)
		return anull != bnull;
	return !datumIsEqual(ad, bd, att->attbyval, att->attlen);
}

/*
 * Refuses an update that changes a session's id: attempts, feedback,
 * notifications and ML rows find their session by it, and on Citus it
 * places the session's rows.  (Compared as text: the same value may be
 * stored with another varlena header.)
 */
static void
ts_check_key_kept(HeapTuple oldtup, HeapTuple newtup, TupleDesc desc)
{
	int			col = ts_session_col(desc, "session_id");
	char	   *before = SPI_getvalue(oldtup, desc, col);
	char	   *after = SPI_getvalue(newtup, desc, col);

	if (before && after && strcmp(before, after) == 0)
		return;
	if (before == NULL && after == NULL)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("a session id cannot change"),
			 errdetail("Session \"%s\" would become \"%s\".",
					   before ? before : "", after ? after : ""),
			 errhint("Start a new session with the new id.")));
}

/* BEFORE INSERT OR UPDATE row trigger keeping timestamps in step with status. */
Datum
ts_sessions_lifecycle(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	HeapTuple	newtup;
	HeapTuple	oldtup = NULL;
	TsSessionCols c;
	char	   *status;
	char	   *oldstatus = NULL;
	bool		final;
	bool		entering;
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	int			cols[5];
	Datum		vals[5];
	bool		nulls[5] = {false, false, false, false, false};
	int			n = 0;
	Datum		ended = (Datum) 0;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event))
		elog(ERROR, "ts_sessions_lifecycle: must be a BEFORE ROW trigger");

	desc = RelationGetDescr(trigdata->tg_relation);
	c.status = ts_session_col(desc, "status");
	c.started_at = ts_session_col(desc, "started_at");
	c.last_activity_at = ts_session_col(desc, "last_activity_at");
	c.resolved_at = ts_session_col(desc, "resolved_at");
	c.escalated_at = ts_session_col(desc, "escalated_at");
	c.ended_at = ts_session_col(desc, "ended_at");
	c.total_steps = ts_session_col(desc, "total_steps");
	c.completed_steps = ts_session_col(desc, "completed_steps");

	if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
	{
		oldtup = trigdata->tg_trigtuple;
		newtup = trigdata->tg_newtuple;
		oldstatus = SPI_getvalue(oldtup, desc, c.status);
		ts_check_key_kept(oldtup, newtup, desc);
	}
	else
		newtup = trigdata->tg_trigtuple;

	status = SPI_getvalue(newtup, desc, c.status);
	if (status == NULL)
		return PointerGetDatum(newtup); /* the NOT NULL constraint reports it */

	final = ts_status_is_final(status);
	entering = oldstatus == NULL || strcmp(oldstatus, status) != 0;

	if (final && entering)
	{
		int			specific = 0;

		if (strcmp(status, "resolved") == 0)
			specific = c.resolved_at;
		else if (strcmp(status, "escalated") == 0)
			specific = c.escalated_at;

		if (specific != 0)
		{
			bool		isnull;

			ended = heap_getattr(newtup, specific, desc, &isnull);
			if (isnull)
			{
				ended = TimestampTzGetDatum(now);
				cols[n] = specific;
				vals[n++] = ended;
			}
		}
		else
			ended = TimestampTzGetDatum(now);

		if (ts_col_isnull(newtup, desc, c.ended_at))
		{
			cols[n] = c.ended_at;
			vals[n++] = ended;
		}
	}
	else if (!final && oldstatus != NULL && ts_status_is_final(oldstatus))
	{
		/* Reopened: it has not ended, nor been resolved, any more. */
		if (!ts_col_changed(oldtup, newtup, desc, c.ended_at))
		{
			cols[n] = c.ended_at;
			nulls[n++] = true;
		}
		if (!ts_col_changed(oldtup, newtup, desc, c.resolved_at))
		{
			cols[n] = c.resolved_at;
			nulls[n++] = true;
		}
	}

	if (oldtup == NULL)
	{
		/* A new session was last active when it started, unless told otherwise. */
		if (ts_col_isnull(newtup, desc, c.last_activity_at))
		{
			bool		isnull;

			cols[n] = c.last_activity_at;
			vals[n++] = heap_getattr(newtup, c.started_at, desc, &isnull);
			nulls[n - 1] = isnull;
		}
	}
	else if (!ts_col_changed(oldtup, newtup, desc, c.last_activity_at) &&
			 (entering ||
			  ts_col_changed(oldtup, newtup, desc, c.total_steps) ||
			  ts_col_changed(oldtup, newtup, desc, c.completed_steps)))
	{
		cols[n] = c.last_activity_at;
		vals[n++] = TimestampTzGetDatum(now);
	}

	if (n > 0)
		newtup = heap_modify_tuple_by_cols(newtup, desc, n, cols, vals, nulls);
	return PointerGetDatum(newtup);
}
