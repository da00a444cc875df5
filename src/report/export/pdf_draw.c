/*
 * pdf_draw.c
 *	  The drawing primitives of a PDF report (libharu): the colours, the
 *	  check of libharu's recorded error, pages and the cursor, UTF-8 text
 *	  (measured, cut to fit, wrapped), shapes, headings and paragraphs that
 *	  break pages.  Every coordinate passes a last guard against values a
 *	  PDF reader cannot parse.
 */
#include "postgres.h"

#include "report/export/pdf_draw.h"

#include "mb/pg_wchar.h"

#include <math.h>

const TsRgb ts_pdf_black = {0.13f, 0.13f, 0.13f};
const TsRgb ts_pdf_gray = {0.45f, 0.45f, 0.45f};
const TsRgb ts_pdf_light = {0.93f, 0.94f, 0.95f};
const TsRgb ts_pdf_blue = {0.26f, 0.45f, 0.76f};
const TsRgb ts_pdf_green = {0.20f, 0.60f, 0.30f};
const TsRgb ts_pdf_red = {0.80f, 0.18f, 0.18f};
const TsRgb ts_pdf_orange = {0.90f, 0.55f, 0.10f};

/* Errors when libharu has reported an error (what: the step, for the detail). */
void
ts_pdf_check(TsPdf *p, const char *what)
{
	if (p->error == 0)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
			 errmsg("could not build the PDF report"),
			 errdetail("libharu error 0x%04X (detail %u) while %s.",
					   (unsigned int) p->error, (unsigned int) p->error_detail, what)));
}

/* Adds a page and puts the cursor at its top. */
void
ts_pdf_new_page(TsPdf *p)
{
	p->page = HPDF_AddPage(p->doc);
	ts_pdf_check(p, "adding a page");
	HPDF_Page_SetSize(p->page, HPDF_PAGE_SIZE_A4, HPDF_PAGE_PORTRAIT);
	p->pages = lappend(p->pages, p->page);
	p->y = TS_PDF_TOP;
}

/* Starts a new page unless height points fit above the bottom; true when it did. */
bool
ts_pdf_need(TsPdf *p, float height)
{
	if (p->y - height >= TS_PDF_BOTTOM || p->y >= TS_PDF_TOP)
		return false;
	ts_pdf_new_page(p);
	return true;
}

/* Document text (database encoding) as UTF-8, line feeds kept; "" for NULL. */
char *
ts_pdf_utf8(const char *s)
{
	if (s == NULL)
		return pstrdup("");
	return pstrdup(pg_server_to_any(s, strlen(s), PG_UTF8));
}

/* Document text as UTF-8 on one line (control characters become spaces). */
char *
ts_pdf_str(const char *s)
{
	char	   *out;

	if (s == NULL)
		return pstrdup("");
	out = pstrdup(pg_server_to_any(s, strlen(s), PG_UTF8));
	for (char *c = out; *c; c++)
		if ((unsigned char) *c < 0x20 || *c == 0x7f)
			*c = ' ';
	return out;
}

/* The width of UTF-8 text s in font at size, in points. */
float
ts_pdf_width(HPDF_Font font, float size, const char *s)
{
	HPDF_TextWidth tw = HPDF_Font_TextWidth(font, (const HPDF_BYTE *) s, strlen(s));

	return (float) tw.width * size / 1000.0f;
}

/* How many bytes of s fit in width (whole words when words), at least one character. */
static int
ts_pdf_fits(HPDF_Font font, float size, const char *s, float width, bool words)
{
	int			len = strlen(s);
	int			n;

	n = HPDF_Font_MeasureText(font, (const HPDF_BYTE *) s, len, width, size, 0, 0,
							  words ? HPDF_TRUE : HPDF_FALSE, NULL);
	if (n == 0 && words)
		n = HPDF_Font_MeasureText(font, (const HPDF_BYTE *) s, len, width, size, 0, 0,
								  HPDF_FALSE, NULL);
	if (n <= 0 && len > 0)
		n = Min(pg_utf_mblen((const unsigned char *) s), len);
	return n;
}

/* s cut to fit in width, with an ellipsis when cut. */
char *
ts_pdf_fit(HPDF_Font font, float size, const char *s, float width)
{
	int			n;

	if (ts_pdf_width(font, size, s) <= width)
		return pstrdup(s);
	n = ts_pdf_fits(font, size, s, width - ts_pdf_width(font, size, "…"), false);
	return psprintf("%.*s…", n, s);
}

/* UTF-8 text wrapped to width (a line feed starts a new line): a list of lines. */
List *
ts_pdf_wrap(HPDF_Font font, float size, const char *s, float width)
{
	List	   *lines = NIL;
	char	   *para = pstrdup(s ? s : "");

	while (para != NULL)
	{
		char	   *next = strchr(para, '\n');
		char	   *q;

		if (next != NULL)
			*next++ = '\0';
		for (q = para; *q; q++)
			if ((unsigned char) *q < 0x20 || *q == 0x7f)
				*q = ' ';
		q = para;
		if (*q == '\0')
			lines = lappend(lines, pstrdup(""));
		while (*q != '\0')
		{
			int			n = ts_pdf_fits(font, size, q, width, true);
			char	   *line = pnstrdup(q, n);
			int			end = strlen(line);

			while (end > 0 && line[end - 1] == ' ')
				line[--end] = '\0';
			lines = lappend(lines, line);
			q += n;
			while (*q == ' ')
				q++;
		}
		para = next;
	}
	return lines;
}

/*
 * A coordinate or length as it may reach a PDF operator: finite and within
 * +-TS_PDF_COORD_MAX points (libharu writes an infinite or huge real as
 * bytes a reader cannot parse); the charts clamp their values before this,
 * this is the last guard.
 */
#define TS_PDF_COORD_MAX 14400.0f

static float
ts_pdf_coord(float v)
{
	if (isnan(v))
		return 0;
	return Max(Min(v, TS_PDF_COORD_MAX), -TS_PDF_COORD_MAX);
}

/* Sets the fill colour (text and shapes). */
static void
ts_pdf_fill(TsPdf *p, const TsRgb *c)
{
	HPDF_Page_SetRGBFill(p->page, c->r, c->g, c->b);
}

/* Draws UTF-8 text with its baseline at (x, y). */
void
ts_pdf_text(TsPdf *p, HPDF_Font font, float size, float x, float y, const TsRgb *color,
			const char *s)
{
	if (s == NULL || *s == '\0')
		return;
	ts_pdf_fill(p, color);
	HPDF_Page_BeginText(p->page);
	HPDF_Page_SetFontAndSize(p->page, font, size);
	HPDF_Page_TextOut(p->page, ts_pdf_coord(x), ts_pdf_coord(y), s);
	HPDF_Page_EndText(p->page);
}

/* Draws UTF-8 text ending at x = right. */
void
ts_pdf_text_right(TsPdf *p, HPDF_Font font, float size, float right, float y,
				  const TsRgb *color, const char *s)
{
	ts_pdf_text(p, font, size, right - ts_pdf_width(font, size, s), y, color, s);
}

/* Draws UTF-8 text centred on x = center. */
void
ts_pdf_text_center(TsPdf *p, HPDF_Font font, float size, float center, float y,
				   const TsRgb *color, const char *s)
{
	ts_pdf_text(p, font, size, center - ts_pdf_width(font, size, s) / 2, y, color, s);
}

/*
 * Lays invisible UTF-8 text s at (x, y): the text layer of a drawn shape, so
 * that copying, searching or reading the page aloud gives the symbol the
 * shape shows (the regular font's glyph need not exist: it is never drawn).
 */
void
ts_pdf_hidden_text(TsPdf *p, float size, float x, float y, const char *s)
{
	HPDF_Page_BeginText(p->page);
	HPDF_Page_SetTextRenderingMode(p->page, HPDF_INVISIBLE);
	HPDF_Page_SetFontAndSize(p->page, p->font, size);
	HPDF_Page_TextOut(p->page, ts_pdf_coord(x), ts_pdf_coord(y), s);
	HPDF_Page_SetTextRenderingMode(p->page, HPDF_FILL);
	HPDF_Page_EndText(p->page);
}

/* Fills a rectangle (x, y: lower left corner). */
void
ts_pdf_rect(TsPdf *p, float x, float y, float w, float h, const TsRgb *color)
{
	ts_pdf_fill(p, color);
	HPDF_Page_Rectangle(p->page, ts_pdf_coord(x), ts_pdf_coord(y), ts_pdf_coord(w),
						ts_pdf_coord(h));
	HPDF_Page_Fill(p->page);
}

/* Draws a line. */
void
ts_pdf_line(TsPdf *p, float x1, float y1, float x2, float y2, float width, const TsRgb *color)
{
	HPDF_Page_SetRGBStroke(p->page, color->r, color->g, color->b);
	HPDF_Page_SetLineWidth(p->page, ts_pdf_coord(width));
	HPDF_Page_MoveTo(p->page, ts_pdf_coord(x1), ts_pdf_coord(y1));
	HPDF_Page_LineTo(p->page, ts_pdf_coord(x2), ts_pdf_coord(y2));
	HPDF_Page_Stroke(p->page);
}

/* Fills a triangle pointing up or down, size wide, its base's left end at (x, y). */
void
ts_pdf_triangle(TsPdf *p, float x, float y, float size, bool up, const TsRgb *color)
{
	float		h;

	ts_pdf_hidden_text(p, size, x, y, up ? "\xE2\x96\xB2" : "\xE2\x96\xBC");	/* ▲ or ▼ */
	x = ts_pdf_coord(x);
	y = ts_pdf_coord(y);
	size = ts_pdf_coord(size);
	h = size * 0.87f;
	ts_pdf_fill(p, color);
	HPDF_Page_MoveTo(p->page, x, up ? y : y + h);
	HPDF_Page_LineTo(p->page, x + size, up ? y : y + h);
	HPDF_Page_LineTo(p->page, x + size / 2, up ? y + h : y);
	HPDF_Page_ClosePath(p->page);
	HPDF_Page_Fill(p->page);
}

/* A section heading with a rule under it, kept with space_after points of content. */
void
ts_pdf_heading(TsPdf *p, const char *title, float space_after)
{
	ts_pdf_need(p, 34 + space_after);
	if (p->y < TS_PDF_TOP)
		p->y -= 12;
	ts_pdf_text(p, p->bold, 13, TS_PDF_LEFT, p->y - 13, &ts_pdf_black, title);
	ts_pdf_line(p, TS_PDF_LEFT, p->y - 18, TS_PDF_LEFT + TS_PDF_WIDTH, p->y - 18, 0.6f,
				&ts_pdf_gray);
	p->y -= 26;
}

/* Draws lines of UTF-8 text at x, size * 1.4 apart, breaking pages between them. */
void
ts_pdf_lines(TsPdf *p, HPDF_Font font, float size, float x, const TsRgb *color, List *lines)
{
	ListCell   *lc;

	foreach(lc, lines)
	{
		ts_pdf_need(p, size * 1.4f);
		ts_pdf_text(p, font, size, x, p->y - size, color, (const char *) lfirst(lc));
		p->y -= size * 1.4f;
	}
}

/* Draws UTF-8 text wrapped to width at x, breaking pages between lines. */
void
ts_pdf_paragraph(TsPdf *p, HPDF_Font font, float size, float x, float width,
				 const TsRgb *color, const char *s)
{
	ts_pdf_lines(p, font, size, x, color, ts_pdf_wrap(font, size, s, width));
}

/* Keeps a block of height points on one page when a page can hold it; true on a new page. */
bool
ts_pdf_keep(TsPdf *p, float height)
{
	return ts_pdf_need(p, Min(height, TS_PDF_TOP - TS_PDF_BOTTOM - 40));
}
