/*
 * export.c
 *	  export_troubleshooting_report(): a report document (stored, by id, or
 *	  given as jsonb) as json, csv or pdf bytes: the format's name, then the
 *	  check of the document (check.c) and the format's writer (csv.c, pdf.c).
 *
 * Formats are matched case-insensitively.  Every format's text is UTF-8,
 * whatever the database encoding.
 */
#include "postgres.h"

#include "report/export/check.h"
#include "report/export/csv.h"
#include "report/export/document.h"
#include "report/export/pdf.h"
#include "report/report.h"

#include "fmgr.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(export_troubleshooting_report_by_id);
PG_FUNCTION_INFO_V1(export_troubleshooting_report_doc);

/* The export formats. */
typedef enum TsExportFormat
{
	TS_EXPORT_JSON,
	TS_EXPORT_CSV,
	TS_EXPORT_PDF
} TsExportFormat;

/* The format a name stands for; errors on NULL or an unknown name. */
static TsExportFormat
ts_export_format(const char *format)
{
	if (format == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("export format must not be null"),
				 errhint("Use one of: json, csv, pdf.")));
	if (pg_strcasecmp(format, "json") == 0)
		return TS_EXPORT_JSON;
	if (pg_strcasecmp(format, "csv") == 0)
		return TS_EXPORT_CSV;
	if (pg_strcasecmp(format, "pdf") == 0)
		return TS_EXPORT_PDF;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown report export format \"%s\"", format),
			 errhint("Use one of: json, csv, pdf.")));
	return TS_EXPORT_JSON;		/* keep the compiler quiet */
}

/* The document as the bytes of a format: json, csv or pdf. */
static bytea *
ts_report_export(Jsonb *doc, const char *format)
{
	TsExportFormat f = ts_export_format(format);
	char	   *json;

	ts_export_check(doc);
	switch (f)
	{
		case TS_EXPORT_JSON:
			json = JsonbToCString(NULL, &doc->root, VARSIZE(doc));
			return ts_export_utf8_bytea(json, strlen(json));
		case TS_EXPORT_CSV:
			return ts_report_csv(doc);
		case TS_EXPORT_PDF:
			return ts_report_pdf(doc);
	}
	return NULL;				/* keep the compiler quiet */
}

/*
 * The checked arguments of an export_troubleshooting_report call: the
 * format (argument 1; NULL and unknown names error), then an error when the
 * report (argument 0, named what) is null.
 */
static char *
ts_export_args(FunctionCallInfo fcinfo, const char *what)
{
	char	   *format = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));

	(void) ts_export_format(format);
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", what)));
	return format;
}

/* SQL: export_troubleshooting_report(p_report_id bigint, p_format text) -> bytea. */
Datum
export_troubleshooting_report_by_id(PG_FUNCTION_ARGS)
{
	char	   *format = ts_export_args(fcinfo, "report id");

	PG_RETURN_BYTEA_P(ts_report_export(ts_report_load(PG_GETARG_INT64(0)), format));
}

/* SQL: export_troubleshooting_report(p_report jsonb, p_format text) -> bytea. */
Datum
export_troubleshooting_report_doc(PG_FUNCTION_ARGS)
{
	char	   *format = ts_export_args(fcinfo, "report document");

	PG_RETURN_BYTEA_P(ts_report_export(PG_GETARG_JSONB_P(0), format));
}
