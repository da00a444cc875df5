/*
 * delta.h
 *	  The metric deltas of row changes (delta.c): one change's set, written
 *	  by the row triggers, and the batch that merges many changes' deltas
 *	  per (hour, problem) for retention's bulk deletes.
 */
#ifndef TS_METRICS_DELTA_H
#define TS_METRICS_DELTA_H

#include "postgres.h"

#include "access/htup.h"
#include "access/tupdesc.h"
#include "metrics/measures.h"

/* The kinds of rows whose changes move the measures. */
typedef enum TsRowKind
{
	TS_ROW_SESSION,
	TS_ROW_ATTEMPT,
	TS_ROW_FEEDBACK
} TsRowKind;

/* A session row touches at most three hours, so a change at most six. */
#define TS_MAX_DELTAS 6

/* The deltas of one (hour, problem). */
typedef struct TsDelta
{
	TimestampTz bucket;
	char	   *problem;		/* NULL except for the started_at hour */
	TsMeasures	d;
} TsDelta;

/* The deltas of one row change. */
typedef struct TsDeltaSet
{
	int			n;
	TsDelta		items[TS_MAX_DELTAS];
} TsDeltaSet;

extern void ts_delta_contrib(TsDeltaSet *set, TsRowKind kind, HeapTuple tup, TupleDesc desc,
							 int sign);
extern void ts_delta_write(const TsDelta *items, int n, Oid relid, Datum session_id);

/* Deltas of many row changes, merged before they are written. */
typedef struct TsDeltaBatch TsDeltaBatch;

extern TsDeltaBatch *ts_delta_batch_create(void);
extern void ts_delta_batch_add(TsDeltaBatch *batch, TsRowKind kind, HeapTuple tup,
							   TupleDesc desc, int sign);
extern void ts_delta_batch_write(TsDeltaBatch *batch, Oid nspid);

#endif							/* TS_METRICS_DELTA_H */
