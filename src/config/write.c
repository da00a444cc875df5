/*
 * write.c
 *	  Writing the central configuration (support_troubleshooting_config):
 *	  the SQL function set_troubleshooting_config, the row trigger that
 *	  validates values (by type, in normalize.c) and the trigger that records
 *	  change history.
 *
 * Every write path (the SQL function, a direct UPDATE or INSERT, COPY during
 * a restore) goes through the row trigger ts_config_guard, so a value that
 * does not parse as its key's type never reaches the table.  The trigger
 * also invalidates the config table's relcache entry, which drops every
 * backend's cache (config.c).
 *
 * On Citus the config table and its history are reference tables: a write
 * goes to the copy (shard) on every node, and the row triggers fire there,
 * once per node, inside the distributed transaction.  There the guard also
 * invalidates the extension's table itself (the caches of that node's
 * backends follow it, not the shard) and stamps the time every node agrees
 * on (citus/node.c); the history trigger does nothing on a shard (a trigger
 * there cannot write another reference table, and would write one row per
 * node): set_troubleshooting_config records the change itself, once.
 */
#include "postgres.h"

#include "base/extschema.h"
#include "citus/node.h"
#include "compat.h"
#include "config/config.h"
#include "config/normalize.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#define TS_CONFIG_HISTORY_TABLE "support_troubleshooting_config_history"

/* Set while an INSERT of an existing key is merged into that row. */
static bool ts_config_merging = false;

PG_FUNCTION_INFO_V1(set_troubleshooting_config);
PG_FUNCTION_INFO_V1(ts_config_guard);
PG_FUNCTION_INFO_V1(ts_config_record_history);

/*
 * The text in column col of the first SPI result row, or NULL (for a NULL
 * value or no row).
 */
static char *
ts_spi_text(int col)
{
	return SPI_processed > 0 ? SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, col) : NULL;
}

/* True if two possibly-NULL strings differ. */
static bool
ts_str_distinct(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a != b;
	return strcmp(a, b) != 0;
}

/*
 * set_troubleshooting_config on Citus: the row is locked, updated (the
 * guard validates it on every node) and the change of effective value
 * recorded in history here, once, as the history trigger does on a single
 * server.  SPI is connected; values[0] is the key, values[1] the value.
 */
static void
ts_config_set_distributed(Oid nspid, const char *key, Datum *values, char *nulls)
{
	Oid			types[5] = {TEXTOID, TEXTOID, TIMESTAMPTZOID, TEXTOID, TEXTOID};
	Datum		args[5];
	char		argnulls[5] = {' ', ' ', ' ', ' ', ' '};
	char	   *table = ts_qualified_name(nspid, TS_CONFIG_TABLE);
	char	   *oldval;
	char	   *newval;
	char	   *by;
	TimestampTz now = GetCurrentTransactionStartTimestamp();

	if (SPI_execute_with_args(psprintf("SELECT coalesce(config_value, default_value) FROM %s"
									   " WHERE config_key = $1 FOR UPDATE", table),
							  1, types, values, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read %s", TS_CONFIG_TABLE);
	if (SPI_processed == 0)
		ts_config_unknown_key(key);
	oldval = ts_spi_text(1);

	args[0] = values[0];
	args[1] = values[1];
	argnulls[1] = nulls[1];
	args[2] = TimestampTzGetDatum(now);
	if (SPI_execute_with_args(psprintf("UPDATE %s SET config_value = $2, updated_at = $3"
									   " WHERE config_key = $1"
									   " RETURNING coalesce(config_value, default_value), updated_by",
									   table),
							  3, types, args, argnulls, false, 0) != SPI_OK_UPDATE_RETURNING)
		elog(ERROR, "could not update %s", TS_CONFIG_TABLE);
	if (SPI_processed == 0)
		ts_config_unknown_key(key);
	newval = ts_spi_text(1);
	by = ts_spi_text(2);
	if (!ts_str_distinct(oldval, newval))
		return;

	/* key, old value, new value, when, who: the history trigger's row */
	args[1] = oldval ? CStringGetTextDatum(oldval) : (Datum) 0;
	argnulls[1] = oldval ? ' ' : 'n';
	args[2] = newval ? CStringGetTextDatum(newval) : (Datum) 0;
	argnulls[2] = newval ? ' ' : 'n';
	types[2] = TEXTOID;
	args[3] = TimestampTzGetDatum(now);
	types[3] = TIMESTAMPTZOID;
	args[4] = CStringGetTextDatum(by ? by : GetUserNameFromId(GetUserId(), false));
	if (SPI_execute_with_args(psprintf("INSERT INTO %s (config_key, old_value, new_value, changed_at, changed_by)"
									   " VALUES ($1, $2, $3, $4, $5)",
									   ts_qualified_name(nspid, TS_CONFIG_HISTORY_TABLE)),
							  5, types, args, argnulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not record configuration history");
}

/* set_troubleshooting_config(key, value): stores a value (NULL = default). */
Datum
set_troubleshooting_config(PG_FUNCTION_ARGS)
{
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	Datum		values[2];
	char		nulls[2] = {' ', ' '};
	char	   *query;
	char	   *key;
	Oid			relid;
	int			ret;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("configuration key must not be null")));
	key = text_to_cstring(PG_GETARG_TEXT_PP(0));
	values[0] = PG_GETARG_DATUM(0);
	if (PG_ARGISNULL(1))
	{
		values[1] = (Datum) 0;
		nulls[1] = 'n';
	}
	else
		values[1] = PG_GETARG_DATUM(1);

	relid = ts_extension_relid(TS_CONFIG_TABLE, false);
	if (ts_citus_table(relid))
	{
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		ts_config_set_distributed(get_rel_namespace(relid), key, values, nulls);
		SPI_finish();
		PG_RETURN_VOID();
	}
	query = psprintf("UPDATE %s SET config_value = $2, updated_at = now() WHERE config_key = $1",
					 ts_qualified_name(get_rel_namespace(relid), TS_CONFIG_TABLE));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute_with_args(query, 2, argtypes, values, nulls, false, 0);
	if (ret != SPI_OK_UPDATE)
		elog(ERROR, "could not update %s: %s", TS_CONFIG_TABLE, SPI_result_code_string(ret));
	if (SPI_processed == 0)
		ts_config_unknown_key(key);
	SPI_finish();
	PG_RETURN_VOID();
}

/* Returns attribute attname of tuple as a palloc'd C string, or NULL. */
static char *
ts_tuple_text(HeapTuple tuple, TupleDesc desc, const char *attname)
{
	return SPI_getvalue(tuple, desc, ts_column_number(desc, TS_CONFIG_TABLE, attname));
}

/*
 * Merges an INSERT of a key that still holds its default into that row (the
 * path pg_restore takes, since CREATE EXTENSION already seeded every key).
 * Returns false when the existing row was changed by a user: the INSERT then
 * proceeds and fails on the primary key.
 */
static bool
ts_config_merge_insert(Relation rel, const char *key, const char *value,
					   HeapTuple newtup)
{
	TupleDesc	desc = RelationGetDescr(rel);
	/* the relation the trigger fired for: on Citus, this node's shard of the table */
	char	   *table = ts_qualified_name(RelationGetNamespace(rel), RelationGetRelationName(rel));
	Oid			argtypes[4] = {TEXTOID, TEXTOID, TIMESTAMPTZOID, TEXTOID};
	Datum		values[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};
	bool		isnull;
	int			ret;
	bool		pristine;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	values[0] = CStringGetTextDatum(key);
	ret = SPI_execute_with_args(psprintf("SELECT config_value IS NOT DISTINCT FROM default_value FROM %s WHERE config_key = $1 FOR UPDATE", table),
								1, argtypes, values, NULL, false, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read %s: %s", TS_CONFIG_TABLE, SPI_result_code_string(ret));
	if (SPI_processed == 0)
	{
		SPI_finish();
		if (!creating_extension)
			ts_config_unknown_key(key);
		return false;
	}
	pristine = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	if (!pristine)
	{
		SPI_finish();
		return false;
	}

	if (value)
		values[1] = CStringGetTextDatum(value);
	else
		nulls[1] = 'n';
	values[2] = heap_getattr(newtup, SPI_fnumber(desc, "updated_at"), desc, &isnull);
	if (isnull)
		values[2] = TimestampTzGetDatum(ts_replica_time(RelationGetRelid(rel)));
	values[3] = heap_getattr(newtup, SPI_fnumber(desc, "updated_by"), desc, &isnull);
	if (isnull)
		values[3] = CStringGetTextDatum(GetUserNameFromId(GetUserId(), false));

	ts_config_merging = true;
	PG_TRY();
	{
		ret = SPI_execute_with_args(psprintf("UPDATE %s SET config_value = $2, updated_at = $3, updated_by = $4 WHERE config_key = $1", table),
									4, argtypes, values, nulls, false, 0);
	}
	PG_FINALLY();
	{
		ts_config_merging = false;
	}
	PG_END_TRY();
	if (ret != SPI_OK_UPDATE)
		elog(ERROR, "could not update %s: %s", TS_CONFIG_TABLE, SPI_result_code_string(ret));
	SPI_finish();
	return true;
}

/* Rejects a change to the columns only the extension's scripts may set. */
static void
ts_config_check_fixed(const char *key, const char *what, bool changed)
{
	if (changed && !creating_extension)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot change %s of configuration key \"%s\"", what, key),
				 errdetail("Keys, their types and defaults are defined by the extension."),
				 errhint("Change config_value; set it to NULL to go back to the default.")));
}

/*
 * BEFORE row trigger on the config table: validates and normalises values,
 * stamps updated_at/updated_by, forbids deleting or redefining keys, merges
 * restored rows, and invalidates every backend's cache.
 */
Datum
ts_config_guard(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Relation	rel;
	TupleDesc	desc;
	HeapTuple	newtup;
	char	   *key;
	char	   *type;
	char	   *value;
	char	   *normalized;
	int			cols[3];
	Datum		vals[3];
	bool		nulls[3] = {false, false, false};
	int			ncols = 0;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "ts_config_guard: not called as a trigger");
	rel = trigdata->tg_relation;
	desc = RelationGetDescr(rel);
	CacheInvalidateRelcacheByRelid(RelationGetRelid(rel));
	if (ts_relation_is_shard(RelationGetRelid(rel)))
	{
		/* a Citus shard: this node's caches follow the extension's table */
		Oid			own = ts_extension_relid(TS_CONFIG_TABLE, true);

		if (OidIsValid(own))
			CacheInvalidateRelcacheByRelid(own);
	}
	ts_config_note_write();

	if (TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event) ||
		TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
	{
		if (creating_extension)
			return TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ?
				PointerGetDatum(trigdata->tg_trigtuple) : PointerGetDatum(NULL);
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("configuration keys cannot be deleted"),
				 errhint("Set config_value to NULL to go back to a key's default.")));
	}

	newtup = TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ?
		trigdata->tg_newtuple : trigdata->tg_trigtuple;
	key = ts_tuple_text(newtup, desc, "config_key");
	type = ts_tuple_text(newtup, desc, "value_type");
	value = ts_tuple_text(newtup, desc, "config_value");
	if (key == NULL || type == NULL)
		return PointerGetDatum(newtup);	/* NOT NULL constraints report it */

	if (TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
	{
		char	   *def = ts_tuple_text(newtup, desc, "default_value");

		if (creating_extension && def != NULL)
			(void) ts_config_normalize(key, type, def);
		normalized = ts_config_normalize(key, type, value);
		if (ts_config_merge_insert(rel, key, normalized, newtup))
			return PointerGetDatum(NULL);
	}
	else
	{
		HeapTuple	oldtup = trigdata->tg_trigtuple;
		char	   *oldvalue = ts_tuple_text(oldtup, desc, "config_value");

		ts_config_check_fixed(key, "the name",
							  ts_str_distinct(ts_tuple_text(oldtup, desc, "config_key"), key));
		ts_config_check_fixed(key, "the type",
							  ts_str_distinct(ts_tuple_text(oldtup, desc, "value_type"), type));
		ts_config_check_fixed(key, "the default",
							  ts_str_distinct(ts_tuple_text(oldtup, desc, "default_value"),
											  ts_tuple_text(newtup, desc, "default_value")));
		normalized = ts_config_normalize(key, type, value);

		if (ts_str_distinct(oldvalue, normalized) && !ts_config_merging)
		{
			/* Stamp who and when, unless the statement said so itself. */
			if (!ts_str_distinct(ts_tuple_text(oldtup, desc, "updated_by"),
								 ts_tuple_text(newtup, desc, "updated_by")))
			{
				cols[ncols] = SPI_fnumber(desc, "updated_by");
				vals[ncols++] = CStringGetTextDatum(GetUserNameFromId(GetUserId(), false));
			}
			if (!ts_str_distinct(ts_tuple_text(oldtup, desc, "updated_at"),
								 ts_tuple_text(newtup, desc, "updated_at")))
			{
				cols[ncols] = SPI_fnumber(desc, "updated_at");
				vals[ncols++] = TimestampTzGetDatum(ts_replica_time(RelationGetRelid(rel)));
			}
		}
	}

	if (ts_str_distinct(value, normalized))
	{
		cols[ncols] = SPI_fnumber(desc, "config_value");
		nulls[ncols] = (normalized == NULL);
		vals[ncols++] = normalized ? CStringGetTextDatum(normalized) : (Datum) 0;
	}
	if (ncols > 0)
		newtup = heap_modify_tuple_by_cols(newtup, desc, ncols, cols, vals, nulls);
	return PointerGetDatum(newtup);
}

/*
 * AFTER UPDATE row trigger: records a change of effective value in history
 * (on the extension's own table; on a Citus shard it does nothing, see the
 * header).
 */
Datum
ts_config_record_history(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Relation	rel;
	TupleDesc	desc;
	char	   *oldval;
	char	   *newval;
	char	   *def;
	Oid			argtypes[4] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	Datum		values[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};
	int			ret;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "ts_config_record_history: not called as a trigger");
	if (ts_config_merging)
		return PointerGetDatum(NULL);	/* a restore: history comes with it */

	rel = trigdata->tg_relation;
	if (ts_relation_is_shard(RelationGetRelid(rel)))
		return PointerGetDatum(NULL);	/* Citus: set_troubleshooting_config records it */
	desc = RelationGetDescr(rel);
	def = ts_tuple_text(trigdata->tg_newtuple, desc, "default_value");
	oldval = ts_tuple_text(trigdata->tg_trigtuple, desc, "config_value");
	newval = ts_tuple_text(trigdata->tg_newtuple, desc, "config_value");
	if (oldval == NULL)
		oldval = def;
	if (newval == NULL)
		newval = def;
	if (!ts_str_distinct(oldval, newval))
		return PointerGetDatum(NULL);

	values[0] = CStringGetTextDatum(ts_tuple_text(trigdata->tg_newtuple, desc, "config_key"));
	if (oldval)
		values[1] = CStringGetTextDatum(oldval);
	else
		nulls[1] = 'n';
	if (newval)
		values[2] = CStringGetTextDatum(newval);
	else
		nulls[2] = 'n';
	values[3] = CStringGetTextDatum(ts_tuple_text(trigdata->tg_newtuple, desc, "updated_by"));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute_with_args(psprintf("INSERT INTO %s (config_key, old_value, new_value, changed_by) VALUES ($1, $2, $3, $4)",
										 ts_qualified_name(RelationGetNamespace(rel), TS_CONFIG_HISTORY_TABLE)),
								4, argtypes, values, nulls, false, 0);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "could not record configuration history: %s", SPI_result_code_string(ret));
	SPI_finish();
	return PointerGetDatum(NULL);
}
