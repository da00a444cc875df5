/*
 * claim.c
 *	  The dispatcher's claim: in one short transaction, resets expired
 *	  leases, locks due rows by priority then age (FOR UPDATE SKIP LOCKED),
 *	  with their webhook subscription and the channel's provider settings,
 *	  copies them to the ready list and marks them 'sending' under a lease.
 *	  Rows join the ready list only once that transaction has committed: a
 *	  failed claim leaves them 'pending' and sends nothing.
 *
 *	  On Citus the outbox is distributed by session id, and no row lock can
 *	  be taken across its shards (FOR UPDATE needs one shard).  There the
 *	  due rows are picked without locks, in the same order, then claimed by
 *	  one UPDATE on the shards that hold them, which takes only those still
 *	  'pending' (whatever happened to a row meanwhile, a cancel say, is
 *	  seen there), and the claimed rows are read back with their
 *	  subscription and provider.  Only the coordinator's dispatcher claims.
 */
#include "postgres.h"

#include "compat.h"
#include "base/extschema.h"
#include "citus/node.h"
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
		r->n.session_id = SPI_getvalue(tup, desc, 19);
		if (r->n.session_id == NULL)
			r->n.session_id = "";
		rows = lappend(rows, r);
	}
	MemoryContextSwitchTo(old);
	return rows;
}

/*
 * The claim's row query: the columns ts_copy_claimed reads, of the outbox
 * rows matching `where` (p the outbox, w the webhook subscription, pr the
 * channel's provider); `attempts` follows p.attempts (" + 1" before the
 * lease counts the attempt).
 */
static char *
ts_claim_select(Oid nspid, const char *table, const char *attempts, const char *where)
{
	return psprintf("SELECT p.priority_rank, p.id, p.channel, p.recipient, p.subject, p.body, p.metadata,"
					"  p.idempotency_key, p.attempts%s, p.max_attempts,"
					"  w.id, w.url, w.secret, w.active,"
					"  p.body_format, p.text_body, pr.provider, pr.settings, p.session_id"
					" FROM %s p LEFT JOIN %s w ON p.channel OPERATOR(pg_catalog.=) 'webhook'::pg_catalog.text"
					"  AND w.id OPERATOR(pg_catalog.=) CASE"
					"   WHEN p.recipient OPERATOR(pg_catalog.~) '^[0-9]{1,18}$'::pg_catalog.text"
					"   THEN p.recipient::pg_catalog.int8 END"
					" LEFT JOIN %s pr ON pr.channel OPERATOR(pg_catalog.=) p.channel"
					" WHERE %s",
					attempts, table, ts_qualified_name(nspid, "support_webhooks"),
					ts_qualified_name(nspid, "support_troubleshooting_providers"), where);
}

/* The condition of a due row of the outbox p, with its provider pr. */
static char *
ts_claim_due(void)
{
	return psprintf("p.status OPERATOR(pg_catalog.=) 'pending'::pg_catalog.text"
					"  AND p.next_attempt_at OPERATOR(pg_catalog.<=) pg_catalog.now()"
					"  AND (p.channel OPERATOR(pg_catalog.=) ANY ('%s'::pg_catalog.text[])"
					"   OR pr.provider IS NOT NULL)", ts_channel_sql_array(false));
}

/*
 * Marks claimed rows 'sending' under a lease of `lease_ms`, by their key
 * (ids and session ids, int8[] and text[]).  Distributed, only the rows
 * still pending and due are taken, and their keys returned (SPI_tuptable).
 */
static void
ts_lease(Oid nspid, const char *table, Datum ids, Datum sids, int lease_ms, bool distributed)
{
	Oid			utypes[3] = {INT8ARRAYOID, INT4OID, TEXTARRAYOID};
	Datum		uargs[3] = {ids, Int32GetDatum(lease_ms), sids};

	if (SPI_execute_with_args(psprintf(
		"UPDATE %s n SET status = 'sending'::pg_catalog.text,"
		" attempts = n.attempts OPERATOR(pg_catalog.+) 1,"
		" lease_expires_at = pg_catalog.now() OPERATOR(pg_catalog.+)"
		"   ($2::pg_catalog.float8 OPERATOR(pg_catalog.*) '1 millisecond'::pg_catalog.interval),"
		" provider = coalesce((SELECT pr.provider FROM %s pr"
		"   WHERE pr.channel OPERATOR(pg_catalog.=) n.channel), n.channel)"
		" WHERE n.id OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.int8[])"
		"  AND n.session_id OPERATOR(pg_catalog.=) ANY ($3::pg_catalog.text[])%s",
		table, ts_qualified_name(nspid, "support_troubleshooting_providers"),
		distributed ? " AND n.status OPERATOR(pg_catalog.=) 'pending'::pg_catalog.text"
		" AND n.next_attempt_at OPERATOR(pg_catalog.<=) pg_catalog.now()"
		" RETURNING n.id, n.session_id" : ""),
							  3, utypes, uargs, NULL, false, 0) !=
		(distributed ? SPI_OK_UPDATE_RETURNING : SPI_OK_UPDATE))
		elog(ERROR, "could not lease notifications");
}

/* The keys (id, session id) of rows of the SPI result, as int8[] and text[] arrays. */
static void
ts_result_keys(int idcol, int sidcol, Datum *ids, Datum *sids)
{
	int			n = (int) SPI_processed;
	Datum	   *idv = palloc(sizeof(Datum) * Max(n, 1));
	Datum	   *sidv = palloc(sizeof(Datum) * Max(n, 1));
	bool		isnull;

	for (int i = 0; i < n; i++)
	{
		idv[i] = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, idcol, &isnull);
		sidv[i] = PointerGetDatum(DatumGetTextPCopy(SPI_getbinval(SPI_tuptable->vals[i],
																  SPI_tuptable->tupdesc, sidcol, &isnull)));
	}
	*ids = PointerGetDatum(construct_array(idv, n, INT8OID, 8, true, TYPALIGN_DOUBLE));
	*sids = PointerGetDatum(construct_array(sidv, n, TEXTOID, -1, false, TYPALIGN_INT));
}

/*
 * The claim on a single server: due rows locked (skipping any another
 * transaction holds) and read, then leased.  The limit is a literal so that
 * the planner walks the pending index in order instead of sorting every
 * pending row.
 */
static List *
ts_claim_local(Oid nspid, const char *table, int limit, int lease_ms, MemoryContext cxt)
{
	List	   *claimed;
	Datum		ids;
	Datum		sids;

	if (SPI_execute(psprintf("%s ORDER BY p.priority_rank, p.id LIMIT %d FOR UPDATE OF p SKIP LOCKED",
							 ts_claim_select(nspid, table, " OPERATOR(pg_catalog.+) 1", ts_claim_due()),
							 limit),
					false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not claim notifications");
	claimed = ts_copy_claimed(cxt);
	if (claimed == NIL)
		return NIL;
	ts_result_keys(2, 19, &ids, &sids);
	ts_lease(nspid, table, ids, sids, lease_ms, false);
	return claimed;
}

/*
 * The claim on Citus (see the header): the due rows' keys without locks,
 * the lease of those still pending, then those rows as the claim reads them.
 */
static List *
ts_claim_distributed(Oid nspid, const char *table, int limit, int lease_ms, MemoryContext cxt)
{
	Oid			types[2] = {INT8ARRAYOID, TEXTARRAYOID};
	Datum		args[2];

	if (SPI_execute(psprintf("SELECT p.id, p.session_id FROM %s p"
							 " LEFT JOIN %s pr ON pr.channel OPERATOR(pg_catalog.=) p.channel"
							 " WHERE %s ORDER BY p.priority_rank, p.id LIMIT %d",
							 table, ts_qualified_name(nspid, "support_troubleshooting_providers"),
							 ts_claim_due(), limit),
					false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read due notifications");
	if (SPI_processed == 0)
		return NIL;
	ts_result_keys(1, 2, &args[0], &args[1]);
	ts_lease(nspid, table, args[0], args[1], lease_ms, true);
	if (SPI_processed == 0)
		return NIL;				/* every one of them changed meanwhile */
	ts_result_keys(1, 2, &args[0], &args[1]);
	if (SPI_execute_with_args(ts_claim_select(nspid, table, "",
											  "p.id OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.int8[])"
											  " AND p.session_id OPERATOR(pg_catalog.=) ANY ($2::pg_catalog.text[])"),
							  2, types, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read claimed notifications");
	return ts_copy_claimed(cxt);
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
		nspid = ts_worker_begin();
		if (OidIsValid(nspid))
		{
			pgstat_report_activity(STATE_RUNNING, "claiming notifications");
			table = ts_qualified_name(nspid, "support_troubleshooting_notifications");
			ts_recover_leases(table, recover_all);
			if (ts_citus_table(ts_extension_relid("support_troubleshooting_notifications", false)))
				claimed = ts_claim_distributed(nspid, table, limit, lease_ms, claimcxt);
			else
				claimed = ts_claim_local(nspid, table, limit, lease_ms, claimcxt);
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
