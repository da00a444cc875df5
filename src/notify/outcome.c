/*
 * outcome.c
 *	  What the dispatcher learned about each row it tried, queued in memory
 *	  and recorded in one short transaction per batch: sent (with the
 *	  provider's id), failed (with the error), or pending again (with the
 *	  time of the next try); subscriptions that answered 410 are disabled.
 *	  Also counts sent, failed and retried rows in shared memory.
 */
#include "postgres.h"

#include "compat.h"
#include "extschema.h"
#include "maintenance.h"
#include "notify/outcome.h"
#include "notify/shmem.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "pgstat.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

/* What happened to one row, waiting to be recorded. */
typedef struct TsOutcome
{
	int64		id;
	const char *status;			/* sent, failed, pending */
	char	   *error;
	char	   *provider_id;
	int64		delay_ms;
	int			undo_attempt;	/* deferred without trying */
	int64		disable_webhook;
} TsOutcome;

static List *ts_outcomes = NIL;
static MemoryContext ts_outcome_cxt = NULL;
static int	ts_n_outcomes = 0;
static TimestampTz ts_first_outcome = 0;

/* Creates the memory the queued outcomes live in. */
void
ts_outcomes_init(void)
{
	ts_outcome_cxt = AllocSetContextCreate(TopMemoryContext, "troubleshooting outcomes",
										   ALLOCSET_DEFAULT_SIZES);
}

/* How many outcomes wait to be recorded. */
int
ts_outcomes_count(void)
{
	return ts_n_outcomes;
}

/* When the oldest waiting outcome was queued. */
TimestampTz
ts_outcomes_oldest(void)
{
	return ts_first_outcome;
}

/* Forgets the waiting outcomes (their rows stay 'sending' until the lease expires). */
void
ts_outcomes_discard(void)
{
	ts_outcomes = NIL;
	ts_n_outcomes = 0;
	MemoryContextReset(ts_outcome_cxt);
}

/* Queues an outcome for the next recording transaction. */
void
ts_outcome(int64 id, const char *status, const char *error, const char *provider_id,
		   int64 delay_ms, int undo, int64 disable_webhook)
{
	MemoryContext old = MemoryContextSwitchTo(ts_outcome_cxt);
	TsOutcome  *o = palloc0(sizeof(TsOutcome));

	o->id = id;
	o->status = status;
	o->error = error ? pstrdup(error) : NULL;
	o->provider_id = provider_id ? pstrdup(provider_id) : NULL;
	o->delay_ms = delay_ms;
	o->undo_attempt = undo;
	o->disable_webhook = disable_webhook;
	ts_outcomes = lappend(ts_outcomes, o);
	if (ts_n_outcomes++ == 0)
		ts_first_outcome = GetCurrentTimestamp();
	MemoryContextSwitchTo(old);

	if (strcmp(status, "sent") == 0)
		pg_atomic_fetch_add_u64(&ts_shared->sent, 1);
	else if (strcmp(status, "failed") == 0)
		pg_atomic_fetch_add_u64(&ts_shared->failed, 1);
	else if (!undo)
		pg_atomic_fetch_add_u64(&ts_shared->retried, 1);
	if (error)
	{
		SpinLockAcquire(&ts_shared->mutex);
		ts_shared->last_error_at = GetCurrentTimestamp();
		SpinLockRelease(&ts_shared->mutex);
	}
}

/* Builds an array Datum of the given element type (NULL elements allowed). */
static Datum
ts_array(Datum *elems, bool *nulls, int n, Oid type, int16 len, bool byval, char align)
{
	int			dims[1] = {n};
	int			lbs[1] = {1};

	return PointerGetDatum(construct_md_array(elems, nulls, 1, dims, lbs, type, len, byval, align));
}

/* Records every queued outcome in one short transaction. */
void
ts_record_outcomes(void)
{
	int			n = list_length(ts_outcomes);
	Datum	   *ids = palloc(sizeof(Datum) * n);
	Datum	   *statuses = palloc(sizeof(Datum) * n);
	Datum	   *errors = palloc(sizeof(Datum) * n);
	Datum	   *pids = palloc(sizeof(Datum) * n);
	Datum	   *delays = palloc(sizeof(Datum) * n);
	Datum	   *undos = palloc(sizeof(Datum) * n);
	bool	   *enull = palloc0(sizeof(bool) * n);
	bool	   *pnull = palloc0(sizeof(bool) * n);
	Datum	   *disable = palloc(sizeof(Datum) * n);
	int			ndisable = 0;
	int			i = 0;
	ListCell   *lc;
	Oid			nspid;

	if (n == 0)
		return;
	foreach(lc, ts_outcomes)
	{
		TsOutcome  *o = lfirst(lc);

		ids[i] = Int64GetDatum(o->id);
		statuses[i] = CStringGetTextDatum(o->status);
		enull[i] = (o->error == NULL);
		errors[i] = o->error ? CStringGetTextDatum(o->error) : (Datum) 0;
		pnull[i] = (o->provider_id == NULL);
		pids[i] = o->provider_id ? CStringGetTextDatum(o->provider_id) : (Datum) 0;
		delays[i] = Int64GetDatum(o->delay_ms);
		undos[i] = Int32GetDatum(o->undo_attempt);
		if (o->disable_webhook)
			disable[ndisable++] = Int64GetDatum(o->disable_webhook);
		i++;
	}

	ts_worker_begin();
	pgstat_report_activity(STATE_RUNNING, "recording notification outcomes");
	nspid = ts_extension_schema(true);
	if (OidIsValid(nspid))
	{
		Oid			types[6] = {INT8ARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, INT8ARRAYOID, INT4ARRAYOID};
		Datum		args[6];

		args[0] = ts_array(ids, NULL, n, INT8OID, 8, true, TYPALIGN_DOUBLE);
		args[1] = ts_array(statuses, NULL, n, TEXTOID, -1, false, TYPALIGN_INT);
		args[2] = ts_array(errors, enull, n, TEXTOID, -1, false, TYPALIGN_INT);
		args[3] = ts_array(pids, pnull, n, TEXTOID, -1, false, TYPALIGN_INT);
		args[4] = ts_array(delays, NULL, n, INT8OID, 8, true, TYPALIGN_DOUBLE);
		args[5] = ts_array(undos, NULL, n, INT4OID, 4, true, TYPALIGN_INT);
		if (SPI_execute_with_args(psprintf(
			"UPDATE %s n SET status = v.status,"
			" sent_at = CASE WHEN v.status = 'sent' THEN now() ELSE n.sent_at END,"
			" failed_at = CASE WHEN v.status = 'failed' THEN now() ELSE n.failed_at END,"
			" last_error = coalesce(v.error, n.last_error),"
			" provider_message_id = coalesce(v.pid, n.provider_message_id),"
			" next_attempt_at = CASE WHEN v.status = 'pending'"
			"   THEN now() + v.delay * interval '1 millisecond' ELSE n.next_attempt_at END,"
			" attempts = n.attempts - v.undo, lease_expires_at = NULL"
			" FROM unnest($1, $2, $3, $4, $5, $6) AS v(id, status, error, pid, delay, undo)"
			" WHERE n.id = v.id AND n.status = 'sending'",
			ts_qualified_name(nspid, "support_troubleshooting_notifications")),
								  6, types, args, NULL, false, 0) != SPI_OK_UPDATE)
			elog(ERROR, "could not record notification outcomes");
		if (ndisable > 0)
		{
			Oid			t = INT8ARRAYOID;
			Datum		a = ts_array(disable, NULL, ndisable, INT8OID, 8, true, TYPALIGN_DOUBLE);

			if (SPI_execute_with_args(psprintf(
				"UPDATE %s SET active = false, disabled_reason = 'HTTP 410 Gone from the endpoint'"
				" WHERE id = ANY ($1)", ts_qualified_name(nspid, "support_webhooks")),
									  1, &t, &a, NULL, false, 0) != SPI_OK_UPDATE)
				elog(ERROR, "could not disable webhook subscriptions");
		}
	}
	ts_worker_end();

	ts_outcomes_discard();
}

