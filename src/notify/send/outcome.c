/*
 * outcome.c
 *	  What the dispatcher learned about each row it tried, queued in memory
 *	  and recorded in one short transaction per batch: sent (with the
 *	  provider's id), failed (with the error), or pending again (with the
 *	  time of the next try); subscriptions that answered 410 are disabled.
 *	  Delays are clamped to retry_max_delay (delay.c) and texts made valid
 *	  before they reach SQL; when the batch UPDATE fails, each row is
 *	  recorded on its own in a subtransaction, so one bad row never loses the outcomes of
 *	  its neighbours (it ends 'failed' with the reason).  Also counts sent,
 *	  failed and retried rows in shared memory.
 */
#include "postgres.h"

#include "compat.h"
#include "base/extschema.h"
#include "worker/worker.h"
#include "notify/send/delay.h"
#include "notify/send/outcome.h"
#include "notify/send/wake.h"


#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

/* What happened to one row, waiting to be recorded. */
typedef struct TsQueuedOutcome
{
	int64		id;
	char	   *session_id;		/* with id, the row's key (on Citus it finds the shard) */
	const char *status;			/* sent, failed, pending */
	char	   *error;
	char	   *provider_id;
	int64		delay_ms;
	int			undo_attempt;	/* deferred without trying */
	int64		disable_webhook;
} TsQueuedOutcome;

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

/* Longest error text kept for a row, in bytes. */
#define TS_ERROR_MAX 1000

/*
 * A copy of `s` that is valid in the database encoding and printable:
 * invalid bytes and control characters become '?' (CR, LF and tabs a
 * space), cut on a character boundary at `max` bytes.
 */
static char *
ts_clean_text(const char *s, int max)
{
	int			enc = GetDatabaseEncoding();
	int			len = strlen(s);
	StringInfoData out;

	initStringInfo(&out);
	while (len > 0 && out.len < max)
	{
		unsigned char c = (unsigned char) *s;
		int			l;

		if (c < 0x80)
		{
			appendStringInfoChar(&out, c == '\r' || c == '\n' || c == '\t' ? ' ' :
								 (c < 0x20 || c == 0x7f) ? '?' : (char) c);
			s++, len--;
			continue;
		}
		l = pg_encoding_verifymbchar(enc, s, len);
		if (l <= 0)
		{
			appendStringInfoChar(&out, '?');
			s++, len--;
			continue;
		}
		if (out.len + l > max)
			break;
		appendBinaryStringInfo(&out, s, l);
		s += l, len -= l;
	}
	return out.data;
}

/* Queues an outcome of row (id, session_id) for the next recording transaction. */
void
ts_outcome(int64 id, const char *session_id, const TsOutcome *r)
{
	MemoryContext old = MemoryContextSwitchTo(ts_outcome_cxt);
	TsQueuedOutcome *o = palloc0(sizeof(TsQueuedOutcome));

	o->id = id;
	o->session_id = pstrdup(session_id ? session_id : "");
	o->status = r->status;
	o->error = r->error ? ts_clean_text(r->error, TS_ERROR_MAX) : NULL;
	o->provider_id = r->provider_id ? ts_clean_text(r->provider_id, 300) : NULL;
	o->delay_ms = ts_clamp_delay_ms((double) r->delay_ms);
	o->undo_attempt = r->undo_attempt;
	o->disable_webhook = r->disable_webhook;
	ts_outcomes = lappend(ts_outcomes, o);
	if (ts_n_outcomes++ == 0)
		ts_first_outcome = GetCurrentTimestamp();
	MemoryContextSwitchTo(old);

	if (ts_my_dispatcher == NULL)
		return;
	if (strcmp(r->status, "sent") == 0)
		pg_atomic_fetch_add_u64(&ts_my_dispatcher->sent, 1);
	else if (strcmp(r->status, "failed") == 0)
		pg_atomic_fetch_add_u64(&ts_my_dispatcher->failed, 1);
	else if (!r->undo_attempt)
		pg_atomic_fetch_add_u64(&ts_my_dispatcher->retried, 1);
	if (r->error)
		ts_dispatcher_error_seen();
}

/* Builds an array Datum of the given element type (NULL elements allowed). */
static Datum
ts_array(Datum *elems, bool *nulls, int n, Oid type, int16 len, bool byval, char align)
{
	int			dims[1] = {n};
	int			lbs[1] = {1};

	return PointerGetDatum(construct_md_array(elems, nulls, 1, dims, lbs, type, len, byval, align));
}

/* One statement with bound parameters, and the SPI result it must give. */
typedef struct TsStatement
{
	const char *sql;
	int			nargs;
	Oid		   *types;
	Datum	   *args;
	int			expect;
} TsStatement;

/* Runs a TsStatement (ts_worker_try's step). */
static void
ts_run_statement(void *arg)
{
	TsStatement *st = (TsStatement *) arg;

	if (SPI_execute_with_args(st->sql, st->nargs, st->types, st->args, NULL, false, 0) != st->expect)
		elog(ERROR, "unexpected SPI result running \"%s\"", st->sql);
}

/*
 * Runs one statement with bound parameters in a subtransaction.  Returns
 * NULL when it succeeded; otherwise the subtransaction is rolled back and
 * the error's message is returned (in the caller's memory context).
 */
static char *
ts_try_execute(const char *sql, int nargs, Oid *types, Datum *args, int expect)
{
	TsStatement st = {sql, nargs, types, args, expect};

	return ts_worker_try(ts_run_statement, &st);
}

/*
 * The outcome UPDATE, over the arrays $1..$7 (id, status, error, provider
 * id, time of the next try, attempts to give back, session id) and $8, the
 * transaction's start: now(), and now() plus each row's delay, come as
 * values (on Citus a CASE takes immutable functions only).  Each row goes
 * by its whole key (on Citus, only the shards of those sessions are
 * visited).  Every operator and function is pg_catalog's and every literal
 * cast, so nothing a user creates is picked.
 */
static char *
ts_outcome_sql(const char *table)
{
	return psprintf(
		"UPDATE %s n SET status = v.status,"
		" sent_at = CASE WHEN v.status OPERATOR(pg_catalog.=) 'sent'::pg_catalog.text"
		"   THEN $8 ELSE n.sent_at END,"
		" failed_at = CASE WHEN v.status OPERATOR(pg_catalog.=) 'failed'::pg_catalog.text"
		"   THEN $8 ELSE n.failed_at END,"
		" last_error = coalesce(v.error, n.last_error),"
		" provider_message_id = coalesce(v.pid, n.provider_message_id),"
		" next_attempt_at = CASE WHEN v.status OPERATOR(pg_catalog.=) 'pending'::pg_catalog.text"
		"   THEN v.next ELSE n.next_attempt_at END,"
		" attempts = n.attempts OPERATOR(pg_catalog.-) v.undo, lease_expires_at = NULL"
		" FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.int8[]), pg_catalog.unnest($2::pg_catalog.text[]),"
		"   pg_catalog.unnest($3::pg_catalog.text[]), pg_catalog.unnest($4::pg_catalog.text[]),"
		"   pg_catalog.unnest($5::pg_catalog.timestamptz[]), pg_catalog.unnest($6::pg_catalog.int4[]),"
		"   pg_catalog.unnest($7::pg_catalog.text[]))"
		"   AS v(id, status, error, pid, next, undo, sid)"
		" WHERE n.id OPERATOR(pg_catalog.=) v.id AND n.session_id OPERATOR(pg_catalog.=) v.sid"
		"   AND n.session_id OPERATOR(pg_catalog.=) ANY ($7::pg_catalog.text[])"
		"   AND n.status OPERATOR(pg_catalog.=) 'sending'::pg_catalog.text", table);
}

/*
 * Binds outcomes [from, from + n) of the queue as the arrays of the UPDATE,
 * and now (the next try of a pending row: now plus its delay, in whole
 * milliseconds, as now() + delay * '1 millisecond' gives).
 */
static void
ts_outcome_args(TsQueuedOutcome **all, int from, int n, Datum *args)
{
	Datum	   *ids = palloc(sizeof(Datum) * n);
	Datum	   *statuses = palloc(sizeof(Datum) * n);
	Datum	   *errors = palloc(sizeof(Datum) * n);
	Datum	   *pids = palloc(sizeof(Datum) * n);
	Datum	   *nexts = palloc(sizeof(Datum) * n);
	Datum	   *undos = palloc(sizeof(Datum) * n);
	Datum	   *sids = palloc(sizeof(Datum) * n);
	bool	   *enull = palloc0(sizeof(bool) * n);
	bool	   *pnull = palloc0(sizeof(bool) * n);
	TimestampTz now = GetCurrentTransactionStartTimestamp();

	for (int i = 0; i < n; i++)
	{
		TsQueuedOutcome  *o = all[from + i];

		ids[i] = Int64GetDatum(o->id);
		statuses[i] = CStringGetTextDatum(o->status);
		enull[i] = (o->error == NULL);
		errors[i] = o->error ? CStringGetTextDatum(o->error) : (Datum) 0;
		pnull[i] = (o->provider_id == NULL);
		pids[i] = o->provider_id ? CStringGetTextDatum(o->provider_id) : (Datum) 0;
		nexts[i] = TimestampTzGetDatum(now + o->delay_ms * INT64CONST(1000));
		undos[i] = Int32GetDatum(o->undo_attempt);
		sids[i] = CStringGetTextDatum(o->session_id);
	}
	args[0] = ts_array(ids, NULL, n, INT8OID, 8, true, TYPALIGN_DOUBLE);
	args[1] = ts_array(statuses, NULL, n, TEXTOID, -1, false, TYPALIGN_INT);
	args[2] = ts_array(errors, enull, n, TEXTOID, -1, false, TYPALIGN_INT);
	args[3] = ts_array(pids, pnull, n, TEXTOID, -1, false, TYPALIGN_INT);
	args[4] = ts_array(nexts, NULL, n, TIMESTAMPTZOID, 8, true, TYPALIGN_DOUBLE);
	args[5] = ts_array(undos, NULL, n, INT4OID, 4, true, TYPALIGN_INT);
	args[6] = ts_array(sids, NULL, n, TEXTOID, -1, false, TYPALIGN_INT);
	args[7] = TimestampTzGetDatum(now);
}

/*
 * Records one outcome on its own; when even that fails, the row is failed
 * with the reason (so it is not sent again), and when that fails too it is
 * left 'sending' for its lease to expire, with a warning in the log.
 */
static void
ts_record_one(const char *table, const char *sql, TsQueuedOutcome **all, int i)
{
	static Oid	types[8] = {INT8ARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TIMESTAMPTZARRAYOID,
	INT4ARRAYOID, TEXTARRAYOID, TIMESTAMPTZOID};
	Datum		args[8];
	char	   *failure;
	Oid			ftypes[3] = {INT8OID, TEXTOID, TEXTOID};
	Datum		fargs[3];

	ts_outcome_args(all, i, 1, args);
	failure = ts_try_execute(sql, 8, types, args, SPI_OK_UPDATE);
	if (failure == NULL)
		return;
	fargs[0] = Int64GetDatum(all[i]->id);
	fargs[1] = CStringGetTextDatum(ts_clean_text(psprintf("could not record the outcome (%s): %s",
														  all[i]->status, failure), TS_ERROR_MAX));
	fargs[2] = CStringGetTextDatum(all[i]->session_id);
	failure = ts_try_execute(psprintf(
		"UPDATE %s SET status = 'failed'::pg_catalog.text, failed_at = pg_catalog.now(),"
		" last_error = $2, lease_expires_at = NULL"
		" WHERE id OPERATOR(pg_catalog.=) $1 AND session_id OPERATOR(pg_catalog.=) $3"
		" AND status OPERATOR(pg_catalog.=) 'sending'::pg_catalog.text",
		table), 3, ftypes, fargs, SPI_OK_UPDATE);
	if (failure)
		ereport(WARNING,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not record the outcome of notification " INT64_FORMAT, all[i]->id),
				 errdetail("%s", ts_clean_text(failure, TS_ERROR_MAX)),
				 errhint("The row stays 'sending' until its lease expires.")));
}

/* Disables the webhook subscriptions that answered 410 (a failure is logged). */
static void
ts_disable_webhooks(Oid nspid)
{
	Datum	   *disable = palloc(sizeof(Datum) * list_length(ts_outcomes));
	int			n = 0;
	ListCell   *lc;
	Oid			t = INT8ARRAYOID;
	Datum		a;
	char	   *failure;

	foreach(lc, ts_outcomes)
	{
		TsQueuedOutcome  *o = lfirst(lc);

		if (o->disable_webhook)
			disable[n++] = Int64GetDatum(o->disable_webhook);
	}
	if (n == 0)
		return;
	a = ts_array(disable, NULL, n, INT8OID, 8, true, TYPALIGN_DOUBLE);
	failure = ts_try_execute(psprintf(
		"UPDATE %s SET active = false, disabled_reason = 'HTTP 410 Gone from the endpoint'::pg_catalog.text"
		" WHERE id OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.int8[])",
		ts_qualified_name(nspid, "support_webhooks")), 1, &t, &a, SPI_OK_UPDATE);
	if (failure)
		ereport(WARNING,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not disable webhook subscriptions that answered 410"),
				 errdetail("%s", ts_clean_text(failure, TS_ERROR_MAX))));
}

/*
 * Records every queued outcome in one short transaction: the whole batch
 * in one UPDATE, or, when that fails, row by row.
 */
void
ts_record_outcomes(void)
{
	int			n = list_length(ts_outcomes);
	Oid			nspid;

	if (n == 0)
		return;

	nspid = ts_worker_begin();
	pgstat_report_activity(STATE_RUNNING, "recording notification outcomes");
	if (OidIsValid(nspid))
	{
		static Oid	types[8] = {INT8ARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TIMESTAMPTZARRAYOID,
		INT4ARRAYOID, TEXTARRAYOID, TIMESTAMPTZOID};
		const char *table = ts_qualified_name(nspid, "support_troubleshooting_notifications");
		const char *sql = ts_outcome_sql(table);
		TsQueuedOutcome **all = palloc(sizeof(TsQueuedOutcome *) * n);
		Datum		args[8];
		char	   *failure;
		int			i = 0;
		ListCell   *lc;

		foreach(lc, ts_outcomes)
			all[i++] = lfirst(lc);
		ts_outcome_args(all, 0, n, args);
		failure = ts_try_execute(sql, 8, types, args, SPI_OK_UPDATE);
		if (failure)
		{
			ereport(LOG,
					(errmsg("troubleshooting dispatcher: recording %d outcomes row by row", n),
					 errdetail("The batch failed: %s", ts_clean_text(failure, TS_ERROR_MAX))));
			for (i = 0; i < n; i++)
			{
				CHECK_FOR_INTERRUPTS();
				ts_record_one(table, sql, all, i);
			}
		}
		ts_disable_webhooks(nspid);
	}
	ts_worker_end();

	ts_outcomes_discard();
}
