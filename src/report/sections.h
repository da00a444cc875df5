/*
 * sections.h
 *	  The per-period sections of a report document (sections.c).
 */
#ifndef TS_REPORT_SECTIONS_H
#define TS_REPORT_SECTIONS_H

#include "postgres.h"

#include "lib/stringinfo.h"
#include "report/stats.h"

extern void ts_append_summary(StringInfo out, const TsPeriodStats *st);
extern void ts_append_series(StringInfo out, const TsPeriodStats *st);
extern void ts_append_problems(StringInfo out, const TsPeriodStats *st, int limit);
extern void ts_append_satisfaction(StringInfo out, const TsPeriodStats *st);

#endif							/* TS_REPORT_SECTIONS_H */
