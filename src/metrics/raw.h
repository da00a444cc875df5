/*
 * raw.h
 *	  Metrics read straight from the raw tables (raw.c).
 */
#ifndef TS_METRICS_RAW_H
#define TS_METRICS_RAW_H

#include "postgres.h"

#include "metrics/buckets.h"
#include "metrics/read.h"

extern bool ts_metrics_read_raw(void);
extern void ts_raw_ranges(TsBucket *buckets, int nbuckets, const TsRange *ranges, int n,
						  TsProblemDict *dict);
extern void ts_raw_buckets(TsBucket *buckets, int n, TsProblemDict *dict);

#endif							/* TS_METRICS_RAW_H */
