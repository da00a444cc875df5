/*
 * scan.c
 *	  Reads the rows of one report rollup (ts_report_*_hourly) whose hour
 *	  lies in a range, straight from the table through its unique index on
 *	  (bucket, ...), under the active snapshot: the same rows a read-only SPI
 *	  query of the report would see, without building, grouping and copying
 *	  a result set.  A report's whole hours are tens of thousands of rollup
 *	  rows per period; the caller adds them up as they come.
 */
#include "postgres.h"

#include "base/extschema.h"
#include "report/rollup/scan.h"

#include "access/genam.h"
#include "access/relscan.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_am.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "parser/parse_relation.h"
#include "utils/acl.h"
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
 * Calls fn once per row of the rollup relname (in the extension's schema)
 * with bucket in [from, to), passing the columns cols[0..ncols) in that
 * order.  Values point into the buffer page or the row: fn copies what it
 * keeps.
 */
void
ts_rollup_scan(const char *relname, const char *const *cols, int ncols, TimestampTz from,
			   TimestampTz to, TsRollupRowFn fn, void *arg)
{
	Oid			relid = get_relname_relid(relname, ts_extension_schema(false));
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
	rel = table_open(relid, AccessShareLock);
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
	pfree(values);
	pfree(nulls);
	pfree(attnums);
}
