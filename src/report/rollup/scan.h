/*
 * scan.h
 *	  Reading a report rollup's rows of a range of hours straight from the
 *	  table (scan.c).
 */
#ifndef TS_REPORT_ROLLUP_SCAN_H
#define TS_REPORT_ROLLUP_SCAN_H

#include "postgres.h"

#include "datatype/timestamp.h"

/* Called once per row with the requested columns (values valid during the call only). */
typedef void (*TsRollupRowFn) (void *arg, Datum *values, bool *nulls);

extern void ts_rollup_scan(const char *relname, const char *const *cols, int ncols,
						   TimestampTz from, TimestampTz to, TsRollupRowFn fn, void *arg);

#endif							/* TS_REPORT_ROLLUP_SCAN_H */
