/*
 * cleanup.c
 *	  Retention: cleanup_old_troubleshooting_data() deletes finished sessions
 *	  (with their attempts and feedback), finished notifications, expired and
 *	  old reports, and old ML training rows, in batches, reporting progress
 *	  with a NOTICE per batch; a dry run counts without deleting.  Open
 *	  sessions and notifications still pending or sending are never deleted.
 */
#include "postgres.h"

#include "compat.h"
#include "config.h"
#include "extschema.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

int64		ts_cleanup_step(void);

PG_FUNCTION_INFO_V1(cleanup_old_troubleshooting_data);

#define TS_CLEANUP_BATCH 10000

/* One retention rule: which rows of which table are old enough to go. */
typedef struct TsRule
{
	const char *name;			/* reported table name */
	const char *table;
	const char *config_key;		/* retention in days; 0 = keep forever */
	const char *where;			/* rows that may go; $1 is the cutoff */
} TsRule;

static const TsRule ts_rules[] = {
	{"support_troubleshooting_sessions", "support_troubleshooting_sessions", "retention_days_sessions",
	"status IN ('resolved', 'escalated', 'abandoned', 'timed_out')"
	" AND coalesce(ended_at, last_activity_at) < $1"},
	{"support_troubleshooting_notifications", "support_troubleshooting_notifications",
		"retention_days_notifications",
	"status NOT IN ('pending', 'sending') AND created_at < $1"},
	{"support_troubleshooting_reports", "support_troubleshooting_reports", "retention_days_reports",
	"(expires_at < now() OR generated_at < $1)"},
	{"support_troubleshooting_ml_training", "support_troubleshooting_ml_training",
		"retention_days_ml_training", "created_at < $1"},
};

/* Counts the attempts and feedback that go with sessions (their FKs cascade). */
static void
ts_count_children(Oid nspid, Datum ids, int64 *attempts, int64 *feedback)
{
	Oid			type = INT8ARRAYOID;
	bool		isnull;
	const char *child[2] = {"support_troubleshooting_attempts", "support_troubleshooting_feedback"};
	int64	   *out[2] = {attempts, feedback};

	for (int i = 0; i < 2; i++)
	{
		if (SPI_execute_with_args(psprintf(
			"SELECT count(*) FROM %s c JOIN %s s USING (session_id) WHERE s.id = ANY ($1)",
			ts_qualified_name(nspid, child[i]),
			ts_qualified_name(nspid, "support_troubleshooting_sessions")),
								  1, &type, &ids, NULL, true, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not count %s", child[i]);
		*out[i] += DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	}
}

/*
 * Applies one rule in batches; returns rows deleted (or, dry, that would be).
 * For sessions, *attempts and *feedback get the rows that went with them.
 */
static int64
ts_apply_rule(Oid nspid, const TsRule *rule, TimestampTz cutoff, bool dry_run,
			  int64 *attempts, int64 *feedback, int max_batches)
{
	int			batches = 0;

	char	   *table = ts_qualified_name(nspid, rule->table);
	Oid			types[2] = {TIMESTAMPTZOID, INT8ARRAYOID};
	Datum		args[2];
	int64		total = 0;
	bool		sessions = strcmp(rule->table, "support_troubleshooting_sessions") == 0;
	int64		last_id = 0;

	args[0] = TimestampTzGetDatum(cutoff);
	for (;;)
	{
		bool		isnull;
		Datum		ids;
		int64		n;
		Oid			idtype[2] = {TIMESTAMPTZOID, INT8OID};
		Datum		idargs[2] = {args[0], Int64GetDatum(last_id)};

		CHECK_FOR_INTERRUPTS();
		/* the next batch, by id, so that a dry run walks forward too */
		if (SPI_execute_with_args(psprintf(
			"SELECT count(*), coalesce(array_agg(id), '{}'), coalesce(max(id), 0) FROM"
			" (SELECT id FROM %s WHERE %s AND id > $2 ORDER BY id LIMIT %d) b",
			table, rule->where, TS_CLEANUP_BATCH),
								  2, idtype, idargs, NULL, true, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not select rows of %s", rule->table);
		n = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		if (n == 0)
			break;
		ids = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
		ids = PointerGetDatum(PG_DETOAST_DATUM_COPY(ids));
		last_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull));
		if (sessions)
			ts_count_children(nspid, ids, attempts, feedback);
		if (!dry_run)
		{
			args[1] = ids;
			if (SPI_execute_with_args(psprintf("DELETE FROM %s WHERE id = ANY ($2)", table),
									  2, types, args, NULL, false, 0) != SPI_OK_DELETE)
				elog(ERROR, "could not delete rows of %s", rule->table);
		}
		total += n;
		ereport(NOTICE,
				(errmsg("%s: " INT64_FORMAT " rows %s so far", rule->name, total,
						dry_run ? "would be deleted" : "deleted")));
		if (n < TS_CLEANUP_BATCH || (max_batches > 0 && ++batches >= max_batches))
			break;
	}
	return total;
}

/* cleanup_old_troubleshooting_data(older_than, dry_run) -> (table_name, rows_deleted) */
Datum
cleanup_old_troubleshooting_data(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	bool		have_interval = !PG_ARGISNULL(0);
	Interval   *older_than = have_interval ? PG_GETARG_INTERVAL_P(0) : NULL;
	bool		dry_run = !PG_ARGISNULL(1) && PG_GETARG_BOOL(1);
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	Oid			nspid;
	int64		counts[lengthof(ts_rules)];
	int64		attempts = 0;
	int64		feedback = 0;
	TupleDesc	desc;
	Tuplestorestate *store;
	MemoryContext old;

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) || !(rsinfo->allowedModes & SFRM_Materialize))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("set-valued function called in context that cannot accept a set")));
	if (have_interval &&
		DatumGetTimestampTz(DirectFunctionCall2(timestamptz_mi_interval, TimestampTzGetDatum(now),
												PointerGetDatum(older_than))) > now)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("p_older_than must not be negative")));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	nspid = ts_extension_schema(false);
	for (size_t i = 0; i < lengthof(ts_rules); i++)
	{
		TimestampTz cutoff;

		if (have_interval)
			cutoff = DatumGetTimestampTz(DirectFunctionCall2(timestamptz_mi_interval,
															 TimestampTzGetDatum(now),
															 PointerGetDatum(older_than)));
		else
		{
			int			days = ts_config_get_int(ts_rules[i].config_key);

			/* 0 keeps rows forever (expired reports still go) */
			cutoff = days == 0 ? DT_NOBEGIN : now - (TimestampTz) days * USECS_PER_DAY;
		}
		counts[i] = ts_apply_rule(nspid, &ts_rules[i], cutoff, dry_run, &attempts, &feedback, 0);
	}
	SPI_finish();

	old = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	desc = CreateTemplateTupleDesc(2);
	TupleDescInitEntry(desc, 1, "table_name", TEXTOID, -1, 0);
	TupleDescInitEntry(desc, 2, "rows_deleted", INT8OID, -1, 0);
	store = tuplestore_begin_heap(true, false, work_mem);
	MemoryContextSwitchTo(old);
	for (size_t i = 0; i < lengthof(ts_rules); i++)
	{
		Datum		v[2] = {CStringGetTextDatum(ts_rules[i].name), Int64GetDatum(counts[i])};
		bool		nulls[2] = {false, false};

		tuplestore_putvalues(store, desc, v, nulls);
		if (i == 0)
		{
			v[0] = CStringGetTextDatum("support_troubleshooting_attempts");
			v[1] = Int64GetDatum(attempts);
			tuplestore_putvalues(store, desc, v, nulls);
			v[0] = CStringGetTextDatum("support_troubleshooting_feedback");
			v[1] = Int64GetDatum(feedback);
			tuplestore_putvalues(store, desc, v, nulls);
		}
	}
	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = store;
	rsinfo->setDesc = desc;
	return (Datum) 0;
}

/*
 * One batch per table with the configured retention, for the maintenance
 * worker, which runs it in short transactions until nothing is left.
 * Returns the rows deleted.
 */
int64
ts_cleanup_step(void)
{
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	Oid			nspid = ts_extension_schema(false);
	int64		total = 0;
	int64		attempts = 0;
	int64		feedback = 0;

	for (size_t i = 0; i < lengthof(ts_rules); i++)
	{
		int			days = ts_config_get_int(ts_rules[i].config_key);
		TimestampTz cutoff = days == 0 ? DT_NOBEGIN : now - (TimestampTz) days * USECS_PER_DAY;

		total += ts_apply_rule(nspid, &ts_rules[i], cutoff, false, &attempts, &feedback, 1);
	}
	return total;
}
