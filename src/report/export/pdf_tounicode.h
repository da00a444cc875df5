/*
 * pdf_tounicode.h
 *	  The text layer of a PDF font: a valid ToUnicode map in place of the
 *	  one libharu writes (pdf_tounicode.c).
 */
#ifndef TS_REPORT_EXPORT_PDF_TOUNICODE_H
#define TS_REPORT_EXPORT_PDF_TOUNICODE_H

#include "hpdf.h"

extern HPDF_STATUS ts_pdf_tounicode(HPDF_Font font);

#endif							/* TS_REPORT_EXPORT_PDF_TOUNICODE_H */
