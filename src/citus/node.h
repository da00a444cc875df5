/*
 * node.h
 *	  What this database is in a Citus cluster: no Citus, the coordinator, or
 *	  a worker node; whether a relation is a shard or a Citus table; the time
 *	  every placement of a replicated table agrees on.
 */
#ifndef TS_NODE_H
#define TS_NODE_H

#include "postgres.h"

#include "datatype/timestamp.h"

typedef enum TsCitusRole
{
	TS_CITUS_NONE,				/* no Citus here: a single server */
	TS_CITUS_COORDINATOR,		/* node group 0: the extension's workers work here */
	TS_CITUS_WORKER				/* holds shards; the extension's workers idle */
} TsCitusRole;

extern TsCitusRole ts_citus_role(void);
extern void ts_citus_release(void);
extern bool ts_relation_is_shard(Oid relid);
extern bool ts_citus_table(Oid relid);
extern void ts_citus_sequential(void);
extern TimestampTz ts_replica_time(Oid relid);

#endif							/* TS_NODE_H */
