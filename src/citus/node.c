/*
 * node.c
 *	  What this database is in a Citus cluster, for the background workers
 *	  (they work on a single server or the coordinator, and idle on worker
 *	  nodes, whose shards the coordinator reaches) and for the triggers (a
 *	  trigger firing for a shard, not for the extension's own table, runs
 *	  on a worker node inside a distributed transaction), which tables
 *	  Citus holds (the write paths that take another way there), and the
 *	  time the placements of a reference table agree on.
 *
 *	  A reference table has a copy (a placement) on every node, and a row
 *	  trigger fires on each copy, in each node's own transaction: now()
 *	  differs from node to node there.  Citus gives every node of one
 *	  distributed transaction the same distributed transaction id, with the
 *	  initiator's timestamp: a trigger that stamps a time on such a row
 *	  takes that one (ts_replica_time; the PL/pgSQL triggers of templates
 *	  and report schedules read it themselves), so the copies stay equal.
 */
#include "postgres.h"

#include "base/extschema.h"
#include "citus/node.h"

#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(ts_is_shard);

/*
 * The role of this database: none without the citus extension, else the
 * coordinator when this node is group 0, a worker otherwise.  Runs in a
 * transaction (a query of Citus's pg_dist_local_group).
 */
TsCitusRole
ts_citus_role(void)
{
	TsCitusRole role = TS_CITUS_NONE;
	bool		isnull;

	if (!OidIsValid(get_extension_oid("citus", true)))
		return TS_CITUS_NONE;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute("SELECT groupid FROM pg_catalog.pg_dist_local_group", true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read pg_dist_local_group");
	if (SPI_processed == 1)
		role = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1,
										   &isnull)) == 0 ? TS_CITUS_COORDINATOR : TS_CITUS_WORKER;
	SPI_finish();
	return role;
}

/*
 * Before DROP EXTENSION troubleshooting: on a Citus coordinator, drops the
 * extension's Citus tables first (SQL ts_citus_release(), which says why);
 * nothing elsewhere, nor when the extension or that function is absent.
 */
void
ts_citus_release(void)
{
	Oid			nspid;

	if (!OidIsValid(get_extension_oid("citus", true)))
		return;
	nspid = ts_extension_schema(true);
	if (!OidIsValid(nspid))
		return;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(psprintf("SELECT %s()", ts_qualified_name(nspid, "ts_citus_release")),
					false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not release the Citus tables");
	SPI_finish();
}

/*
 * True when relation relid is not one of the extension's own tables (on
 * Citus, a shard of one, which a trigger fires for on a node).
 */
bool
ts_relation_is_shard(Oid relid)
{
	Oid			ext = get_extension_oid(TS_EXTENSION_NAME, true);

	return !OidIsValid(ext) || getExtensionOfObject(RelationRelationId, relid) != ext;
}

/*
 * ts_is_shard(relation): true when the relation is not one of the
 * extension's own tables (on Citus, a shard of one, which a trigger fires
 * for on a worker node).
 */
Datum
ts_is_shard(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(ts_relation_is_shard(PG_GETARG_OID(0)));
}

/*
 * True when Citus is installed and holds relation relid: a distributed or
 * reference table, whose rows live in shards.  Runs in a transaction.
 */
bool
ts_citus_table(Oid relid)
{
	Oid			type = OIDOID;
	Datum		arg = ObjectIdGetDatum(relid);
	bool		found;

	if (!OidIsValid(get_extension_oid("citus", true)))
		return false;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT 1 FROM pg_catalog.pg_dist_partition"
							  " WHERE logicalrelid OPERATOR(pg_catalog.=) $1",
							  1, &type, &arg, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read pg_dist_partition");
	found = SPI_processed > 0;
	SPI_finish();
	return found;
}

/*
 * On Citus, makes the rest of this transaction reach each node over one
 * connection (SET LOCAL citus.multi_shard_modify_mode = sequential): Citus
 * refuses to modify a reference table that another one references (the
 * report schedules, the config) once a query has used several connections
 * to a node in the transaction.  Nothing without Citus.
 */
void
ts_citus_sequential(void)
{
	if (!OidIsValid(get_extension_oid("citus", true)))
		return;
	(void) set_config_option("citus.multi_shard_modify_mode", "sequential", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_LOCAL, true, 0, false);
}

/*
 * The time a trigger stamps on a row of relation relid: the transaction's
 * start (now()) for the extension's own table, and for a shard the
 * timestamp of the Citus distributed transaction, the same on every node
 * (now() when there is none, outside a distributed transaction).
 */
TimestampTz
ts_replica_time(Oid relid)
{
	TimestampTz result = GetCurrentTransactionStartTimestamp();
	bool		isnull = true;
	Datum		d;

	if (!ts_relation_is_shard(relid) || !OidIsValid(get_extension_oid("citus", true)))
		return result;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute("SELECT transaction_stamp FROM pg_catalog.get_current_transaction_id()",
					true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read the Citus distributed transaction");
	if (SPI_processed == 1)
	{
		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		if (!isnull)
			result = DatumGetTimestampTz(d);
	}
	SPI_finish();
	return result;
}
