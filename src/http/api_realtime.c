/*
 * api_realtime.c
 *	  GET /api/support/troubleshooting/realtime: the realtime document, from
 *	  the worker's cache while it is fresh (cache.c), else queried; with its
 *	  ETag (a poll answers 304 until something but the clock changed) and
 *	  Cache-Control.
 */
#include "postgres.h"

#include "http/api_realtime.h"
#include "http/cache.h"
#include "http/paths.h"
#include "http/settings.h"
#include "http/transaction.h"

#include "executor/spi.h"
#include "utils/timestamp.h"

/*
 * The realtime query: the text of get_troubleshooting_realtime_metrics(),
 * as is, in a 200.  The ETag hashes the document without its timestamp, so
 * a poll answers 304 until something but the clock changed.
 */
static void
ts_http_realtime_query(struct MHD_Connection *conn, const char *nsp, const void *arg,
					   TsHttpReply *reply)
{
	char	   *doc;
	char	   *stable;

	ts_http_select_row(psprintf("SELECT r.doc::text, (r.doc OPERATOR(pg_catalog.-) 'timestamp'::text)::text"
								" FROM %s.get_troubleshooting_realtime_metrics() AS r(doc)", nsp),
					   0, NULL, NULL, NULL);
	doc = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	stable = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	if (doc == NULL || stable == NULL)
		elog(ERROR, "get_troubleshooting_realtime_metrics() returned null");

	ts_http_set_etag(reply, stable, strlen(stable));
	reply->status = 200;
	reply->content_type = "application/json";
	appendStringInfoString(&reply->body, doc);
}

/*
 * GET /api/support/troubleshooting/realtime: the cached document while it is
 * fresh, else the query's (kept when it is a 200); then Cache-Control and
 * the If-None-Match check.
 */
void
ts_http_realtime(struct MHD_Connection *conn, TsHttpReply *reply)
{
	TimestampTz now = GetCurrentTimestamp();

	if (!ts_http_cache_answer(reply, now))
	{
		ts_http_run("GET " TS_PATH_REALTIME, ts_http_realtime_query, NULL, 0, conn, reply);
		if (reply->status == 200 && ts_http_cache_ms > 0)
			ts_http_cache_store(reply, now);
	}
	if (reply->status != 200)
		return;
	if (ts_http_cache_ms > 0)
		reply->cache_control = psprintf("max-age=%d", ts_http_cache_ms / 1000);
	(void) ts_http_etag_matches(conn, reply);
}
