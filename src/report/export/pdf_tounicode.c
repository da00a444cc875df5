/*
 * pdf_tounicode.c
 *	  A valid ToUnicode map for the report's fonts, so that text copied,
 *	  searched or read aloud from a PDF report comes out as it was written.
 *
 * With its UTF-8 encoder, libharu draws each character as a two-byte code
 * equal to its Unicode code point (the Basic Multilingual Plane), through a
 * Type0 font with the Identity-H encoding.  The font's ToUnicode stream that
 * libharu writes is a copy of its encoding CMap: it maps codes with
 * "begincidrange", an operator a ToUnicode map may not use, so readers
 * (poppler's pdftotext, for one) warn and guess.  This file rewrites that
 * stream's content, before the document is saved, as the identity map a
 * ToUnicode map spells with "beginbfrange": every code maps to the UTF-16
 * value equal to it, a range per high byte, the surrogate block left out.
 */
#include "postgres.h"

#include "report/export/pdf_tounicode.h"

#include "hpdf_font.h"
#include "hpdf_objects.h"
#include "hpdf_streams.h"

/* A PDF CMap allows at most this many entries in one range block. */
#define TS_CMAP_BLOCK 100

/* High bytes 0xD8 to 0xDF are UTF-16 surrogates, never a character. */
#define TS_IS_SURROGATE_HIGH(h) ((h) >= 0xD8 && (h) <= 0xDF)

/* The map before its ranges: the resource header and the code space. */
static const char ts_cmap_head[] =
	"/CIDInit /ProcSet findresource begin\n"
	"12 dict begin\n"
	"begincmap\n"
	"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
	"/CMapName /Adobe-Identity-UCS def\n"
	"/CMapType 2 def\n"
	"1 begincodespacerange\n"
	"<0000> <FFFF>\n"
	"endcodespacerange\n";

/* The map after its ranges. */
static const char ts_cmap_tail[] =
	"endcmap\n"
	"CMapName currentdict /CMap defineresource pop\n"
	"end\n"
	"end\n";

/* The ranges of the map: one per high byte but the eight of the surrogates. */
#define TS_CMAP_RANGES (256 - 8)

/* Writes the identity map's ranges into stream s, in blocks of at most 100. */
static HPDF_STATUS
ts_cmap_ranges(HPDF_Stream s)
{
	HPDF_STATUS ret = HPDF_OK;
	int			written = 0;

	for (int high = 0; high <= 0xFF && ret == HPDF_OK; high++)
	{
		char		line[32];

		if (TS_IS_SURROGATE_HIGH(high))
			continue;
		if (written % TS_CMAP_BLOCK == 0)
		{
			snprintf(line, sizeof(line), "%d beginbfrange\n",
					 Min(TS_CMAP_RANGES - written, TS_CMAP_BLOCK));
			ret = HPDF_Stream_WriteStr(s, line);
		}
		snprintf(line, sizeof(line), "<%02X00> <%02XFF> <%02X00>\n", high, high, high);
		if (ret == HPDF_OK)
			ret = HPDF_Stream_WriteStr(s, line);
		written++;
		if (ret == HPDF_OK && (written % TS_CMAP_BLOCK == 0 || written == TS_CMAP_RANGES))
			ret = HPDF_Stream_WriteStr(s, "endbfrange\n");
	}
	return ret;
}

/*
 * Replaces the content of font's ToUnicode stream with the identity map;
 * a font without one (not a Type0 font of the UTF-8 encoder) is left as it
 * is.  Returns libharu's status (its error handler has recorded any error).
 */
HPDF_STATUS
ts_pdf_tounicode(HPDF_Font font)
{
	HPDF_FontAttr attr;
	HPDF_Dict	map;
	HPDF_STATUS ret;

	if (font == NULL || font->attr == NULL)
		return HPDF_OK;
	attr = (HPDF_FontAttr) font->attr;
	map = HPDF_Dict_GetItem(font, "ToUnicode", HPDF_OCLASS_DICT);
	if (map == NULL || map != attr->cmap_stream || map->stream == NULL)
		return HPDF_OK;

	/* a ToUnicode stream is a plain stream: no CMap dictionary entries */
	HPDF_Dict_RemoveElement(map, "Type");
	HPDF_Dict_RemoveElement(map, "CMapName");
	HPDF_Dict_RemoveElement(map, "CIDSystemInfo");
	HPDF_Dict_RemoveElement(map, "WMode");

	HPDF_MemStream_FreeData(map->stream);
	ret = HPDF_Stream_WriteStr(map->stream, ts_cmap_head);
	if (ret == HPDF_OK)
		ret = ts_cmap_ranges(map->stream);
	if (ret == HPDF_OK)
		ret = HPDF_Stream_WriteStr(map->stream, ts_cmap_tail);
	return ret;
}
