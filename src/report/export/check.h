/*
 * check.h
 *	  The check that a jsonb document is a report (check.c).
 */
#ifndef TS_REPORT_EXPORT_CHECK_H
#define TS_REPORT_EXPORT_CHECK_H

#include "postgres.h"

#include "utils/jsonb.h"

extern void ts_export_check(Jsonb *doc);

#endif							/* TS_REPORT_EXPORT_CHECK_H */
