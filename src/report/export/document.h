/*
 * document.h
 *	  Helpers shared by the report exporters (export.c, export_csv.c,
 *	  export_pdf.c): checking that a jsonb document is a report and reading
 *	  its parts without trusting their shape.
 */
#ifndef TS_REPORT_EXPORT_INTERNAL_H
#define TS_REPORT_EXPORT_INTERNAL_H

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

/* export.c */
extern void ts_export_check(Jsonb *doc);
extern JsonbValue *ts_export_get(JsonbContainer *obj, const char *key);
extern JsonbContainer *ts_export_object(JsonbValue *v);
extern JsonbContainer *ts_export_array(JsonbValue *v);
extern int	ts_export_count(JsonbContainer *arr);
extern JsonbValue *ts_export_item(JsonbContainer *arr, int i);
extern char *ts_export_text(JsonbValue *v);
extern bool ts_export_number(JsonbValue *v, double *out);
extern bytea *ts_export_utf8_bytea(const char *data, int len);

/* export_pdf.c: defines troubleshooting.pdf_font (called from _PG_init) */
extern void ts_report_define_gucs(void);

#endif							/* TS_REPORT_EXPORT_INTERNAL_H */
