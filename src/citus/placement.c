/*
 * placement.c
 *	  Which relation a trigger reads and writes beside the row it fired for.
 *
 *	  On one server a trigger on the sessions table writes its metric deltas
 *	  into ts_metrics_delta and reads the session's attempts from the
 *	  attempts table.  On Citus the same trigger fires on a shard of the
 *	  sessions table, on a worker node; the deltas and the attempts of that
 *	  session live in the shards of their tables with the same hash range,
 *	  on the same node (the tables are co-located), and a reference table
 *	  has its one shard on every node.  Reading and writing those shards
 *	  directly keeps a trigger's work on its own node, with no distributed
 *	  query: ts_beside_relid() names them.
 *
 *	  A shard is a table named after its table with "_<shard id>" appended,
 *	  in the same schema; Citus's metadata (pg_dist_shard, pg_dist_partition,
 *	  present on every node) says which shard of another table is beside it.
 *	  Answers are cached per backend and dropped at any relation cache
 *	  invalidation (a shard moved, split or dropped).
 */
#include "postgres.h"

#include "citus/placement.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

/* A cached answer: the relation beside a shard for one table name. */
typedef struct TsBesideKey
{
	Oid			shard;			/* the relation the trigger fired for */
	char		name[NAMEDATALEN];	/* the table asked for */
} TsBesideKey;

typedef struct TsBesideEntry
{
	TsBesideKey key;
	Oid			relid;
} TsBesideEntry;

static HTAB *ts_beside_cache = NULL;
static bool ts_beside_callback = false;

/* Drops every cached answer (a relation cache invalidation arrived). */
static void
ts_beside_reset(Datum arg, Oid relid)
{
	if (ts_beside_cache)
	{
		hash_destroy(ts_beside_cache);
		ts_beside_cache = NULL;
	}
}

/* The shard id in a shard's name (own followed by "_<digits>"), or 0. */
static int64
ts_shard_id(const char *relname, const char *own)
{
	size_t		len = strlen(own);
	const char *p;
	int64		id = 0;

	if (strncmp(relname, own, len) != 0 || relname[len] != '_' || relname[len + 1] == '\0')
		return 0;
	for (p = relname + len + 1; *p; p++)
	{
		if (*p < '0' || *p > '9' || id > PG_INT64_MAX / 10 - 9)
			return 0;
		id = id * 10 + (*p - '0');
	}
	return id;
}

/*
 * Asks Citus's metadata for the shard of table relid beside shard shardid:
 * the one shard of a reference table, else the shard of the same hash range
 * in the same co-location group.  Returns 0 when there is none.
 */
static int64
ts_shard_beside(int64 shardid, Oid relid)
{
	Oid			types[2] = {INT8OID, OIDOID};
	Datum		args[2] = {Int64GetDatum(shardid), ObjectIdGetDatum(relid)};
	int64		result = 0;
	bool		isnull;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args(
			"SELECT t.shardid FROM pg_catalog.pg_dist_shard s"
			" JOIN pg_catalog.pg_dist_partition ps ON ps.logicalrelid OPERATOR(pg_catalog.=) s.logicalrelid"
			" JOIN pg_catalog.pg_dist_partition pt ON pt.logicalrelid OPERATOR(pg_catalog.=) $2"
			" JOIN pg_catalog.pg_dist_shard t ON t.logicalrelid OPERATOR(pg_catalog.=) pt.logicalrelid"
			" WHERE s.shardid OPERATOR(pg_catalog.=) $1"
			" AND (pt.partmethod OPERATOR(pg_catalog.=) 'n'"
			"      OR (pt.colocationid OPERATOR(pg_catalog.=) ps.colocationid"
			"          AND t.shardminvalue OPERATOR(pg_catalog.=) s.shardminvalue))",
			2, types, args, NULL, true, 2) != SPI_OK_SELECT)
		elog(ERROR, "could not read the Citus shard metadata");
	if (SPI_processed == 1)
		result = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	return result;
}

/*
 * The relation of shard shardid of table relid on this node: the table's
 * name with "_<shard id>", in the same schema; InvalidOid when there is no
 * such relation here (or no shard: shardid 0).
 */
Oid
ts_shard_relid(Oid relid, int64 shardid)
{
	char		shardname[NAMEDATALEN + 32];
	char	   *name = get_rel_name(relid);

	if (shardid == 0 || name == NULL)
		return InvalidOid;
	snprintf(shardname, sizeof(shardname), "%s_" INT64_FORMAT, name, shardid);
	if (strlen(shardname) >= NAMEDATALEN)
		return InvalidOid;
	return get_relname_relid(shardname, get_rel_namespace(relid));
}

/*
 * The relation holding table name's rows beside rel, a relation of the
 * extension's table own (or a Citus shard of it): the extension's table
 * name itself, or the shard of name beside rel's shard on this node.
 */
Oid
ts_beside_relid(Relation rel, const char *own, const char *name)
{
	Oid			nspid = RelationGetNamespace(rel);
	Oid			relid = get_relname_relid(name, nspid);
	TsBesideKey key;
	TsBesideEntry *e;
	bool		found;
	int64		shardid;
	int64		beside;

	if (!OidIsValid(relid))
		elog(ERROR, "relation %s is missing", name);
	if (strcmp(RelationGetRelationName(rel), own) == 0)
		return relid;			/* not a shard: the extension's tables */

	shardid = ts_shard_id(RelationGetRelationName(rel), own);
	if (shardid == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("trigger fired for relation \"%s\", neither %s nor one of its shards",
						RelationGetRelationName(rel), own)));

	if (!ts_beside_callback)
	{
		CacheRegisterRelcacheCallback(ts_beside_reset, (Datum) 0);
		ts_beside_callback = true;
	}
	if (ts_beside_cache == NULL)
	{
		HASHCTL		ctl;

		memset(&ctl, 0, sizeof(ctl));
		ctl.keysize = sizeof(TsBesideKey);
		ctl.entrysize = sizeof(TsBesideEntry);
		ctl.hcxt = TopMemoryContext;
		ts_beside_cache = hash_create("troubleshooting shards beside", 64, &ctl,
									  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	memset(&key, 0, sizeof(key));
	key.shard = RelationGetRelid(rel);
	strlcpy(key.name, name, NAMEDATALEN);
	e = hash_search(ts_beside_cache, &key, HASH_FIND, NULL);
	if (e)
		return e->relid;

	beside = ts_shard_beside(shardid, relid);
	relid = ts_shard_relid(relid, beside);
	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("no shard of %s beside shard " INT64_FORMAT " of %s on this node",
						name, shardid, own),
				 errhint("Run distribute_troubleshooting_tables() on the coordinator: it distributes "
						 "every table the triggers need.")));
	/* the lookup may have reset the cache (an invalidation during SPI) */
	if (ts_beside_cache)
	{
		e = hash_search(ts_beside_cache, &key, HASH_ENTER, &found);
		e->relid = relid;
	}
	return relid;
}

/* The schema-qualified name of ts_beside_relid()'s relation. */
char *
ts_beside_name(Relation rel, const char *own, const char *name)
{
	Oid			relid = ts_beside_relid(rel, own, name);

	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
									  get_rel_name(relid));
}
