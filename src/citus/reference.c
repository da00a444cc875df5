/*
 * reference.c
 *	  Where this node keeps the rows of one of the extension's tables, for
 *	  readers that scan a table directly rather than through a query: the
 *	  table itself on a single server (or before
 *	  distribute_troubleshooting_tables() ran), or on a Citus node the local
 *	  shard of a reference table (its one shard has a placement on every
 *	  node, the coordinator included once it is in the metadata; the
 *	  table itself is then an empty shell).
 */
#include "postgres.h"

#include "citus/node.h"
#include "citus/placement.h"
#include "citus/reference.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

/*
 * The relation holding relid's rows on this node: relid itself when it is
 * not a Citus table, the local placement of a reference table, or
 * InvalidOid when this node has no placement of it (a distributed table, or
 * a reference table placed on other nodes only): read it with a query then.
 * Runs in a transaction.
 */
Oid
ts_local_rows_relid(Oid relid)
{
	Oid			types[1] = {OIDOID};
	Datum		args[1] = {ObjectIdGetDatum(relid)};
	Oid			result = InvalidOid;
	bool		isnull;
	char		method;

	if (ts_citus_role() == TS_CITUS_NONE)
		return relid;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args(
			"SELECT p.partmethod, (SELECT s.shardid FROM pg_catalog.pg_dist_shard s"
			"   JOIN pg_catalog.pg_dist_placement l ON l.shardid OPERATOR(pg_catalog.=) s.shardid"
			"  WHERE s.logicalrelid OPERATOR(pg_catalog.=) p.logicalrelid"
			"    AND l.groupid OPERATOR(pg_catalog.=) (SELECT groupid FROM pg_catalog.pg_dist_local_group)"
			"  LIMIT 1)"
			" FROM pg_catalog.pg_dist_partition p WHERE p.logicalrelid OPERATOR(pg_catalog.=) $1",
			1, types, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read the Citus shard metadata");
	if (SPI_processed == 0)
		result = relid;			/* not a Citus table: its rows are here */
	else
	{
		method = DatumGetChar(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		if (method == 'n')
		{
			Datum		shard = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);

			if (!isnull)
				result = ts_shard_relid(relid, DatumGetInt64(shard));
		}
	}
	SPI_finish();
	return result;
}
