/*
 * pdf.h
 *	  A report document as PDF (pdf.c).  Its setting,
 *	  troubleshooting.pdf_font, is defined by ts_report_define_gucs
 *	  (report/report.h).
 */
#ifndef TS_REPORT_EXPORT_PDF_H
#define TS_REPORT_EXPORT_PDF_H

#include "postgres.h"

#include "utils/jsonb.h"

extern bytea *ts_report_pdf(Jsonb *doc);

#endif							/* TS_REPORT_EXPORT_PDF_H */
