/*
 * router.c
 *	  libmicrohttpd's access handler, called on the worker's own thread:
 *	  when a request is answered, the bearer token, the methods, the routing
 *	  of a URL to its endpoint, and the memory context and error guard each
 *	  answer is built in.
 */
#include "postgres.h"

#include "http/api_metrics.h"
#include "http/api_realtime.h"
#include "http/api_reports.h"
#include "http/auth.h"
#include "http/dashboard.h"
#include "http/paths.h"
#include "http/prometheus.h"
#include "http/router.h"
#include "http/transaction.h"

#include "access/xact.h"
#include "utils/memutils.h"

/* Where a request is, kept in libmicrohttpd's per-request pointer (NULL: headers just read). */
static char ts_http_pending;	/* no body: answered at the next call */
static char ts_http_answered;	/* answer queued; later calls only drop body data */

/* True when the request announces a body (Content-Length other than 0, or Transfer-Encoding). */
static bool
ts_http_has_body(struct MHD_Connection *conn)
{
	const char *length = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);

	return (length && strcmp(length, "0") != 0) ||
		MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL;
}

/* Decides the answer to one request (everything but sending it). */
static void
ts_http_route(struct MHD_Connection *conn, const char *url, const char *method, TsHttpReply *reply)
{
	if (!ts_http_authorized(conn))
	{
		ts_http_error(reply, 401, "unauthorized",
					  "Send the header \"Authorization: Bearer <troubleshooting.http_token>\".");
		reply->challenge = true;
	}
	else if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
	{
		ts_http_error(reply, 405, "method not allowed",
					  "The endpoints answer GET and HEAD only.");
		reply->allow = "GET, HEAD";
	}
	else if (ts_http_has_body(conn))
		ts_http_error(reply, 400, "request bodies are not accepted", NULL);
	else if (strcmp(url, "/") == 0)
		ts_http_dashboard(conn, reply);
	else if (strcmp(url, TS_PATH_REALTIME) == 0)
		ts_http_realtime(conn, reply);
	else if (strcmp(url, TS_PATH_METRICS) == 0)
		ts_http_run("GET " TS_PATH_METRICS, ts_http_metrics, NULL, TS_HTTP_PARAMS, conn, reply);
	else if (strcmp(url, TS_PATH_PROMETHEUS) == 0)
		ts_http_run("GET " TS_PATH_PROMETHEUS, ts_http_prometheus, NULL, 0, conn, reply);
	else if (strncmp(url, TS_PATH_REPORTS, strlen(TS_PATH_REPORTS)) == 0)
		ts_http_report(conn, url + strlen(TS_PATH_REPORTS), reply);
	else
		ts_http_error(reply, 404, "not found",
					  "The endpoints are / (the dashboard), " TS_PATH_REALTIME ", " TS_PATH_METRICS
					  ", " TS_PATH_REPORTS "<id>.{json,csv,pdf} and " TS_PATH_PROMETHEUS ".");
}

/*
 * libmicrohttpd's access handler: answers a request without a body on its
 * second call, once libmicrohttpd has read it whole (an answer queued on the
 * first call makes it close the connection: no keep-alive), and one with a
 * body at once (then drops the body and closes).  Each answer is built in a
 * memory context of its own.  No error may escape into libmicrohttpd.
 */
TS_MHD_RESULT
ts_http_handler(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				const char *version, const char *upload_data, size_t *upload_data_size,
				void **con_cls)
{
	MemoryContext reqcxt;
	MemoryContext old;
	TsHttpReply *reply;
	TS_MHD_RESULT ret;

	if (*con_cls == &ts_http_answered)
	{
		/* a body after the answer was queued (405 or 400): dropped */
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (*con_cls == NULL && !ts_http_has_body(conn))
	{
		*con_cls = &ts_http_pending;
		return MHD_YES;
	}
	*con_cls = &ts_http_answered;
	*upload_data_size = 0;
	reqcxt = AllocSetContextCreate(TopMemoryContext, "troubleshooting http request",
								   ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(reqcxt);
	reply = palloc0(sizeof(TsHttpReply));
	initStringInfo(&reply->body);
	PG_TRY();
	{
		ts_http_route(conn, url, method, reply);
	}
	PG_CATCH();
	{
		/* not a query error (those are answered in ts_http_run): out of memory or a bug */
		MemoryContextSwitchTo(reqcxt);
		EmitErrorReport();
		FlushErrorState();
		AbortCurrentTransaction();
		MemoryContextSwitchTo(reqcxt);
		initStringInfo(&reply->body);
		ts_http_error(reply, 500, "internal error", "See the server log.");
	}
	PG_END_TRY();
	ret = ts_http_send(conn, reply);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(reqcxt);
	return ret;
}
