/*
 * scan.c
 *	  Reads the rows of one report rollup (ts_report_*_hourly) whose hour
 *	  lies in a range, straight from the table through its unique index on
 *	  (bucket, ...), under the active snapshot: the same rows a read-only SPI
 *	  query of the report would see, without building, grouping and copying
 *	  a result set.  A report's whole hours are tens of thousands of rollup
 *	  rows per period; the caller adds them up as they come.  On a Citus
 *	  node the rollups are reference tables: their rows are in the node's
 *	  local shard (citus/reference.c), or, on a node without one, read
 *	  through a query.
 */
#include "postgres.h"

#include "base/extschema.h"
#include "citus/reference.h"
#include "report/rollup/scan.h"

#include "access/genam.h"
#include "access/relscan.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_am.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "parser/parse_relation.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

/* The index of rel whose first key column is attnum, or InvalidOid. */
static Oid
ts_scan_index(Relation rel, AttrNumber attnum)
{
	List	   *indexes = RelationGetIndexList(rel);
	ListCell   *lc;
	Oid			found = InvalidOid;

	foreach(lc, indexes)
	{
		Relation	idx = index_open(lfirst_oid(lc), AccessShareLock);
		bool		match = idx->rd_index->indnkeyatts >= 1 &&
			idx->rd_index->indkey.values[0] == attnum &&
			idx->rd_rel->relam == BTREE_AM_OID;

		index_close(idx, AccessShareLock);
		if (match)
		{
			found = lfirst_oid(lc);
			break;
		}
	}
	list_free(indexes);
	return found;
}

/*
 * The rows of the rollup relid with bucket in [from, to) through a query
 * (SPI connected), for a node that holds no placement of it; as
 * ts_rollup_scan.
 */
static void
ts_rollup_query_rows(Oid relid, const char *const *cols, int ncols, TimestampTz from,
					 TimestampTz to, TsRollupRowFn fn, void *arg)
{
	StringInfoData sql;
	Oid			types[2] = {TIMESTAMPTZOID, TIMESTAMPTZOID};
	Datum		args[2] = {TimestampTzGetDatum(from), TimestampTzGetDatum(to)};
	Datum	   *values = palloc(sizeof(Datum) * ncols);
	bool	   *nulls = palloc(sizeof(bool) * ncols);

	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT ");
	for (int i = 0; i < ncols; i++)
		appendStringInfo(&sql, "%s%s", i ? ", " : "", quote_identifier(cols[i]));
	appendStringInfo(&sql, " FROM %s WHERE bucket >= $1 AND bucket < $2",
					 quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
												get_rel_name(relid)));
	if (SPI_execute_with_args(sql.data, 2, types, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read %s", get_rel_name(relid));
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		for (int i = 0; i < ncols; i++)
			values[i] = SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, i + 1, &nulls[i]);
		fn(arg, values, nulls);
		CHECK_FOR_INTERRUPTS();
	}
	SPI_freetuptable(SPI_tuptable);
	pfree(values);
	pfree(nulls);
}

/*
 * Calls fn once per row of the rollup relname (in the extension's schema)
 * with bucket in [from, to), passing the columns cols[0..ncols) in that
 * order.  Values point into the buffer page or the row: fn copies what it
 * keeps.  The caller is connected to SPI.
 */
void
ts_rollup_scan(const char *relname, const char *const *cols, int ncols, TimestampTz from,
			   TimestampTz to, TsRollupRowFn fn, void *arg)
{
	Oid			relid = get_relname_relid(relname, ts_extension_schema(false));
	Oid			rows;
	Relation	rel;
	TupleDesc	desc;
	AttrNumber	bucket;
	AttrNumber *attnums;
	Oid			indexid;
	Relation	idx;
	IndexScanDesc scan;
	ScanKeyData keys[2];
	TupleTableSlot *slot;
	Datum	   *values;
	bool	   *nulls;
	AclResult	acl;

	if (!OidIsValid(relid))
		elog(ERROR, "relation %s is missing", relname);
	acl = pg_class_aclcheck(relid, GetUserId(), ACL_SELECT);
	if (acl != ACLCHECK_OK)
		aclcheck_error(acl, OBJECT_TABLE, relname);
	rows = ts_local_rows_relid(relid);
	if (!OidIsValid(rows))
	{
		ts_rollup_query_rows(relid, cols, ncols, from, to, fn, arg);
		return;
	}
	if (rows != relid)
		LockRelationOid(relid, AccessShareLock);	/* the table, then its shard, as Citus */
	rel = table_open(rows, AccessShareLock);
	desc = RelationGetDescr(rel);
	bucket = attnameAttNum(rel, "bucket", false);
	if (bucket == InvalidAttrNumber || TupleDescAttr(desc, bucket - 1)->atttypid != TIMESTAMPTZOID)
		elog(ERROR, "relation %s has no timestamptz column bucket", relname);
	attnums = palloc(sizeof(AttrNumber) * ncols);
	for (int i = 0; i < ncols; i++)
	{
		attnums[i] = attnameAttNum(rel, cols[i], false);
		if (attnums[i] == InvalidAttrNumber)
			elog(ERROR, "column %s of relation %s is missing", cols[i], relname);
	}
	indexid = ts_scan_index(rel, bucket);
	if (!OidIsValid(indexid))
		elog(ERROR, "relation %s has no index on bucket", relname);

	idx = index_open(indexid, AccessShareLock);
	ScanKeyInit(&keys[0], 1, BTGreaterEqualStrategyNumber, F_TIMESTAMPTZ_GE,
				TimestampTzGetDatum(from));
	ScanKeyInit(&keys[1], 1, BTLessStrategyNumber, F_TIMESTAMPTZ_LT, TimestampTzGetDatum(to));
	scan = index_beginscan(rel, idx, GetActiveSnapshot(), 2, 0);
	index_rescan(scan, keys, 2, NULL, 0);
	slot = table_slot_create(rel, NULL);
	values = palloc(sizeof(Datum) * ncols);
	nulls = palloc(sizeof(bool) * ncols);
	while (index_getnext_slot(scan, ForwardScanDirection, slot))
	{
		slot_getallattrs(slot);
		for (int i = 0; i < ncols; i++)
		{
			values[i] = slot->tts_values[attnums[i] - 1];
			nulls[i] = slot->tts_isnull[attnums[i] - 1];
		}
		fn(arg, values, nulls);
		CHECK_FOR_INTERRUPTS();
	}
	ExecDropSingleTupleTableSlot(slot);
	index_endscan(scan);
	index_close(idx, AccessShareLock);
	table_close(rel, AccessShareLock);
	if (rows != relid)
		UnlockRelationOid(relid, AccessShareLock);
	pfree(values);
	pfree(nulls);
	pfree(attnums);
}
