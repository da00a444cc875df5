/*
 * pdf.c
 *	  A report document as PDF, drawn with libharu: the document's life
 *	  (its memory, errors, fonts, saving), the troubleshooting.pdf_font
 *	  setting, the drawing helpers (pages, wrapped text, shapes, footers,
 *	  values as text) and the title block.  The sections after it are in
 *	  export_pdf_parts.c.
 *
 * Text is drawn with a TrueType font (embedded, UTF-8 encoder), so accented
 * and non-Latin text renders as long as the font has the glyphs.  libharu
 * allocates in a memory context of ours and its error handler only records
 * the error, which is checked after each step (an ereport from inside
 * libharu would jump over its own clean-up); HPDF_Free runs on every path,
 * error or not, which also closes the font files libharu keeps open.
 */
#include "postgres.h"

#include "report/export/document.h"
#include "report/export/pdf_draw.h"
#include "report/report.h"

#include "access/xact.h"
#include "datatype/timestamp.h"
#include "mb/pg_wchar.h"
#include "pgtime.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include <math.h>
#include <unistd.h>

/* troubleshooting.pdf_font: the TrueType font PDF reports are drawn with. */
static char *ts_report_pdf_font = NULL;

#define TS_PDF_DEFAULT_FONT "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"

const TsRgb ts_pdf_black = {0.13f, 0.13f, 0.13f};
const TsRgb ts_pdf_gray = {0.45f, 0.45f, 0.45f};
const TsRgb ts_pdf_light = {0.93f, 0.94f, 0.95f};
const TsRgb ts_pdf_blue = {0.26f, 0.45f, 0.76f};
const TsRgb ts_pdf_green = {0.20f, 0.60f, 0.30f};
const TsRgb ts_pdf_red = {0.80f, 0.18f, 0.18f};
const TsRgb ts_pdf_orange = {0.90f, 0.55f, 0.10f};

/* The context libharu allocates in while a PDF is being made. */
static MemoryContext ts_pdf_mcxt = NULL;

/* Defines troubleshooting.pdf_font (called from _PG_init). */
void
ts_report_define_gucs(void)
{
	DefineCustomStringVariable("troubleshooting.pdf_font",
							   "TrueType font file PDF reports are drawn with.",
							   "A bold variant named like it with -Bold before .ttf is used for headings when present.",
							   &ts_report_pdf_font, TS_PDF_DEFAULT_FONT, PGC_SUSET, 0,
							   NULL, NULL, NULL);
}

/* libharu's allocator: our context; NULL (not an ERROR) when out of memory. */
static void *
ts_pdf_alloc(HPDF_UINT size)
{
	return MemoryContextAllocExtended(ts_pdf_mcxt, size == 0 ? 1 : size,
									  MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
}

/* libharu's free. */
static void
ts_pdf_free(void *ptr)
{
	if (ptr != NULL)
		pfree(ptr);
}

/* libharu's error handler: records the first error, checked by ts_pdf_check. */
static void
ts_pdf_error(HPDF_STATUS error_no, HPDF_STATUS detail_no, void *user_data)
{
	TsPdf	   *p = (TsPdf *) user_data;

	if (p->error == 0)
	{
		p->error = error_no;
		p->error_detail = detail_no;
	}
}

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

/* Loads a TrueType font file, embedded; NULL (error cleared) when it fails. */
static HPDF_Font
ts_pdf_load_font(TsPdf *p, const char *path)
{
	const char *name;
	HPDF_Font	font = NULL;

	if (access(path, R_OK) != 0)
		return NULL;
	name = HPDF_LoadTTFontFromFile(p->doc, path, HPDF_TRUE);
	if (name != NULL && p->error == 0)
		font = HPDF_GetFont(p->doc, name, "UTF-8");
	if (font == NULL || p->error != 0)
	{
		HPDF_ResetError(p->doc);
		p->error = 0;
		return NULL;
	}
	return font;
}

/* Loads the regular font (error when it cannot) and its bold variant if any. */
static void
ts_pdf_fonts(TsPdf *p)
{
	/* the default applies when the setting is not defined (library not loaded by _PG_init) */
	const char *path = ts_report_pdf_font ? ts_report_pdf_font : TS_PDF_DEFAULT_FONT;
	size_t		len = strlen(path);

	if (access(path, R_OK) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not read PDF font file \"%s\": %m", path),
				 errhint("Set troubleshooting.pdf_font to a readable TrueType font file, such as %s (Debian package fonts-dejavu-core).",
						 TS_PDF_DEFAULT_FONT)));
	p->font = ts_pdf_load_font(p, path);
	if (p->font == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("could not load PDF font file \"%s\"", path),
				 errdetail("It is not a TrueType font libharu can embed."),
				 errhint("Set troubleshooting.pdf_font to a TrueType font file (.ttf), such as %s.",
						 TS_PDF_DEFAULT_FONT)));
	p->bold = NULL;
	if (len > 4 && pg_strcasecmp(path + len - 4, ".ttf") == 0)
		p->bold = ts_pdf_load_font(p, psprintf("%.*s-Bold%s", (int) (len - 4), path,
											   path + len - 4));
	if (p->bold == NULL)
		p->bold = p->font;
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

/* How a metric's values read: 'p' percent of a fraction, 'm' minutes, 'd' decimal, 'n' count. */
static char
ts_pdf_kind(const char *metric)
{
	size_t		len = strlen(metric);

	if ((len > 5 && strcmp(metric + len - 5, "_rate") == 0) || strcmp(metric, "csat") == 0 ||
		strcmp(metric, "helpful_share") == 0)
		return 'p';
	if (strstr(metric, "_minutes") != NULL)
		return 'm';
	if (strcmp(metric, "avg_rating") == 0 || strcmp(metric, "attempts_per_session") == 0)
		return 'd';
	return 'n';
}

/* Numbers at least this large are shown in scientific notation. */
#define TS_PDF_PLAIN_MAX 1e15

/*
 * A metric's value for display ("—" when null); with_sign puts + before
 * positives.  Any number reads as a short text: one beyond a double's range
 * or at least TS_PDF_PLAIN_MAX (as displayed) in scientific notation.
 */
char *
ts_pdf_value(const char *metric, JsonbValue *v, bool with_sign)
{
	double		d;
	double		shown;
	const char *sign;
	char		kind = ts_pdf_kind(metric);

	if (v != NULL && v->type == jbvNumeric && !ts_export_number(v, &d))
	{
		char	   *sci = numeric_out_sci(v->val.numeric, 2);

		return psprintf("%s%s", with_sign && sci[0] != '-' ? "+" : "", sci);
	}
	if (!ts_export_number(v, &d))
		return v == NULL || v->type == jbvNull ? pstrdup("—") : ts_pdf_str(ts_export_text(v));
	sign = with_sign && d > 0 ? "+" : "";
	shown = kind == 'p' ? d * 100.0 : d;
	if (!isfinite(shown) || fabs(shown) >= TS_PDF_PLAIN_MAX)
		return psprintf("%s%.2e%s", sign, isfinite(shown) ? shown : d,
						kind == 'p' && isfinite(shown) ? (with_sign ? " pp" : "%") :
						kind == 'm' ? " min" : "");
	switch (kind)
	{
		case 'p':
			return psprintf(with_sign ? "%s%.1f pp" : "%s%.1f%%", sign, d * 100.0);
		case 'm':
			return psprintf("%s%.1f min", sign, d);
		case 'd':
			return psprintf("%s%.2f", sign, d);
		default:
			return d == floor(d) && fabs(d) < 1e15 ? psprintf("%s%.0f", sign, d)
				: psprintf("%s%.2f", sign, d);
	}
}

/* The label a metric is shown with. */
char *
ts_pdf_label(const char *metric)
{
	static const char *const labels[][2] = {
		{"total_sessions", "Sessions"},
		{"resolved_sessions", "Resolved sessions"},
		{"escalated_sessions", "Escalated sessions"},
		{"abandoned_sessions", "Abandoned sessions"},
		{"resolution_rate", "Resolution rate"},
		{"escalation_rate", "Escalation rate"},
		{"avg_resolution_time_minutes", "Average resolution time"},
		{"median_resolution_time_minutes", "Median resolution time"},
		{"p90_resolution_time_minutes", "90th percentile resolution time"},
		{"total_attempts", "Fix attempts"},
		{"successful_attempts", "Successful attempts"},
		{"attempts_per_session", "Attempts per session"},
		{"first_attempt_success_rate", "First-attempt success rate"},
		{"feedback_count", "Feedback responses"},
		{"avg_rating", "Average rating"},
		{"nps", "Net promoter score"},
		{"unique_problems", "Distinct problems"},
		{"csat", "CSAT"},
		{"feedback_response_rate", "Feedback response rate"},
	};
	char	   *label;

	for (int i = 0; i < TS_NELEMS(labels); i++)
		if (strcmp(labels[i][0], metric) == 0)
			return pstrdup(labels[i][1]);
	label = ts_pdf_str(metric);
	for (char *c = label; *c; c++)
		if (*c == '_')
			*c = ' ';
	return label;
}

/* The text of a document member, for display (empty when null or missing). */
static char *
ts_pdf_member(JsonbContainer *obj, const char *key)
{
	char	   *s = ts_export_text(ts_export_get(obj, key));
	char	   *t;

	if (s == NULL)
		return pstrdup("");
	/* ISO 8601 timestamps read better with a space than with the T */
	t = ts_pdf_str(s);
	if (strlen(t) >= 19 && t[4] == '-' && t[10] == 'T')
		t[10] = ' ';
	return t;
}

/* The title block: title, type, period, previous period, generation time, filters. */
static void
ts_pdf_title(TsPdf *p, Jsonb *doc)
{
	JsonbContainer *root = &doc->root;
	JsonbContainer *period = ts_export_object(ts_export_get(root, "period"));
	JsonbContainer *trends = ts_export_object(ts_export_get(root, "trends"));
	JsonbContainer *prev = ts_export_object(ts_export_get(trends, "previous_period"));
	JsonbContainer *filters = ts_export_object(ts_export_get(root, "filters"));
	char	   *title = ts_export_text(ts_export_get(root, "title"));
	char	   *id = ts_pdf_member(root, "id");
	char	   *tz = ts_pdf_member(period, "time_zone");
	StringInfoData line;

	ts_pdf_paragraph(p, p->bold, 20, TS_PDF_LEFT, TS_PDF_WIDTH, &ts_pdf_black,
					 title ? ts_pdf_str(title) : "Troubleshooting report");
	p->y -= 4;
	initStringInfo(&line);
	appendStringInfo(&line, "Report type: %s", ts_pdf_member(root, "report_type"));
	if (*id)
		appendStringInfo(&line, "   ·   Report #%s", id);
	ts_pdf_paragraph(p, p->font, 10, TS_PDF_LEFT, TS_PDF_WIDTH, &ts_pdf_gray, line.data);
	resetStringInfo(&line);
	appendStringInfo(&line, "Period: %s to %s", ts_pdf_member(period, "start"),
					 ts_pdf_member(period, "end"));
	if (*tz)
		appendStringInfo(&line, " (%s)", tz);
	if (ts_export_get(period, "start") != NULL || ts_export_get(period, "end") != NULL)
		ts_pdf_paragraph(p, p->font, 10, TS_PDF_LEFT, TS_PDF_WIDTH, &ts_pdf_black, line.data);
	if (prev != NULL)
		ts_pdf_paragraph(p, p->font, 10, TS_PDF_LEFT, TS_PDF_WIDTH, &ts_pdf_gray,
						 psprintf("Compared with: %s to %s", ts_pdf_member(prev, "start"),
								  ts_pdf_member(prev, "end")));
	ts_pdf_paragraph(p, p->font, 10, TS_PDF_LEFT, TS_PDF_WIDTH, &ts_pdf_gray,
					 psprintf("Generated at: %s", ts_pdf_member(root, "generated_at")));
	if (filters != NULL && JsonContainerSize(filters) > 0)
		ts_pdf_paragraph(p, p->font, 10, TS_PDF_LEFT, TS_PDF_WIDTH, &ts_pdf_gray,
						 psprintf("Filters: %s",
								  ts_pdf_str(ts_export_text(ts_export_get(root, "filters")))));
}

/* Draws the footer of every page: the title and "Page i of n". */
static void
ts_pdf_footers(TsPdf *p, const char *title)
{
	int			n = list_length(p->pages);
	int			i = 0;
	ListCell   *lc;

	foreach(lc, p->pages)
	{
		p->page = (HPDF_Page) lfirst(lc);
		i++;
		ts_pdf_line(p, TS_PDF_LEFT, 46, TS_PDF_LEFT + TS_PDF_WIDTH, 46, 0.4f, &ts_pdf_gray);
		ts_pdf_text(p, p->font, 8, TS_PDF_LEFT, 34, &ts_pdf_gray,
					ts_pdf_fit(p->font, 8, title, TS_PDF_WIDTH - 90));
		ts_pdf_text_right(p, p->font, 8, TS_PDF_LEFT + TS_PDF_WIDTH, 34, &ts_pdf_gray,
						  psprintf("Page %d of %d", i, n));
	}
}

/*
 * Sets the document information: title, creator, and as creation date the
 * report's generated_at (so a stored report always exports to the same bytes),
 * else the statement's start.
 */
static void
ts_pdf_info(TsPdf *p, Jsonb *doc, const char *title)
{
	struct pg_tm tm;
	fsec_t		fsec;
	HPDF_Date	date = {0};
	char	   *gen = ts_export_text(ts_export_get(&doc->root, "generated_at"));
	int			y, mo, d, h, mi, sec, oh = 0, om = 0;
	char		sign = 'Z';

	HPDF_SetInfoAttr(p->doc, HPDF_INFO_TITLE, title);
	HPDF_SetInfoAttr(p->doc, HPDF_INFO_CREATOR, "troubleshooting");
	if (gen && sscanf(gen, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &sec) == 6 &&
		y >= 1 && y <= 9999 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h <= 23 && mi <= 59 && sec <= 59)
	{
		char	   *off = strpbrk(gen + 19, "+-Z");

		if (off && *off != 'Z' && sscanf(off + 1, "%2d:%2d", &oh, &om) == 2 && oh <= 23 && om <= 59)
			sign = *off;
		else
			oh = om = 0;
		date.year = y;
		date.month = mo;
		date.day = d;
		date.hour = h;
		date.minutes = mi;
		date.seconds = sec;
		date.ind = sign;
		date.off_hour = oh;
		date.off_minutes = om;
		HPDF_SetInfoDateAttr(p->doc, HPDF_INFO_CREATION_DATE, date);
	}
	else if (timestamp2tm(GetCurrentStatementStartTimestamp(), NULL, &tm, &fsec, NULL, NULL) == 0)
	{
		date.year = tm.tm_year;
		date.month = tm.tm_mon;
		date.day = tm.tm_mday;
		date.hour = tm.tm_hour;
		date.minutes = tm.tm_min;
		date.seconds = tm.tm_sec;
		date.ind = 'Z';
		HPDF_SetInfoDateAttr(p->doc, HPDF_INFO_CREATION_DATE, date);
	}
	ts_pdf_check(p, "setting the document information");
}

/* Draws every section of the report into p (fonts loaded). */
static void
ts_pdf_draw(TsPdf *p, Jsonb *doc, const char *title)
{
	JsonbValue *charts = ts_export_get(&doc->root, "include_charts");
	bool		with_charts = charts != NULL && charts->type == jbvBool && charts->val.boolean;
	char	   *summary = ts_export_text(ts_export_get(&doc->root, "executive_summary"));

	ts_pdf_new_page(p);
	ts_pdf_title(p, doc);
	if (summary != NULL)
	{
		ts_pdf_heading(p, "Executive summary", 30);
		ts_pdf_paragraph(p, p->font, 10, TS_PDF_LEFT, TS_PDF_WIDTH, &ts_pdf_black,
						 ts_pdf_utf8(summary));
	}
	ts_pdf_kpis(p, doc);
	ts_pdf_check(p, "drawing the key figures");
	if (with_charts)
		ts_pdf_series_chart(p, doc);
	ts_pdf_satisfaction(p, doc, with_charts);
	ts_pdf_check(p, "drawing the charts");
	ts_pdf_problems(p, doc);
	ts_pdf_recommendations(p, doc);
	ts_pdf_footers(p, title);
	ts_pdf_check(p, "drawing the report");
}

/* The report document as PDF bytes. */
bytea *
ts_report_pdf(Jsonb *doc)
{
	MemoryContext caller = CurrentMemoryContext;
	MemoryContext mcxt;
	TsPdf	   *p;
	bytea	   *volatile result = NULL;

	ts_export_check(doc);
	mcxt = AllocSetContextCreate(caller, "troubleshooting pdf", ALLOCSET_DEFAULT_SIZES);
	p = MemoryContextAllocZero(mcxt, sizeof(TsPdf));
	ts_pdf_mcxt = mcxt;
	PG_TRY();
	{
		char	   *raw_title;
		char	   *title;
		HPDF_UINT32 size;
		HPDF_UINT32 got;

		MemoryContextSwitchTo(mcxt);
		raw_title = ts_export_text(ts_export_get(&doc->root, "title"));
		title = ts_pdf_str(raw_title ? raw_title : "Troubleshooting report");
		p->doc = HPDF_NewEx(ts_pdf_error, ts_pdf_alloc, ts_pdf_free, 0, p);
		if (p->doc == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory"),
					 errdetail("Could not start a PDF document.")));
		HPDF_UseUTFEncodings(p->doc);
		HPDF_SetCurrentEncoder(p->doc, "UTF-8");
		HPDF_SetCompressionMode(p->doc, HPDF_COMP_ALL);
		ts_pdf_check(p, "starting the document");
		ts_pdf_fonts(p);
		ts_pdf_info(p, doc, title);
		ts_pdf_draw(p, doc, title);

		HPDF_SaveToStream(p->doc);
		ts_pdf_check(p, "saving the document");
		size = HPDF_GetStreamSize(p->doc);
		result = (bytea *) MemoryContextAllocHuge(caller, (Size) size + VARHDRSZ);
		got = size;
		HPDF_ReadFromStream(p->doc, (HPDF_BYTE *) VARDATA(result), &got);
		ts_pdf_check(p, "reading the saved document");
		if (got != size)
			elog(ERROR, "PDF stream gave %u of %u bytes", (unsigned int) got,
				 (unsigned int) size);
		SET_VARSIZE(result, (Size) size + VARHDRSZ);
	}
	PG_FINALLY();
	{
		/* frees libharu's objects and closes the font files it holds */
		if (p->doc != NULL)
			HPDF_Free(p->doc);
		ts_pdf_mcxt = NULL;
		MemoryContextSwitchTo(caller);
		MemoryContextDelete(mcxt);
	}
	PG_END_TRY();
	return result;
}
