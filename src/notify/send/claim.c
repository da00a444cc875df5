/*
 * claim.c
 *	  The dispatcher's claim: in one short transaction, resets expired
 *	  leases, locks due rows by priority then age (FOR UPDATE SKIP LOCKED),
 *	  with their webhook subscription and the channel's provider settings,
 *	  copies them to the ready list and marks them 'sending' under a lease.
 *	  Rows join the ready list only once that transaction has committed: a
 *	  failed claim leaves them 'pending' and sends nothing.
 */
#include "postgres.h"

#include "compat.h"
#include "base/extschema.h"
#include "worker/worker.h"
#include "notify/channel_table.h"
#include "notify/send/claim.h"
#include "notify/send/settings.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "pgstat.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

List	   *ts_ready = NIL;		/* claimed rows waiting for a free transfer slot */
MemoryContext ts_ready_cxt = NULL;

/* Resets rows a previous dispatcher left 'sending' (crash) or whose lease ran out. */
static void
ts_recover_leases(const char *table, bool all)
{
	SPI_execute(psprintf("UPDATE %s SET status = 'pending'::pg_catalog.text, lease_expires_at = NULL"
						 " WHERE status OPERATOR(pg_catalog.=) 'sending'::pg_catalog.text%s", table,
						 all ? "" : " AND lease_expires_at OPERATOR(pg_catalog.<) pg_catalog.now()"),
				false, 0);
}

/* Orders ready rows by priority, then age. */
static int
ts_ready_cmp(const ListCell *a, const ListCell *b)
{
	const TsReady *x = lfirst(a);
	const TsReady *y = lfirst(b);

	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	return x->n.id < y->n.id ? -1 : (x->n.id > y->n.id ? 1 : 0);
}

/* Copies the claimed rows of SPI_tuptable into ready rows in `cxt`; returns them. */
static List *
ts_copy_claimed(MemoryContext cxt)
{
	List	   *rows = NIL;
	MemoryContext old = MemoryContextSwitchTo(cxt);

	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		TsReady    *r = palloc0(sizeof(TsReady));
		Datum		d;

		r->rank = DatumGetInt16(SPI_getbinval(tup, desc, 1, &isnull));
		r->n.id = DatumGetInt64(SPI_getbinval(tup, desc, 2, &isnull));
		r->n.channel = SPI_getvalue(tup, desc, 3);
		r->n.recipient = SPI_getvalue(tup, desc, 4);
		r->n.subject = SPI_getvalue(tup, desc, 5);
		r->n.body = SPI_getvalue(tup, desc, 6);
		if (r->n.body == NULL)
			r->n.body = "";
		d = SPI_getbinval(tup, desc, 7, &isnull);
		r->n.metadata = isnull ? NULL : DatumGetJsonbPCopy(d);
		r->n.idempotency_key = SPI_getvalue(tup, desc, 8);
		r->attempts = DatumGetInt32(SPI_getbinval(tup, desc, 9, &isnull));
		r->max_attempts = DatumGetInt32(SPI_getbinval(tup, desc, 10, &isnull));
		d = SPI_getbinval(tup, desc, 11, &isnull);
		r->webhook_id = isnull ? 0 : DatumGetInt64(d);
		r->n.webhook_url = SPI_getvalue(tup, desc, 12);
		r->n.webhook_secret = SPI_getvalue(tup, desc, 13);
		d = SPI_getbinval(tup, desc, 14, &isnull);
		r->webhook_active = !isnull && DatumGetBool(d);
		r->n.body_format = SPI_getvalue(tup, desc, 15);
		r->n.text_body = SPI_getvalue(tup, desc, 16);
		r->n.provider = SPI_getvalue(tup, desc, 17);
		d = SPI_getbinval(tup, desc, 18, &isnull);
		r->n.settings = isnull ? NULL : DatumGetJsonbPCopy(d);
		rows = lappend(rows, r);
	}
	MemoryContextSwitchTo(old);
	return rows;
}

/* Marks the claimed rows 'sending' under a lease of `lease_ms`, by primary key. */
static void
ts_lease(Oid nspid, const char *table, List *rows, int lease_ms)
{
	int			n = list_length(rows);
	Datum	   *ids = palloc(sizeof(Datum) * n);
	Oid			utypes[2] = {INT8ARRAYOID, INT4OID};
	Datum		uargs[2];
	int			k = 0;
	ListCell   *lc;

	foreach(lc, rows)
		ids[k++] = Int64GetDatum(((TsReady *) lfirst(lc))->n.id);
	uargs[0] = PointerGetDatum(construct_array(ids, n, INT8OID, 8, true, TYPALIGN_DOUBLE));
	uargs[1] = Int32GetDatum(lease_ms);
	if (SPI_execute_with_args(psprintf(
		"UPDATE %s n SET status = 'sending'::pg_catalog.text,"
		" attempts = n.attempts OPERATOR(pg_catalog.+) 1,"
		" lease_expires_at = pg_catalog.now() OPERATOR(pg_catalog.+)"
		"   ($2::pg_catalog.float8 OPERATOR(pg_catalog.*) '1 millisecond'::pg_catalog.interval),"
		" provider = coalesce((SELECT pr.provider FROM %s pr"
		"   WHERE pr.channel OPERATOR(pg_catalog.=) n.channel), n.channel)"
		" WHERE n.id OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.int8[])",
		table, ts_qualified_name(nspid, "support_troubleshooting_providers")),
							  2, utypes, uargs, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "could not lease notifications");
}

/*
 * Claims up to `limit` due rows, with a lease, in one short transaction and
 * adds them to the ready list once it has committed.  Returns how many it
 * claimed.  On an error nothing joins the ready list (the caller aborts
 * the transaction: the rows stay 'pending', their lease never taken).
 */
int
ts_claim(int limit, bool recover_all)
{
	Oid			nspid;
	char	   *table;
	List	   *volatile claimed = NIL;
	int			n;
	int			lease_ms = ts_request_timeout * (limit / Max(ts_dispatcher_concurrency, 1) + 2) + 60000;
	MemoryContext claimcxt = AllocSetContextCreate(ts_ready_cxt, "troubleshooting claim",
												   ALLOCSET_DEFAULT_SIZES);

	PG_TRY();
	{
		ts_worker_begin();
		nspid = ts_extension_schema(true);
		if (OidIsValid(nspid))
		{
			pgstat_report_activity(STATE_RUNNING, "claiming notifications");
			table = ts_qualified_name(nspid, "support_troubleshooting_notifications");
			ts_recover_leases(table, recover_all);

			/*
			 * lock the due rows (skipping any another transaction holds) ...;
			 * the limit is a literal so that the planner walks the pending
			 * index in order instead of sorting every pending row
			 */
			if (SPI_execute_with_args(psprintf(
				"SELECT p.priority_rank, p.id, p.channel, p.recipient, p.subject, p.body, p.metadata,"
				"  p.idempotency_key, p.attempts OPERATOR(pg_catalog.+) 1, p.max_attempts,"
				"  w.id, w.url, w.secret, w.active,"
				"  p.body_format, p.text_body, pr.provider, pr.settings"
				" FROM %1$s p LEFT JOIN %2$s w ON p.channel OPERATOR(pg_catalog.=) 'webhook'::pg_catalog.text"
				"  AND w.id OPERATOR(pg_catalog.=) CASE"
				"   WHEN p.recipient OPERATOR(pg_catalog.~) '^[0-9]{1,18}$'::pg_catalog.text"
				"   THEN p.recipient::pg_catalog.int8 END"
				" LEFT JOIN %4$s pr ON pr.channel OPERATOR(pg_catalog.=) p.channel"
				" WHERE p.status OPERATOR(pg_catalog.=) 'pending'::pg_catalog.text"
				"  AND p.next_attempt_at OPERATOR(pg_catalog.<=) pg_catalog.now()"
				"  AND (p.channel OPERATOR(pg_catalog.=) ANY ('%5$s'::pg_catalog.text[])"
				"   OR pr.provider IS NOT NULL)"
				" ORDER BY p.priority_rank, p.id LIMIT %3$d FOR UPDATE OF p SKIP LOCKED",
				table, ts_qualified_name(nspid, "support_webhooks"), limit,
				ts_qualified_name(nspid, "support_troubleshooting_providers"),
				ts_channel_sql_array(false)),
									  0, NULL, NULL, NULL, false, 0) != SPI_OK_SELECT)
				elog(ERROR, "could not claim notifications");
			claimed = ts_copy_claimed(claimcxt);
			/* ... and mark them sent-in-progress under a lease */
			if (claimed != NIL)
				ts_lease(nspid, table, claimed, lease_ms);
		}
		ts_worker_end();
	}
	PG_CATCH();
	{
		/* nothing of a failed claim is kept: the rows are still 'pending' */
		MemoryContextSwitchTo(ts_ready_cxt);
		MemoryContextDelete(claimcxt);
		PG_RE_THROW();
	}
	PG_END_TRY();

	/* committed: the rows are ours until the lease expires */
	n = list_length(claimed);
	if (n > 0)
	{
		MemoryContext old = MemoryContextSwitchTo(ts_ready_cxt);

		ts_ready = list_concat(ts_ready, claimed);
		list_sort(ts_ready, ts_ready_cmp);
		MemoryContextSwitchTo(old);
	}
	return n;
}
