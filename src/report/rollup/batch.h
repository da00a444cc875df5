/*
 * batch.h
 *	  Report rollup changes of a retention batch that deleted whole sessions
 *	  without firing triggers (batch.c).
 */
#ifndef TS_REPORT_ROLLUP_BATCH_H
#define TS_REPORT_ROLLUP_BATCH_H

#include "postgres.h"

#include "access/htup.h"
#include "access/tupdesc.h"

typedef struct TsRepBatch TsRepBatch;

extern TsRepBatch *ts_rep_batch_create(void);
extern void ts_rep_batch_session(TsRepBatch *b, HeapTuple tup, TupleDesc desc);
extern void ts_rep_batch_child(TsRepBatch *b, bool attempt, HeapTuple tup, TupleDesc desc);
extern void ts_rep_batch_write(TsRepBatch *b, Oid nspid);

#endif							/* TS_REPORT_ROLLUP_BATCH_H */
