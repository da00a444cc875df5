/*
 * export.h
 *	  A report document as the bytes of an export format (export.c).
 */
#ifndef TS_REPORT_EXPORT_EXPORT_H
#define TS_REPORT_EXPORT_EXPORT_H

#include "postgres.h"

#include "utils/jsonb.h"

extern bytea *ts_report_export(Jsonb *doc, const char *format);

#endif							/* TS_REPORT_EXPORT_EXPORT_H */
