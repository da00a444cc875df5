/*
 * pdf_sections.h
 *	  The sections of a PDF report after its title block (pdf_sections.c).
 */
#ifndef TS_REPORT_EXPORT_PDF_SECTIONS_H
#define TS_REPORT_EXPORT_PDF_SECTIONS_H

#include "report/export/pdf_draw.h"

extern void ts_pdf_kpis(TsPdf *p, Jsonb *doc);
extern void ts_pdf_series_chart(TsPdf *p, Jsonb *doc);
extern void ts_pdf_satisfaction(TsPdf *p, Jsonb *doc, bool charts);
extern void ts_pdf_problems(TsPdf *p, Jsonb *doc);
extern void ts_pdf_recommendations(TsPdf *p, Jsonb *doc);

#endif							/* TS_REPORT_EXPORT_PDF_SECTIONS_H */
