/*
 * cleanup.c
 *	  Retention: cleanup_old_troubleshooting_data() (one transaction, the
 *	  caller's), run_troubleshooting_cleanup() (a procedure committing after
 *	  every batch) and the maintenance worker's ts_cleanup_step() delete
 *	  finished sessions with their attempts, feedback and ML rows not marked
 *	  for training, finished notifications, expired and old reports, and old
 *	  ML rows, in batches, with a NOTICE per batch; a dry run only counts.
 *	  Open sessions and notifications still pending or sending always stay.
 *
 *	  A batch of sessions is locked first (FOR UPDATE SKIP LOCKED), so no
 *	  attempt or feedback can join it meanwhile.  When nobody has added
 *	  triggers, rules or foreign keys of their own to these tables, the batch
 *	  goes by set-based statements with session_replication_role = replica,
 *	  which skips the per-row cascade queries of the foreign keys and the
 *	  per-row metric and report triggers; the metric deltas of the batch are
 *	  then written here, merged per hour, and the report rollups lose each
 *	  deleted session's whole contribution (report/rollup/batch.c).  Otherwise it
 *	  is a plain DELETE.
 *
 *	  On Citus (the tables distributed by session id) no row lock can be
 *	  taken across shards, and session_replication_role does not reach the
 *	  shards (their triggers would count the deltas a second time).  There
 *	  a batch of sessions is picked without locks, in the same order, then
 *	  locked by one query per shard, each checking the rule again and
 *	  skipping rows another transaction holds; the locked sessions go by
 *	  plain DELETEs, whose triggers on the shards record the deltas.
 *	  Notifications and ML rows are picked the same way and deleted by
 *	  their keys with the rule checked again.  Counts and NOTICEs are the
 *	  same as on a single server.
 */
#include "postgres.h"

#include "compat.h"
#include "base/extschema.h"
#include "citus/node.h"
#include "config/config.h"
#include "metrics/delta.h"
#include "report/rollup/batch.h"
#include "retention/cleanup.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

PG_FUNCTION_INFO_V1(cleanup_old_troubleshooting_data);
PG_FUNCTION_INFO_V1(run_troubleshooting_cleanup);

#define TS_CLEANUP_BATCH 10000

/* The tables reported, in the order of the result. */
enum
{
	T_SESSIONS,
	T_ATTEMPTS,
	T_FEEDBACK,
	T_NOTIFICATIONS,
	T_REPORTS,
	T_ML,
	T_NTABLES
};

static const char *const ts_tables[T_NTABLES] = {
	"support_troubleshooting_sessions", "support_troubleshooting_attempts",
	"support_troubleshooting_feedback", "support_troubleshooting_notifications",
	"support_troubleshooting_reports", "support_troubleshooting_ml_training"
};

/* The retention setting of each table with a rule of its own. */
static const char *const ts_retention_keys[T_NTABLES] = {
	"retention_days_sessions", NULL, NULL, "retention_days_notifications",
	"retention_days_reports", "retention_days_ml_training"
};

/* Rows of the simple tables that may go; $1 is the cutoff. */
static const char *const ts_simple_where[T_NTABLES] = {
	NULL, NULL, NULL,
	"status NOT IN ('pending', 'sending') AND created_at < $1",
	"(expires_at < now() OR generated_at < $1)",
	"created_at < $1"
};

/* The time column each simple rule walks in order (with its index). */
static const char *const ts_time_col[T_NTABLES] = {
	"started_at", NULL, NULL, "created_at", "generated_at", "created_at"
};

/* One run: where the tables are, what is done so far. */
typedef struct TsCleanup
{
	Oid			nspid;
	bool		dry_run;
	bool		fast;			/* set-based path allowed (see header) */
	int			batch_size;
	char	   *name[T_NTABLES];	/* qualified table names */
	int64		counts[T_NTABLES];
	int64		last_id[T_NTABLES]; /* batches walk forward by (time, id) */
	TimestampTz last_started;	/* ... sessions by (started_at, id) */
	TimestampTz last_time[T_NTABLES];	/* ... the others by (ts_time_col, id) */
	bool		done[T_NTABLES];
	bool		one_batch;		/* at most one batch per table (worker) */
	bool		distributed[T_NTABLES];	/* Citus holds the table (see header) */
	bool		full;			/* the last batch was whole: more may follow */
	TimestampTz cutoff[T_NTABLES];
	MemoryContext batch_cxt;	/* reset after every batch */
} TsCleanup;

/* Runs a query with bound arguments; errors unless it returns expected. */
static void
ts_run(const char *sql, int nargs, Oid *types, Datum *args, int expected)
{
	int			ret = SPI_execute_with_args(sql, nargs, types, args, NULL, false, 0);

	if (ret != expected)
		elog(ERROR, "cleanup query failed: %s", SPI_result_code_string(ret));
}

/* The int8 in column col of the first result row. */
static int64
ts_result_int8(int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, col, &isnull);

	return isnull ? 0 : DatumGetInt64(d);
}

/*
 * True when only the extension's own triggers, no rules and exactly its own
 * foreign keys touch the tables a batch of sessions changes, and its metric
 * triggers are enabled: then the set-based path does all a DELETE would.
 * (Keys referencing notifications, such as the events', do not count: a
 * batch of sessions leaves notifications alone.)
 */
static bool
ts_fast_path_allowed(TsCleanup *c)
{
	Oid			type = OIDARRAYOID;
	Datum		rels[5];
	Datum		arg;
	bool		isnull;

	rels[0] = ObjectIdGetDatum(ts_extension_relid(ts_tables[T_SESSIONS], false));
	rels[1] = ObjectIdGetDatum(ts_extension_relid(ts_tables[T_ATTEMPTS], false));
	rels[2] = ObjectIdGetDatum(ts_extension_relid(ts_tables[T_FEEDBACK], false));
	rels[3] = ObjectIdGetDatum(ts_extension_relid(ts_tables[T_NOTIFICATIONS], false));
	rels[4] = ObjectIdGetDatum(ts_extension_relid(ts_tables[T_ML], false));
	arg = PointerGetDatum(construct_array(rels, 5, OIDOID, sizeof(Oid), true, TYPALIGN_INT));
	ts_run("SELECT NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger t"
		   "   WHERE t.tgrelid = ANY ($1) AND NOT t.tgisinternal"
		   "   AND (NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_extension e"
		   "                      ON e.oid = d.refobjid AND e.extname = 'troubleshooting'"
		   "                    WHERE d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass"
		   "                    AND d.objid = t.tgfoid AND d.deptype = 'e')"
		   "        OR t.tgname NOT IN ('ts_metrics_delta', 'ts_sessions_lifecycle', 'ts_webhook_events',"
		   "                         'ts_feedback_request', 'ts_live_events', 'ts_auto_escalate',"
		   "                         'ts_notify_wake', 'ts_metrics_truncated', 'A_ts_report_rollup',"
		   "                         'ts_report_rollup_insert', 'ts_report_rollup_update',"
		   "                         'ts_report_rollup_delete')"
		   "        OR (t.tgname IN ('ts_metrics_delta', 'A_ts_report_rollup', 'ts_report_rollup_insert',"
		   "                         'ts_report_rollup_update', 'ts_report_rollup_delete')"
		   "            AND t.tgenabled <> 'O')))"
		   " AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class r"
		   "   WHERE r.oid = ANY ($1) AND (r.relhasrules OR r.relkind <> 'r'))"
		   " AND (SELECT count(*) FILTER (WHERE f.confrelid = ($1)[1] AND f.conrelid = ANY (($1)[2:3])"
		   "        AND f.confdeltype = 'c')"
		   "      = 2 AND count(*) = 2"
		   "      FROM pg_catalog.pg_constraint f WHERE f.contype = 'f' AND f.confrelid = ANY ($1)"
		   "      AND f.confrelid <> ($1)[4])",
		   1, &type, &arg, SPI_OK_SELECT);
	return DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/* Prepares a run with cutoffs from older_than (NULL: configured retention). */
static void
ts_cleanup_init(TsCleanup *c, Interval *older_than, bool dry_run, int batch_size)
{
	TimestampTz now = GetCurrentTransactionStartTimestamp();

	memset(c, 0, sizeof(*c));
	c->last_started = DT_NOBEGIN;
	for (int i = 0; i < T_NTABLES; i++)
		c->last_time[i] = DT_NOBEGIN;
	c->nspid = ts_extension_schema(false);
	c->dry_run = dry_run;
	c->batch_size = batch_size;
	for (int i = 0; i < T_NTABLES; i++)
	{
		c->name[i] = ts_qualified_name(c->nspid, ts_tables[i]);
		c->done[i] = ts_retention_keys[i] == NULL;	/* attempts, feedback go with sessions */
		if (ts_retention_keys[i] == NULL)
			continue;
		if (older_than)
			c->cutoff[i] = DatumGetTimestampTz(DirectFunctionCall2(timestamptz_mi_interval,
																   TimestampTzGetDatum(now),
																   PointerGetDatum(older_than)));
		else
		{
			int			days = ts_config_get_int(ts_retention_keys[i]);

			/* 0 keeps rows forever (expired reports still go) */
			c->cutoff[i] = days == 0 ? DT_NOBEGIN : now - (TimestampTz) days * USECS_PER_DAY;
		}
	}
	for (int i = 0; i < T_NTABLES; i++)
		c->distributed[i] = ts_citus_table(ts_extension_relid(ts_tables[i], false));
	c->fast = !dry_run && !c->distributed[T_SESSIONS] && ts_fast_path_allowed(c);
	c->batch_cxt = AllocSetContextCreate(CurrentMemoryContext, "troubleshooting cleanup batch",
										 ALLOCSET_DEFAULT_SIZES);
}

/* Runs a DELETE ... RETURNING and adds the deleted rows to the metric and report batches. */
static int64
ts_delete_returning(const char *sql, Datum sids, TsRowKind kind, TsDeltaBatch *batch,
					TsRepBatch *rbatch)
{
	Oid			type = TEXTARRAYOID;
	int64		n;

	ts_run(sql, 1, &type, &sids, SPI_OK_DELETE_RETURNING);
	n = (int64) SPI_processed;
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		ts_delta_batch_add(batch, kind, SPI_tuptable->vals[i], SPI_tuptable->tupdesc, -1);
		ts_rep_batch_child(rbatch, kind == TS_ROW_ATTEMPT, SPI_tuptable->vals[i],
						   SPI_tuptable->tupdesc);
	}
	SPI_freetuptable(SPI_tuptable);
	return n;
}

/* Deletes a locked batch of sessions by set-based statements (see header). */
static void
ts_sessions_delete_fast(TsCleanup *c, Datum sids)
{
	Oid			type = TEXTARRAYOID;
	TsDeltaBatch *batch = ts_delta_batch_create();
	TsRepBatch *rbatch = ts_rep_batch_create();
	int			nestlevel = NewGUCNestLevel();

	/* replica: no per-row foreign key actions and no per-row triggers */
	(void) set_config_option("session_replication_role", "replica", PGC_SUSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	/* a batch is a small part of a big table: probe the session_id indexes */
	(void) set_config_option("enable_seqscan", "off", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	c->counts[T_ATTEMPTS] += ts_delete_returning(
		psprintf("DELETE FROM %s WHERE session_id = ANY ($1)"
				 " RETURNING id, session_id, step_number, step_title, attempted_at, success",
				 c->name[T_ATTEMPTS]), sids, TS_ROW_ATTEMPT, batch, rbatch);
	c->counts[T_FEEDBACK] += ts_delete_returning(
		psprintf("DELETE FROM %s WHERE session_id = ANY ($1)"
				 " RETURNING id, session_id, collected_at, rating, nps_score, was_helpful",
				 c->name[T_FEEDBACK]), sids, TS_ROW_FEEDBACK, batch, rbatch);
	ts_run(psprintf("DELETE FROM %s WHERE session_id = ANY ($1) AND NOT use_for_training",
					c->name[T_ML]), 1, &type, &sids, SPI_OK_DELETE);
	c->counts[T_ML] += SPI_processed;
	/* ML rows kept for training and notifications keep the session's id */
	ts_run(psprintf("DELETE FROM %s WHERE session_id = ANY ($1)"
					" RETURNING session_id, started_at, status, detected_problem_id,"
					" detected_problem_title, resolved_at, escalated_at",
					c->name[T_SESSIONS]), 1, &type, &sids, SPI_OK_DELETE_RETURNING);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		ts_delta_batch_add(batch, TS_ROW_SESSION, SPI_tuptable->vals[i], SPI_tuptable->tupdesc, -1);
		ts_rep_batch_session(rbatch, SPI_tuptable->vals[i], SPI_tuptable->tupdesc);
	}
	SPI_freetuptable(SPI_tuptable);
	AtEOXact_GUC(true, nestlevel);
	ts_delta_batch_write(batch, c->nspid);
	ts_rep_batch_write(rbatch, c->nspid);
}

/*
 * Counts the attempts, feedback and untagged ML rows that go with sessions
 * sids.  A dry run leaves ML rows past their own retention to the ML rule,
 * which will count them, so that none is counted twice.
 */
static void
ts_count_children(TsCleanup *c, Datum sids)
{
	Oid			types[2] = {TEXTARRAYOID, TIMESTAMPTZOID};
	Datum		args[2] = {sids, TimestampTzGetDatum(c->dry_run ? c->cutoff[T_ML] : DT_NOBEGIN)};

	ts_run(psprintf("SELECT (SELECT count(*) FROM %s WHERE session_id = ANY ($1)),"
					" (SELECT count(*) FROM %s WHERE session_id = ANY ($1)),"
					" (SELECT count(*) FROM %s WHERE session_id = ANY ($1) AND NOT use_for_training"
					"  AND created_at >= $2)",
					c->name[T_ATTEMPTS], c->name[T_FEEDBACK], c->name[T_ML]),
		   2, types, args, SPI_OK_SELECT);
	c->counts[T_ATTEMPTS] += ts_result_int8(1);
	c->counts[T_FEEDBACK] += ts_result_int8(2);
	c->counts[T_ML] += ts_result_int8(3);
}

/* The condition of a finished session past the cutoff $1 (the rule of sessions). */
#define TS_SESSION_RULE \
	"status IN ('resolved', 'escalated', 'abandoned', 'timed_out')" \
	" AND coalesce(ended_at, last_activity_at) < $1 AND started_at < $1"

/*
 * Locks sessions sids (text[]) on Citus, where a lock is taken on one shard
 * at a time: the ids grouped by shard, each group locked by a query on its
 * shard that checks the rule again and skips sessions another transaction
 * holds.  Returns the ids of the sessions locked (text[]).
 */
static Datum
ts_sessions_lock_distributed(TsCleanup *c, Datum sids)
{
	Oid			types[2] = {TEXTARRAYOID, OIDOID};
	Datum		args[2] = {sids, ObjectIdGetDatum(ts_extension_relid(ts_tables[T_SESSIONS], false))};
	Oid			ltypes[2] = {TIMESTAMPTZOID, TEXTARRAYOID};
	Datum		largs[2];
	Datum	   *groups;
	int			ngroups;
	Datum	   *locked;
	int			nlocked = 0;
	bool		isnull;

	ts_run("SELECT pg_catalog.array_agg(s ORDER BY s) FROM pg_catalog.unnest($1::pg_catalog.text[]) s"
		   " GROUP BY pg_catalog.get_shard_id_for_distribution_column($2::pg_catalog.regclass, s)",
		   2, types, args, SPI_OK_SELECT);
	ngroups = (int) SPI_processed;
	groups = palloc(sizeof(Datum) * Max(ngroups, 1));
	for (int i = 0; i < ngroups; i++)
		groups[i] = PointerGetDatum(PG_DETOAST_DATUM_COPY(SPI_getbinval(SPI_tuptable->vals[i],
																		SPI_tuptable->tupdesc, 1, &isnull)));
	SPI_freetuptable(SPI_tuptable);

	locked = palloc(sizeof(Datum) * Max(ArrayGetNItems(ARR_NDIM(DatumGetArrayTypeP(sids)),
													   ARR_DIMS(DatumGetArrayTypeP(sids))), 1));
	largs[0] = TimestampTzGetDatum(c->cutoff[T_SESSIONS]);
	for (int i = 0; i < ngroups; i++)
	{
		largs[1] = groups[i];
		ts_run(psprintf("SELECT session_id FROM %s WHERE session_id = ANY ($2) AND " TS_SESSION_RULE
						" FOR UPDATE SKIP LOCKED", c->name[T_SESSIONS]),
			   2, ltypes, largs, SPI_OK_SELECT);
		for (uint64 j = 0; j < SPI_processed; j++)
			locked[nlocked++] = PointerGetDatum(DatumGetTextPCopy(SPI_getbinval(SPI_tuptable->vals[j],
																				SPI_tuptable->tupdesc, 1, &isnull)));
		SPI_freetuptable(SPI_tuptable);
	}
	return PointerGetDatum(construct_array(locked, nlocked, TEXTOID, -1, false, TYPALIGN_INT));
}

/* Deletes (or counts) the next batch of finished sessions past the cutoff. */
static int64
ts_sessions_batch(TsCleanup *c)
{
	Oid			types[3] = {TIMESTAMPTZOID, INT8OID, TIMESTAMPTZOID};
	Datum		args[3] = {TimestampTzGetDatum(c->cutoff[T_SESSIONS]), Int64GetDatum(c->last_id[T_SESSIONS]),
	TimestampTzGetDatum(c->last_started)};
	Oid			type = TEXTARRAYOID;
	bool		isnull;
	Datum		sids;
	int64		n;

	/*
	 * The next batch in start order (a session ends after it starts, so the
	 * walk stops where starts pass the cutoff, without reading newer rows),
	 * locked: no attempt or feedback can be added to it meanwhile (on
	 * Citus, locked afterwards, shard by shard).  Session ids come sorted,
	 * so every index probe's own sort finds them so.
	 */
	ts_run(psprintf("SELECT count(*), (array_agg(id ORDER BY started_at DESC, id DESC))[1], max(started_at),"
					" array_agg(session_id ORDER BY session_id) FROM"
					" (SELECT id, session_id, started_at FROM %s"
					"   WHERE " TS_SESSION_RULE
					"   AND (started_at, id) > ($3, $2)"
					"   ORDER BY started_at, id LIMIT %d %s) b",
					c->name[T_SESSIONS], c->batch_size,
					c->dry_run || c->distributed[T_SESSIONS] ? "" : "FOR UPDATE SKIP LOCKED"),
		   3, types, args, SPI_OK_SELECT);
	n = ts_result_int8(1);
	c->full = n >= c->batch_size;
	if (n == 0)
		return 0;
	c->last_id[T_SESSIONS] = ts_result_int8(2);
	c->last_started = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull));
	sids = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 4, &isnull);
	sids = PointerGetDatum(PG_DETOAST_DATUM_COPY(sids));
	SPI_freetuptable(SPI_tuptable);
	if (c->distributed[T_SESSIONS] && !c->dry_run)
	{
		sids = ts_sessions_lock_distributed(c, sids);
		n = ArrayGetNItems(ARR_NDIM(DatumGetArrayTypeP(sids)), ARR_DIMS(DatumGetArrayTypeP(sids)));
		if (n == 0)
			return 0;
	}

	if (c->fast)
		ts_sessions_delete_fast(c, sids);
	else
	{
		ts_count_children(c, sids);
		if (!c->dry_run)
		{
			/* ML rows not marked for training go with their session */
			ts_run(psprintf("DELETE FROM %s WHERE session_id = ANY ($1) AND NOT use_for_training",
							c->name[T_ML]), 1, &type, &sids, SPI_OK_DELETE);
			/* the foreign keys cascade to attempts and feedback */
			ts_run(psprintf("DELETE FROM %s WHERE session_id = ANY ($1)", c->name[T_SESSIONS]),
				   1, &type, &sids, SPI_OK_DELETE);
		}
	}
	return n;
}

/*
 * Deletes the next batch of a table with a simple rule on Citus: the rows
 * picked without locks, in order, then deleted by their keys with the rule
 * checked again (a row changed meanwhile, a notification retried say,
 * stays).  The walk moves past every row picked.
 */
static int64
ts_simple_batch_distributed(TsCleanup *c, int t)
{
	Oid			types[3] = {TIMESTAMPTZOID, INT8OID, TIMESTAMPTZOID};
	Datum		args[3] = {TimestampTzGetDatum(c->cutoff[t]), Int64GetDatum(c->last_id[t]),
	TimestampTzGetDatum(c->last_time[t])};
	Oid			dtypes[3] = {TIMESTAMPTZOID, INT8ARRAYOID, TEXTARRAYOID};
	Datum		dargs[3];
	const char *col = ts_time_col[t];
	int			n;
	Datum	   *ids;
	Datum	   *sids;
	bool		isnull;

	ts_run(psprintf("SELECT id, session_id, %s FROM %s WHERE %s AND (%s, id) > ($3, $2)"
					" ORDER BY %s, id LIMIT %d",
					col, c->name[t], ts_simple_where[t], col, col, c->batch_size),
		   3, types, args, SPI_OK_SELECT);
	n = (int) SPI_processed;
	c->full = n >= c->batch_size;
	if (n == 0)
		return 0;
	ids = palloc(sizeof(Datum) * n);
	sids = palloc(sizeof(Datum) * n);
	for (int i = 0; i < n; i++)
	{
		ids[i] = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull);
		sids[i] = PointerGetDatum(DatumGetTextPCopy(SPI_getbinval(SPI_tuptable->vals[i],
																  SPI_tuptable->tupdesc, 2, &isnull)));
	}
	c->last_id[t] = DatumGetInt64(ids[n - 1]);
	c->last_time[t] = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[n - 1], SPI_tuptable->tupdesc, 3, &isnull));
	SPI_freetuptable(SPI_tuptable);

	dargs[0] = args[0];
	dargs[1] = PointerGetDatum(construct_array(ids, n, INT8OID, 8, true, TYPALIGN_DOUBLE));
	dargs[2] = PointerGetDatum(construct_array(sids, n, TEXTOID, -1, false, TYPALIGN_INT));
	ts_run(psprintf("DELETE FROM %s WHERE id = ANY ($2) AND session_id = ANY ($3) AND %s",
					c->name[t], ts_simple_where[t]),
		   3, dtypes, dargs, SPI_OK_DELETE);
	return (int64) SPI_processed;
}

/* Deletes (or counts) the next batch of a table with a simple rule. */
static int64
ts_simple_batch(TsCleanup *c, int t)
{
	Oid			types[3] = {TIMESTAMPTZOID, INT8OID, TIMESTAMPTZOID};
	Datum		args[3] = {TimestampTzGetDatum(c->cutoff[t]), Int64GetDatum(c->last_id[t]),
	TimestampTzGetDatum(c->last_time[t])};
	const char *col = ts_time_col[t];
	const char *target = psprintf("SELECT id, %s AS t FROM %s WHERE %s AND (%s, id) > ($3, $2)"
								  " ORDER BY %s, id LIMIT %d",
								  col, c->name[t], ts_simple_where[t], col, col, c->batch_size);
	const char *last = "count(*), (array_agg(id ORDER BY t DESC, id DESC))[1], max(t)";
	int64		n;
	bool		isnull;

	if (c->distributed[t] && !c->dry_run)
		return ts_simple_batch_distributed(c, t);
	if (c->dry_run)
		ts_run(psprintf("SELECT %s FROM (%s) b", last, target), 3, types, args, SPI_OK_SELECT);
	else
		ts_run(psprintf("WITH d AS (DELETE FROM %s WHERE id IN (SELECT id FROM (%s FOR UPDATE SKIP LOCKED) l)"
						" RETURNING id, %s AS t) SELECT %s FROM d", c->name[t], target, col, last),
			   3, types, args, SPI_OK_SELECT);
	n = ts_result_int8(1);
	c->full = n >= c->batch_size;
	if (n > 0)
	{
		c->last_id[t] = ts_result_int8(2);
		c->last_time[t] = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull));
	}
	SPI_freetuptable(SPI_tuptable);
	return n;
}

/*
 * Runs the next batch of the first table not done; returns false when every
 * table is done.  A NOTICE reports the table's progress.
 */
static bool
ts_cleanup_next(TsCleanup *c, bool notice)
{
	for (int t = 0; t < T_NTABLES; t++)
	{
		MemoryContext old;
		int64		n;

		if (c->done[t])
			continue;
		CHECK_FOR_INTERRUPTS();
		old = MemoryContextSwitchTo(c->batch_cxt);
		n = t == T_SESSIONS ? ts_sessions_batch(c) : ts_simple_batch(c, t);
		MemoryContextSwitchTo(old);
		MemoryContextReset(c->batch_cxt);
		c->counts[t] += n;
		if (!c->full || c->one_batch)
			c->done[t] = true;
		if (notice && n > 0)
			ereport(NOTICE,
					(errmsg("%s: " INT64_FORMAT " rows %s so far", ts_tables[t], c->counts[t],
							c->dry_run ? "would be deleted" : "deleted")));
		return true;
	}
	return false;
}

/* Errors out unless older_than is NULL or not negative. */
static void
ts_check_older_than(Interval *older_than)
{
	TimestampTz now = GetCurrentTransactionStartTimestamp();

	if (older_than &&
		DatumGetTimestampTz(DirectFunctionCall2(timestamptz_mi_interval, TimestampTzGetDatum(now),
												PointerGetDatum(older_than))) > now)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("p_older_than must not be negative")));
}

/* cleanup_old_troubleshooting_data(older_than, dry_run) -> (table_name, rows_deleted) */
Datum
cleanup_old_troubleshooting_data(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Interval   *older_than = PG_ARGISNULL(0) ? NULL : PG_GETARG_INTERVAL_P(0);
	bool		dry_run = !PG_ARGISNULL(1) && PG_GETARG_BOOL(1);
	TsCleanup	c;
	TupleDesc	desc;
	Tuplestorestate *store;
	MemoryContext old;

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) || !(rsinfo->allowedModes & SFRM_Materialize))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("set-valued function called in context that cannot accept a set")));
	ts_check_older_than(older_than);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ts_cleanup_init(&c, older_than, dry_run, TS_CLEANUP_BATCH);
	while (ts_cleanup_next(&c, true))
		;
	SPI_finish();

	old = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	desc = CreateTemplateTupleDesc(2);
	TupleDescInitEntry(desc, 1, "table_name", TEXTOID, -1, 0);
	TupleDescInitEntry(desc, 2, "rows_deleted", INT8OID, -1, 0);
	store = tuplestore_begin_heap(true, false, work_mem);
	MemoryContextSwitchTo(old);
	for (int t = 0; t < T_NTABLES; t++)
	{
		Datum		v[2] = {CStringGetTextDatum(ts_tables[t]), Int64GetDatum(c.counts[t])};
		bool		nulls[2] = {false, false};

		tuplestore_putvalues(store, desc, v, nulls);
	}
	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = store;
	rsinfo->setDesc = desc;
	return (Datum) 0;
}

/*
 * CALL run_troubleshooting_cleanup(older_than, dry_run, batch_size): the
 * same rules, committing after every batch when called outside a
 * transaction block, so that no lock lives longer than one batch.
 */
Datum
run_troubleshooting_cleanup(PG_FUNCTION_ARGS)
{
	Interval   *older_than = PG_ARGISNULL(0) ? NULL : PG_GETARG_INTERVAL_P(0);
	bool		dry_run = !PG_ARGISNULL(1) && PG_GETARG_BOOL(1);
	int			batch_size = PG_ARGISNULL(2) ? TS_CLEANUP_BATCH : PG_GETARG_INT32(2);
	bool		nonatomic = fcinfo->context && IsA(fcinfo->context, CallContext) &&
		!castNode(CallContext, fcinfo->context)->atomic;
	TsCleanup	c;
	int64		total = 0;

	if (batch_size < 1 || batch_size > 1000000)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("p_batch_size must be between 1 and 1000000")));
	ts_check_older_than(older_than);

	if (SPI_connect_ext(nonatomic ? SPI_OPT_NONATOMIC : 0) != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ts_cleanup_init(&c, older_than, dry_run, batch_size);
	while (ts_cleanup_next(&c, true))
	{
		if (nonatomic)
			ts_spi_commit();
	}
	for (int t = 0; t < T_NTABLES; t++)
		total += c.counts[t];
	ereport(NOTICE,
			(errmsg(INT64_FORMAT " rows %s", total, dry_run ? "would be deleted" : "deleted"),
			 errdetail("sessions " INT64_FORMAT ", attempts " INT64_FORMAT ", feedback " INT64_FORMAT
					   ", notifications " INT64_FORMAT ", reports " INT64_FORMAT ", ml_training " INT64_FORMAT ".",
					   c.counts[T_SESSIONS], c.counts[T_ATTEMPTS], c.counts[T_FEEDBACK],
					   c.counts[T_NOTIFICATIONS], c.counts[T_REPORTS], c.counts[T_ML])));
	SPI_finish();
	PG_RETURN_VOID();
}

/*
 * One batch per table with the configured retention, for the maintenance
 * worker, which runs it in short transactions until nothing is left.
 * Returns the rows deleted.
 */
int64
ts_cleanup_step(void)
{
	TsCleanup	c;
	int64		total = 0;

	ts_cleanup_init(&c, NULL, false, TS_CLEANUP_BATCH);
	c.one_batch = true;
	while (ts_cleanup_next(&c, false))
		;
	MemoryContextDelete(c.batch_cxt);
	for (int t = 0; t < T_NTABLES; t++)
		total += c.counts[t];
	return total;
}
