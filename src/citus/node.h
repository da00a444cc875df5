/*
 * node.h
 *	  What this database is in a Citus cluster: no Citus, the coordinator, or
 *	  a worker node.
 */
#ifndef TS_NODE_H
#define TS_NODE_H

#include "postgres.h"

typedef enum TsCitusRole
{
	TS_CITUS_NONE,				/* no Citus here: a single server */
	TS_CITUS_COORDINATOR,		/* node group 0: the extension's workers work here */
	TS_CITUS_WORKER				/* holds shards; the extension's workers idle */
} TsCitusRole;

extern TsCitusRole ts_citus_role(void);
extern void ts_citus_release(void);

#endif							/* TS_NODE_H */
