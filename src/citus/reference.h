/*
 * reference.h
 *	  Where this node keeps the rows of one of the extension's tables: the
 *	  table, or on Citus the local shard of a reference table (reference.c).
 */
#ifndef TS_REFERENCE_H
#define TS_REFERENCE_H

#include "postgres.h"

extern Oid	ts_local_rows_relid(Oid relid);

#endif							/* TS_REFERENCE_H */
