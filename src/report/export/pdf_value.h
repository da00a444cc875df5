/*
 * pdf_value.h
 *	  A report document's values and metric names as a PDF report shows them
 *	  (pdf_value.c).
 */
#ifndef TS_REPORT_EXPORT_PDF_VALUE_H
#define TS_REPORT_EXPORT_PDF_VALUE_H

#include "postgres.h"

#include "utils/jsonb.h"

extern char *ts_pdf_value(const char *metric, JsonbValue *v, bool with_sign);
extern char *ts_pdf_label(const char *metric);

#endif							/* TS_REPORT_EXPORT_PDF_VALUE_H */
