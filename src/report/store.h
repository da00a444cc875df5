/*
 * store.h
 *	  The report cache and stored reports (store.c); ts_report_load is in
 *	  report.h.
 */
#ifndef TS_REPORT_STORE_H
#define TS_REPORT_STORE_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "utils/jsonb.h"

extern Jsonb *ts_report_cache_lookup(const char *key);
extern int64 ts_report_next_id(void);
extern void ts_report_store(int64 id, const char *type, const char *key, Jsonb *doc,
							TimestampTz generated_at, int ttl, double ms);

#endif							/* TS_REPORT_STORE_H */
