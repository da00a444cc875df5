/*
 * pdf_draw.h
 *	  The PDF report being drawn (libharu document, fonts, current page and
 *	  cursor) and the drawing primitives of pdf_draw.c, used by pdf.c,
 *	  pdf_value.c and the section writers in pdf_sections.c.
 */
#ifndef TS_REPORT_EXPORT_PDF_DRAW_H
#define TS_REPORT_EXPORT_PDF_DRAW_H

#include "postgres.h"

#include "nodes/pg_list.h"
#include "utils/jsonb.h"

#include <hpdf.h>

/* Page geometry in points: A4 portrait, content between the margins. */
#define TS_PDF_PAGE_W		595.276f
#define TS_PDF_PAGE_H		841.89f
#define TS_PDF_MARGIN		50.0f
#define TS_PDF_LEFT			TS_PDF_MARGIN
#define TS_PDF_TOP			(TS_PDF_PAGE_H - TS_PDF_MARGIN)
#define TS_PDF_BOTTOM		64.0f	/* content stops here; the footer is below */
#define TS_PDF_WIDTH		(TS_PDF_PAGE_W - 2 * TS_PDF_MARGIN)

/* An RGB colour. */
typedef struct TsRgb
{
	float		r;
	float		g;
	float		b;
} TsRgb;

extern const TsRgb ts_pdf_black;
extern const TsRgb ts_pdf_gray;
extern const TsRgb ts_pdf_light;
extern const TsRgb ts_pdf_blue;
extern const TsRgb ts_pdf_green;
extern const TsRgb ts_pdf_red;
extern const TsRgb ts_pdf_orange;

/* The PDF being drawn. */
typedef struct TsPdf
{
	HPDF_Doc	doc;
	HPDF_Font	font;			/* regular */
	HPDF_Font	bold;			/* bold, or the regular font when there is none */
	HPDF_Page	page;			/* current page */
	List	   *pages;			/* every page, in order */
	float		y;				/* top of the next thing drawn on the page */
	HPDF_STATUS error;			/* first libharu error (0: none) */
	HPDF_STATUS error_detail;
} TsPdf;

/* pages, text and shapes */
extern void ts_pdf_check(TsPdf *p, const char *what);
extern void ts_pdf_new_page(TsPdf *p);
extern bool ts_pdf_need(TsPdf *p, float height);
extern char *ts_pdf_utf8(const char *s);
extern char *ts_pdf_str(const char *s);
extern float ts_pdf_width(HPDF_Font font, float size, const char *s);
extern char *ts_pdf_fit(HPDF_Font font, float size, const char *s, float width);
extern List *ts_pdf_wrap(HPDF_Font font, float size, const char *s, float width);
extern void ts_pdf_text(TsPdf *p, HPDF_Font font, float size, float x, float y,
						const TsRgb *color, const char *s);
extern void ts_pdf_text_right(TsPdf *p, HPDF_Font font, float size, float right, float y,
							  const TsRgb *color, const char *s);
extern void ts_pdf_text_center(TsPdf *p, HPDF_Font font, float size, float center, float y,
							   const TsRgb *color, const char *s);
extern void ts_pdf_hidden_text(TsPdf *p, float size, float x, float y, const char *s);
extern void ts_pdf_rect(TsPdf *p, float x, float y, float w, float h, const TsRgb *color);
extern void ts_pdf_line(TsPdf *p, float x1, float y1, float x2, float y2, float width,
						const TsRgb *color);
extern void ts_pdf_triangle(TsPdf *p, float x, float y, float size, bool up, const TsRgb *color);
extern void ts_pdf_heading(TsPdf *p, const char *title, float space_after);
extern void ts_pdf_lines(TsPdf *p, HPDF_Font font, float size, float x, const TsRgb *color,
						 List *lines);
extern bool ts_pdf_keep(TsPdf *p, float height);
extern void ts_pdf_paragraph(TsPdf *p, HPDF_Font font, float size, float x, float width,
							 const TsRgb *color, const char *s);

#endif							/* TS_REPORT_EXPORT_PDF_DRAW_H */
