/*
 * pdf.c
 *	  A report document as PDF, drawn with libharu: the document's life
 *	  (its memory, errors, fonts, saving), the troubleshooting.pdf_font
 *	  setting, the title block, the footers and the order of the sections.
 *	  Drawn with the primitives of pdf_draw.c; the sections after the title
 *	  block are in pdf_sections.c.
 *
 * Text is drawn with a TrueType font (embedded, UTF-8 encoder), so accented
 * and non-Latin text renders as long as the font has the glyphs.  libharu
 * allocates in a memory context of ours and its error handler only records
 * the error, which is checked after each step (an ereport from inside
 * libharu would jump over its own clean-up); HPDF_Free runs on every path,
 * error or not, which also closes the font files libharu keeps open.
 */
#include "postgres.h"

#include "report/export/check.h"
#include "report/export/document.h"
#include "report/export/pdf.h"
#include "report/export/pdf_draw.h"
#include "report/export/pdf_sections.h"
#include "report/export/pdf_tounicode.h"
#include "report/report.h"

#include "access/xact.h"
#include "datatype/timestamp.h"
#include "pgtime.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include <unistd.h>

/* troubleshooting.pdf_font: the TrueType font PDF reports are drawn with. */
static char *ts_report_pdf_font = NULL;

#define TS_PDF_DEFAULT_FONT "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"

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
	if (font != NULL && p->error == 0)
		ts_pdf_tounicode(font);
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
