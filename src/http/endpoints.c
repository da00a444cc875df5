/*
 * endpoints.c
 *	  The HTTP worker's request handling, called by libmicrohttpd on the
 *	  worker's own thread: bearer token, methods, routing, JSON errors and
 *	  response headers; the short read-only transaction each data request
 *	  runs in (as troubleshooting.http_role, under a statement timeout, its
 *	  errors caught and answered so the worker goes on); the JSON endpoints,
 *	  realtime (with its ETag, and the in-worker cache that reuses the last
 *	  document for troubleshooting.http_cache_ms) and metrics by period; and
 *	  the stored reports' exports (json, csv, pdf bytes).
 */
#include "postgres.h"

#include "compat.h"
#include "common/extschema.h"
#include "http/internal.h"
#include "http/http.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"

#define TS_PATH_REALTIME "/api/support/troubleshooting/realtime"
#define TS_PATH_METRICS "/api/support/troubleshooting/metrics"
#define TS_PATH_PROMETHEUS "/metrics"
#define TS_PATH_REPORTS "/api/support/troubleshooting/reports/"
#define TS_MAX_PARAM_LEN 200

/* How ts_http_run maps a query error to a status. */
#define TS_HTTP_PARAMS 0x01		/* data exceptions are the client's: 400 */
#define TS_HTTP_RESOURCE 0x02	/* no_data_found is a missing resource: 404 */

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
 * The last realtime document (the function's text, as is) and its ETag,
 * answered again without a query until troubleshooting.http_cache_ms after
 * computed_at.  Only a 200 is kept; a reload drops it.
 */
typedef struct TsRealtimeCache
{
	bool		valid;
	TimestampTz computed_at;	/* taken just before the query ran */
	char	   *doc;			/* in ts_rt_cache_cxt */
	int			len;
	char		etag[24];
} TsRealtimeCache;

static TsRealtimeCache ts_rt_cache;
static MemoryContext ts_rt_cache_cxt = NULL;

static uint64 ts_http_counts[600];	/* answers per status code, since the worker started */

/* Where a request is, kept in libmicrohttpd's per-request pointer (NULL: headers just read). */
static char ts_http_pending;	/* no body: answered at the next call */
static char ts_http_answered;	/* answer queued; later calls only drop body data */

/* Sets reply to a JSON error {"error": ..., "detail": ...}. */
void
ts_http_error(TsHttpReply *reply, int status, const char *error, const char *detail)
{
	reply->status = status;
	reply->content_type = "application/json";
	reply->etag[0] = '\0';
	reply->cache_control = NULL;	/* errors are never stored */
	reply->disposition = NULL;
	resetStringInfo(&reply->body);
	appendStringInfoString(&reply->body, "{\"error\": ");
	escape_json(&reply->body, error);
	appendStringInfoString(&reply->body, ", \"detail\": ");
	if (detail)
		escape_json(&reply->body, detail);
	else
		appendStringInfoString(&reply->body, "null");
	appendStringInfoChar(&reply->body, '}');
}

/* Sets reply to a JSON error carrying a database error (message, detail, hint, SQLSTATE). */
static void
ts_http_db_error(TsHttpReply *reply, int status, ErrorData *e)
{
	ts_http_error(reply, status, e->message ? e->message : "unknown error", e->detail);
	reply->body.len--;			/* reopen the object */
	reply->body.data[reply->body.len] = '\0';
	if (e->hint)
	{
		appendStringInfoString(&reply->body, ", \"hint\": ");
		escape_json(&reply->body, e->hint);
	}
	appendStringInfo(&reply->body, ", \"sqlstate\": \"%s\"}", unpack_sql_state(e->sqlerrcode));
}

/* Appends troubleshooting_http_requests_total samples, one per status code seen. */
void
ts_http_append_request_counts(StringInfo buf)
{
	for (int code = 100; code < 600; code++)
		if (ts_http_counts[code] > 0)
			appendStringInfo(buf, "troubleshooting_http_requests_total{code=\"%d\"} " UINT64_FORMAT "\n",
							 code, ts_http_counts[code]);
}

/* Compares a presented token with the configured one in time independent of where they differ. */
static bool
ts_http_token_equal(const char *given, size_t given_len, const char *token)
{
	size_t		len = strlen(token);
	volatile unsigned char diff = (given_len != len);

	for (size_t i = 0; i < len; i++)
		diff |= (unsigned char) token[i] ^ (unsigned char) (i < given_len ? given[i] : 0);
	return diff == 0;
}

/* True when no token is configured or the request carries "Authorization: Bearer <token>". */
static bool
ts_http_authorized(struct MHD_Connection *conn)
{
	const char *h;
	size_t		len;

	if (ts_http_token == NULL || ts_http_token[0] == '\0')
		return true;
	h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	if (h == NULL || pg_strncasecmp(h, "Bearer ", 7) != 0)
		return false;
	h += 7;
	while (*h == ' ')
		h++;
	len = strlen(h);
	while (len > 0 && h[len - 1] == ' ')
		len--;
	return ts_http_token_equal(h, len, ts_http_token);
}

/*
 * The status a database error becomes: 503 for a timeout, 403 for a missing
 * privilege of http_role, 400 for bad parameters and 404 for a missing
 * resource (per flags), else 500.
 */
static int
ts_http_error_status(int sqlerrcode, int flags)
{
	if (sqlerrcode == ERRCODE_QUERY_CANCELED)
		return 503;
	if (sqlerrcode == ERRCODE_INSUFFICIENT_PRIVILEGE)
		return 403;
	if ((flags & TS_HTTP_PARAMS) &&
		(ERRCODE_TO_CATEGORY(sqlerrcode) == ERRCODE_DATA_EXCEPTION ||
		 sqlerrcode == ERRCODE_PROGRAM_LIMIT_EXCEEDED))
		return 400;
	if ((flags & TS_HTTP_RESOURCE) && sqlerrcode == ERRCODE_NO_DATA_FOUND)
		return 404;
	return 500;
}

/* Sets a GUC for the current transaction only. */
static void
ts_http_set_local(const char *name, const char *value)
{
	(void) set_config_option(name, value, PGC_USERSET, PGC_S_SESSION, GUC_ACTION_LOCAL,
							 true, 0, false);
}

/*
 * One request's transaction: read only, pg_catalog first on search_path;
 * 503 without the extension or a usable http_role; else work runs as the
 * role (restricted, as in maintenance commands) under the statement timeout.
 */
static void
ts_http_transaction(TsHttpWork work, const void *arg, struct MHD_Connection *conn,
					TsHttpReply *reply)
{
	Oid			nspid;
	Oid			roleid;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	XactReadOnly = true;
	ts_http_set_local("search_path", "pg_catalog, pg_temp");

	nspid = ts_extension_schema(true);
	roleid = get_role_oid(ts_http_role, true);
	if (!OidIsValid(nspid))
		ts_http_error(reply, 503, "extension \"troubleshooting\" is not installed",
					  psprintf("The HTTP endpoint serves database \"%s\" (troubleshooting.http_database); run CREATE EXTENSION troubleshooting there.",
							   ts_http_dbname()));
	else if (!OidIsValid(roleid))
		ts_http_error(reply, 503, psprintf("role \"%s\" does not exist", ts_http_role),
					  "Create the role named by troubleshooting.http_role, or set it to an existing one and reload.");
	else if (superuser_arg(roleid))
		ts_http_error(reply, 503, psprintf("role \"%s\" is a superuser", ts_http_role),
					  "troubleshooting.http_role must name a role without superuser rights.");
	else
	{
		const char *nsp = quote_identifier(get_namespace_name(nspid));
		Oid			saved_user;
		int			saved_sec;

		GetUserIdAndSecContext(&saved_user, &saved_sec);
		SetUserIdAndSecContext(roleid, saved_sec | SECURITY_LOCAL_USERID_CHANGE |
							   SECURITY_RESTRICTED_OPERATION);
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		PushActiveSnapshot(GetTransactionSnapshot());
		enable_timeout_after(STATEMENT_TIMEOUT, ts_http_statement_timeout);

		work(conn, nsp, arg, reply);

		disable_timeout(STATEMENT_TIMEOUT, false);
		SPI_finish();
		PopActiveSnapshot();
		SetUserIdAndSecContext(saved_user, saved_sec);
	}
	CommitTransactionCommand();
}

/*
 * Runs a data endpoint in its own transaction; a database error is logged
 * (5xx only), rolled back and answered as JSON, and the worker goes on.
 */
static void
ts_http_run(const char *label, TsHttpWork work, const void *arg, int flags,
			struct MHD_Connection *conn, TsHttpReply *reply)
{
	MemoryContext cxt = CurrentMemoryContext;

	if (ts_http_role == NULL || ts_http_role[0] == '\0')
	{
		ts_http_error(reply, 503, "troubleshooting.http_role is not set",
					  "Set troubleshooting.http_role to a role that may read the metrics (not a superuser) and reload.");
		return;
	}
	pgstat_report_activity(STATE_RUNNING, label);
	PG_TRY();
	{
		ts_http_transaction(work, arg, conn, reply);
	}
	PG_CATCH();
	{
		ErrorData  *e;
		int			status;

		disable_timeout(STATEMENT_TIMEOUT, false);
		QueryCancelPending = false; /* a timeout that fired late cancels nothing else */
		MemoryContextSwitchTo(cxt);
		e = CopyErrorData();
		status = ts_http_error_status(e->sqlerrcode, flags);
		if (status >= 500)
			EmitErrorReport();
		FlushErrorState();
		AbortCurrentTransaction();
		MemoryContextSwitchTo(cxt);
		ts_http_db_error(reply, status, e);
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);
	pgstat_report_stat(false);
	pgstat_report_activity(STATE_IDLE, NULL);
}

/* Runs a one-row, one-or-more-column query of ours; errors out on anything else. */
static void
ts_http_select_row(const char *sql, int nargs, Oid *types, Datum *values, const char *nulls)
{
	int			ret = SPI_execute_with_args(sql, nargs, types, values, nulls, true, 0);

	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "unexpected result of \"%s\": %s", sql, SPI_result_code_string(ret));
}

/* Sets the reply's ETag to a quoted 64-bit hash of data. */
static void
ts_http_set_etag(TsHttpReply *reply, const void *data, size_t len)
{
	uint64		h = hash_bytes_extended((const unsigned char *) data, (int) len, 0);

	snprintf(reply->etag, sizeof(reply->etag), "\"%08x%08x\"", (uint32) (h >> 32), (uint32) h);
}

/*
 * When the request's If-None-Match names the reply's ETag (or is *), makes
 * the reply a 304 without a body and returns true.
 */
static bool
ts_http_etag_matches(struct MHD_Connection *conn, TsHttpReply *reply)
{
	const char *inm = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);

	if (inm && (strcmp(inm, "*") == 0 || strstr(inm, reply->etag) != NULL))
	{
		reply->status = 304;
		reply->content_type = NULL;
		reply->disposition = NULL;
		resetStringInfo(&reply->body);
		return true;
	}
	return false;
}

/*
 * Sets the reply's ETag from a hash of data; when the request's
 * If-None-Match names it (or is *), makes the reply a 304 and returns true.
 */
bool
ts_http_not_modified(struct MHD_Connection *conn, TsHttpReply *reply, const void *data, size_t len)
{
	ts_http_set_etag(reply, data, len);
	return ts_http_etag_matches(conn, reply);
}

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

/* Forgets the cached realtime document (at a reload: role, token or TTL may change). */
void
ts_http_cache_drop(void)
{
	ts_rt_cache.valid = false;
	ts_rt_cache.doc = NULL;
	if (ts_rt_cache_cxt != NULL)
		MemoryContextReset(ts_rt_cache_cxt);
}

/* Keeps a realtime 200 (its body and ETag) as computed at computed_at. */
static void
ts_http_cache_store(TsHttpReply *reply, TimestampTz computed_at)
{
	ts_http_cache_drop();
	if (ts_rt_cache_cxt == NULL)
		ts_rt_cache_cxt = AllocSetContextCreate(TopMemoryContext, "troubleshooting http cache",
												ALLOCSET_SMALL_SIZES);
	ts_rt_cache.doc = MemoryContextAlloc(ts_rt_cache_cxt, reply->body.len + 1);
	memcpy(ts_rt_cache.doc, reply->body.data, reply->body.len + 1);
	ts_rt_cache.len = reply->body.len;
	memcpy(ts_rt_cache.etag, reply->etag, sizeof(ts_rt_cache.etag));
	ts_rt_cache.computed_at = computed_at;
	ts_rt_cache.valid = true;
}

/* True when the cached realtime document may still answer a request arriving at now. */
static bool
ts_http_cache_fresh(TimestampTz now)
{
	return ts_http_cache_ms > 0 && ts_rt_cache.valid && now >= ts_rt_cache.computed_at &&
		now < TimestampTzPlusMilliseconds(ts_rt_cache.computed_at, ts_http_cache_ms);
}

/*
 * GET /api/support/troubleshooting/realtime: the cached document while it is
 * fresh, else the query's (kept when it is a 200); then Cache-Control and
 * the If-None-Match check.
 */
static void
ts_http_realtime(struct MHD_Connection *conn, TsHttpReply *reply)
{
	TimestampTz now = GetCurrentTimestamp();

	if (ts_http_cache_fresh(now))
	{
		reply->status = 200;
		reply->content_type = "application/json";
		memcpy(reply->etag, ts_rt_cache.etag, sizeof(reply->etag));
		appendBinaryStringInfo(&reply->body, ts_rt_cache.doc, ts_rt_cache.len);
	}
	else
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

/*
 * GET /api/support/troubleshooting/metrics?period=&start=&end=: the rows of
 * get_troubleshooting_metrics_by_period() as a JSON array of objects, in
 * UTC.  The parameters are bound as text and cast by the database, whose
 * message a bad one gets (400).
 */
static void
ts_http_metrics(struct MHD_Connection *conn, const char *nsp, const void *arg, TsHttpReply *reply)
{
	static const char *const names[3] = {"period", "start", "end"};
	Oid			types[3] = {TEXTOID, TEXTOID, TEXTOID};
	Datum		values[3];
	char		nulls[3];
	char	   *json;

	for (int i = 0; i < 3; i++)
	{
		const char *v = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, names[i]);

		nulls[i] = 'n';
		values[i] = (Datum) 0;
		if (v == NULL || v[0] == '\0')
			continue;
		if (strlen(v) > TS_MAX_PARAM_LEN)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("parameter \"%s\" is too long", names[i]),
					 errdetail("At most %d bytes are accepted.", TS_MAX_PARAM_LEN)));
		(void) pg_verifymbstr(v, (int) strlen(v), false);
		values[i] = CStringGetTextDatum(v);
		nulls[i] = ' ';
	}
	ts_http_set_local("TimeZone", "UTC");
	ts_http_select_row(psprintf("SELECT '[' || coalesce(string_agg(to_json(m)::text, ',' ORDER BY m.period_start), '') || ']'"
								" FROM (SELECT coalesce($3::timestamptz, now()) AS e) p,"
								" %s.get_troubleshooting_metrics_by_period(coalesce($1, 'day'),"
								"   coalesce($2::timestamptz, p.e - interval '30 days'), p.e) m", nsp),
					   3, types, values, nulls);
	json = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	reply->status = 200;
	reply->content_type = "application/json";
	appendStringInfoString(&reply->body, json ? json : "[]");
}

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
static void
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

/* Hands the reply to libmicrohttpd (which copies it) and counts it. */
static TS_MHD_RESULT
ts_http_send(struct MHD_Connection *conn, TsHttpReply *reply)
{
	struct MHD_Response *resp;
	TS_MHD_RESULT ret;

#if MHD_VERSION >= 0x00097701
	resp = MHD_create_response_from_buffer_copy(reply->body.len, reply->body.data);
#else
	resp = MHD_create_response_from_buffer(reply->body.len, reply->body.data, MHD_RESPMEM_MUST_COPY);
#endif
	if (resp == NULL)
		return MHD_NO;			/* out of memory: libmicrohttpd closes the connection */
	if (reply->content_type)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, reply->content_type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
							reply->cache_control ? reply->cache_control : "no-store");
	if (reply->disposition)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_DISPOSITION, reply->disposition);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	if (reply->etag[0])
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, reply->etag);
	if (reply->allow)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, reply->allow);
	if (reply->challenge)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
								"Bearer realm=\"troubleshooting\"");
	ret = MHD_queue_response(conn, (unsigned int) reply->status, resp);
	MHD_destroy_response(resp);
	if (ret == MHD_YES && reply->status >= 100 && reply->status < 600)
		ts_http_counts[reply->status]++;
	return ret;
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
