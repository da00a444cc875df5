/*
 * api_reports.c
 *	  GET /api/support/troubleshooting/reports/<id>.<format>: a stored
 *	  report's export (json, csv or pdf bytes), with an ETag of those bytes.
 */
#include "postgres.h"

#include "http/api_reports.h"
#include "http/paths.h"
#include "http/transaction.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

/* A report export the URL asked for: /reports/<id>.<format>. */
typedef struct TsReportRequest
{
	int64		id;
	const char *format;			/* json, csv or pdf */
	const char *content_type;
	const char *disposition;	/* inline or attachment */
} TsReportRequest;

/* The formats a report is served in, by file extension. */
static const TsReportRequest ts_report_formats[] = {
	{0, "json", "application/json", "inline"},
	{0, "csv", "text/csv; charset=utf-8", "attachment"},
	{0, "pdf", "application/pdf", "inline"},
};

/*
 * GET /api/support/troubleshooting/reports/<id>.<format>: the bytes of
 * export_troubleshooting_report(id, format) (id and format bound), with an
 * ETag of those bytes.  A missing report is the function's error (404).
 */
static void
ts_http_report_query(struct MHD_Connection *conn, const char *nsp, const void *arg,
					 TsHttpReply *reply)
{
	const TsReportRequest *req = (const TsReportRequest *) arg;
	Oid			types[2] = {INT8OID, TEXTOID};
	Datum		values[2];
	Datum		d;
	bool		isnull;
	bytea	   *bytes;

	values[0] = Int64GetDatum(req->id);
	values[1] = CStringGetTextDatum(req->format);
	ts_http_select_row(psprintf("SELECT %s.export_troubleshooting_report($1, $2)", nsp),
					   2, types, values, NULL);
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (isnull)
		elog(ERROR, "export_troubleshooting_report() returned null");
	bytes = DatumGetByteaPP(d);

	if (ts_http_not_modified(conn, reply, VARDATA_ANY(bytes), VARSIZE_ANY_EXHDR(bytes)))
		return;
	reply->status = 200;
	reply->content_type = req->content_type;
	/* in the reply's context: this one (SPI's) is gone when the reply is sent */
	reply->disposition = MemoryContextStrdup(GetMemoryChunkContext(reply),
											 psprintf("%s; filename=\"troubleshooting-report-" INT64_FORMAT ".%s\"",
													  req->disposition, req->id, req->format));
	appendBinaryStringInfo(&reply->body, VARDATA_ANY(bytes), VARSIZE_ANY_EXHDR(bytes));
}

/*
 * Parses name (what follows .../reports/) as <id>.<format>: an unknown
 * format is a 404 (no such document), an id that is not a positive bigint
 * in decimal a 400; else exports the report.
 */
void
ts_http_report(struct MHD_Connection *conn, const char *name, TsHttpReply *reply)
{
	const char *dot = strrchr(name, '.');
	const TsReportRequest *format = NULL;
	TsReportRequest *req;
	size_t		idlen;
	int64		id = 0;

	for (size_t i = 0; dot != NULL && i < lengthof(ts_report_formats); i++)
		if (strcmp(dot + 1, ts_report_formats[i].format) == 0)
			format = &ts_report_formats[i];
	if (format == NULL)
	{
		ts_http_error(reply, 404, "not found",
					  "Reports are served as " TS_PATH_REPORTS "<id>.json, <id>.csv and <id>.pdf.");
		return;
	}
	idlen = dot - name;
	for (size_t i = 0; i < idlen && id >= 0; i++)
	{
		if (name[i] < '0' || name[i] > '9' ||
			id > (PG_INT64_MAX - (name[i] - '0')) / 10)
			id = -1;
		else
			id = id * 10 + (name[i] - '0');
	}
	if (idlen == 0 || id <= 0)
	{
		ts_http_error(reply, 400, "invalid report id",
					  "The id must be a positive whole number in decimal, at most 9223372036854775807.");
		return;
	}
	req = palloc(sizeof(TsReportRequest));
	*req = *format;
	req->id = id;
	ts_http_run("GET " TS_PATH_REPORTS, ts_http_report_query, req, TS_HTTP_RESOURCE, conn, reply);
	if (reply->status == 200 || reply->status == 304)
		reply->cache_control = "private, no-cache";
}
