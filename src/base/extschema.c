/*
 * extschema.c
 *	  Finds the schema the extension was installed into (CREATE EXTENSION ...
 *	  SCHEMA), the extension's relations in it, independent of search_path,
 *	  and their columns.
 */
#include "postgres.h"

#include "base/extschema.h"
#include "compat.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/pg_extension.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

/*
 * Looks up the installed extension: returns its namespace and sets *extoid,
 * both InvalidOid when it is not installed.
 */
static Oid
ts_extension_lookup(Oid *extoid)
{
	Relation	rel;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;
	Oid			nspid = InvalidOid;

	*extoid = InvalidOid;
	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber,
				F_NAMEEQ, CStringGetDatum(TS_EXTENSION_NAME));
	scan = systable_beginscan(rel, ExtensionNameIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
	{
		*extoid = ((Form_pg_extension) GETSTRUCT(tup))->oid;
		nspid = ((Form_pg_extension) GETSTRUCT(tup))->extnamespace;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return nspid;
}

/* Returns the namespace of the installed extension, or InvalidOid. */
Oid
ts_extension_schema(bool missing_ok)
{
	Oid			extoid;
	Oid			nspid = ts_extension_lookup(&extoid);

	if (!OidIsValid(nspid) && !missing_ok)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("extension \"%s\" is not installed in this database",
						TS_EXTENSION_NAME),
				 errhint("Run CREATE EXTENSION %s.", TS_EXTENSION_NAME)));
	return nspid;
}

/*
 * Returns the namespace of the installed extension, or InvalidOid, holding a
 * share lock on the extension until the transaction ends.  DROP EXTENSION
 * takes that lock in exclusive mode before it locks any table, so it waits
 * for a unit of work that holds it, and a unit that waited for a DROP finds
 * no extension instead of tables that are gone: the two never deadlock.
 */
Oid
ts_extension_schema_locked(void)
{
	Oid			ext;
	Oid			again;
	Oid			nspid;

	if (!OidIsValid(ts_extension_lookup(&ext)))
		return InvalidOid;
	LockDatabaseObject(ExtensionRelationId, ext, 0, AccessShareLock);
	/* read the catalogue again: a DROP may have committed while this waited */
	InvalidateCatalogSnapshot();
	nspid = ts_extension_lookup(&again);
	return again == ext ? nspid : InvalidOid;
}

/* Returns the oid of one of the extension's relations, or InvalidOid. */
Oid
ts_extension_relid(const char *relname, bool missing_ok)
{
	Oid			nspid = ts_extension_schema(missing_ok);
	Oid			relid;

	if (!OidIsValid(nspid))
		return InvalidOid;
	relid = get_relname_relid(relname, nspid);
	if (!OidIsValid(relid) && !missing_ok)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation \"%s\" of extension \"%s\" is missing",
						relname, TS_EXTENSION_NAME),
				 errhint("Reinstall the extension.")));
	return relid;
}

/* Returns "schema"."relname", quoted for use in a query string. */
char *
ts_qualified_name(Oid nspid, const char *relname)
{
	char	   *nspname = get_namespace_name(nspid);

	if (nspname == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_SCHEMA),
				 errmsg("schema with oid %u does not exist", nspid)));
	return quote_qualified_identifier(nspname, relname);
}

/* Returns a column's number in relname's rows; ERROR if it is gone. */
int
ts_column_number(TupleDesc desc, const char *relname, const char *colname)
{
	int			attnum = SPI_fnumber(desc, colname);

	if (attnum <= 0)
		elog(ERROR, "column \"%s\" is missing from %s", colname, relname);
	return attnum;
}
