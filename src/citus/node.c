/*
 * node.c
 *	  What this database is in a Citus cluster, for the background workers
 *	  (they work on a single server or the coordinator, and idle on worker
 *	  nodes, whose shards the coordinator reaches) and for the triggers (a
 *	  trigger firing for a shard, not for the extension's own table, runs
 *	  on a worker node inside a distributed transaction).
 */
#include "postgres.h"

#include "base/extschema.h"
#include "citus/node.h"

#include "catalog/dependency.h"
#include "catalog/pg_class.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "fmgr.h"

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
 * ts_is_shard(relation): true when the relation is not one of the
 * extension's own tables (on Citus, a shard of one, which a trigger fires
 * for on a worker node).
 */
Datum
ts_is_shard(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	Oid			ext = get_extension_oid(TS_EXTENSION_NAME, true);

	PG_RETURN_BOOL(!OidIsValid(ext) || getExtensionOfObject(RelationRelationId, relid) != ext);
}
