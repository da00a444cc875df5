/*
 * csv.h
 *	  A report document as CSV (csv.c).
 */
#ifndef TS_REPORT_EXPORT_CSV_H
#define TS_REPORT_EXPORT_CSV_H

#include "postgres.h"

#include "utils/jsonb.h"

extern bytea *ts_report_csv(Jsonb *doc);

#endif							/* TS_REPORT_EXPORT_CSV_H */
