/*
 * cleanup.h
 *	  Deleting data past retention, one batch per table, for the maintenance
 *	  worker.
 */
#ifndef TS_RETENTION_CLEANUP_H
#define TS_RETENTION_CLEANUP_H

#include "postgres.h"

extern int64 ts_cleanup_step(void);

#endif							/* TS_RETENTION_CLEANUP_H */
