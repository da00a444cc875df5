/*
 * document.h
 *	  Reading a report document without trusting its shape (document.c),
 *	  for the checker and the writers of every format; the summary's keys.
 */
#ifndef TS_REPORT_EXPORT_DOCUMENT_H
#define TS_REPORT_EXPORT_DOCUMENT_H

#include "postgres.h"

#include "utils/jsonb.h"

/* The parts of a report document the exporters read, in document order. */
#define TS_SUMMARY_KEYS \
	"total_sessions", "resolved_sessions", "escalated_sessions", \
	"abandoned_sessions", "resolution_rate", "escalation_rate", \
	"avg_resolution_time_minutes", "median_resolution_time_minutes", \
	"p90_resolution_time_minutes", "total_attempts", "successful_attempts", \
	"attempts_per_session", "first_attempt_success_rate", "feedback_count", \
	"avg_rating", "nps", "unique_problems"

/* lengthof() as an int, for loops over the tables above */
#define TS_NELEMS(a) ((int) lengthof(a))

extern JsonbValue *ts_export_get(JsonbContainer *obj, const char *key);
extern JsonbContainer *ts_export_object(JsonbValue *v);
extern JsonbContainer *ts_export_array(JsonbValue *v);
extern int	ts_export_count(JsonbContainer *arr);
extern JsonbValue *ts_export_item(JsonbContainer *arr, int i);
extern char *ts_export_text(JsonbValue *v);
extern bool ts_export_number(JsonbValue *v, double *out);
extern bytea *ts_export_utf8_bytea(const char *data, int len);

#endif							/* TS_REPORT_EXPORT_DOCUMENT_H */
