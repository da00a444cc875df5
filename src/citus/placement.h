/*
 * placement.h
 *	  Which relation a trigger reads and writes beside the row it fired for:
 *	  the extension's own tables, or on a Citus node the shards beside a
 *	  shard.
 */
#ifndef TS_PLACEMENT_H
#define TS_PLACEMENT_H

#include "postgres.h"

#include "utils/relcache.h"

extern Oid	ts_shard_relid(Oid relid, int64 shardid);
extern Oid	ts_beside_relid(Relation rel, const char *own, const char *name);
extern char *ts_beside_name(Relation rel, const char *own, const char *name);

#endif							/* TS_PLACEMENT_H */
